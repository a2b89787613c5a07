#pragma once
/// NIfTI-1 and NIfTI-2 volumes (`.nii`, `.nii.gz`, and `.hdr`/`.img` pairs on reading), read
/// into a float tensor and written from one, through the format's reference library (libnifti2,
/// Debian libnifti2-dev) and zlib.
///
/// Axis order (nibabel's): the tensor has the header's shape `(nx, ny, nz[, nt, ...])` and
/// `data(i, j, k)` is voxel i along the file's first axis (x), j along y, k along z: the file's
/// x-fastest storage read as Fortran order, as nibabel's `img.get_fdata()` returns it, and the
/// affine maps `(i, j, k, 1)` to world coordinates. (The tensor itself is row-major, so its last
/// index varies fastest in memory: reading and writing reorder the voxels.)
///
/// Values: every real voxel type (uint8, int8, int16, uint16, int32, uint32, int64, uint64,
/// float32, float64, either byte order) becomes float32 after `scl_slope`/`scl_inter`, applied
/// as nibabel applies them: `value * slope + inter` in double precision when the slope is
/// finite and not 0, no scaling otherwise (a finite slope with a non-finite intercept is an
/// error). Complex, RGB, float128 and the other types are a `FileError` naming the type.
///
/// The affine is nibabel's `img.affine`: the sform when `sform_code` is a valid code other than 0,
/// else the qform when `qform_code` is, else nibabel's fallback from the shape and voxel sizes
/// (x flipped, origin at the center: `diag(-dx, dy, dz)`, translation `-(n - 1) / 2 * d` per
/// axis). As nibabel does on loading, pixdim[1..3] of 0 count as 1 and negative ones as their
/// absolute value, a qfac (pixdim[0]) other than -1 as 1, and a code outside 0..5 as 0; the
/// quaternion is turned into a rotation by libnifti (which normalizes one longer than 1).
///
/// Safety: the header is checked before anything is trusted (sizeof_hdr 348 or 540 in either
/// byte order, magic "n+1"/"ni1"/"n+2"/"ni2", dim[0] in 1..7, each dim >= 0 (a 0 gives an empty
/// tensor), the datatype and its bitpix, vox_offset, the data size without overflow and under
/// `max_bytes`), and the file is read with a bound: an uncompressed file must be long enough
/// before any voxel is allocated, a gzipped one is inflated in chunks, so a header that promises
/// more than the stream holds is an error after reading what is there, never a huge allocation;
/// a damaged or cut gzip stream is an error too. A single file's vox_offset below the header's
/// size reads as that size (libnifti's rule); extensions are skipped, not parsed. Every problem
/// is a `FileError` "read_nifti: '<path>': <what is wrong>"; libnifti's own messages on stderr
/// are silenced.
///
/// Example:
/// ```
/// namespace S = tapeflow::serialization;
/// S::NiftiImage img = S::read_nifti("t1.nii.gz");   // img.data: (256, 256, 176)
/// double dx = img.voxel_sizes[0];
/// S::write_nifti("mask.nii.gz", mask, S::NiftiWriteOptions().affine(img.affine)
///                                         .datatype(S::NiftiDatatype::uint8));
/// ```
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tapeflow/framework/core/tensor.hpp"
#include "tapeflow/framework/nn/fields.hpp"

