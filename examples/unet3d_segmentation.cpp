// unet3d_segmentation: a 3-D U-Net, built with the functional API, that segments shapes in
// noisy, cluttered volumes.
//
// Each training batch is freshly generated (examples/common/segmentation.hpp): one solid sphere,
// box or torus per volume, among small bright blobs and single voxels (the clutter, as bright as
// the shape) under Gaussian noise; the label is the shape's voxels only. The U-Net goes down two
// levels (Conv3D + BatchNormalization + ReLU blocks, MaxPooling3D halving the resolution), then
// up two (Conv3DTranspose with strides 2 doubling it, Concatenate with the block of the same
// resolution: the skip connections that keep the shape's boundary sharp), and ends in a 1x1x1
// Conv3D with a sigmoid: the probability that a voxel is the shape's. It trains with binary
// cross-entropy and Adam in a GradientTape loop, reports the Dice coefficient and the
// intersection-over-union on held-out volumes (another seed), saves the model to
// <out>/model.tfw (examples/predict --task segment reloads it with no model code) and writes
// <out>/slices.png (input, label, prediction and error slices) and <out>/loss.png.
//
//   unet3d_segmentation [--steps 150] [--batch 4] [--size 24] [--channels 8] [--test 16]
//                       [--lr 0.003] [--noise 0.3] [--clutter 12] [--seed 1] [--out unet3d_out]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <tapeflow.hpp>
#include <vector>

#include "common/cli.hpp"
#include "common/image.hpp"
#include "common/inference.hpp"
#include "common/progress.hpp"
#include "common/segmentation.hpp"
#include "common/shapes.hpp"

namespace tf = tapeflow;
namespace L = tapeflow::layers;

namespace {

struct Config {
  int steps = 150, batch = 4, size = 24, channels = 8, test = 16, clutter = 12, seed = 1;
  double lr = 3e-3, noise = 0.3;
  std::string out = "unet3d_out";
};

// Conv3D (3x3x3, "same") + BatchNormalization + ReLU, twice. The convolutions need no bias: the
// normalization's beta takes its place. Momentum 0.9 (not Keras' 0.99) lets the moving
// statistics that inference uses settle within a short run.
tf::SymbolicTensor conv_block(tf::SymbolicTensor x, long filters) {
  for (int k = 0; k < 2; ++k) {
    x = L::Conv3D(L::Conv3DOptions(filters, 3).padding("same").use_bias(false))(x);
    x = L::BatchNormalization(L::BatchNormalizationOptions().momentum(0.9f))(x);
    x = L::Activation(L::ActivationOptions("relu"))(x);
  }
  return x;
}

// Two levels down (n -> n/2 -> n/4, channels doubling), two up. Each upsampled tensor is
// concatenated with the encoder's tensor at its resolution: the decoder sees both the context
// (is this a shape or clutter?) and the fine detail (where exactly is its boundary?).
std::shared_ptr<tf::Model> build_unet(const Config& c) {
  const long n = c.size, ch = c.channels;
  tf::SymbolicTensor inputs = tf::Input({n, n, n, 1}, "volume");
  auto d1 = conv_block(inputs, ch);                                                  // n
  auto d2 = conv_block(L::MaxPooling3D(L::MaxPooling3DOptions(2))(d1), 2 * ch);      // n/2
  auto bottom = conv_block(L::MaxPooling3D(L::MaxPooling3DOptions(2))(d2), 4 * ch);  // n/4
  auto u2 = L::Conv3DTranspose(L::Conv3DTransposeOptions(2 * ch, 2).strides(2))(bottom);
  auto e2 = conv_block(L::Concatenate()({u2, d2}), 2 * ch);  // n/2
  auto u1 = L::Conv3DTranspose(L::Conv3DTransposeOptions(ch, 2).strides(2))(e2);
  auto e1 = conv_block(L::Concatenate()({u1, d1}), ch);  // n
  auto outputs = L::Conv3D(L::Conv3DOptions(1, 1).activation("sigmoid").name("mask"))(e1);
  return std::make_shared<tf::Model>(inputs, outputs, "unet3d");
}

int run(const Config& c) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(c.out, ec);
  if (ec || !fs::is_directory(c.out)) {
    std::fprintf(stderr, "unet3d_segmentation: cannot create output folder '%s': %s\n",
                 c.out.c_str(), ec.message().c_str());
    return 1;
  }
  tf::set_random_seed(static_cast<std::uint64_t>(c.seed));
  std::mt19937 rng(static_cast<std::uint32_t>(c.seed));
  // Held-out volumes come from their own generator: never seen in training.
  std::mt19937 test_rng(static_cast<std::uint32_t>(c.seed) + 7919u);
  const std::size_t n = static_cast<std::size_t>(c.size);
  const examples::SegmentationNoise noise{static_cast<float>(c.noise), c.clutter};
  examples::SegmentationBatch test =
      examples::make_segmentation_batch(static_cast<std::size_t>(c.test), n, test_rng, noise);

