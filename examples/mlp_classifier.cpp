// mlp_classifier: a small Dense network separating two interleaved spirals, trained with `fit`.
//
// Two classes of 2-D points lie on two arms of a spiral (with a little noise); a three-layer
// perceptron with ReLU and a logistic output is trained full-batch (every step sees all the
// points) with Adam and binary cross-entropy on logits, --steps steps per epoch. `fit` shows the
// progress bar and, after each epoch, the loss and accuracy on held-out points; its callbacks
// keep the epoch with the lowest held-out loss in <out>/model.tfw, stop early when that loss
// stops improving and write <out>/log.csv. It prints the training and held-out accuracy of the
// saved model and writes boundary.png (the predicted probability over the plane with the
// held-out points on top), loss.png and accuracy.png (training and held-out curves per epoch).
//
//   mlp_classifier [--epochs 20] [--steps 30] [--points 200] [--units 32] [--out mlp_out] ...
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <memory>
#include <random>
#include <string>
#include <tapeflow.hpp>

#include "common/best_epoch_fit.hpp"
#include "common/cli.hpp"
#include "common/image.hpp"
#include "common/plot.hpp"

namespace tf = tapeflow;
namespace L = tapeflow::layers;

namespace {

struct Config {
  int epochs = 20, steps = 30, points = 200, units = 32, patience = 5, seed = 1;
  double lr = 1e-2, noise = 0.04;
  std::string out = "mlp_out";
};

// `points` per class: (points * 2, 2) coordinates in [-1, 1]^2 and (points * 2, 1) labels.
void make_spirals(int points, double noise, std::mt19937& rng, tf::Tensor& x, tf::Tensor& y) {
  std::size_t total = 2 * static_cast<std::size_t>(points);
  x = xt::zeros<float>({total, std::size_t{2}});
  y = xt::zeros<float>({total, std::size_t{1}});
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> eps(0.0, noise);
  const double pi = 3.14159265358979323846;
  for (std::size_t i = 0; i < total; ++i) {
    int cls = static_cast<int>(i % 2);
    double t = std::sqrt(u(rng));  // uniform density along the arm's area
    double angle = t * 3.0 * pi + cls * pi, radius = 0.05 + 0.9 * t;
    x(i, 0) = static_cast<float>(radius * std::cos(angle) + eps(rng));
    x(i, 1) = static_cast<float>(radius * std::sin(angle) + eps(rng));
    y(i, 0) = static_cast<float>(cls);
  }
}

int run(const Config& c) {
  namespace TR = tapeflow::training;
  if (!examples::create_output_folder("mlp_classifier", c.out)) return 1;
  tf::set_random_seed(static_cast<std::uint64_t>(c.seed));
  std::mt19937 rng(static_cast<std::uint32_t>(c.seed));
  tf::Tensor x, y, test_x, test_y;
  make_spirals(c.points, c.noise, rng, x, y);
  make_spirals(c.points, c.noise, rng, test_x, test_y);

  L::Sequential model;
  model.add<L::Dense>(L::DenseOptions(c.units).activation("relu"));
  model.add<L::Dense>(L::DenseOptions(c.units).activation("relu"));
  model.add<L::Dense>(L::DenseOptions(c.units).activation("relu"));
  model.add<L::Dense>(L::DenseOptions(1));  // a logit
  model.build({1, 2});
  tf::optim::Adam opt(tf::optim::AdamOptions().learning_rate(static_cast<float>(c.lr)));
  // The model outputs a logit: the loss takes it as one, and "accuracy" counts a logit > 0
  // (a probability > 0.5) as class 1.
  model.compile(opt,
                TR::Loss(
                    [](const tf::Variable& t, const tf::Variable& p) {
                      return tf::losses::binary_crossentropy(t, p, /*from_logits=*/true);
                    },
                    "binary_crossentropy"),
                {std::make_shared<tf::metrics::BinaryAccuracy>(0.f, "accuracy")});
  std::printf(
      "mlp classifier: two spirals, %d points per class, %d epochs x %d full-batch steps, "
      "%zu parameters\n",
      c.points, c.epochs, c.steps, model.count_params());

  const std::string checkpoint = c.out + "/model.tfw";
  const auto all = static_cast<std::int64_t>(x.shape()[0]);
  examples::BestEpochFit run(checkpoint, c.out + "/log.csv", c.patience);
  auto history = run.fit("mlp_classifier", [&](const TR::Callbacks& callbacks) {
    return model.fit(x, y,
                     TR::FitOptions()
                         .epochs(c.epochs)
                         .batch_size(all)  // full batch: every step sees every point
                         .steps_per_epoch(c.steps)
                         .shuffle(false)
                         .validation_data(TR::ValidationData(test_x, test_y))
                         .callbacks(callbacks));
  });
  if (!history) return 1;
  const double secs = run.seconds();
  const std::size_t best_i = examples::BestEpochFit::best_epoch(*history);
  // Continue with the saved epoch.
  tf::serialization::load_checkpoint(model, opt, checkpoint);
  std::printf("saved %s: epoch %d of %zu (val_loss %.4f, val_accuracy %.3f)\n", checkpoint.c_str(),
              history->epoch[best_i] + 1, history->epoch.size(), history->at("val_loss")[best_i],
              history->at("val_accuracy")[best_i]);
  const auto quiet = TR::EvaluateOptions().batch_size(all).verbose(0);
  const double train_acc = model.evaluate(x, y, quiet).at("accuracy");
  const double test_acc = model.evaluate(test_x, test_y, quiet).at("accuracy");
  std::printf("train accuracy %.3f, held-out accuracy %.3f, %zu steps in %.1f s\n", train_acc,
              test_acc, history->epoch.size() * static_cast<std::size_t>(c.steps), secs);
  const std::string loss_png = c.out + "/loss.png", acc_png = c.out + "/accuracy.png";
  examples::history_plot(*history, "mlp_classifier: loss", "binary cross-entropy",
                         {{"loss", "training"}, {"val_loss", "held-out"}})
      .save_png(loss_png);
  examples::history_plot(*history, "mlp_classifier: accuracy", "accuracy",
                         {{"accuracy", "training"}, {"val_accuracy", "held-out"}})
      .save_png(acc_png);

  // The decision boundary: probability of class 1 on a grid over [-1.2, 1.2]^2, one batch.
  const int side = 400;
  const float extent = 1.2f;
  tf::Tensor grid = xt::zeros<float>({std::size_t(side) * side, std::size_t{2}});
  auto coord = [&](int p) { return (static_cast<float>(p) + 0.5f) / side * 2 * extent - extent; };
  for (int r = 0; r < side; ++r)
    for (int col = 0; col < side; ++col) {
      grid(std::size_t(r) * side + std::size_t(col), 0) = coord(col);
      grid(std::size_t(r) * side + std::size_t(col), 1) = -coord(r);  // y up
    }
  tf::Tensor logits = model(tf::Variable(grid)).value();
  examples::Canvas img(side, side);
  for (int r = 0; r < side; ++r)
    for (int col = 0; col < side; ++col) {
      float p = 1.f / (1.f + std::exp(-logits(std::size_t(r) * side + std::size_t(col), 0)));
      // Blend orange (class 0) to blue (class 1), pale so the points stand out.
      auto mix = [&](float a, float b) { return static_cast<std::uint8_t>(a + (b - a) * p); };
      img.set(col, r, {mix(250, 170), mix(200, 200), mix(150, 250)});
    }
  for (std::size_t i = 0; i < test_x.shape()[0]; ++i) {
    int px = static_cast<int>((test_x(i, 0) + extent) / (2 * extent) * side);
    int py = static_cast<int>((extent - test_x(i, 1)) / (2 * extent) * side);
    bool cls = test_y(i, 0) > 0.5f;
    img.disc(px, py, 4, {255, 255, 255});
    img.disc(px, py, 3, cls ? examples::Rgb{30, 80, 200} : examples::Rgb{220, 100, 20});
  }
  std::string path = c.out + "/boundary.png";
  img.save_png(path);
  std::printf("wrote %s, %s, %s and %s\n", path.c_str(), loss_png.c_str(), acc_png.c_str(),
              run.csv_log().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  examples::Options opts(
      "mlp_classifier",
      "Trains a Dense network on two spirals with fit; prints the accuracy, keeps "
      "the best epoch in\nmodel.tfw and writes boundary.png, loss.png, "
      "accuracy.png and log.csv.");
  opts.add("epochs", c.epochs, 1, 100000,
           "training epochs (held-out loss and accuracy after each)");
  opts.add("steps", c.steps, 1, 1000000, "full-batch training steps per epoch");
  opts.add("points", c.points, 2, 100000, "training points per class");
  opts.add("units", c.units, 1, 4096, "units of each hidden layer");
  opts.add("lr", c.lr, 1e-6, 1.0, "Adam learning rate");
  opts.add("patience", c.patience, 0, 100000,
           "epochs without a lower held-out loss before training stops early");
  opts.add("noise", c.noise, 0.0, 1.0, "standard deviation of the noise on the points");
  opts.add("seed", c.seed, 0, 1 << 30, "random seed (data and weights)");
  opts.add("out", c.out, "folder for the pictures, log.csv and the checkpoint model.tfw");
  if (int rc = opts.parse(argc, argv); rc >= 0) return rc;
  try {
    return run(c);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mlp_classifier: %s\n", e.what());
    return 1;
  }
}
