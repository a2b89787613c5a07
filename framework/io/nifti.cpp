#include "tapeflow/framework/io/nifti.hpp"

#include <fcntl.h>
#include <nifti2_io.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>
#include <type_traits>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/io/atomic_file.hpp"
#include "tapeflow/framework/io/detail/file_context.hpp"

namespace tapeflow::serialization {

using detail::file_context;
using detail::quoted;

namespace {

static_assert(sizeof(nifti_1_header) == 348 && sizeof(nifti_2_header) == 540,
              "the NIfTI header structs must have the sizes of the format");

constexpr std::size_t kN1Size = 348;
constexpr std::size_t kN2Size = 540;
// Where a single file's voxels start when tapeflow writes it: the header and 4 bytes saying
// "no extensions".
constexpr std::size_t kN1DataOffset = 352;
constexpr std::size_t kN2DataOffset = 544;

// libnifti prints to stderr at its default debug level 1; every message it could print on the
// paths used here is an error this file checks for itself first.
void quiet_libnifti() {
  static std::once_flag once;
  std::call_once(once, [] { nifti_set_debug_level(0); });
}

bool ends_with_nocase(const std::string& s, const std::string& suffix) {
  if (s.size() < suffix.size()) return false;
  return std::equal(suffix.begin(), suffix.end(), s.end() - static_cast<long>(suffix.size()),
                    [](char a, char b) {
                      return std::tolower(static_cast<unsigned char>(a)) ==
                             std::tolower(static_cast<unsigned char>(b));
                    });
}

// ---- Bounded sequential input: a plain file, or a gzip stream inflated as it is read --------

class Input {
 public:
  Input(const std::string& path, const std::string& where) : where_(where) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fail_file(where_, std::string("cannot open: ") + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
      const int e = errno;
      ::close(fd_);
      fail_file(where_, std::string("cannot stat: ") + std::strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
      ::close(fd_);
      fail_file(where_, "cannot read: it is a directory");
    }
    unsigned char magic[2] = {0, 0};
    const ssize_t n = ::pread(fd_, magic, 2, 0);
    compressed_ = n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    if (compressed_) {
      gz_ = ::gzdopen(fd_, "rb");  // owns fd_ from here on
      if (!gz_) {
        ::close(fd_);
        fail_file(where_, "cannot open the gzip stream");
      }
      ::gzbuffer(gz_, 1 << 17);
    } else if (S_ISREG(st.st_mode)) {
      size_ = static_cast<std::uint64_t>(st.st_size);
    }
  }
  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;
  ~Input() {
    if (gz_)
      ::gzclose(gz_);
    else if (fd_ >= 0)
      ::close(fd_);
  }

  bool compressed() const { return compressed_; }
  // The bytes the file holds when that is known before reading (an uncompressed regular file).
  std::optional<std::uint64_t> size() const { return size_; }
  // "the file" or "the decompressed stream", for messages about lengths.
  const char* what_holds() const { return compressed_ ? "the decompressed stream" : "the file"; }

  // Reads up to `n` bytes into `dst`; fewer only at the end of the data. A damaged gzip stream
  // is a FileError.
  std::size_t read(char* dst, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
      const std::size_t want = std::min<std::size_t>(n - got, std::size_t(1) << 30);
      if (compressed_) {
        const int r = ::gzread(gz_, dst + got, static_cast<unsigned>(want));
        if (r < 0) gzip_failed();
        if (r == 0) {
          check_gzip_state();
          break;
        }
        got += static_cast<std::size_t>(r);
      } else {
        const ssize_t r = ::read(fd_, dst + got, want);
        if (r < 0) {
          if (errno == EINTR) continue;
          fail_file(where_, std::string("cannot read: ") + std::strerror(errno));
        }
        if (r == 0) break;
        got += static_cast<std::size_t>(r);
      }
    }
    return got;
  }

  // Reads and drops up to `n` bytes; returns how many there were.
  std::uint64_t skip(std::uint64_t n) {
    if (!compressed_ && size_) {
      const off_t here = ::lseek(fd_, 0, SEEK_CUR);
      if (here >= 0) {
        const std::uint64_t left = *size_ > static_cast<std::uint64_t>(here)
                                       ? *size_ - static_cast<std::uint64_t>(here)
                                       : 0;
        const std::uint64_t step = std::min(n, left);
        if (::lseek(fd_, static_cast<off_t>(step), SEEK_CUR) < 0)
          fail_file(where_, std::string("cannot seek: ") + std::strerror(errno));
        return step;
      }
    }
    char buffer[1 << 14];
    std::uint64_t done = 0;
    while (done < n) {
      const std::size_t want =
          static_cast<std::size_t>(std::min<std::uint64_t>(n - done, sizeof buffer));
      const std::size_t got = read(buffer, want);
      done += got;
      if (got < want) break;
    }
    return done;
  }

  // After the voxels: reads a little further so that a gzip stream ending right after them has
  // its end (and checksum) checked; data that follows is ignored, as other readers ignore it.
  void check_end() {
    if (!compressed_) return;
    char buffer[1 << 12];
    read(buffer, sizeof buffer);
  }

