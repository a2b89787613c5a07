// predict: loads the model saved by voxel_autoencoder and reconstructs new shapes with it.
//
// It contains no model code: the architecture and weights come from the file alone. It
// reports the intersection-over-union on freshly generated shapes (another seed than training)
// and writes predict.png (input slices beside reconstructions).
//
//   predict [--model voxel_out/model.tfw] [--count 32] [--size 32] [--seed 12345] [--out DIR]
#include <cstdio>
#include <exception>
#include <filesystem>
#include <random>
#include <string>
#include <tapeflow.hpp>

#include "common/cli.hpp"
#include "common/image.hpp"
#include "common/shapes.hpp"

namespace tf = tapeflow;

int main(int argc, char** argv) {
  std::string model_path = "voxel_out/model.tfw", out = "voxel_out";
  int count = 32, size = 32, seed = 12345;
  examples::Options opts("predict",
                         "Loads a model saved by voxel_autoencoder (no model code here), "
                         "reconstructs new shapes and reports the IoU.");
  opts.add("model", model_path, "the saved model");
  opts.add("count", count, 1, 4096, "new shapes to reconstruct");
  opts.add("size", size, 8, 64, "voxels per side (a multiple of 4)");
  opts.add("seed", seed, 0, 1 << 30, "seed of the new shapes");
  opts.add("out", out, "folder for predict.png");
  if (int rc = opts.parse(argc, argv); rc >= 0) return rc;
  if (size % 4 != 0) {
    std::fprintf(stderr, "predict: --size must be a multiple of 4, got %d\n", size);
    return 2;
  }
  try {
    std::shared_ptr<tf::layers::Layer> model = tf::serialization::load(model_path);
    std::mt19937 rng(static_cast<std::uint32_t>(seed));
    tf::Tensor x =
        examples::make_shapes(static_cast<std::size_t>(count), static_cast<std::size_t>(size), rng);
    tf::Tensor y = (*model)(tf::Variable(x), /*training=*/false).value();
    double iou = examples::mean_iou(x, y);
    std::printf("loaded %s (%zu parameters); IoU on %d new shapes: %.3f\n", model_path.c_str(),
                model->count_params(), count, iou);
    std::filesystem::create_directories(out);
    examples::slice_grid(x, y, 6).save_png(out + "/predict.png");
    std::printf("wrote %s/predict.png\n", out.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "predict: %s\n", e.what());
    return 1;
  }
}
