// Model::compile / fit / evaluate / predict / train_on_batch / test_on_batch
// (optim/training/model_training.cpp): fit is the hand-written tape loop, bit for bit; the logs,
// the validation data, the batching; the errors of bad input; nothing recorded in inference,
// buffers reused across training steps.
#include <cmath>
#include <string>
#include <vector>

#include "tapeflow/framework/core/memory.hpp"
#include "tapeflow/framework/core/profile.hpp"
#include "tapeflow/framework/core/tape.hpp"
#include "tapeflow/framework/data/dataset.hpp"
#include "tapeflow/framework/metrics/accuracy_metrics.hpp"
#include "tapeflow/framework/nn/regularizers.hpp"
#include "tapeflow/framework/ops/losses.hpp"
#include "tapeflow/layers/dense.hpp"
#include "tapeflow/layers/input_layer.hpp"
#include "tapeflow/layers/model.hpp"
#include "tapeflow/layers/sequential.hpp"
#include "tapeflow/optim/adam.hpp"
#include "tapeflow/optim/optimizers.hpp"
#include "tapeflow/optim/sgd.hpp"
#include "tapeflow/optim/training/callbacks/lambda_callback.hpp"
#include "tapeflow/optim/training/compile_args.hpp"
#include "tapeflow/optim/training/history.hpp"
#include "tapeflow/optim/training/run_options.hpp"
#include "tapeflow/optim/training/samples.hpp"
#include "test_util.hpp"

namespace L = tapeflow::layers;
namespace TR = tapeflow::training;
using namespace tapeflow;
using test::bit_identical;

namespace {

// Dense(4, relu, l2 kernel penalty) -> Dense(1): a model with a regularization loss.
std::shared_ptr<L::Sequential> small_model(std::uint64_t seed) {
  set_random_seed(seed);
  auto m = std::make_shared<L::Sequential>();
  m->add<L::Dense>(
      L::DenseOptions(4).activation("relu").kernel_regularizer(regularizers::l2(0.01)));
  m->add<L::Dense>(L::DenseOptions(1));
  m->build({1, 3});
  clear_random_seed();
  return m;
}

struct Data {
  Tensor x, y;
};

// 10 samples of 3 features; y = a fixed linear function of x.
Data regression_data(std::size_t n = 10) {
  Data d{test::random_tensor({n, 3}, 11), Tensor::from_shape({n, 1})};
  for (std::size_t i = 0; i < n; ++i) d.y(i, 0) = 0.5f * d.x(i, 0) - d.x(i, 1) + 0.25f * d.x(i, 2);
  return d;
}

// One step of the loop fit documents, by hand.
void hand_step(L::Sequential& m, optim::Optimizer& opt, const Tensor& xb, const Tensor& yb) {
  GradientTape tape;
  Variable y = m(Variable(xb), /*training=*/true);
  Variable loss = losses::mean_squared_error(Variable(yb), y);
  for (const auto& r : m.losses()) loss = loss + r;
  auto vars = m.trainable_variables();
  opt.apply_gradients(tape.gradient(loss, vars), vars);
}

Tensor rows(const Tensor& t, const std::vector<std::size_t>& order, std::size_t b, std::size_t e) {
  return TR::detail::take_rows(t, order.data() + b, e - b);
}

void check_same_weights(const L::Layer& a, const L::Layer& b) {
  auto wa = a.get_weights(), wb = b.get_weights();
  REQUIRE(wa.size() == wb.size());
  for (std::size_t i = 0; i < wa.size(); ++i) CHECK_BIT_IDENTICAL(wa[i], wb[i]);
}

}  // namespace

