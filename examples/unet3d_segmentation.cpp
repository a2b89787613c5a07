// unet3d_segmentation: a 3-D U-Net, built with the functional API and trained with `fit`, that
// segments shapes in noisy, cluttered volumes.
//
// The training set is --steps x --batch volumes (examples/common/segmentation.hpp), generated
// once; each epoch visits them all in a new order. Each volume holds one solid sphere, box or
// torus among small bright blobs and single voxels (the clutter, as bright as the shape) under
// Gaussian noise; the label is the shape's voxels only. The U-Net goes down two levels (Conv3D +
// BatchNormalization + ReLU blocks, MaxPooling3D halving the resolution), then up two
// (Conv3DTranspose with strides 2 doubling it, Concatenate with the block of the same
// resolution: the skip connections that keep the shape's boundary sharp), and ends in a 1x1x1
// Conv3D with a sigmoid: the probability that a voxel is the shape's. It trains with binary
// cross-entropy and Adam; `fit` shows the progress bar and, after each epoch, the loss, Dice and
// IoU on held-out volumes (another seed); its callbacks keep the epoch with the lowest held-out
// loss in <out>/model.tfw (examples/predict --task segment reloads it with no model code), stop
// early when that loss stops improving and write <out>/log.csv. It reports the Dice coefficient
// and the intersection-over-union of the saved model on the held-out volumes and writes
// <out>/slices.png (input, label, prediction and error slices), <out>/loss.png and
// <out>/dice.png (training and held-out curves per epoch).
//
// Under an MPI launcher (`mpirun -np 2 unet3d_segmentation ...`) it trains data-parallel
// (FitOptions::distributed): each step's --batch volumes are split over the ranks, whose
// gradients are averaged; with --data each rank reads its own batches of --batch (every R-th of
// the folder's). Rank 0 reports and writes the files; the machine's cores are shared by its ranks.
//
// With --data DIR it trains from files instead: a folder of NIfTI image/label pairs
// (case_0000_image.nii.gz with case_0000_label.nii.gz, ..., as make_segmentation_volumes writes
// them), read through a tapeflow::data::Dataset that loads, shuffles and batches them on a
// background thread (prefetch) while the model trains; the last --test pairs are held out.
//
//   unet3d_segmentation [--epochs 6] [--steps 25] [--batch 4] [--size 24] [--channels 8]
//                       [--test 16] [--lr 0.003] [--noise 0.3] [--clutter 12] [--seed 1]
//                       [--data DIR] [--out unet3d_out]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <tapeflow.hpp>
#include <thread>
#include <vector>

#include "common/best_epoch_fit.hpp"
#include "common/cli.hpp"
#include "common/plot.hpp"
#include "common/segmentation.hpp"
#include "common/segmentation_files.hpp"
#include "common/shapes.hpp"  // mean_iou
#include "common/unet.hpp"

namespace tf = tapeflow;