 private:
  [[noreturn]] void gzip_failed() {
    int code = Z_OK;
    const char* message = ::gzerror(gz_, &code);
    if (code == Z_BUF_ERROR) fail_file(where_, "truncated gzip stream (it ends unexpectedly)");
    if (code == Z_ERRNO) fail_file(where_, std::string("cannot read: ") + std::strerror(errno));
    fail_file(where_, std::string("corrupt gzip stream: ") + (message ? message : "unknown error"));
  }
  void check_gzip_state() {
    int code = Z_OK;
    ::gzerror(gz_, &code);
    if (code != Z_OK) gzip_failed();
  }

  std::string where_;
  int fd_ = -1;
  gzFile gz_ = nullptr;
  bool compressed_ = false;
  std::optional<std::uint64_t> size_;
};

// ---- The header, checked ---------------------------------------------------------------------

// Everything read_nifti uses from either header version, in this machine's byte order.
struct Header {
  int version = 1;
  bool swapped = false;
  bool one_file = true;
  std::int64_t dim[8] = {};
  double pixdim[8] = {};
  int datatype = 0;
  int bitpix = 0;
  double vox_offset = 0;
  double scl_slope = 0, scl_inter = 0;
  int qform_code = 0, sform_code = 0;
  double quatern_b = 0, quatern_c = 0, quatern_d = 0;
  double qoffset[3] = {};
  double srow[3][4] = {};
  int xyzt_units = 0;
  std::string descrip;
};

std::uint32_t bswap32(std::uint32_t v) { return __builtin_bswap32(v); }

std::string printable(const char* bytes, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f) {
      s += static_cast<char>(c);
    } else {
      const char* hex = "0123456789abcdef";
      s += "\\x";
      s += hex[c >> 4];
      s += hex[c & 15];
    }
  }
  return s;
}

template <class H>
void copy_common(const H& h, Header& out) {
  for (int i = 0; i < 8; ++i) {
    out.dim[i] = h.dim[i];
    out.pixdim[i] = h.pixdim[i];
  }
  out.datatype = h.datatype;
  out.bitpix = h.bitpix;
  out.vox_offset = static_cast<double>(h.vox_offset);
  out.scl_slope = h.scl_slope;
  out.scl_inter = h.scl_inter;
  out.qform_code = h.qform_code;
  out.sform_code = h.sform_code;
  out.quatern_b = h.quatern_b;
  out.quatern_c = h.quatern_c;
  out.quatern_d = h.quatern_d;
  out.qoffset[0] = h.qoffset_x;
  out.qoffset[1] = h.qoffset_y;
  out.qoffset[2] = h.qoffset_z;
  for (int c = 0; c < 4; ++c) {
    out.srow[0][c] = h.srow_x[c];
    out.srow[1][c] = h.srow_y[c];
    out.srow[2][c] = h.srow_z[c];
  }
  out.xyzt_units = static_cast<unsigned char>(h.xyzt_units);
  out.descrip.assign(h.descrip, strnlen(h.descrip, sizeof h.descrip));
}

// The header in the first `n` bytes of `bytes` (n <= 540), or a FileError saying why not.
Header parse_header(const char* bytes, std::size_t n, const std::string& where, const char* holds) {
  if (n < 4)
    fail_file(where, tapeflow::detail::concat("not a NIfTI file: ", holds, " has ", n,
                                              " bytes, fewer than a header's 348"));
  std::uint32_t sizeof_hdr = 0;
  std::memcpy(&sizeof_hdr, bytes, 4);
  Header h;
  if (sizeof_hdr == kN1Size || bswap32(sizeof_hdr) == kN1Size) {
    h.version = 1;
  } else if (sizeof_hdr == kN2Size || bswap32(sizeof_hdr) == kN2Size) {
    h.version = 2;
  } else {
    fail_file(where, tapeflow::detail::concat(
                         "not a NIfTI file: the first 4 bytes (sizeof_hdr) read ",
                         static_cast<std::int32_t>(sizeof_hdr),
                         ", not 348 (NIfTI-1) or 540 (NIfTI-2) in either byte order"));
  }
  h.swapped = sizeof_hdr != (h.version == 1 ? kN1Size : kN2Size);
  const std::size_t need = h.version == 1 ? kN1Size : kN2Size;
  if (n < need)
    fail_file(where, tapeflow::detail::concat("truncated: the NIfTI-", h.version, " header needs ",
                                              need, " bytes, ", holds, " has ", n));
  if (h.version == 1) {
    nifti_1_header raw;
    std::memcpy(&raw, bytes, kN1Size);
    if (h.swapped) swap_nifti_header(&raw, 1);
    const bool single = std::memcmp(raw.magic, "n+1", 4) == 0;
    if (!single && std::memcmp(raw.magic, "ni1", 4) != 0)
      fail_file(where, "not a NIfTI-1 file: the magic is '" + printable(raw.magic, 4) +
                           "', not 'n+1' or 'ni1' (an ANALYZE 7.5 header has none)");
    h.one_file = single;
    copy_common(raw, h);
  } else {
    nifti_2_header raw;
    std::memcpy(&raw, bytes, kN2Size);
    if (h.swapped) swap_nifti_header(&raw, 2);
    const bool single = std::memcmp(raw.magic, "n+2", 4) == 0;
    if (!single && std::memcmp(raw.magic, "ni2", 4) != 0)
      fail_file(where, "not a NIfTI-2 file: the magic is '" + printable(raw.magic, 4) +
                           "', not 'n+2' or 'ni2'");
    static const char eol[4] = {'\r', '\n', '\032', '\n'};
    static const char zeros[4] = {0, 0, 0, 0};
    if (std::memcmp(raw.magic + 4, eol, 4) != 0 && std::memcmp(raw.magic + 4, zeros, 4) != 0)
      fail_file(where, "corrupt NIfTI-2 header: the magic's end-of-line check reads '" +
                           printable(raw.magic + 4, 4) +
                           "', not '\\r\\n\\x1a\\n' (a file transferred as text?)");
    h.one_file = single;
    copy_common(raw, h);
  }
  return h;
}

