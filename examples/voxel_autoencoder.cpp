// voxel_autoencoder: a 3-D convolutional autoencoder on synthetic shapes.
//
// Each training batch is freshly generated: solid spheres, boxes and tori at random sizes and
// positions in a 32^3 grid. The encoder halves the resolution twice with strided Conv3D layers
// (BatchNormalization + ReLU); the decoder doubles it back with Conv3DTranspose layers and ends
// in a sigmoid, trained with binary cross-entropy and Adam, an L2 kernel regularizer and a
// max_norm constraint on every kernel. After training it reports the intersection-over-union
// on held-out shapes and writes pictures into --out: recon.png (central slices of inputs beside
// reconstructions) and loss.png (the loss curve).
//
//   voxel_autoencoder [--epochs 3] [--steps 100] [--batch 8] [--size 32] [--out voxel_out] ...
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <random>
#include <string>
#include <tapeflow.hpp>
#include <vector>

#include "common/cli.hpp"
#include "common/image.hpp"
#include "common/inference.hpp"
#include "common/progress.hpp"
#include "common/shapes.hpp"

namespace tf = tapeflow;
namespace L = tapeflow::layers;

namespace {

struct Config {
  int epochs = 3, steps = 100, batch = 8, size = 32, channels = 8, test = 32, seed = 1;
  double lr = 3e-3, l2 = 1e-5, max_norm = 3.0;
  std::string out = "voxel_out";
  bool resume = false;
};

// Encoder: two stride-2 convolutions (n -> n/4); decoder: two stride-2 transposed convolutions
// back to n, the last one with a sigmoid. Convolutions before a BatchNormalization need no bias.
void build_model(L::Sequential& model, const Config& c) {
  auto reg = tf::regularizers::l2(static_cast<float>(c.l2));
  auto con = tf::constraints::max_norm(static_cast<float>(c.max_norm));
  auto bn = [] { return L::BatchNormalizationOptions().momentum(0.9f); };
  long ch = c.channels;
  for (long filters : {ch, 2 * ch}) {
    model.add<L::Conv3D>(L::Conv3DOptions(filters, 3)
                             .strides(2)
                             .padding("same")
                             .use_bias(false)
                             .kernel_regularizer(reg)
                             .kernel_constraint(con));
    model.add<L::BatchNormalization>(bn());
    model.add<L::Activation>(L::ActivationOptions("relu"));
  }
  model.add<L::Conv3DTranspose>(L::Conv3DTransposeOptions(ch, 3)
                                    .strides(2)
                                    .padding("same")
                                    .use_bias(false)
                                    .kernel_regularizer(reg)
                                    .kernel_constraint(con));
  model.add<L::BatchNormalization>(bn());
  model.add<L::Activation>(L::ActivationOptions("relu"));
  model.add<L::Conv3DTranspose>(L::Conv3DTransposeOptions(1, 3)
                                    .strides(2)
                                    .padding("same")
                                    .activation("sigmoid")
                                    .kernel_regularizer(reg)
                                    .kernel_constraint(con));
}

int run(const Config& c) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(c.out, ec);
  if (ec || !fs::is_directory(c.out)) {
    std::fprintf(stderr, "voxel_autoencoder: cannot create output folder '%s': %s\n", c.out.c_str(),
                 ec.message().c_str());
    return 1;
  }
  tf::set_random_seed(static_cast<std::uint64_t>(c.seed));
  std::mt19937 rng(static_cast<std::uint32_t>(c.seed));
  // Held-out shapes come from their own generator: never seen in training.
  std::mt19937 test_rng(static_cast<std::uint32_t>(c.seed) + 7919u);
  const std::size_t n = static_cast<std::size_t>(c.size);
  tf::Tensor test_x = examples::make_shapes(static_cast<std::size_t>(c.test), n, test_rng);

  L::Sequential model;
  build_model(model, c);
  model.build({static_cast<std::size_t>(c.batch), n, n, n, 1});
  tf::optim::Adam opt(tf::optim::AdamOptions().learning_rate(static_cast<float>(c.lr)));
  const std::string checkpoint = c.out + "/model.tfw";
  if (c.resume) {
    tf::serialization::load_checkpoint(model, opt, checkpoint);
    std::printf("resumed from %s\n", checkpoint.c_str());
  }
  std::printf("voxel autoencoder: %zu^3 voxels, batch %d, %d epochs x %d steps, %zu parameters\n",
              n, c.batch, c.epochs, c.steps, model.count_params());

