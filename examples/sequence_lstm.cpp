// sequence_lstm: an LSTM that learns the adding problem on padded sequences of varying length,
// trained with `fit`.
//
// Each sequence has --length steps at most and between half and all of them filled; a step is
// (value in (0, 1], marker 0 or 1), exactly two steps are marked, and the target is the sum of
// the two marked values: the network must remember them across the sequence. The unfilled steps
// are zeros after the sequence; Masking marks them, so the LSTM skips them (its state carries
// over), and a Dense layer reads the final state. Predicting the mean gives a mean squared error
// of 1/6; `fit` trains with Adam on mean squared error, keeps the epoch with the lowest held-out
// loss in <out>/model.tfw (an LSTM model saved and reloaded), stops early when that loss stops
// improving, writes <out>/log.csv and loss.png, and prints the reloaded model's held-out error.
//
//   sequence_lstm [--epochs 30] [--sequences 1024] [--length 20] [--units 16] [--out lstm_out]
#include <algorithm>
#include <cstdio>
#include <exception>
#include <memory>
#include <random>
#include <string>
#include <tapeflow.hpp>

#include "common/best_epoch_fit.hpp"
#include "common/cli.hpp"
#include "common/plot.hpp"

namespace tf = tapeflow;
namespace L = tapeflow::layers;

namespace {

struct Config {
  int epochs = 30, sequences = 1024, length = 20, units = 16, batch = 32, patience = 4, seed = 1;
  double lr = 1e-2;
  std::string out = "lstm_out";
};

// `count` padded sequences (count, length, 2) and their targets (count, 1).
void make_sequences(int count, int length, std::mt19937& rng, tf::Tensor& x, tf::Tensor& y) {
  const auto n = static_cast<std::size_t>(count), steps = static_cast<std::size_t>(length);
  x = xt::zeros<float>({n, steps, std::size_t{2}});
  y = xt::zeros<float>({n, std::size_t{1}});
  std::uniform_real_distribution<float> value(0.f, 1.f);
  for (std::size_t i = 0; i < n; ++i) {
    // A filled length in [length / 2, length] (at least 2), two distinct marked steps within it.
    const int filled = std::uniform_int_distribution<int>(std::max(2, length / 2), length)(rng);
    std::uniform_int_distribution<int> pick(0, filled - 1);
    const int a = pick(rng);
    int b = pick(rng);
    while (b == a) b = pick(rng);
    for (int t = 0; t < filled; ++t) {
      // Never exactly 0: a filled step must not look like padding.
      x(i, t, 0) = 1.f - value(rng);
      x(i, t, 1) = (t == a || t == b) ? 1.f : 0.f;
    }
    y(i, 0) = x(i, a, 0) + x(i, b, 0);
  }
}

int run(const Config& c) {
  namespace TR = tapeflow::training;
  if (!examples::create_output_folder("sequence_lstm", c.out)) return 1;
  tf::set_random_seed(static_cast<std::uint64_t>(c.seed));
  std::mt19937 rng(static_cast<std::uint32_t>(c.seed));
  tf::Tensor x, y, test_x, test_y;
  make_sequences(c.sequences, c.length, rng, x, y);
  make_sequences(c.sequences / 4 + 1, c.length, rng, test_x, test_y);

  L::Sequential model;
  model.add<L::Masking>();
  model.add<L::LSTM>(L::LSTMOptions(c.units));
  model.add<L::Dense>(L::DenseOptions(1));
  model.build({1, static_cast<std::size_t>(c.length), 2});
  tf::optim::Adam opt(tf::optim::AdamOptions().learning_rate(static_cast<float>(c.lr)));
  model.compile(opt, "mean_squared_error");
  std::printf(
      "sequence lstm: the adding problem, %d sequences of up to %d steps, %d epochs, %zu "
      "parameters\n",
      c.sequences, c.length, c.epochs, model.count_params());
  std::printf("%s", model.summary().c_str());

  const std::string checkpoint = c.out + "/model.tfw";
  examples::BestEpochFit run(checkpoint, c.out + "/log.csv", c.patience);
  auto history = run.fit("sequence_lstm", [&](const TR::Callbacks& callbacks) {
    return model.fit(x, y,
                     TR::FitOptions()
                         .epochs(c.epochs)
                         .batch_size(c.batch)
                         .validation_data(TR::ValidationData(test_x, test_y))
                         .callbacks(callbacks));
  });
  if (!history) return 1;
  const std::size_t best = examples::BestEpochFit::best_epoch(*history);
  // The saved epoch, reloaded into a new model: the LSTM comes back with its weights.
  auto saved = tf::serialization::load(checkpoint);
  const tf::Variable pred = (*saved)(tf::Variable(test_x));
  const double mse = tf::losses::mean_squared_error(tf::Variable(test_y), pred).item();
  std::printf("saved %s: epoch %d of %zu\n", checkpoint.c_str(), history->epoch[best] + 1,
              history->epoch.size());
  std::printf("held-out mean squared error %.4f (predicting the mean: %.4f), %.1f s of training\n",
              mse, 1.0 / 6.0, run.seconds());
  const std::string loss_png = c.out + "/loss.png";
  examples::history_plot(*history, "sequence_lstm: loss", "mean squared error",
                         {{"loss", "training"}, {"val_loss", "held-out"}})
      .save_png(loss_png);
  std::printf("wrote %s and %s\n", loss_png.c_str(), run.csv_log().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  examples::Options opts("sequence_lstm",
                         "Trains Masking + LSTM + Dense on the adding problem with fit; prints the "
                         "held-out error,\nkeeps the best epoch in model.tfw and writes loss.png "
                         "and log.csv.");
  opts.add("epochs", c.epochs, 1, 100000, "training epochs (held-out loss after each)");
  opts.add("sequences", c.sequences, 4, 1000000, "training sequences");
  opts.add("length", c.length, 2, 10000, "steps of the longest sequence");
  opts.add("units", c.units, 1, 4096, "units of the LSTM");
  opts.add("batch", c.batch, 1, 1000000, "sequences per training step");
  opts.add("lr", c.lr, 1e-6, 1.0, "Adam learning rate");
  opts.add("patience", c.patience, 0, 100000,
           "epochs without a lower held-out loss before training stops early");
  opts.add("seed", c.seed, 0, 1 << 30, "random seed (data and weights)");
  opts.add("out", c.out, "folder for loss.png, log.csv and the checkpoint model.tfw");
  if (int rc = opts.parse(argc, argv); rc >= 0) return rc;
  try {
    return run(c);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sequence_lstm: %s\n", e.what());
    return 1;
  }
}
