#include "segmentation_files.hpp"

#include <cstdio>
#include <xtensor/xview.hpp>

namespace examples {

namespace S = tapeflow::serialization;

void write_segmentation_case(const std::string& dir, std::size_t number,
                             const tapeflow::Tensor& volume, const tapeflow::Tensor& label,
                             std::size_t i) {
  char stem[32];
  std::snprintf(stem, sizeof stem, "/case_%04zu", number);
  const auto one = [i](const tapeflow::Tensor& t) {
    return tapeflow::Tensor(xt::view(t, i, xt::all(), xt::all(), xt::all(), 0));
  };
  const auto sizes = S::NiftiWriteOptions().voxel_sizes(std::vector<double>{1.0, 1.0, 1.0});
  S::write_nifti(dir + stem + kImageSuffix, one(volume), sizes);
  S::write_nifti(dir + stem + kLabelSuffix, one(label),
                 S::NiftiWriteOptions(sizes).datatype(S::NiftiDatatype::uint8));
}

tapeflow::Tensor load_segmentation_volume(const std::string& path) {
  tapeflow::Tensor v = S::read_nifti(path).data;
  if (v.dimension() != 3)
    throw tapeflow::FileError("'" + path + "': a volume of 3 axes was expected, the file has " +
                              std::to_string(v.dimension()));
  v.reshape({v.shape()[0], v.shape()[1], v.shape()[2], std::size_t(1)});
  return v;
}

tapeflow::data::Dataset segmentation_files(const std::string& dir) {
  return tapeflow::data::Dataset::from_file_pairs(dir, kImageSuffix, kLabelSuffix,
                                                  load_segmentation_volume);
}

}  // namespace examples