  std::shared_ptr<tf::Model> model = build_unet(c);
  std::printf("%s", model->summary().c_str());
  tf::optim::Adam opt(tf::optim::AdamOptions().learning_rate(static_cast<float>(c.lr)));
  std::printf(
      "3-D U-Net segmentation: %zu^3 voxels, noise %.2f, %d clutter blobs, batch %d, %d steps, "
      "%zu parameters\n",
      n, c.noise, c.clutter, c.batch, c.steps, model->count_params());

  std::vector<float> losses;
  examples::ProgressBar bar(c.steps);
  for (int step = 1; step <= c.steps; ++step) {
    examples::SegmentationBatch data =
        examples::make_segmentation_batch(static_cast<std::size_t>(c.batch), n, rng, noise);
    tf::Variable x(data.volume), label(data.label);
    tf::Variable loss;
    {
      tf::GradientTape tape;
      tf::Variable y = (*model)(x, /*training=*/true);
      loss = tf::losses::binary_crossentropy(label, y);
      auto vars = model->trainable_variables();
      opt.apply_gradients(tape.gradient(loss, vars), vars);
    }
    float l = loss.item();
    if (!std::isfinite(l)) {
      std::fprintf(stderr, "\nunet3d_segmentation: loss became %f at step %d; try a smaller --lr\n",
                   static_cast<double>(l), step);
      return 1;
    }
    losses.push_back(l);
    bar.update(step, l);
  }
  bar.finish();
  const double train_secs = bar.elapsed_seconds();

  tf::Tensor pred =
      examples::predict_in_batches(*model, test.volume, static_cast<std::size_t>(c.batch));
  const double dice = examples::mean_dice(test.label, pred),
               iou = examples::mean_iou(test.label, pred);
  const std::string path = c.out + "/model.tfw";
  tf::serialization::save(*model, path);
  std::printf("saved %s (examples/predict --task segment loads it)\n", path.c_str());
  const std::string slices = c.out + "/slices.png", curve = c.out + "/loss.png";
  examples::segmentation_slices(test, pred, 6).save_png(slices);
  examples::plot_curve(losses, 640, 360, std::max(1, static_cast<int>(losses.size()) / 30))
      .save_png(curve);
  std::printf(
      "held-out Dice %.3f, IoU %.3f (%d volumes) after %zu steps in %.1f s (%.2f steps/s)\n", dice,
      iou, c.test, losses.size(), train_secs, double(losses.size()) / std::max(train_secs, 1e-9));
  std::printf("wrote %s and %s\n", slices.c_str(), curve.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  examples::Options opts("unet3d_segmentation",
                         "Trains a 3-D U-Net (functional API: two levels down, two up, skip "
                         "connections) to segment\nshapes in noisy, cluttered volumes; reports the "
                         "held-out Dice and IoU, saves model.tfw and\nwrites slices.png and "
                         "loss.png.");
  opts.add("steps", c.steps, 1, 100000, "training steps (fresh volumes each step)");
  opts.add("batch", c.batch, 1, 256, "volumes per training step");
  opts.add("size", c.size, 8, 64, "voxels per side (a multiple of 4)");
  opts.add("channels", c.channels, 1, 64, "channels of the first level (doubling per level down)");
  opts.add("test", c.test, 1, 4096, "held-out volumes");
  opts.add("lr", c.lr, 1e-6, 1.0, "Adam learning rate");
  opts.add("noise", c.noise, 0.0, 2.0, "standard deviation of the Gaussian noise");
  opts.add("clutter", c.clutter, 0, 1000, "clutter blobs per volume");
  opts.add("seed", c.seed, 0, 1 << 30, "random seed (data and weights)");
  opts.add("out", c.out, "folder for model.tfw and the pictures");
  if (int rc = opts.parse(argc, argv); rc >= 0) return rc;
  if (c.size % 4 != 0) {
    std::fprintf(stderr,
                 "unet3d_segmentation: --size must be a multiple of 4 (two 2x "
                 "downsamplings), got %d\n",
                 c.size);
    return 2;
  }
  try {
    return run(c);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "unet3d_segmentation: %s\n", e.what());
    return 1;
  }
}