// The voxel size of a datatype tapeflow converts, or 0.
std::size_t supported_size(int code) {
  switch (code) {
    case DT_UINT8:
    case DT_INT8:
      return 1;
    case DT_INT16:
    case DT_UINT16:
      return 2;
    case DT_INT32:
    case DT_UINT32:
    case DT_FLOAT32:
      return 4;
    case DT_INT64:
    case DT_UINT64:
    case DT_FLOAT64:
      return 8;
    default:
      return 0;
  }
}

std::string type_label(int code) {
  return tapeflow::detail::concat(nifti_datatype_name(code), " (", code, ")");
}

// What the checked header says about the voxels.
struct Layout {
  std::vector<std::size_t> dims;  // dim[1..dim[0]]
  std::size_t voxel_bytes = 0;
  std::uint64_t voxels = 0;
  std::uint64_t data_bytes = 0;
  std::uint64_t offset = 0;  // where the voxels start in the data file
  bool scaled = false;
};

Layout check_header(const Header& h, std::uint64_t max_bytes, const std::string& where) {
  Layout L;
  const std::int64_t rank = h.dim[0];
  if (rank < 1 || rank > 7)
    fail_file(where, tapeflow::detail::concat("corrupt header: dim[0] (the rank) is ", rank,
                                              ", not 1 to 7"));
  L.voxels = 1;
  bool overflow = false;
  for (int i = 1; i <= rank; ++i) {
    if (h.dim[i] < 0)
      fail_file(where, tapeflow::detail::concat("corrupt header: dim[", i, "] is ", h.dim[i],
                                                " (negative)"));
    const auto d = static_cast<std::uint64_t>(h.dim[i]);
    if (d > std::numeric_limits<std::size_t>::max()) overflow = true;
    L.dims.push_back(static_cast<std::size_t>(d));
    if (d != 0 && L.voxels > std::numeric_limits<std::uint64_t>::max() / d) overflow = true;
    if (!overflow) L.voxels *= d;
  }
  const bool empty = std::find(L.dims.begin(), L.dims.end(), 0) != L.dims.end();
  if (empty) L.voxels = 0, overflow = false;

  L.voxel_bytes = supported_size(h.datatype);
  if (L.voxel_bytes == 0) {
    int nbyper = 0, swapsize = 0;
    nifti_datatype_sizes(h.datatype, &nbyper, &swapsize);
    if (nbyper > 0 || h.datatype == DT_BINARY)
      fail_file(where, "unsupported voxel type " + type_label(h.datatype) +
                           ": only real numbers (integers of 8 to 64 bits, float32, float64) "
                           "are converted to float");
    fail_file(where,
              tapeflow::detail::concat("corrupt header: unknown datatype code ", h.datatype));
  }
  if (h.bitpix != static_cast<int>(8 * L.voxel_bytes))
    fail_file(where, tapeflow::detail::concat("corrupt header: bitpix is ", h.bitpix,
                                              ", but datatype ", type_label(h.datatype), " has ",
                                              8 * L.voxel_bytes, " bits"));
  if (overflow || (L.voxels != 0 && L.voxels > max_bytes / L.voxel_bytes))
    fail_file(where,
              tapeflow::detail::concat("the header's dims ", shape_str(L.dims), " of ",
                                       type_label(h.datatype), " need more than the ", max_bytes,
                                       " bytes a read accepts (NiftiReadOptions::max_bytes)"));
  L.data_bytes = L.voxels * L.voxel_bytes;

  const double off = h.vox_offset;
  if (!std::isfinite(off) || off < 0 || off > 4.0e18)
    fail_file(where, tapeflow::detail::concat("corrupt header: vox_offset is ", off));
  L.offset = static_cast<std::uint64_t>(off);  // a fraction is dropped, as libnifti does
  const std::uint64_t header_bytes = h.version == 1 ? kN1Size : kN2Size;
  // libnifti's rule: a single file's voxels never start inside its header.
  if (h.one_file && L.offset < header_bytes) L.offset = header_bytes;

  const double slope = h.scl_slope, inter = h.scl_inter;
  if (slope != 0 && std::isfinite(slope)) {
    if (!std::isfinite(inter))
      fail_file(where, tapeflow::detail::concat("corrupt header: scl_slope is ", slope,
                                                " but scl_inter is ", inter, " (not finite)"));
    L.scaled = !(slope == 1 && inter == 0);
  }
  return L;
}

bool valid_xform_code(int code) { return code >= 0 && code <= 5; }

Affine matrix_from(const nifti_dmat44& m) {
  Affine a;
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c)
      a[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)] = m.m[r][c];
  return a;
}