TEST_CASE("fit: equals the hand-written tape loop bit for bit, shuffled with the same seed") {
  Data d = regression_data(10);
  auto a = small_model(3), b = small_model(3);
  check_same_weights(*a, *b);
  auto opt_b = std::make_shared<optim::Adam>(optim::AdamOptions().learning_rate(0.05f));
  a->compile(std::make_shared<optim::Adam>(optim::AdamOptions().learning_rate(0.05f)), "mse");
  TR::History h = a->fit(d.x, d.y, TR::FitOptions().epochs(3).batch_size(4).seed(99).verbose(0));

  std::vector<double> epoch_loss;
  for (int epoch = 0; epoch < 3; ++epoch) {
    auto order = TR::shuffled_order(10, 99, epoch);
    for (std::size_t begin = 0; begin < 10; begin += 4) {
      const std::size_t end = std::min<std::size_t>(10, begin + 4);
      hand_step(*b, *opt_b, rows(d.x, order, begin, end), rows(d.y, order, begin, end));
    }
  }
  check_same_weights(*a, *b);
  CHECK(h.epoch == std::vector<int>{0, 1, 2});
  CHECK(h.at("loss").size() == 3);
  CHECK(h.keys() == std::vector<std::string>{"loss"});
}

TEST_CASE(
    "fit: without shuffling the batches are the samples in order, the logged loss is the "
    "epoch's sample-weighted mean") {
  Data d = regression_data(7);
  auto a = small_model(5), b = small_model(5);
  optim::SGD opt_b(optim::SGDOptions().learning_rate(0.1f));
  a->compile(std::make_shared<optim::SGD>(optim::SGDOptions().learning_rate(0.1f)), "mse");
  TR::History h =
      a->fit(d.x, d.y, TR::FitOptions().epochs(1).batch_size(3).shuffle(false).verbose(0));
  // The loss of each batch (batches of 3, 3 and 1) before its update, weighted by its size.
  double sum = 0;
  std::vector<std::size_t> order{0, 1, 2, 3, 4, 5, 6};
  for (std::size_t begin = 0; begin < 7; begin += 3) {
    const std::size_t end = std::min<std::size_t>(7, begin + 3);
    Tensor xb = rows(d.x, order, begin, end), yb = rows(d.y, order, begin, end);
    {
      StopRecording no_tape;
      Variable loss = losses::mean_squared_error(Variable(yb), (*b)(Variable(xb), true));
      for (const auto& r : b->losses()) loss = loss + r;
      sum += double(loss.item()) * double(end - begin);
    }
    hand_step(*b, opt_b, xb, yb);
  }
  check_same_weights(*a, *b);
  CHECK(h.at("loss")[0] == doctest::Approx(sum / 7).epsilon(1e-12));
}

TEST_CASE("fit: validation_split holds out the last samples, the val_ logs equal evaluate") {
  Data d = regression_data(10);
  auto m = small_model(7);
  m->compile("sgd", "mse", {"mae"});
  TR::History h = m->fit(
      d.x, d.y, TR::FitOptions().epochs(2).batch_size(4).seed(1).validation_split(0.3).verbose(0));
  CHECK(h.keys() == std::vector<std::string>{"loss", "mae", "val_loss", "val_mae"});
  // The last 3 samples (floor(10 * 0.7) = 7 train) are the validation set.
  Tensor xv = xt::view(d.x, xt::range(7, 10), xt::all()),
         yv = xt::view(d.y, xt::range(7, 10), xt::all());
  TR::Logs e = m->evaluate(xv, yv, TR::EvaluateOptions().verbose(0));
  CHECK(e.at("loss") == doctest::Approx(h.at("val_loss").back()).epsilon(1e-12));
  CHECK(e.at("mae") == doctest::Approx(h.at("val_mae").back()).epsilon(1e-12));
  // validation_data gives the same.
  auto m2 = small_model(7);
  m2->compile("sgd", "mse", {"mae"});
  Tensor xt_ = xt::view(d.x, xt::range(0, 7), xt::all()),
         yt_ = xt::view(d.y, xt::range(0, 7), xt::all());
  TR::History h2 =
      m2->fit(xt_, yt_,
              TR::FitOptions().epochs(2).batch_size(4).seed(1).verbose(0).validation_data(
                  TR::ValidationData(xv, yv)));
  CHECK(h2.at("val_loss") == h.at("val_loss"));
}

