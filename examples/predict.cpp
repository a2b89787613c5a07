// predict: loads a model saved by an example and runs it on new volumes.
//
// It contains no model code: the architecture and weights come from the file alone. Two tasks:
//   reconstruct (default): the autoencoder of voxel_autoencoder on freshly generated shapes;
//     reports the intersection-over-union and writes predict.png (inputs beside
//     reconstructions).
//   segment: the U-Net of unet3d_segmentation on freshly generated noisy, cluttered volumes;
//     reports the Dice coefficient and the IoU against the labels and writes
//     predict_segment.png (input, label, prediction and error slices).
// The new volumes come from another seed than training, at the size the model was built for
// unless --size says otherwise.
//
//   predict [--task reconstruct] [--model voxel_out/model.tfw] [--count 32] [--size 32]
//           [--seed 12345] [--out voxel_out]
//   predict --task segment [--model unet3d_out/model.tfw] [--count 32] [--noise 0.3]
//           [--clutter 12] [--seed 12345] [--out unet3d_out]
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <tapeflow.hpp>

#include "common/cli.hpp"
#include "common/image.hpp"
#include "common/inference.hpp"
#include "common/segmentation.hpp"
#include "common/shapes.hpp"

namespace tf = tapeflow;

namespace {

struct Config {
  std::string task = "reconstruct", model, out;
  int count = 32, size = 0, seed = 12345, clutter = 12;
  double noise = 0.3;
};

// Volumes per call: a few at a time bound the activations a large --count would hold at once.
constexpr std::size_t kBatch = 8;

int reconstruct(tf::layers::Layer& model, const Config& c, std::size_t n) {
  std::mt19937 rng(static_cast<std::uint32_t>(c.seed));
  tf::Tensor x = examples::make_shapes(static_cast<std::size_t>(c.count), n, rng);
  tf::Tensor y = examples::predict_in_batches(model, x, kBatch);
  std::printf("loaded %s (%zu parameters); IoU on %d new shapes: %.3f\n", c.model.c_str(),
              model.count_params(), c.count, examples::mean_iou(x, y));
  examples::slice_grid(x, y, 6).save_png(c.out + "/predict.png");
  std::printf("wrote %s/predict.png\n", c.out.c_str());
  return 0;
}

int segment(tf::layers::Layer& model, const Config& c, std::size_t n) {
  std::mt19937 rng(static_cast<std::uint32_t>(c.seed));
  const examples::SegmentationNoise noise{static_cast<float>(c.noise), c.clutter};
  examples::SegmentationBatch data =
      examples::make_segmentation_batch(static_cast<std::size_t>(c.count), n, rng, noise);
  tf::Tensor pred = examples::predict_in_batches(model, data.volume, kBatch);
  std::printf("loaded %s (%zu parameters); on %d new %zu^3 volumes: Dice %.3f, IoU %.3f\n",
              c.model.c_str(), model.count_params(), c.count, n,
              examples::mean_dice(data.label, pred), examples::mean_iou(data.label, pred));
  examples::segmentation_slices(data, pred, 6).save_png(c.out + "/predict_segment.png");
  std::printf("wrote %s/predict_segment.png\n", c.out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  examples::Options opts("predict",
                         "Loads a model saved by voxel_autoencoder (--task reconstruct) or "
                         "unet3d_segmentation\n(--task segment), with no model code here, runs it "
                         "on new volumes and reports how well it does.");
  opts.add("task", c.task, "reconstruct (IoU of the reconstructions) or segment (Dice and IoU)");
  opts.add("model", c.model,
           "the saved model (empty: voxel_out/model.tfw; segment: unet3d_out/model.tfw)");
  opts.add("count", c.count, 1, 4096, "new volumes");
  opts.add("size", c.size, 0, 64, "voxels per side, a multiple of 4 (0: the model's input size)");
  opts.add("noise", c.noise, 0.0, 2.0, "segment: standard deviation of the Gaussian noise");
  opts.add("clutter", c.clutter, 0, 1000, "segment: clutter blobs per volume");
  opts.add("seed", c.seed, 0, 1 << 30, "seed of the new volumes");
  opts.add("out", c.out, "folder for the picture (empty: voxel_out; segment: unet3d_out)");
  if (int rc = opts.parse(argc, argv); rc >= 0) return rc;
  const bool seg = c.task == "segment";
  if (!seg && c.task != "reconstruct") {
    std::fprintf(stderr,
                 "predict: --task must be 'reconstruct' or 'segment', got '%s' (see predict "
                 "--help)\n",
                 c.task.c_str());
    return 2;
  }
  if (c.size != 0 && (c.size < 8 || c.size % 4 != 0)) {
    std::fprintf(stderr, "predict: --size must be 0 or a multiple of 4 from 8 to 64, got %d\n",
                 c.size);
    return 2;
  }
  if (c.model.empty()) c.model = seg ? "unet3d_out/model.tfw" : "voxel_out/model.tfw";
  if (c.out.empty()) c.out = seg ? "unet3d_out" : "voxel_out";
  try {
    std::shared_ptr<tf::layers::Layer> model = tf::serialization::load(c.model);
    // The saved build shape is (batch, n, n, n, 1): new volumes of that size fit any model the
    // examples save (a functional model checks its input's size; a Sequential takes others).
    const tf::Shape& built = model->input_shape();
    std::size_t n = c.size > 0          ? static_cast<std::size_t>(c.size)
                    : built.size() == 5 ? built[1]
                                        : 0;
    if (n < 8) {
      std::fprintf(stderr,
                   "predict: %s takes inputs of shape %s, not volumes (batch, n, n, n, 1) with "
                   "n >= 8\n",
                   c.model.c_str(), tf::shape_str(built).c_str());
      return 1;
    }
    std::filesystem::create_directories(c.out);
    return seg ? segment(*model, c, n) : reconstruct(*model, c, n);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "predict: %s\n", e.what());
    return 1;
  }
}