namespace {

struct Config {
  int epochs = 6, steps = 25, batch = 4, size = 24, channels = 8, test = 16, clutter = 12,
      patience = 3, seed = 1;
  double lr = 3e-3, noise = 0.3;
  std::string out = "unet3d_out";
  std::string data;  // a folder of .nii.gz pairs; empty: generated volumes
};

int run(const Config& c) {
  namespace TR = tapeflow::training;
  namespace D = tapeflow::distributed;
  D::init();
  if (D::size() > 1) {
    tf::set_num_threads(
        std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / D::local_size()));
    // The other ranks train the same model: rank 0 alone reports (their errors still show).
    if (!D::is_chief() && !std::freopen("/dev/null", "w", stdout)) return 1;
  }
  if (!examples::create_output_folder("unet3d_segmentation", c.out)) return 1;
  tf::set_random_seed(static_cast<std::uint64_t>(c.seed));
  std::mt19937 rng(static_cast<std::uint32_t>(c.seed));
  // Held-out volumes come from their own generator: never seen in training.
  std::mt19937 test_rng(static_cast<std::uint32_t>(c.seed) + 7919u);
  const std::size_t n = static_cast<std::size_t>(c.size);
  const examples::SegmentationNoise noise{static_cast<float>(c.noise), c.clutter};
  const auto batch = static_cast<std::size_t>(c.batch);
  const auto test_count = static_cast<std::size_t>(c.test);
  examples::SegmentationBatch train, test;
  std::optional<tf::data::Dataset> train_files;
  std::size_t train_count = static_cast<std::size_t>(c.steps) * batch, steps_per_epoch = c.steps;
  if (c.data.empty()) {
    // A fixed training set of --steps batches: each epoch visits every volume once, shuffled.
    train = examples::make_segmentation_batch(train_count, n, rng, noise);
    test = examples::make_segmentation_batch(test_count, n, test_rng, noise);
  } else {
    // Training volumes stay on disk: each epoch reads them again, in a new order, loading
    // the next batches on a background thread while the model trains on this one.
    const auto pairs =
        tf::data::list_file_pairs(c.data, examples::kImageSuffix, examples::kLabelSuffix);
    if (pairs.size() <= test_count)
      throw tf::ValueError("--data '" + c.data + "' holds " + std::to_string(pairs.size()) +
                           " pairs: more than --test " + std::to_string(c.test) + " are needed");
    train_count = pairs.size() - test_count;
    steps_per_epoch = (train_count + batch - 1) / batch;
    const tf::data::Dataset files = examples::segmentation_files(c.data);
    train_files = files.take(static_cast<std::int64_t>(train_count))
                      .shuffle(train_count, static_cast<std::uint64_t>(c.seed))
                      .batch(batch)
                      .prefetch(2);
    // The held-out pairs (the folder's last) in memory, as one batch.
    for (const tf::data::Element& all :
         files.skip(static_cast<std::int64_t>(train_count)).batch(test_count))
      test = {all[0], all[1]};
  }
  const tf::Shape volume_shape(test.volume.shape().begin() + 1, test.volume.shape().end());
  for (std::size_t axis = 0; axis < 3; ++axis)
    if (volume_shape[axis] % 4 != 0)
      throw tf::ShapeError("the volumes are " + tf::shape_str(volume_shape) +
                           ": each side must be a multiple of 4 (two 2x downsamplings)");

  std::shared_ptr<tf::Model> model = examples::build_unet(volume_shape, c.channels);
  std::printf("%s", model->summary().c_str());
  tf::optim::Adam opt(tf::optim::AdamOptions().learning_rate(static_cast<float>(c.lr)));
  // "dice" and "iou" are the overlap of the predicted shape (probability >= 0.5) with the label,
  // over all volumes of an epoch.
  model->compile(opt, "binary_crossentropy",
                 {"dice", std::make_shared<tf::metrics::BinaryIoU>(
                              tf::metrics::BinaryIoUOptions().target_class_ids({1}), "iou")});
  if (c.data.empty())
    std::printf(
        "3-D U-Net segmentation: %zu^3 voxels, noise %.2f, %d clutter blobs, %zu training "
        "volumes, batch %d, %d epochs x %zu steps, %zu parameters\n",
        n, c.noise, c.clutter, train_count, c.batch, c.epochs, steps_per_epoch,
        model->count_params());
  else
    std::printf(
        "3-D U-Net segmentation: %s voxels from %s, %zu training volumes (read each epoch), %zu "
        "held out, batch %d, %d epochs x %zu steps, %zu parameters\n",
        tf::shape_str(volume_shape).c_str(), c.data.c_str(), train_count, test_count, c.batch,
        c.epochs, steps_per_epoch, model->count_params());

