// voxel_autoencoder: a 3-D convolutional autoencoder on synthetic shapes, trained with `fit`.
//
// The training set is --steps x --batch solid spheres, boxes and tori at random sizes and
// positions in a 32^3 grid, generated once; each epoch visits them all in a new order. The
// encoder halves the resolution twice with strided Conv3D layers (BatchNormalization + ReLU);
// the decoder doubles it back with Conv3DTranspose layers and ends in a sigmoid, trained with
// binary cross-entropy and Adam, an L2 kernel regularizer and a max_norm constraint on every
// kernel. `fit` shows the progress bar and, after each epoch, the loss and the IoU on held-out
// shapes; its callbacks keep the epoch with the lowest held-out loss in <out>/model.tfw (a
// checkpoint: model + optimizer state, which --resume and examples/predict load), stop early
// when that loss stops improving and write <out>/log.csv. Then it reports the IoU of the saved
// model on the held-out shapes and writes pictures into --out: recon.png (slices of inputs
// beside reconstructions), loss.png and iou.png (training and held-out curves per epoch).
// --resume loads <out>/model.tfw and trains --epochs more; the checkpoint is then replaced only
// by an epoch with a lower held-out loss than the loaded model's.
//
//   voxel_autoencoder [--epochs 3] [--steps 100] [--batch 8] [--size 32] [--out voxel_out] ...
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <tapeflow.hpp>
#include <vector>

#include "common/best_epoch_fit.hpp"
#include "common/cli.hpp"
#include "common/plot.hpp"
#include "common/shapes.hpp"

namespace tf = tapeflow;
namespace L = tapeflow::layers;

namespace {

struct Config {
  int epochs = 3, steps = 100, batch = 8, size = 32, channels = 8, test = 32, seed = 1,
      patience = 3;
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
  namespace TR = tapeflow::training;
  if (!examples::create_output_folder("voxel_autoencoder", c.out)) return 1;
  tf::set_random_seed(static_cast<std::uint64_t>(c.seed));
  std::mt19937 rng(static_cast<std::uint32_t>(c.seed));
  // Held-out shapes come from their own generator: never seen in training.
  std::mt19937 test_rng(static_cast<std::uint32_t>(c.seed) + 7919u);
  const std::size_t n = static_cast<std::size_t>(c.size);
  const auto batch = static_cast<std::size_t>(c.batch);
  // A fixed training set of --steps batches: each epoch visits every shape once, shuffled.
  tf::Tensor train_x = examples::make_shapes(static_cast<std::size_t>(c.steps) * batch, n, rng);
  tf::Tensor test_x = examples::make_shapes(static_cast<std::size_t>(c.test), n, test_rng);

  L::Sequential model;
  build_model(model, c);
  model.build({batch, n, n, n, 1});
  tf::optim::Adam opt(tf::optim::AdamOptions().learning_rate(static_cast<float>(c.lr)));
  const std::string checkpoint = c.out + "/model.tfw";
  if (c.resume) tf::serialization::load_checkpoint(model, opt, checkpoint);
  // The loss is the cross-entropy of each voxel plus the kernels' L2 penalties (model.losses());
  // "iou" is the IoU of the filled voxels (class 1) over all shapes of an epoch.
  model.compile(opt, "binary_crossentropy",
                {std::make_shared<tf::metrics::BinaryIoU>(
                    tf::metrics::BinaryIoUOptions().target_class_ids({1}), "iou")});
  // Resuming, the checkpoint is replaced only by an epoch that beats its held-out loss.
  std::optional<double> resumed_loss;
  if (c.resume) {
    resumed_loss =
        model.evaluate(test_x, test_x, TR::EvaluateOptions().batch_size(c.batch).verbose(0))
            .at("loss");
    std::printf("resumed from %s (held-out loss %.4f)\n", checkpoint.c_str(), *resumed_loss);
  }
  std::printf(
      "voxel autoencoder: %zu^3 voxels, %zu training shapes, batch %d, %d epochs x %d steps, %zu "
      "parameters\n",
      n, train_x.shape()[0], c.batch, c.epochs, c.steps, model.count_params());