// The header's metadata as nibabel reports it (see nifti.hpp).
NiftiImage describe(const Header& h, const Layout& L) {
  NiftiImage img;
  img.version = h.version;
  img.datatype = h.datatype;
  img.byte_swapped = h.swapped;
  img.scl_slope = h.scl_slope;
  img.scl_inter = h.scl_inter;
  img.xyz_units = h.xyzt_units & 0x07;
  img.time_units = h.xyzt_units & 0x38;
  img.descrip = h.descrip;
  const auto rank = static_cast<int>(L.dims.size());
  for (std::size_t d : L.dims) img.dims.push_back(static_cast<std::int64_t>(d));

  // nibabel's fixes on loading: spatial pixdims 0 -> 1, negative -> absolute value; qfac other
  // than -1 -> 1; invalid transform codes -> 0.
  double pixdim[8];
  std::copy(h.pixdim, h.pixdim + 8, pixdim);
  for (int i = 1; i <= 3; ++i) {
    if (pixdim[i] == 0) pixdim[i] = 1;
    if (pixdim[i] < 0) pixdim[i] = -pixdim[i];
  }
  for (int i = 1; i <= rank; ++i) img.voxel_sizes.push_back(pixdim[i]);
  const double qfac = pixdim[0] == -1 ? -1.0 : 1.0;
  img.qform_code = valid_xform_code(h.qform_code) ? h.qform_code : 0;
  img.sform_code = valid_xform_code(h.sform_code) ? h.sform_code : 0;

  img.qform = matrix_from(nifti_quatern_to_dmat44(h.quatern_b, h.quatern_c, h.quatern_d,
                                                  h.qoffset[0], h.qoffset[1], h.qoffset[2],
                                                  pixdim[1], pixdim[2], pixdim[3], qfac));
  for (std::size_t r = 0; r < 3; ++r)
    for (std::size_t c = 0; c < 4; ++c) img.sform[r][c] = h.srow[r][c];

  if (img.sform_code != 0) {
    img.affine = img.sform;
  } else if (img.qform_code != 0) {
    img.affine = img.qform;
  } else {
    // nibabel's get_base_affine: the first three axes (missing ones of length 1, size 1), x
    // flipped, the origin at the volume's center.
    img.affine = identity_affine();
    for (std::size_t i = 0; i < 3; ++i) {
      const bool present = static_cast<int>(i) < rank;
      const double n = present ? static_cast<double>(L.dims[i]) : 1.0;
      double zoom = present ? pixdim[i + 1] : 1.0;
      if (i == 0) zoom = -zoom;
      img.affine[i][i] = zoom;
      img.affine[i][3] = -(n - 1) / 2.0 * zoom;
    }
  }
  return img;
}

// ---- Voxel order ----------------------------------------------------------------------------

// Calls `f(file_index, tensor_index)` for every voxel of a volume of shape `dims`, where
// `file_index` counts in the file's order (first axis fastest) and `tensor_index` in the
// tensor's row-major order, visiting them in tiles: a run of `kTile` consecutive file voxels
// (along x) at a time, so that one side is read or written contiguously and the other as
// `kTile` sequential streams.
template <class F>
void for_each_voxel(const std::vector<std::size_t>& dims, F&& f) {
  constexpr std::size_t kTile = 32;
  const std::size_t nx = dims[0];
  std::size_t rest = 1;
  for (std::size_t a = 1; a < dims.size(); ++a) rest *= dims[a];
  if (nx == 0 || rest == 0) return;
  // Fortran strides (in units of x rows) of the axes after x.
  const std::size_t m = dims.size() - 1;
  std::vector<std::size_t> stride(m), index(m);
  for (std::size_t a = 0, s = 1; a < m; ++a) {
    stride[a] = s;
    s *= dims[a + 1];
  }
  for (std::size_t x0 = 0; x0 < nx; x0 += kTile) {
    const std::size_t x1 = std::min(nx, x0 + kTile);
    std::fill(index.begin(), index.end(), 0);
    std::size_t row = 0;  // the file's x row of the current index
    for (std::size_t r = 0; r < rest; ++r) {
      // r: the row-major offset of (index...) over the axes after x.
      for (std::size_t x = x0; x < x1; ++x) f(row * nx + x, x * rest + r);
      // Next index, the last axis fastest (row-major order).
      for (std::size_t a = m; a-- > 0;) {
        if (++index[a] < dims[a + 1]) {
          row += stride[a];
          break;
        }
        row -= (dims[a + 1] - 1) * stride[a];
        index[a] = 0;
      }
    }
  }
}

template <class T>
T load(const char* p, bool swap) {
  T v;
  if constexpr (sizeof(T) == 1) {
    std::memcpy(&v, p, 1);
  } else {
    using U = std::conditional_t<sizeof(T) == 2, std::uint16_t,
                                 std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>;
    U u;
    std::memcpy(&u, p, sizeof u);
    if (swap) {
      if constexpr (sizeof(T) == 2) u = __builtin_bswap16(u);
      if constexpr (sizeof(T) == 4) u = __builtin_bswap32(u);
      if constexpr (sizeof(T) == 8) u = __builtin_bswap64(u);
    }
    std::memcpy(&v, &u, sizeof v);
  }
  return v;
}