TEST_CASE("evaluate, predict, train_on_batch and test_on_batch") {
  Data d = regression_data(7);
  auto m = small_model(9);
  // predict: any number of samples, in batches, equals one call.
  Tensor whole;
  {
    StopRecording no_tape;
    whole = (*m)(Variable(d.x), false).value();
  }
  Tensor p = m->predict(d.x, TR::PredictOptions().batch_size(3).verbose(0));
  CHECK(shape_of(p) == Shape{7, 1});
  TF_CHECK_CLOSE(p, whole);
  // evaluate: loss + penalty, mean over samples.
  m->compile("sgd", "mse");
  Variable expected = losses::mean_squared_error(Variable(d.y), Variable(whole));
  double penalty = 0;
  for (const auto& r : m->losses()) penalty += r.item();
  TR::Logs e = m->evaluate(d.x, d.y, TR::EvaluateOptions().batch_size(7).verbose(0));
  CHECK(e.at("loss") == doctest::Approx(expected.item() + penalty).epsilon(1e-6));
  TR::Logs t = m->test_on_batch(d.x, d.y);
  CHECK(t.at("loss") == doctest::Approx(e.at("loss")).epsilon(1e-9));
  // train_on_batch: one step; the logs are the batch's loss before the update.
  auto before = m->get_weights();
  TR::Logs tr = m->train_on_batch(d.x, d.y);
  CHECK(tr.at("loss") == doctest::Approx(e.at("loss")).epsilon(1e-6));
  CHECK_FALSE(bit_identical(before[0], m->get_weights()[0]));
  CHECK(m->compiled_optimizer().iterations() == 1);
}

TEST_CASE("fit: a functional model with two outputs, a loss each, loss weights and metrics") {
  set_random_seed(4);
  auto in = Input({3}, "features");
  auto h = L::Dense(L::DenseOptions(4).activation("relu").name("hidden"))(in);
  auto o1 = L::Dense(L::DenseOptions(1).name("value"))(h);
  auto o2 = L::Dense(L::DenseOptions(1).activation("sigmoid").name("flag"))(h);
  L::Model model(in, {o1, o2}, "two_heads");
  clear_random_seed();
  Data d = regression_data(8);
  Tensor flag = xt::cast<float>(d.y > 0.f);
  model.compile("adam", {"mse", "binary_crossentropy"}, {"accuracy"}, {1.f, 0.5f});
  TR::History hist =
      model.fit({d.x}, {d.y, flag}, TR::FitOptions().epochs(2).batch_size(4).verbose(0));
  CHECK(hist.keys() == std::vector<std::string>{"loss", "value_loss", "flag_loss", "value_accuracy",
                                                "flag_accuracy"});
  // The total is the weighted sum of the per-output losses (no penalties here), epoch by epoch.
  for (std::size_t e = 0; e < 2; ++e)
    CHECK(hist.at("loss")[e] ==
          doctest::Approx(hist.at("value_loss")[e] + 0.5 * hist.at("flag_loss")[e]).epsilon(1e-6));
  auto preds = model.predict(std::vector<Tensor>{d.x}, TR::PredictOptions().verbose(0));
  REQUIRE(preds.size() == 2);
  CHECK(shape_of(preds[1]) == Shape{8, 1});
  TF_CHECK_ERROR(model.predict(d.x, TR::PredictOptions().verbose(0)), "2 outputs");
  TF_CHECK_ERROR(model.compile("adam", {"mse", "mse", "mse"}), "3 losses", "2 outputs");
  TF_CHECK_ERROR(model.compile("adam", "mse", {}, {1.f}), "loss_weights", "one per output");
}