namespace tapeflow::serialization {

/// A 4x4 matrix, row by row (`a[row][column]`): voxel `(i, j, k, 1)` to world `(x, y, z, 1)`.
using Affine = std::array<std::array<double, 4>, 4>;
/// The identity matrix. Example: `Affine a = identity_affine(); a[0][0] = 2.0;`
Affine identity_affine();

/// The voxel types `write_nifti` writes (values are the header's `datatype` codes); `read_nifti`
/// reads all of them and reports any file's code as an int.
enum class NiftiDatatype : int {
  uint8 = 2,
  int16 = 4,
  int32 = 8,
  float32 = 16,
  float64 = 64,
  int8 = 256,
  uint16 = 512,
  uint32 = 768,
  int64 = 1024,
  uint64 = 1280,
};

/// The name of a NIfTI datatype code as libnifti spells it ("INT16", "COMPLEX64"; "UNKNOWN" for
/// a code it does not know). Example: `nifti_datatype_name(4) == "INT16"`
std::string nifti_datatype_name(int code);

/// A NIfTI volume: the voxels and what the header says about them.
struct NiftiImage {
  /// The voxels, float32, shape `dims` (x first; see the top of this file). Empty (shape (0,))
  /// from `read_nifti_header`.
  Tensor data;
  int version = 1;                 ///< the header's format: 1 (348 bytes) or 2 (540 bytes)
  std::vector<std::int64_t> dims;  ///< dim[1..dim[0]]: the data's shape
  /// pixdim[1..dim[0]], nibabel's `header.get_zooms()` (spatial ones fixed as described above).
  std::vector<double> voxel_sizes;
  Affine affine = identity_affine();  ///< nibabel's `img.affine` (see above)
  Affine qform = identity_affine();   ///< the qform's matrix (computed even when its code is 0)
  Affine sform = identity_affine();   ///< srow_x, srow_y, srow_z (even when its code is 0)
  int qform_code = 0;                 ///< 0 unknown, 1 scanner, 2 aligned, 3 talairach, 4 mni,
  int sform_code = 0;                 ///< 5 template (invalid codes read as 0)
  int datatype = 16;                  ///< the file's voxel type code (`NiftiDatatype` values)
  double scl_slope = 0;               ///< as stored (0 or non-finite: no scaling)
  double scl_inter = 0;               ///< as stored
  int xyz_units = 0;          ///< NIFTI_UNITS_* of the spatial voxel sizes (2: mm), xyzt_units & 7
  int time_units = 0;         ///< NIFTI_UNITS_* of the time step (8: s), xyzt_units & 0x38
  std::string descrip;        ///< the header's description text (up to 79 characters)
  bool byte_swapped = false;  ///< the file's byte order differs from this machine's
};

#define TAPEFLOW_NIFTI_READ_FIELDS(F) F(std::size_t, max_bytes, std::size_t(8) << 30)

/// Options of `read_nifti`:
/// - `max_bytes`: the largest voxel data (in the file's type, before conversion) accepted, 8 GiB
///   by default; a header asking for more is a `FileError` before anything is allocated.
/// Example: `read_nifti(path, NiftiReadOptions().max_bytes(std::size_t(1) << 30))`
struct NiftiReadOptions {
  TAPEFLOW_FIELDS(NiftiReadOptions, TAPEFLOW_NIFTI_READ_FIELDS)
};

/// Reads a `.nii`, `.nii.gz` (gzip is recognized by its content, whatever the name) or a
/// two-file volume (`x.hdr` with `x.img`, either possibly gzipped; the path may name either).
/// Throws `FileError("read_nifti: '<path>': ...")` for a missing, unreadable, truncated,
/// corrupt or foreign file or an unsupported voxel type.
/// Example: `Tensor vol = read_nifti("scan.nii.gz").data;`
NiftiImage read_nifti(const std::string& path, const NiftiReadOptions& options = {});

/// The header only (everything but `data`, which stays empty): the file's checks on the header,
/// without reading the voxels. Errors as `read_nifti`, "read_nifti_header: '<path>': ...".
/// Example: `auto shape = read_nifti_header("scan.nii.gz").dims;`
NiftiImage read_nifti_header(const std::string& path);

#define TAPEFLOW_NIFTI_WRITE_FIELDS(F)                   \
  F(int, version, 1)                                     \
  F(NiftiDatatype, datatype, NiftiDatatype::float32)     \
  F(std::optional<Affine>, affine, std::nullopt)         \
  F(std::optional<std::vector<double>>, voxel_sizes, {}) \
  F(int, qform_code, 2)                                  \
  F(int, sform_code, 2)                                  \
  F(int, xyz_units, 2)                                   \
  F(int, time_units, 8)                                  \
  F(std::string, descrip, "")                            \
  F(int, compression_level, 1)

/// Options of `write_nifti`:
/// - `version`: 1 (NIfTI-1, default; every dim must fit in 16 bits) or 2 (NIfTI-2).
/// - `datatype`: the voxel type on disk, float32 by default. An integer type stores each value
///   rounded to the nearest integer (ties to even); a value out of the type's range or NaN is a
///   `ValueError` naming the voxel. No scaling is written (scl_slope 1, scl_inter 0).
/// - `affine`: voxel to world; default `diag(voxel_sizes, 1)`, or the identity. Stored as the
///   sform (exactly, in the header's precision) and as the qform (libnifti's nearest rotation,
///   voxel sizes and qfac; exact when the affine has no shear).
/// - `voxel_sizes`: pixdim[1..n] for the n (1 to 7) values given, finite and positive; the
///   others (all by default) are the lengths of the affine's first three columns (as nibabel
///   sets them) and 1 beyond. The qform is built from these sizes, so it matches the affine
///   only when they agree with the columns' lengths (the sform is kept as given either way).
/// - `qform_code`, `sform_code`: 0..5, both 2 ("aligned") by default; 0 leaves that transform
///   out.
/// - `xyz_units`, `time_units`: NIFTI_UNITS_* codes, mm (2) and seconds (8) by default.
/// - `descrip`: the header's description text (at most 79 characters).
/// - `compression_level`: zlib's 0..9 for `.nii.gz` (1, as nibabel, by default); ignored for
///   `.nii`.
/// Example: `NiftiWriteOptions().version(2).voxel_sizes(std::vector<double>{1.0, 1.0, 2.5})`
struct NiftiWriteOptions {
  TAPEFLOW_FIELDS(NiftiWriteOptions, TAPEFLOW_NIFTI_WRITE_FIELDS)
};

/// Writes `data` (rank 1 to 7, every axis at least 1 long, shape `(nx, ny, nz, ...)`, x first as
/// `read_nifti` gives it) to `path`, which must end in `.nii` or `.nii.gz` (any case; `.gz` is
/// gzipped in memory). The file is one NIfTI single-file image (magic "n+1" or "n+2", vox_offset
/// 352 or 544, no extensions), written atomically (see atomic_file.hpp): a failure leaves any
/// previous file at `path` as it was. Bad arguments are a `ValueError`, a failed write a
/// `FileError`, both "write_nifti: '<path>': ...". Example: `write_nifti("out.nii.gz", vol,
/// NiftiWriteOptions().affine(img.affine));`
void write_nifti(const std::string& path, const Tensor& data,
                 const NiftiWriteOptions& options = {});

/// Writes `image.data` with the image's affine (as both the sform and the qform, under the
/// image's codes, so that reading the file back gives the same affine, even the fallback of a
/// file with both codes 0), voxel sizes, version, units and description: what `read_nifti` read
/// comes back as it was (the voxels as float32 unless `datatype` says otherwise).
/// Example: `auto img = read_nifti("in.nii"); img.data *= 2.f; write_nifti("out.nii", img);`
void write_nifti(const std::string& path, const NiftiImage& image,
                 NiftiDatatype datatype = NiftiDatatype::float32);

}  // namespace tapeflow::serialization