template <class T>
void convert_voxels(const char* raw, const Layout& L, bool swap, double slope, double inter,
                    float* out) {
  if (L.scaled) {
    for_each_voxel(L.dims, [&](std::size_t file, std::size_t tensor) {
      out[tensor] = static_cast<float>(
          static_cast<double>(load<T>(raw + file * sizeof(T), swap)) * slope + inter);
    });
  } else {
    for_each_voxel(L.dims, [&](std::size_t file, std::size_t tensor) {
      out[tensor] = static_cast<float>(load<T>(raw + file * sizeof(T), swap));
    });
  }
}

void convert(int datatype, const char* raw, const Layout& L, bool swap, double slope, double inter,
             float* out) {
  switch (datatype) {
    case DT_UINT8:
      return convert_voxels<std::uint8_t>(raw, L, swap, slope, inter, out);
    case DT_INT8:
      return convert_voxels<std::int8_t>(raw, L, swap, slope, inter, out);
    case DT_INT16:
      return convert_voxels<std::int16_t>(raw, L, swap, slope, inter, out);
    case DT_UINT16:
      return convert_voxels<std::uint16_t>(raw, L, swap, slope, inter, out);
    case DT_INT32:
      return convert_voxels<std::int32_t>(raw, L, swap, slope, inter, out);
    case DT_UINT32:
      return convert_voxels<std::uint32_t>(raw, L, swap, slope, inter, out);
    case DT_INT64:
      return convert_voxels<std::int64_t>(raw, L, swap, slope, inter, out);
    case DT_UINT64:
      return convert_voxels<std::uint64_t>(raw, L, swap, slope, inter, out);
    case DT_FLOAT32:
      return convert_voxels<float>(raw, L, swap, slope, inter, out);
    case DT_FLOAT64:
      return convert_voxels<double>(raw, L, swap, slope, inter, out);
    default:
      break;  // check_header let no other type through
  }
}

// ---- Reading ------------------------------------------------------------------------------------