TEST_CASE("compile: 'accuracy' becomes the accuracy Keras picks from the shapes") {
  auto m = std::make_shared<L::Sequential>();
  set_random_seed(2);
  m->add<L::Dense>(L::DenseOptions(3).activation("softmax"));
  m->build({1, 2});
  clear_random_seed();
  Tensor x = test::random_tensor({4, 2}, 3);
  Tensor probs = m->predict(x, TR::PredictOptions().verbose(0));
  // Sparse labels (one integer per sample, rank 1 < rank 2): sparse categorical accuracy.
  Tensor labels = Tensor::from_shape({4});
  Tensor onehot = xt::zeros<float>({4, 3});
  double hits = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    labels(i) = static_cast<float>(i % 3);
    onehot(i, i % 3) = 1.f;
    std::size_t best = 0;
    for (std::size_t k = 1; k < 3; ++k)
      if (probs(i, k) > probs(i, best)) best = k;
    hits += best == i % 3;
  }
  m->compile("sgd", "sparse_categorical_crossentropy", {"accuracy"});
  CHECK(m->evaluate(x, labels, TR::EvaluateOptions().verbose(0)).at("accuracy") ==
        doctest::Approx(hits / 4));
  m->compile("sgd", "categorical_crossentropy", {"acc"});
  CHECK(m->evaluate(x, onehot, TR::EvaluateOptions().verbose(0)).at("acc") ==
        doctest::Approx(hits / 4));
  // A metric object keeps its own name and state.
  auto cat = std::make_shared<metrics::CategoricalAccuracy>();
  m->compile("sgd", "categorical_crossentropy", {cat});
  m->evaluate(x, onehot, TR::EvaluateOptions().verbose(0));
  CHECK(cat->result() == doctest::Approx(hits / 4));
}

TEST_CASE("fit: steps_per_epoch continues the stream across epochs, stop_training ends it") {
  Data d = regression_data(6);
  auto a = small_model(12), b = small_model(12);
  a->compile(std::make_shared<optim::SGD>(optim::SGDOptions().learning_rate(0.05f)), "mse");
  optim::SGD opt_b(optim::SGDOptions().learning_rate(0.05f));
  // 3 batches of 2 per pass; 2 steps per epoch for 3 epochs = passes 0 and 1 exactly.
  a->fit(d.x, d.y, TR::FitOptions().epochs(3).batch_size(2).steps_per_epoch(2).seed(5).verbose(0));
  for (int pass = 0; pass < 2; ++pass) {
    auto order = TR::shuffled_order(6, 5, pass);
    for (std::size_t begin = 0; begin < 6; begin += 2)
      hand_step(*b, opt_b, rows(d.x, order, begin, begin + 2), rows(d.y, order, begin, begin + 2));
  }
  check_same_weights(*a, *b);

  int batches = 0;
  TR::LambdaCallback::Hooks hooks;
  L::Sequential* raw = a.get();
  hooks.on_train_batch_end = [&](std::int64_t, TR::Logs&) {
    if (++batches == 4) raw->stop_training = true;
  };
  TR::History h = a->fit(d.x, d.y,
                         TR::FitOptions().epochs(10).batch_size(2).verbose(0).callbacks(
                             {std::make_shared<TR::LambdaCallback>(hooks)}));
  CHECK(batches == 4);
  CHECK(h.epoch == std::vector<int>{0, 1});  // 3 batches, then 1 of the second epoch
}

TEST_CASE("fit: the order of the hooks, initial_epoch and the params callbacks see") {
  struct Recorder : TR::Callback {
    std::vector<std::string> events;
    TR::RunParams seen;
    void on_train_begin(TR::Logs&) override {
      events.push_back("train_begin");
      seen = params();
    }
    void on_train_end(TR::Logs&) override { events.push_back("train_end"); }
    void on_epoch_begin(int e, TR::Logs&) override {
      events.push_back("epoch_begin " + std::to_string(e));
    }
    void on_epoch_end(int e, TR::Logs& l) override {
      events.push_back("epoch_end " + std::to_string(e) + " " + l.names());
    }
    void on_batch_begin(std::int64_t b, TR::Logs&) override {
      events.push_back("batch_begin " + std::to_string(b));
    }
    void on_batch_end(std::int64_t b, TR::Logs& l) override {
      events.push_back("batch_end " + std::to_string(b) + " " + l.names());
    }
    void on_test_begin(TR::Logs&) override { events.push_back("test_begin"); }
    void on_test_end(TR::Logs&) override { events.push_back("test_end"); }
  };
  Data d = regression_data(4);
  auto m = small_model(1);
  m->compile("sgd", "mse");
  auto rec = std::make_shared<Recorder>();
  m->fit(d.x, d.y,
         TR::FitOptions()
             .epochs(3)
             .initial_epoch(2)
             .batch_size(2)
             .verbose(0)
             .validation_data(TR::ValidationData(d.x, d.y))
             .callbacks({rec}));
  CHECK(rec->events == std::vector<std::string>{"train_begin", "epoch_begin 2", "batch_begin 0",
                                                "batch_end 0 loss", "batch_begin 1",
                                                "batch_end 1 loss", "test_begin", "test_end",
                                                "epoch_end 2 loss, val_loss", "train_end"});
  CHECK(rec->seen.epochs == 3);
  CHECK(rec->seen.steps == 2);
}

