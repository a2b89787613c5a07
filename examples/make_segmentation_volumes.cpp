// make_segmentation_volumes: writes the U-Net example's synthetic volumes as a folder of NIfTI
// image/label pairs (case_0000_image.nii.gz with case_0000_label.nii.gz, ...), the layout of
// medical segmentation datasets; `unet3d_segmentation --data DIR` trains from such a folder.
// The volumes are those unet3d_segmentation generates (examples/common/segmentation.hpp): one
// sphere, box or torus among bright clutter under Gaussian noise; the label marks the shape.
//
//   make_segmentation_volumes [--count 116] [--size 24] [--noise 0.3] [--clutter 12]
//                             [--seed 1] [--out segmentation_data]
#include <algorithm>
#include <cstdio>
#include <exception>
#include <random>
#include <string>
#include <tapeflow.hpp>

#include "common/cli.hpp"
#include "common/segmentation.hpp"
#include "common/segmentation_files.hpp"

namespace {

struct Config {
  int count = 116, size = 24, clutter = 12, seed = 1;
  double noise = 0.3;
  std::string out = "segmentation_data";
};

int run(const Config& c) {
  if (!examples::create_output_folder("make_segmentation_volumes", c.out)) return 1;
  std::mt19937 rng(static_cast<std::uint32_t>(c.seed));
  const examples::SegmentationNoise noise{static_cast<float>(c.noise), c.clutter};
  // A few volumes at a time: the whole set need never be in memory.
  constexpr std::size_t kChunk = 8;
  const auto count = static_cast<std::size_t>(c.count);
  for (std::size_t first = 0; first < count; first += kChunk) {
    const std::size_t n = std::min(kChunk, count - first);
    examples::SegmentationBatch b =
        examples::make_segmentation_batch(n, static_cast<std::size_t>(c.size), rng, noise);
    for (std::size_t i = 0; i < n; ++i)
      examples::write_segmentation_case(c.out, first + i, b.volume, b.label, i);
  }
  std::printf("wrote %d image/label pairs of %d^3 voxels to %s (*%s, *%s)\n", c.count, c.size,
              c.out.c_str(), examples::kImageSuffix, examples::kLabelSuffix);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  examples::Options opts("make_segmentation_volumes",
                         "Writes the U-Net example's synthetic volumes and labels as a folder of "
                         ".nii.gz pairs\n(unet3d_segmentation --data DIR trains from it).");
  opts.add("count", c.count, 1, 100000, "image/label pairs to write");
  opts.add("size", c.size, 8, 64, "voxels per side");
  opts.add("noise", c.noise, 0.0, 2.0, "standard deviation of the Gaussian noise");
  opts.add("clutter", c.clutter, 0, 1000, "clutter blobs per volume");
  opts.add("seed", c.seed, 0, 1 << 30, "random seed");
  opts.add("out", c.out, "folder to write the pairs to");
  if (int rc = opts.parse(argc, argv); rc >= 0) return rc;
  try {
    return run(c);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_segmentation_volumes: %s\n", e.what());
    return 1;
  }
}