bool is_file(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

// For a two-file volume: the image file that goes with header `path` (x.hdr -> x.img or
// x.img.gz, x.hdr.gz -> x.img.gz or x.img), or "" if none exists.
std::string image_file_for(const std::string& path) {
  std::string base;
  if (ends_with_nocase(path, ".hdr.gz"))
    base = path.substr(0, path.size() - 7);
  else if (ends_with_nocase(path, ".hdr"))
    base = path.substr(0, path.size() - 4);
  else
    return "";
  // The image's extension in the header's case (x.HDR -> x.IMG).
  const bool upper = std::isupper(static_cast<unsigned char>(path[base.size() + 1])) != 0;
  const std::string img = upper ? ".IMG" : ".img", gz = upper ? ".GZ" : ".gz";
  const bool header_gz = ends_with_nocase(path, ".gz");
  for (const std::string& candidate : header_gz
                                          ? std::vector<std::string>{base + img + gz, base + img}
                                          : std::vector<std::string>{base + img, base + img + gz})
    if (is_file(candidate)) return candidate;
  return "";
}

// The header that goes with `path` when it names the image file of a pair (x.img -> x.hdr).
std::string header_file_for(const std::string& path) {
  std::string base;
  if (ends_with_nocase(path, ".img.gz"))
    base = path.substr(0, path.size() - 7);
  else if (ends_with_nocase(path, ".img"))
    base = path.substr(0, path.size() - 4);
  else
    return path;
  const bool upper = std::isupper(static_cast<unsigned char>(path[base.size() + 1])) != 0;
  const std::string hdr = upper ? ".HDR" : ".hdr", gz = upper ? ".GZ" : ".gz";
  for (const std::string& candidate : {base + hdr, base + hdr + gz})
    if (is_file(candidate)) return candidate;
  return path;
}

NiftiImage read_impl(const std::string& path, bool read_data, std::uint64_t max_bytes,
                     const std::string& where) {
  quiet_libnifti();
  // `path` may name the image file of a pair: its header is then the .hdr beside it.
  const std::string header_path = header_file_for(path);
  const std::string header_where =
      header_path == path ? where : where + ": header file " + quoted(header_path);
  std::unique_ptr<Input> input = std::make_unique<Input>(header_path, header_where);
  char head[kN2Size];
  const std::size_t got = input->read(head, sizeof head);
  const Header h = parse_header(head, got, header_where, input->what_holds());
  const Layout L = check_header(h, max_bytes, header_where);
  NiftiImage img = describe(h, L);

  // Where the voxels are: after the header in the same file, or in the pair's image file.
  std::size_t consumed = got;  // bytes of the data file already read (into `head`)
  std::string data_where = header_where;
  if (!h.one_file) {
    const std::string data_path = image_file_for(header_path);
    if (data_path.empty())
      fail_file(header_where, std::string("the header is one of a pair (magic 'ni") +
                                  static_cast<char>('0' + h.version) +
                                  "'), but no image file (.img or .img.gz) lies beside it");
    data_where = data_path == path ? where : where + ": image file " + quoted(data_path);
    input = std::make_unique<Input>(data_path, data_where);
    consumed = 0;
  }
  if (input->size() && (*input->size() < L.offset || *input->size() - L.offset < L.data_bytes))
    fail_file(data_where, tapeflow::detail::concat("truncated: the header promises ", L.data_bytes,
                                                   " bytes of voxels from offset ", L.offset,
                                                   ", the file has ", *input->size(), " bytes"));
  if (!read_data) {
    img.data = Tensor::from_shape({0});
    return img;
  }

  // The voxels' bytes, read in chunks: a gzip stream's length is known only at its end, so the
  // buffer grows with what the stream actually holds, never to what a header merely claims.
  std::vector<char> raw;
  std::size_t have = 0;
  if (L.offset < consumed) {
    const std::size_t from = static_cast<std::size_t>(L.offset);
    const std::size_t take =
        static_cast<std::size_t>(std::min<std::uint64_t>(consumed - from, L.data_bytes));
    raw.assign(head + from, head + from + take);
    have = take;
  } else {
    const std::uint64_t gap = L.offset - consumed;
    if (input->skip(gap) < gap)
      fail_file(data_where,
                tapeflow::detail::concat("truncated: the voxels start at offset ", L.offset,
                                         ", but ", input->what_holds(), " ends before"));
  }
  const auto total = static_cast<std::size_t>(L.data_bytes);
  while (have < total) {
    const std::size_t chunk =
        input->size() ? total - have : std::min(total - have, std::max<std::size_t>(have, 1 << 20));
    raw.resize(have + chunk);
    const std::size_t n = input->read(raw.data() + have, chunk);
    have += n;
    if (n < chunk)
      fail_file(data_where,
                tapeflow::detail::concat("truncated: the header promises ", L.data_bytes,
                                         " bytes of voxels from offset ", L.offset, ", ",
                                         input->what_holds(), " has only ", have, " of them"));
  }
  input->check_end();

  img.data = Tensor::from_shape(L.dims);
  convert(h.datatype, raw.data(), L, h.swapped, h.scl_slope, h.scl_inter, img.data.data());
  return img;
}

// ---- Writing --------------------------------------------------------------------------------

struct NimDeleter {
  void operator()(nifti_image* nim) const { nifti_image_free(nim); }
};

template <class T>
void store(char* p, T v) {
  std::memcpy(p, &v, sizeof v);
}

std::string voxel_index(const std::vector<std::size_t>& dims, std::size_t tensor_index) {
  std::vector<std::size_t> idx(dims.size());
  for (std::size_t a = dims.size(); a-- > 0;) {
    idx[a] = tensor_index % dims[a];
    tensor_index /= dims[a];
  }
  return shape_str(idx);
}

template <class T>
void write_voxels(const float* in, const std::vector<std::size_t>& dims, int code, char* out,
                  const std::string& where) {
  if constexpr (std::is_floating_point_v<T>) {
    for_each_voxel(dims, [&](std::size_t file, std::size_t tensor) {
      store(out + file * sizeof(T), static_cast<T>(in[tensor]));
    });
  } else {
    // The range as doubles: [lo, hi_exclusive); 2^63 and 2^64 are exact, INT64_MAX is not.
    const double lo = static_cast<double>(std::numeric_limits<T>::min());
    const double hi = sizeof(T) == 8 ? std::ldexp(1.0, std::is_signed_v<T> ? 63 : 64)
                                     : static_cast<double>(std::numeric_limits<T>::max()) + 1;
    for_each_voxel(dims, [&](std::size_t file, std::size_t tensor) {
      const double v = std::nearbyint(static_cast<double>(in[tensor]));
      if (!(v >= lo && v < hi))
        fail(where, tapeflow::detail::concat(
                        "the value ", in[tensor], " at voxel ", voxel_index(dims, tensor),
                        " does not fit the datatype ", type_label(code), " (range ",
                        std::numeric_limits<T>::min(), " to ", std::numeric_limits<T>::max(), ")"));
      store(out + file * sizeof(T), static_cast<T>(v));
    });
  }
}

void write_data(NiftiDatatype type, const float* in, const std::vector<std::size_t>& dims,
                char* out, const std::string& where) {
  const int code = static_cast<int>(type);
  switch (type) {
    case NiftiDatatype::uint8:
      return write_voxels<std::uint8_t>(in, dims, code, out, where);
    case NiftiDatatype::int8:
      return write_voxels<std::int8_t>(in, dims, code, out, where);
    case NiftiDatatype::int16:
      return write_voxels<std::int16_t>(in, dims, code, out, where);
    case NiftiDatatype::uint16:
      return write_voxels<std::uint16_t>(in, dims, code, out, where);
    case NiftiDatatype::int32:
      return write_voxels<std::int32_t>(in, dims, code, out, where);
    case NiftiDatatype::uint32:
      return write_voxels<std::uint32_t>(in, dims, code, out, where);
    case NiftiDatatype::int64:
      return write_voxels<std::int64_t>(in, dims, code, out, where);
    case NiftiDatatype::uint64:
      return write_voxels<std::uint64_t>(in, dims, code, out, where);
    case NiftiDatatype::float32:
      return write_voxels<float>(in, dims, code, out, where);
    case NiftiDatatype::float64:
      return write_voxels<double>(in, dims, code, out, where);
  }
}

// `bytes` as one gzip member (RFC 1952), at zlib's `level`.
std::string gzip(const std::string& bytes, int level, const std::string& where) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    fail_file(where, "cannot start zlib's compressor");
  std::string out;
  out.resize(std::max<std::size_t>(deflateBound(&zs, bytes.size()), 64));
  std::size_t in_pos = 0, out_pos = 0;
  int rc = Z_OK;
  do {
    const std::size_t in_left = bytes.size() - in_pos;
    const std::size_t in_step = std::min<std::size_t>(in_left, std::size_t(1) << 30);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data() + in_pos));
    zs.avail_in = static_cast<uInt>(in_step);
    if (out.size() - out_pos < (std::size_t(1) << 16)) out.resize(out.size() * 2);
    const std::size_t out_step = std::min<std::size_t>(out.size() - out_pos, std::size_t(1) << 30);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + out_pos);
    zs.avail_out = static_cast<uInt>(out_step);
    rc = deflate(&zs, in_step == in_left ? Z_FINISH : Z_NO_FLUSH);
    in_pos += in_step - zs.avail_in;
    out_pos += out_step - zs.avail_out;
  } while (rc == Z_OK || rc == Z_BUF_ERROR);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END)
    fail_file(where, tapeflow::detail::concat("zlib's compressor failed (", rc, ")"));
  out.resize(out_pos);
  return out;
}

}  // namespace