TEST_CASE("compile / fit: bad input is a clear error") {
  Data d = regression_data(6);
  auto m = small_model(1);
  TF_CHECK_ERROR(m->fit(d.x, d.y, TR::FitOptions().verbose(0)), "not compiled", "compile(");
  TF_CHECK_ERROR(m->evaluate(d.x, d.y), "not compiled");
  TF_CHECK_ERROR(m->compile("adamm", "mse"), "unknown optimizer 'adamm'", "adam");
  TF_CHECK_ERROR(m->compile("adam", "mean_squarred_error"), "unknown loss", "mean_squared_error");
  TF_CHECK_ERROR(m->compile("adam", "mse", {"acuracy"}), "acuracy");
  m->compile("adam", "mse");
  Tensor y5 = xt::zeros<float>({5, 1});
  try {
    m->fit(d.x, y5, TR::FitOptions().verbose(0));
    FAIL("no error");
  } catch (const ShapeError& e) {
    CHECK(std::string(e.what()).find("y[0] has 5 samples") != std::string::npos);
  }
  for (double split : {1.0, -0.1, 1.5})
    TF_CHECK_ERROR(m->fit(d.x, d.y, TR::FitOptions().validation_split(split).verbose(0)),
                   "validation_split", "[0, 1)");
  Tensor one = xt::zeros<float>({1, 3}), one_y = xt::zeros<float>({1, 1});
  TF_CHECK_ERROR(m->fit(one, one_y, TR::FitOptions().validation_split(0.5).verbose(0)), "1 samples",
                 "too few to split");
  TF_CHECK_ERROR(m->fit(d.x, d.y, TR::FitOptions().batch_size(0).verbose(0)), "batch_size");
  TF_CHECK_ERROR(m->fit(d.x, d.y, TR::FitOptions().epochs(1).initial_epoch(2).verbose(0)),
                 "initial_epoch");
  TF_CHECK_ERROR(m->fit(d.x, d.y, TR::FitOptions().verbose(3)), "verbose");
  CHECK(optim::get("RMSprop")->name() == "RMSprop");
  CHECK(losses::get("MeanSquaredError")(Variable(Tensor{1.f}), Variable(Tensor{3.f})).item() ==
        4.f);
}

TEST_CASE("fit / evaluate / predict over a Dataset equal the same over tensors") {
  Data d = regression_data(10);
  auto a = small_model(21), b = small_model(21);
  a->compile(std::make_shared<optim::SGD>(optim::SGDOptions().learning_rate(0.1f)), "mse", {"mae"});
  b->compile(std::make_shared<optim::SGD>(optim::SGDOptions().learning_rate(0.1f)), "mse", {"mae"});
  auto ds = data::Dataset::from_tensor_slices({d.x, d.y}).batch(4);
  TR::History ha = a->fit(ds, TR::FitOptions().epochs(2).verbose(0));
  TR::History hb =
      b->fit(d.x, d.y, TR::FitOptions().epochs(2).batch_size(4).shuffle(false).verbose(0));
  check_same_weights(*a, *b);
  CHECK(ha.at("loss") == hb.at("loss"));
  CHECK(a->evaluate(ds, TR::EvaluateOptions().verbose(0)).at("mae") ==
        b->evaluate(d.x, d.y, TR::EvaluateOptions().batch_size(4).verbose(0)).at("mae"));
  auto p = a->predict(ds, TR::PredictOptions().verbose(0));
  REQUIRE(p.size() == 1);
  CHECK_BIT_IDENTICAL(p[0], b->predict(d.x, TR::PredictOptions().batch_size(4).verbose(0)));
  // An infinite dataset needs steps_per_epoch; with it, the stream continues across epochs.
  TF_CHECK_ERROR(a->fit(ds.repeat(), TR::FitOptions().verbose(0)), "infinite", "steps_per_epoch");
  TR::History hr = a->fit(ds.repeat(), TR::FitOptions().epochs(2).steps_per_epoch(5).verbose(0));
  CHECK(hr.epoch.size() == 2);
  TF_CHECK_ERROR(a->fit(ds, TR::FitOptions().validation_split(0.2).verbose(0)), "validation_split",
                 "validation_data");
  auto x_only = data::Dataset::from_tensor_slices({d.x}).batch(4);
  TF_CHECK_ERROR(a->fit(x_only, TR::FitOptions().verbose(0)), "1 components", "1 target");
}