  // The checkpoint keeps the epoch of the lowest held-out loss (model + optimizer state, which
  // --resume and examples/predict read); training stops once that loss has not improved for
  // --patience epochs; log.csv gets a row per epoch.
  examples::BestEpochFit run(checkpoint, c.out + "/log.csv", c.patience, resumed_loss);
  auto history = run.fit("voxel_autoencoder", [&](const TR::Callbacks& callbacks) {
    return model.fit(train_x, train_x,
                     TR::FitOptions()
                         .epochs(c.epochs)
                         .batch_size(c.batch)
                         .validation_data(TR::ValidationData(test_x, test_x))
                         .seed(static_cast<std::uint64_t>(c.seed))
                         .callbacks(callbacks));
  });
  if (!history) return 1;
  const double train_secs = run.seconds();
  const std::size_t epochs_run = history->epoch.size();
  // Continue with the saved epoch: what examples/predict and --resume will load.
  tf::serialization::load_checkpoint(model, opt, checkpoint);
  if (!run.saved()) {
    std::printf("kept %s: no epoch beat its held-out loss %.4f\n", checkpoint.c_str(),
                *resumed_loss);
  } else {
    const std::size_t i = examples::BestEpochFit::best_epoch(*history);
    std::printf(
        "saved %s: epoch %d of %zu (val_loss %.4f, val_iou %.3f; model + optimizer state; "
        "examples/predict loads it)\n",
        checkpoint.c_str(), history->epoch[i] + 1, epochs_run, history->at("val_loss")[i],
        history->at("val_iou")[i]);
  }

  tf::Tensor test_y = model.predict(test_x, TR::PredictOptions().batch_size(c.batch).verbose(0));
  const double iou = examples::mean_iou(test_x, test_y);
  const std::string recon = c.out + "/recon.png", loss_png = c.out + "/loss.png",
                    iou_png = c.out + "/iou.png";
  examples::slice_grid(test_x, test_y, 6).save_png(recon);
  examples::history_plot(*history, "voxel_autoencoder: loss", "binary cross-entropy + L2",
                         {{"loss", "training"}, {"val_loss", "held-out"}})
      .save_png(loss_png);
  examples::history_plot(*history, "voxel_autoencoder: IoU of the filled voxels", "IoU",
                         {{"iou", "training"}, {"val_iou", "held-out"}})
      .save_png(iou_png);
  const std::size_t steps = epochs_run * static_cast<std::size_t>(c.steps);
  std::printf(
      "final held-out IoU %.3f (mean of %d shapes) after %zu steps in %.1f s (%.2f steps/s)\n", iou,
      c.test, steps, train_secs, double(steps) / std::max(train_secs, 1e-9));
  std::printf("wrote %s, %s, %s and %s\n", recon.c_str(), loss_png.c_str(), iou_png.c_str(),
              run.csv_log().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  examples::Options opts("voxel_autoencoder",
                         "Trains a 3-D convolutional autoencoder (Conv3D encoder, Conv3DTranspose "
                         "decoder) on synthetic\nspheres, boxes and tori with fit; reports the "
                         "held-out IoU, keeps the best epoch in model.tfw\nand writes recon.png, "
                         "loss.png, iou.png and log.csv.");
  opts.add("epochs", c.epochs, 1, 1000, "training epochs (held-out loss and IoU after each)");
  opts.add("steps", c.steps, 1, 100000,
           "training steps per epoch (the training set holds steps x batch shapes)");
  opts.add("batch", c.batch, 1, 256, "shapes per training step");
  opts.add("patience", c.patience, 0, 1000,
           "epochs without a lower held-out loss before training stops early");
  opts.add("size", c.size, 8, 64, "voxels per side (a multiple of 4)");
  opts.add("channels", c.channels, 1, 64, "channels of the first conv layer (second: twice)");
  opts.add("test", c.test, 1, 4096, "held-out shapes");
  opts.add("lr", c.lr, 1e-6, 1.0, "Adam learning rate");
  opts.add("l2", c.l2, 0.0, 1.0, "L2 kernel regularizer factor");
  opts.add("max-norm", c.max_norm, 1e-3, 1e3, "max_norm constraint on every kernel");
  opts.add("seed", c.seed, 0, 1 << 30, "random seed (data and weights)");
  opts.add("out", c.out, "folder for the pictures, log.csv and the checkpoint model.tfw");
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