Affine identity_affine() {
  Affine a{};
  for (std::size_t i = 0; i < 4; ++i) a[i][i] = 1.0;
  return a;
}

std::string nifti_datatype_name(int code) {
  const char* name = nifti_datatype_string(code);
  if (!name || std::strcmp(name, "**ILLEGAL**") == 0) return "UNKNOWN";
  return name;
}

NiftiImage read_nifti(const std::string& path, const NiftiReadOptions& options) {
  return read_impl(path, true, options.max_bytes(), file_context("read_nifti", path));
}

NiftiImage read_nifti_header(const std::string& path) {
  return read_impl(path, false, NiftiReadOptions().max_bytes(),
                   file_context("read_nifti_header", path));
}

void write_nifti(const std::string& path, const Tensor& data, const NiftiWriteOptions& options) {
  quiet_libnifti();
  const std::string where = file_context("write_nifti", path);
  const bool gz = ends_with_nocase(path, ".nii.gz");
  if (!gz && !ends_with_nocase(path, ".nii"))
    fail(where, "the file name must end in .nii or .nii.gz");
  const int version = options.version();
  TAPEFLOW_CHECK(version == 1 || version == 2, ValueError, where, "version must be 1 or 2, got ",
                 version);
  const NiftiDatatype type = options.datatype();
  const int code = static_cast<int>(type);
  TAPEFLOW_CHECK(supported_size(code) != 0, ValueError, where, "datatype code ", code,
                 " is not one write_nifti writes");
  const std::size_t rank = data.dimension();
  TAPEFLOW_CHECK(rank >= 1 && rank <= 7, ValueError, where,
                 "the data must have 1 to 7 axes, got shape ", shape_str(data.shape()));
  const std::vector<std::size_t> dims(data.shape().begin(), data.shape().end());
  const std::int64_t max_dim = version == 1 ? 32767 : std::numeric_limits<std::int64_t>::max();
  for (std::size_t d : dims) {
    TAPEFLOW_CHECK(d >= 1, ValueError, where, "every axis needs at least one voxel, got shape ",
                   shape_str(dims));
    TAPEFLOW_CHECK(d <= static_cast<std::uint64_t>(max_dim), ValueError, where, "shape ",
                   shape_str(dims),
                   " does not fit NIfTI-1 (at most 32767 voxels an axis): "
                   "write version 2");
  }
  TAPEFLOW_CHECK(valid_xform_code(options.qform_code()), ValueError, where,
                 "qform_code must be 0 to 5, got ", options.qform_code());
  TAPEFLOW_CHECK(valid_xform_code(options.sform_code()), ValueError, where,
                 "sform_code must be 0 to 5, got ", options.sform_code());
  TAPEFLOW_CHECK(options.xyz_units() >= 0 && options.xyz_units() <= 7, ValueError, where,
                 "xyz_units must be a NIFTI_UNITS_* space code (0 to 7), got ",
                 options.xyz_units());
  TAPEFLOW_CHECK(
      options.time_units() >= 0 && options.time_units() <= 0x38 && options.time_units() % 8 == 0,
      ValueError, where,
      "time_units must be a NIFTI_UNITS_* time code (a multiple of 8 to 56), got ",
      options.time_units());
  TAPEFLOW_CHECK(
      options.descrip().size() <= 79 && options.descrip().find('\0') == std::string::npos,
      ValueError, where, "descrip must be at most 79 characters (no NUL), got ",
      options.descrip().size());
  TAPEFLOW_CHECK(options.compression_level() >= 0 && options.compression_level() <= 9, ValueError,
                 where, "compression_level must be 0 to 9, got ", options.compression_level());

  const std::optional<std::vector<double>>& sizes = options.voxel_sizes();
  if (sizes) {
    TAPEFLOW_CHECK(!sizes->empty() && sizes->size() <= 7, ValueError, where,
                   "voxel_sizes must have 1 to 7 values, got ", sizes->size());
    for (double v : *sizes)
      TAPEFLOW_CHECK(std::isfinite(v) && v > 0, ValueError, where,
                     "voxel sizes must be finite and positive, got ", v);
  }
  Affine affine = identity_affine();
  if (options.affine()) {
    affine = *options.affine();
    for (const auto& row : affine)
      for (double v : row)
        TAPEFLOW_CHECK(std::isfinite(v), ValueError, where, "the affine must be finite, got ", v);
    TAPEFLOW_CHECK(affine[3][0] == 0 && affine[3][1] == 0 && affine[3][2] == 0 && affine[3][3] == 1,
                   ValueError, where, "the affine's last row must be (0, 0, 0, 1)");
  } else if (sizes) {
    for (std::size_t i = 0; i < 3 && i < sizes->size(); ++i) affine[i][i] = (*sizes)[i];
  }
  // pixdim: the given voxel sizes, else the lengths of the affine's columns (1 for a zero
  // column), 1 beyond the third axis.
  double pixdim[8] = {0, 1, 1, 1, 1, 1, 1, 1};
  for (std::size_t i = 0; i < 3; ++i) {
    const double n = std::hypot(affine[0][i], affine[1][i], affine[2][i]);
    pixdim[i + 1] = n > 0 ? n : 1.0;
  }
  if (sizes)
    for (std::size_t i = 0; i < sizes->size(); ++i) pixdim[i + 1] = (*sizes)[i];

  // The header, through libnifti: a new image of these dims, the transforms set, converted to
  // the version's header struct.
  std::int64_t nim_dims[8] = {static_cast<std::int64_t>(rank), 1, 1, 1, 1, 1, 1, 1};
  for (std::size_t i = 0; i < rank; ++i) nim_dims[i + 1] = static_cast<std::int64_t>(dims[i]);
  std::unique_ptr<nifti_image, NimDeleter> nim(nifti_make_new_nim(nim_dims, code, 0));
  if (!nim) fail_file(where, "libnifti could not make the header");
  nim->nifti_type = version == 1 ? NIFTI_FTYPE_NIFTI1_1 : NIFTI_FTYPE_NIFTI2_1;
  double* deltas[8] = {nullptr,  &nim->dx, &nim->dy, &nim->dz,
                       &nim->dt, &nim->du, &nim->dv, &nim->dw};
  for (int i = 1; i <= 7; ++i) *deltas[i] = nim->pixdim[i] = pixdim[i];
  nifti_dmat44 m;
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c)
      m.m[r][c] = affine[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)];
  nim->sform_code = options.sform_code();
  nim->sto_xyz = m;
  nim->qform_code = options.qform_code();
  double dx = 0, dy = 0, dz = 0;
  nifti_dmat44_to_quatern(m, &nim->quatern_b, &nim->quatern_c, &nim->quatern_d, &nim->qoffset_x,
                          &nim->qoffset_y, &nim->qoffset_z, &dx, &dy, &dz, &nim->qfac);
  nim->scl_slope = 1.0;
  nim->scl_inter = 0.0;
  nim->xyz_units = options.xyz_units();
  nim->time_units = options.time_units();
  std::memset(nim->descrip, 0, sizeof nim->descrip);
  std::memcpy(nim->descrip, options.descrip().data(), options.descrip().size());
  nim->iname_offset = static_cast<std::int64_t>(version == 1 ? kN1DataOffset : kN2DataOffset);

  const std::size_t offset = version == 1 ? kN1DataOffset : kN2DataOffset;
  const std::size_t voxel_bytes = supported_size(code);
  TAPEFLOW_CHECK(data.size() <= (std::numeric_limits<std::size_t>::max() - offset) / voxel_bytes,
                 ValueError, where, "the data is too large");
  std::string bytes(offset + data.size() * voxel_bytes, '\0');
  if (version == 1) {
    nifti_1_header hdr;
    if (nifti_convert_nim2n1hdr(nim.get(), &hdr) != 0)
      fail_file(where, "libnifti could not convert the header to NIfTI-1");
    std::memcpy(bytes.data(), &hdr, sizeof hdr);
  } else {
    nifti_2_header hdr;
    if (nifti_convert_nim2n2hdr(nim.get(), &hdr) != 0)
      fail_file(where, "libnifti could not convert the header to NIfTI-2");
    std::memcpy(bytes.data(), &hdr, sizeof hdr);
  }
  // bytes [header, offset): the extension flag, 0: none. Then the voxels (a Tensor is one
  // row-major block).
  write_data(type, data.data(), dims, bytes.data() + offset, where);
  if (gz) bytes = gzip(bytes, options.compression_level(), where);
  write_file_atomically(path, bytes, where);
}

void write_nifti(const std::string& path, const NiftiImage& image, NiftiDatatype datatype) {
  NiftiWriteOptions options;
  options.version(image.version == 2 ? 2 : 1)
      .datatype(datatype)
      .affine(image.affine)
      .qform_code(valid_xform_code(image.qform_code) ? image.qform_code : 0)
      .sform_code(valid_xform_code(image.sform_code) ? image.sform_code : 0)
      .xyz_units(image.xyz_units & 0x07)
      .time_units(image.time_units & 0x38)
      .descrip(image.descrip.substr(0, std::min<std::size_t>(image.descrip.size(), 79)));
  if (!image.voxel_sizes.empty()) options.voxel_sizes(image.voxel_sizes);
  write_nifti(path, image.data, options);
}

}  // namespace tapeflow::serialization
