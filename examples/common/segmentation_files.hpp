#pragma once
/// The U-Net example's volumes as files: a folder of NIfTI image/label pairs, as medical
/// segmentation datasets come (`case_0007_image.nii.gz` with `case_0007_label.nii.gz`).
/// `make_segmentation_volumes` writes such a folder; `unet3d_segmentation --data DIR` trains
/// from one through a `tapeflow::data::Dataset`.
///
/// Each file holds one volume of shape (nx, ny, nz) (NIfTI's axis order, see
/// tapeflow/framework/io/nifti.hpp); the example's tensors are (nx, ny, nz, 1), channels_last.
///
/// Example:
/// ```
/// examples::write_segmentation_case("data", 7, batch.volume, batch.label, 0);
/// auto ds = examples::segmentation_files("data");   // {image, label} elements, (n, n, n, 1)
/// ```
#include <cstddef>
#include <string>
#include <tapeflow.hpp>

namespace examples {

/// The file name endings of a pair: `<stem>_image.nii.gz` and `<stem>_label.nii.gz`.
inline constexpr const char* kImageSuffix = "_image.nii.gz";
inline constexpr const char* kLabelSuffix = "_label.nii.gz";

/// Writes volume `i` of `volume` and `label` (both (batch, nx, ny, nz, 1)) as the pair
/// `<dir>/case_<number>_image.nii.gz` (float32) and `..._label.nii.gz` (uint8), with 1 mm voxels.
void write_segmentation_case(const std::string& dir, std::size_t number,
                             const tapeflow::Tensor& volume, const tapeflow::Tensor& label,
                             std::size_t i);

/// One volume file as the example's tensor: (nx, ny, nz, 1).
tapeflow::Tensor load_segmentation_volume(const std::string& path);

/// The pairs of `dir` as a dataset of `{image, label}` elements, each (nx, ny, nz, 1), loaded
/// when the pipeline reaches them (FileError for a folder without pairs or an unpaired file).
tapeflow::data::Dataset segmentation_files(const std::string& dir);

}  // namespace examples