TEST_CASE("predict and evaluate record nothing on an active tape, training reuses its buffers") {
  // Dense(16) over 16384 features, batches of 32: the inputs, the kernel, its gradient and
  // Adam's slots are each at least 1 MiB (memory::kLargeBytes), the buffers the cache keeps.
  set_random_seed(3);
  auto inputs = Input({16384});
  auto outputs = L::Dense(L::DenseOptions(16))(inputs);
  Model m(inputs, outputs);
  m.compile("adam", "mse");
  const Tensor x = test::random_tensor({32, 16384}, 4), y = test::random_tensor({32, 16}, 5);

  {
    GradientTape tape;  // watches the model's trainable variables as soon as they are used
    m.predict(x, TR::PredictOptions().batch_size(32).verbose(0));
    m.evaluate(x, y, TR::EvaluateOptions().batch_size(32).verbose(0));
    {
      StopRecording no_tape;
      m(Variable(x), false);
    }
    CHECK(tape.size() == 0);
    CHECK(tape.watched_variables().empty());
    m(Variable(x), false);  // the same call with the tape listening records the Dense's ops
    CHECK(tape.size() > 0);
  }

#ifndef TAPEFLOW_MEMORY_NO_CACHE
  // After a few steps every big buffer a step makes is one an earlier step freed: no new
  // mappings, and the cache holds no more than it did, over 100 steps.
  for (int step = 0; step < 10; ++step) m.train_on_batch(x, y);
  const memory::Stats before = memory::stats();
  const std::size_t cached = memory::cached_bytes();
  for (int step = 10; step < 100; ++step) m.train_on_batch(x, y);
  CHECK(memory::stats().mapped == before.mapped);
  CHECK(memory::stats().reused > before.reused);
  CHECK(memory::cached_bytes() <= cached);
#endif
}

TEST_CASE("train_on_batch under the profiler: time by layer type, the loss and the update") {
  Data d = regression_data(8);
  auto m = small_model(11);  // Dense(4, relu) -> Dense(1)
  m->compile(std::make_shared<optim::SGD>(optim::SGDOptions().learning_rate(0.1f)), "mse");
  profile::enable();
  m->train_on_batch(d.x, d.y);
  profile::disable();
  const std::vector<profile::Row> rows = profile::rows();
  auto row = [&](const std::string& label) -> profile::Row {
    for (const auto& r : rows)
      if (r.label == label) return r;
    FAIL("no profile row '" << label << "' in\n" << profile::summary());
    return {};
  };
  // Both Dense calls under one label (their matmul, bias and relu backwards with them); the
  // model's own glue apart.
  CHECK(row("Dense").forward_calls == 2);
  CHECK(row("Dense").backward_ops >= 4);
  CHECK(row("Sequential").forward_calls == 1);
  CHECK(row("loss").forward_calls == 1);
  CHECK(row("loss").backward_ops >= 1);
  CHECK(row("SGD.apply_gradients").forward_calls == 1);
  CHECK(row("metrics").forward_calls == 1);
  CHECK(row("GradientTape (walk)").backward_ops == 1);

  // By layer: each Dense apart, labelled with its name.
  profile::enable(profile::GroupBy::layer);
  m->train_on_batch(d.x, d.y);
  profile::disable();
  std::size_t dense_rows = 0;
  for (const auto& r : profile::rows())
    if (r.label.rfind("Dense ", 0) == 0) {
      CHECK(r.forward_calls == 1);
      CHECK(r.label.size() > 6);
      ++dense_rows;
    }
  CHECK(dense_rows == 2);
}