  std::vector<float> losses;
  double train_secs = 0, iou = 0;
  for (int epoch = 1; epoch <= c.epochs; ++epoch) {
    std::printf("epoch %d/%d\n", epoch, c.epochs);
    examples::ProgressBar bar(c.steps);
    for (int step = 1; step <= c.steps; ++step) {
      tf::Tensor batch = examples::make_shapes(static_cast<std::size_t>(c.batch), n, rng);
      tf::Variable x(batch);
      tf::Variable loss;
      {
        tf::GradientTape tape;
        tf::Variable y = model(x, /*training=*/true);
        loss = tf::losses::binary_crossentropy(x, y) + tf::get_regularization_loss();
        auto vars = model.trainable_variables();
        opt.apply_gradients(tape.gradient(loss, vars), vars);  // then max_norm on each kernel
      }
      float l = loss.item();
      if (!std::isfinite(l)) {
        std::fprintf(stderr,
                     "\nvoxel_autoencoder: loss became %f at epoch %d step %d; try a "
                     "smaller --lr\n",
                     static_cast<double>(l), epoch, step);
        return 1;
      }
      losses.push_back(l);
      bar.update(step, l);
    }
    bar.finish();
    train_secs += bar.elapsed_seconds();
    iou = examples::mean_iou(
        test_x, examples::predict_in_batches(model, test_x, static_cast<std::size_t>(c.batch)));
    std::printf("  held-out IoU %.3f (%d shapes)\n", iou, c.test);
  }

  tf::Tensor test_y =
      examples::predict_in_batches(model, test_x, static_cast<std::size_t>(c.batch));
  tf::serialization::save_checkpoint(model, opt, checkpoint);
  std::printf("saved %s (model + optimizer state; examples/predict loads it)\n",
              checkpoint.c_str());
  std::string recon = c.out + "/recon.png", curve = c.out + "/loss.png";
  examples::slice_grid(test_x, test_y, 6).save_png(recon);
  examples::plot_curve(losses, 640, 360, std::max(1, static_cast<int>(losses.size()) / 30))
      .save_png(curve);
  std::printf("final held-out IoU %.3f after %zu steps in %.1f s (%.2f steps/s)\n", iou,
              losses.size(), train_secs, double(losses.size()) / std::max(train_secs, 1e-9));
  std::printf("wrote %s and %s\n", recon.c_str(), curve.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  examples::Options opts("voxel_autoencoder",
                         "Trains a 3-D convolutional autoencoder (Conv3D encoder, Conv3DTranspose "
                         "decoder) on synthetic\nspheres, boxes and tori; reports the held-out IoU "
                         "and writes recon.png and loss.png.");
  opts.add("epochs", c.epochs, 1, 1000, "training epochs (held-out IoU after each)");
  opts.add("steps", c.steps, 1, 100000, "training steps per epoch (fresh shapes each step)");
  opts.add("batch", c.batch, 1, 256, "shapes per training step");
  opts.add("size", c.size, 8, 64, "voxels per side (a multiple of 4)");
  opts.add("channels", c.channels, 1, 64, "channels of the first conv layer (second: twice)");
  opts.add("test", c.test, 1, 4096, "held-out shapes");
  opts.add("lr", c.lr, 1e-6, 1.0, "Adam learning rate");
  opts.add("l2", c.l2, 0.0, 1.0, "L2 kernel regularizer factor");
  opts.add("max-norm", c.max_norm, 1e-3, 1e3, "max_norm constraint on every kernel");
  opts.add("seed", c.seed, 0, 1 << 30, "random seed (data and weights)");
  opts.add("out", c.out, "folder for the pictures and the checkpoint model.tfw");
  opts.add_flag("resume", c.resume, "continue training from <out>/model.tfw");
  if (int rc = opts.parse(argc, argv); rc >= 0) return rc;
  if (c.size % 4 != 0) {
    std::fprintf(stderr,
                 "voxel_autoencoder: --size must be a multiple of 4 (two 2x "
                 "downsamplings), got %d\n",
                 c.size);
    return 2;
  }
  try {
    return run(c);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "voxel_autoencoder: %s\n", e.what());
    return 1;
  }
}