  // The checkpoint keeps the epoch of the lowest held-out loss (model + optimizer state;
  // serialization::load reads it as a model); training stops once that loss has not improved
  // for --patience epochs; log.csv gets a row per epoch.
  const std::string path = c.out + "/model.tfw";
  examples::BestEpochFit run(path, c.out + "/log.csv", c.patience);
  auto history = run.fit("unet3d_segmentation", [&](const TR::Callbacks& callbacks) {
    const auto options = TR::FitOptions()
                             .epochs(c.epochs)
                             .batch_size(c.batch)
                             .validation_data(TR::ValidationData(test.volume, test.label))
                             .seed(static_cast<std::uint64_t>(c.seed))
                             .distributed(D::size() > 1)
                             .callbacks(callbacks);
    return train_files ? model->fit(*train_files, options)
                       : model->fit(train.volume, train.label, options);
  });
  if (!history) return 1;
  const double train_secs = run.seconds();
  const std::size_t best_i = examples::BestEpochFit::best_epoch(*history);
  const std::size_t epochs_run = history->epoch.size();
  // Continue with the saved epoch: what examples/predict will load.
  tf::serialization::load_checkpoint(*model, opt, path);
  std::printf(
      "saved %s: epoch %d of %zu (val_loss %.4f, val_dice %.3f; examples/predict --task "
      "segment loads it)\n",
      path.c_str(), history->epoch[best_i] + 1, epochs_run, history->at("val_loss")[best_i],
      history->at("val_dice")[best_i]);

  tf::Tensor pred =
      model->predict(test.volume, TR::PredictOptions().batch_size(c.batch).verbose(0));
  const double dice = examples::mean_dice(test.label, pred),
               iou = examples::mean_iou(test.label, pred);
  const std::string slices = c.out + "/slices.png", loss_png = c.out + "/loss.png",
                    dice_png = c.out + "/dice.png";
  if (D::is_chief()) {
    examples::segmentation_slices(test, pred, 6).save_png(slices);
    examples::history_plot(*history, "unet3d_segmentation: loss", "binary cross-entropy",
                           {{"loss", "training"}, {"val_loss", "held-out"}})
        .save_png(loss_png);
    examples::history_plot(*history, "unet3d_segmentation: Dice and IoU of the shape", "overlap",
                           {{"dice", "Dice, training"},
                            {"val_dice", "Dice, held-out"},
                            {"iou", "IoU, training"},
                            {"val_iou", "IoU, held-out"}})
        .save_png(dice_png);
  }
  const std::size_t steps = epochs_run * steps_per_epoch;
  std::printf(
      "held-out Dice %.3f, IoU %.3f (mean of %d volumes) after %zu steps in %.1f s (%.2f "
      "steps/s)\n",
      dice, iou, c.test, steps, train_secs, double(steps) / std::max(train_secs, 1e-9));
  std::printf("wrote %s, %s, %s and %s\n", slices.c_str(), loss_png.c_str(), dice_png.c_str(),
              run.csv_log().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  examples::Options opts("unet3d_segmentation",
                         "Trains a 3-D U-Net (functional API: two levels down, two up, skip "
                         "connections) to segment\nshapes in noisy, cluttered volumes with fit; "
                         "reports the held-out Dice and IoU, keeps the best\nepoch in model.tfw "
                         "and writes slices.png, loss.png, dice.png and log.csv.");
  opts.add("epochs", c.epochs, 1, 1000, "training epochs (held-out loss, Dice and IoU after each)");
  opts.add("steps", c.steps, 1, 100000,
           "training steps per epoch (the training set holds steps x batch volumes)");
  opts.add("batch", c.batch, 1, 256, "volumes per training step");
  opts.add("patience", c.patience, 0, 1000,
           "epochs without a lower held-out loss before training stops early");
  opts.add("size", c.size, 8, 64, "voxels per side (a multiple of 4)");
  opts.add("channels", c.channels, 1, 64, "channels of the first level (doubling per level down)");
  opts.add("test", c.test, 1, 4096, "held-out volumes");
  opts.add("lr", c.lr, 1e-6, 1.0, "Adam learning rate");
  opts.add("noise", c.noise, 0.0, 2.0, "standard deviation of the Gaussian noise");
  opts.add("clutter", c.clutter, 0, 1000, "clutter blobs per volume");
  opts.add("seed", c.seed, 0, 1 << 30, "random seed (data and weights)");
  opts.add("data", c.data,
           "train from this folder of .nii.gz image/label pairs (make_segmentation_volumes "
           "writes one; the last --test pairs are held out) instead of generated volumes");
  opts.add("out", c.out, "folder for model.tfw, log.csv and the pictures");
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
