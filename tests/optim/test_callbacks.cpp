// The callbacks of optim/training/callbacks/ and the progress bar, History and the path
// templates: each against the behaviour of Keras' callback of the same name, driven through
// fit or through its hooks with logs written by hand.
#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "framework/io/io_test_util.hpp"
#include "tapeflow/framework/nn/regularizers.hpp"
#include "tapeflow/layers/dense.hpp"
#include "tapeflow/layers/saving.hpp"
#include "tapeflow/layers/sequential.hpp"
#include "tapeflow/optim/checkpoint.hpp"
#include "tapeflow/optim/optimizer.hpp"
#include "tapeflow/optim/sgd.hpp"
#include "tapeflow/optim/training/callbacks/csv_logger.hpp"
#include "tapeflow/optim/training/callbacks/early_stopping.hpp"
#include "tapeflow/optim/training/callbacks/lambda_callback.hpp"
#include "tapeflow/optim/training/callbacks/learning_rate_scheduler.hpp"
#include "tapeflow/optim/training/callbacks/model_checkpoint.hpp"
#include "tapeflow/optim/training/callbacks/reduce_lr_on_plateau.hpp"
#include "tapeflow/optim/training/callbacks/terminate_on_nan.hpp"
#include "tapeflow/optim/training/compile_args.hpp"
#include "tapeflow/optim/training/detail/path_template.hpp"
#include "tapeflow/optim/training/history.hpp"
#include "tapeflow/optim/training/progbar.hpp"
#include "tapeflow/optim/training/run_options.hpp"
#include "test_util.hpp"

namespace L = tapeflow::layers;
namespace TR = tapeflow::training;
namespace fs = std::filesystem;
using namespace tapeflow;

namespace {

std::shared_ptr<L::Sequential> tiny_model(std::uint64_t seed = 1) {
  test::Seeded s(seed);
  auto m = std::make_shared<L::Sequential>();
  m->add<L::Dense>(L::DenseOptions(2));
  m->add<L::Dense>(L::DenseOptions(1));
  m->build({1, 3});
  return m;
}

TR::Logs logs_of(std::initializer_list<std::pair<const char*, double>> items) {
  TR::Logs l;
  for (const auto& [k, v] : items) l.set(k, v);
  return l;
}

// Drives a callback's epoch hooks with one value of `monitor` per epoch; returns the epochs
// run (it stops when the model's stop_training is set).
int drive_epochs(TR::Callback& cb, L::Model& model, const std::string& monitor,
                 const std::vector<double>& values) {
  cb.set_model(&model);
  model.stop_training = false;
  TR::Logs none;
  cb.on_train_begin(none);
  int run = 0;
  for (std::size_t e = 0; e < values.size() && !model.stop_training; ++e, ++run) {
    TR::Logs l;
    l.set("loss", 1.0);
    l.set(monitor, values[e]);
    cb.on_epoch_end(static_cast<int>(e), l);
  }
  return run;
}

struct CallbackData {
  Tensor x = test::random_tensor({8, 3}, 5);
  Tensor y = test::random_tensor({8, 1}, 6);
};

}  // namespace

TEST_CASE("EarlyStopping: patience, min_delta, mode, baseline and start_from_epoch as Keras") {
  auto m = tiny_model();
  {
    // best 1.0 (e0), 0.9 (e1); e2 wait 1, e3 wait 2 >= patience 2: stops at epoch 3.
    TR::EarlyStopping es(TR::EarlyStoppingOptions().patience(2));
    CHECK(drive_epochs(es, *m, "val_loss", {1.0, 0.9, 0.95, 0.96, 0.97}) == 4);
    CHECK(es.stopped_epoch() == 3);
    CHECK(es.best_epoch() == 1);
    CHECK(*es.best() == 0.9);
  }
  {
    // min_delta 0.05: 0.9 -> 0.86 is no improvement (0.86 + 0.05 >= 0.9); patience 0 stops at
    // the first epoch without one (epoch 1; epoch 0 never stops).
    TR::EarlyStopping es(TR::EarlyStoppingOptions().min_delta(0.05));
    CHECK(drive_epochs(es, *m, "val_loss", {0.9, 0.86, 0.5}) == 2);
    CHECK(es.stopped_epoch() == 1);
  }
  {
    // "auto" watches an accuracy upwards.
    TR::EarlyStopping es(TR::EarlyStoppingOptions().monitor("val_accuracy").patience(1));
    CHECK(drive_epochs(es, *m, "val_accuracy", {0.5, 0.6, 0.7, 0.65, 0.8}) == 4);
    CHECK(es.stopped_epoch() == 3);
    TR::EarlyStopping es_min(
        TR::EarlyStoppingOptions().monitor("val_accuracy").mode("min").patience(1));
    CHECK(drive_epochs(es_min, *m, "val_accuracy", {0.5, 0.6, 0.7}) == 2);
  }
  {
    // baseline 0.5: improvements that do not beat it do not reset the wait (e0 and e1 improve
    // with wait 1 and 2); e2 does not improve: wait 3 >= 2, stop. Without the baseline the
    // improvements reset it and e2 only waits 1.
    TR::EarlyStopping es(TR::EarlyStoppingOptions().patience(2).baseline(0.5));
    CHECK(drive_epochs(es, *m, "val_loss", {1.0, 0.9, 0.95, 0.96}) == 3);
    CHECK(es.stopped_epoch() == 2);
    TR::EarlyStopping plain(TR::EarlyStoppingOptions().patience(2));
    CHECK(drive_epochs(plain, *m, "val_loss", {1.0, 0.9, 0.95, 0.96}) == 4);
    CHECK(plain.stopped_epoch() == 3);
  }
  {
    TR::EarlyStopping es(TR::EarlyStoppingOptions().start_from_epoch(3));
    CHECK(drive_epochs(es, *m, "val_loss", {1, 2, 3, 4, 5, 6}) == 5);
    CHECK(es.stopped_epoch() == 4);
  }
  TR::EarlyStopping missing(TR::EarlyStoppingOptions().monitor("val_los"));
  TF_CHECK_ERROR(drive_epochs(missing, *m, "val_loss", {1.0}), "EarlyStopping: monitor",
                 "'val_los'", "loss, val_loss");
  TF_CHECK_ERROR(TR::EarlyStopping(TR::EarlyStoppingOptions().mode("maximum")), "mode");
  TF_CHECK_ERROR(TR::EarlyStopping(TR::EarlyStoppingOptions().patience(-1)), "patience");
}

TEST_CASE("EarlyStopping: restore_best_weights puts the best epoch's weights back when it stops") {
  auto m = tiny_model();
  TR::EarlyStopping es(TR::EarlyStoppingOptions().patience(1).restore_best_weights(true));
  es.set_model(m.get());
  TR::Logs none;
  es.on_train_begin(none);
  std::vector<std::vector<Tensor>> weights;
  const std::vector<double> losses{1.0, 0.5, 0.7, 0.8};
  for (std::size_t e = 0; e < losses.size() && !m->stop_training; ++e) {
    auto w = m->get_weights();
    for (auto& t : w) t += 1.f;  // "training" changes the weights each epoch
    m->set_weights(w);
    weights.push_back(m->get_weights());
    TR::Logs l = logs_of({{"val_loss", losses[e]}});
    es.on_epoch_end(static_cast<int>(e), l);
  }
  CHECK(m->stop_training);
  auto now = m->get_weights();
  for (std::size_t i = 0; i < now.size(); ++i) CHECK_BIT_IDENTICAL(now[i], weights[1][i]);
}

TEST_CASE("ReduceLROnPlateau: factor, patience, cooldown and min_lr as Keras") {
  auto m = tiny_model();
  auto opt = std::make_shared<optim::SGD>(optim::SGDOptions().learning_rate(1.f));
  m->compile(opt, "mse");
  TR::ReduceLROnPlateau r(
      TR::ReduceLROnPlateauOptions().monitor("loss").factor(0.5).patience(1).cooldown(2).min_lr(
          0.2));
  r.set_model(m.get());
  TR::Logs none;
  r.on_train_begin(none);
  // A constant loss. e0: best 1. e1: wait 1 >= 1: lr 1 -> 0.5, cooldown 2. e2: cooldown 2 -> 1
  // (in cooldown: no counting). e3: cooldown 1 -> 0, then wait 1: lr 0.25, cooldown 2. e4: in
  // cooldown. e5: lr 0.25 * 0.5 = 0.125, raised to min_lr 0.2. e6: 0.2 is not above min_lr.
  std::vector<double> lrs, logged;
  for (int e = 0; e < 7; ++e) {
    TR::Logs l = logs_of({{"loss", 1.0}});
    r.on_epoch_end(e, l);
    logged.push_back(l.at("learning_rate"));
    lrs.push_back(opt->learning_rate());
  }
  const std::vector<double> want{1.0, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2};
  for (std::size_t i = 0; i < want.size(); ++i) CHECK(lrs[i] == doctest::Approx(want[i]));
  CHECK(logged[1] == doctest::Approx(1.0));  // logged before the change, as Keras
  // min_delta: 1.0 -> 0.99995 is no improvement at 1e-4.
  TR::ReduceLROnPlateau r2(TR::ReduceLROnPlateauOptions().monitor("loss").patience(1));
  opt->set_learning_rate(1.f);
  r2.set_model(m.get());
  r2.on_train_begin(none);
  TR::Logs a = logs_of({{"loss", 1.0}}), b = logs_of({{"loss", 0.99995}});
  r2.on_epoch_end(0, a);
  r2.on_epoch_end(1, b);
  CHECK(opt->learning_rate() == doctest::Approx(0.1));
  TF_CHECK_ERROR(TR::ReduceLROnPlateau(TR::ReduceLROnPlateauOptions().factor(1.0)), "factor",
                 "(0, 1)");
}

TEST_CASE("LearningRateScheduler sets each epoch's rate, History logs it") {
  auto m = tiny_model();
  auto opt = std::make_shared<optim::SGD>(optim::SGDOptions().learning_rate(0.1f));
  m->compile(opt, "mse");
  CallbackData d;
  std::vector<float> used;
  TR::LambdaCallback::Hooks hooks;
  hooks.on_train_batch_begin = [&](std::int64_t, TR::Logs&) {
    used.push_back(opt->learning_rate());
  };
  auto sched = std::make_shared<TR::LearningRateScheduler>(
      [](int epoch, double lr) { return epoch == 0 ? lr : lr / 2; });
  TR::History h = m->fit(d.x, d.y,
                         TR::FitOptions().epochs(3).batch_size(8).verbose(0).callbacks(
                             {sched, std::make_shared<TR::LambdaCallback>(hooks)}));
  REQUIRE(used.size() == 3);
  CHECK(used[0] == doctest::Approx(0.1f));
  CHECK(used[1] == doctest::Approx(0.05f));
  CHECK(used[2] == doctest::Approx(0.025f));
  CHECK(h.at("learning_rate") == std::vector<double>{double(0.1f), double(0.05f), double(0.025f)});
  auto bad = std::make_shared<TR::LearningRateScheduler>([](int, double) { return -1.0; });
  TF_CHECK_ERROR(m->fit(d.x, d.y, TR::FitOptions().verbose(0).callbacks({bad})),
                 "LearningRateScheduler", "epoch 0");
}

TEST_CASE("TerminateOnNaN stops after the first batch with a NaN loss") {
  auto m = tiny_model();
  m->compile("sgd", "mse");
  CallbackData d;
  d.x(3, 1) = std::numeric_limits<float>::quiet_NaN();
  auto term = std::make_shared<TR::TerminateOnNaN>();
  int batches = 0;
  TR::LambdaCallback::Hooks hooks;
  hooks.on_train_batch_end = [&](std::int64_t, TR::Logs&) { ++batches; };
  TR::History h =
      m->fit(d.x, d.y,
             TR::FitOptions().epochs(5).batch_size(2).shuffle(false).verbose(0).callbacks(
                 {term, std::make_shared<TR::LambdaCallback>(hooks)}));
  CHECK(term->stopped_batch() == 1);  // samples 2 and 3
  CHECK(batches == 2);
  CHECK(h.epoch == std::vector<int>{0});
  CHECK(std::isnan(h.at("loss")[0]));
}

TEST_CASE("ModelCheckpoint: path templates, save_best_only, weights only or full checkpoints") {
  const std::string dir = test::temp_path("model_checkpoint");
  auto m = tiny_model();
  auto opt = std::make_shared<optim::SGD>(optim::SGDOptions().learning_rate(0.01f));
  m->compile(opt, "mse");
  CallbackData d;
  auto every = std::make_shared<TR::ModelCheckpoint>(
      TR::ModelCheckpointOptions(dir + "/sub/e{epoch:02d}-{loss:.3f}.tfw").monitor("loss"));
  auto best = std::make_shared<TR::ModelCheckpoint>(TR::ModelCheckpointOptions(dir + "/best.tfw")
                                                        .monitor("loss")
                                                        .save_best_only(true)
                                                        .save_weights_only(true));
  TR::History h = m->fit(
      d.x, d.y, TR::FitOptions().epochs(3).batch_size(4).verbose(0).callbacks({every, best}));
  for (int e = 1; e <= 3; ++e) {
    char name[64];
    std::snprintf(name, sizeof name, "/sub/e%02d-%.3f.tfw", e, h.at("loss")[e - 1]);
    CHECK_MESSAGE(fs::exists(dir + name), name);
  }
  // The last per-epoch file is a full checkpoint: the optimizer state comes back.
  auto m2 = tiny_model(2);
  optim::SGD opt2(optim::SGDOptions().learning_rate(0.01f));
  serialization::load_checkpoint(*m2, opt2, every->last_saved());
  CHECK(opt2.iterations() == opt->iterations());
  // The best file holds the weights of the epoch with the lowest loss (here the last).
  auto m3 = tiny_model(3);
  serialization::load_weights(*m3, dir + "/best.tfw");
  auto w = m->get_weights(), w3 = m3->get_weights();
  for (std::size_t i = 0; i < w.size(); ++i) CHECK_BIT_IDENTICAL(w3[i], w[i]);
  // save_best_only does not write without an improvement.
  TR::ModelCheckpoint only(
      TR::ModelCheckpointOptions(dir + "/only.tfw").monitor("loss").save_best_only(true));
  only.set_model(m.get());
  TR::Logs none;
  only.on_train_begin(none);
  TR::Logs l1 = logs_of({{"loss", 1.0}}), l2 = logs_of({{"loss", 2.0}});
  only.on_epoch_end(0, l1);
  fs::remove(dir + "/only.tfw");
  only.on_epoch_end(1, l2);
  CHECK_FALSE(fs::exists(dir + "/only.tfw"));
  TR::ModelCheckpoint typo(TR::ModelCheckpointOptions(dir + "/{val_los}.tfw"));
  typo.set_model(m.get());
  TF_CHECK_ERROR(typo.on_epoch_end(0, l1), "ModelCheckpoint: filepath", "'{val_los}'",
                 "epoch, loss");
}

TEST_CASE("path templates: Python format fields") {
  TR::Logs l = logs_of({{"val_loss", 0.12345}, {"acc", 0.5}});
  auto f = [&](const std::string& t) { return TR::detail::format_path(t, {{"epoch", 3}}, l, "t"); };
  CHECK(f("m-{epoch}.tfw") == "m-3.tfw");
  CHECK(f("m-{epoch:03d}-{val_loss:.2f}.tfw") == "m-003-0.12.tfw");
  CHECK(f("{val_loss}") == "0.12345");
  CHECK(f("{acc:.1e}") == "5.0e-01");
  CHECK(f("{{epoch}}") == "{epoch}");
  TF_CHECK_ERROR(f("{epoch"), "without its '}'");
  TF_CHECK_ERROR(f("epoch}"), "without its '{'");
  TF_CHECK_ERROR(f("{epoch:x}"), "format");
  TF_CHECK_ERROR(f("{val_loss:d}"), "integer");
}

TEST_CASE("CSVLogger writes Keras' columns, rewrites atomically, appends on request") {
  const std::string path = test::temp_path("log.csv");
  TR::CSVLogger log(path);
  auto m = tiny_model();
  log.set_model(m.get());
  TR::Logs none;
  log.on_train_begin(none);
  TR::Logs e0 = logs_of({{"loss", 0.5}, {"val_loss", 0.25}, {"accuracy", 1.0}});
  TR::Logs e1 = logs_of({{"loss", 0.1}, {"accuracy", 0.75}});
  log.on_epoch_end(0, e0);
  CHECK(test::read_bytes(path) == "epoch,accuracy,loss,val_loss\n0,1,0.5,0.25\n");
  log.on_epoch_end(1, e1);
  CHECK(test::read_bytes(path) == "epoch,accuracy,loss,val_loss\n0,1,0.5,0.25\n1,0.75,0.1,NA\n");
  TR::CSVLogger more(path, ';', /*append=*/true);
  more.set_model(m.get());
  more.on_train_begin(none);
  TR::Logs e2 = logs_of({{"loss", 0.05}});
  more.on_epoch_end(2, e2);
  CHECK(test::read_bytes(path) ==
        "epoch,accuracy,loss,val_loss\n0,1,0.5,0.25\n1,0.75,0.1,NA\n2;0.05\n");
  TF_CHECK_ERROR(TR::CSVLogger(""), "filename");
}

TEST_CASE("History: the per-epoch logs and their CSV") {
  TR::History h;
  TR::Logs none;
  h.on_train_begin(none);
  TR::Logs e0 = logs_of({{"loss", 0.5}}), e1 = logs_of({{"loss", 0.25}, {"learning_rate", 0.1}});
  h.on_epoch_end(0, e0);
  h.on_epoch_end(1, e1);
  CHECK(h.keys() == std::vector<std::string>{"loss", "learning_rate"});
  CHECK(h.at("loss") == std::vector<double>{0.5, 0.25});
  const std::string path = test::temp_path("history.csv");
  h.to_csv(path);
  CHECK(test::read_bytes(path) == "epoch,loss,learning_rate\n0,0.5,NA\n1,0.25,0.1\n");
  TF_CHECK_ERROR(h.at("accuracy"), "no log named 'accuracy'", "loss, learning_rate");
}

TEST_CASE("Progbar: Keras' line, redrawn only on a terminal") {
  TR::Logs l = logs_of({{"loss", 0.69314718}, {"tiny", 0.0001234}});
  {
    std::ostringstream os;
    TR::Progbar bar(10, 1, os, /*dynamic=*/false);
    for (int i = 1; i < 10; ++i) bar.update(i, l);
    CHECK(os.str().empty());  // not a terminal: nothing until the end
    bar.update(10, l, true);
    const std::string out = os.str();
    CHECK(out.rfind("10/10 [==============================] - ", 0) == 0);
    CHECK(out.find("/step - loss: 0.6931 - tiny: 1.2340e-04\n") != std::string::npos);
  }
  {
    std::ostringstream os;
    TR::Progbar bar(10, 1, os, /*dynamic=*/true);
    bar.update(3, l);
    CHECK(os.str().rfind(" 3/10 [========>.....................] - ETA: ", 0) == 0);
    bar.update(10, l, true);
    CHECK(os.str().find("\r10/10 [======") != std::string::npos);
  }
  {
    std::ostringstream os;
    TR::Progbar bar(4, 2, os, true);
    bar.update(2, l);
    CHECK(os.str().empty());
    bar.update(4, l, true);
    CHECK(os.str().rfind("4/4 - ", 0) == 0);
  }
  CHECK(TR::Progbar::format_eta(42.7) == "42s");
  CHECK(TR::Progbar::format_eta(65) == "1:05");
  CHECK(TR::Progbar::format_eta(3723) == "1:02:03");
  CHECK(TR::Progbar::format_time_per_step(0.052) == "52ms/step");
  CHECK(TR::Progbar::format_time_per_step(2.0) == "2s/step");
  CHECK(TR::Progbar::format_time_per_step(0.00031) == "310us/step");
}

TEST_CASE("ProgbarLogger in fit: Epoch lines and one final line per epoch off a terminal") {
  auto m = tiny_model();
  m->compile("sgd", "mse");
  CallbackData d;
  std::ostringstream os;
  auto bar = std::make_shared<TR::ProgbarLogger>(os, false, 1);
  m->fit(d.x, d.y,
         TR::FitOptions().epochs(2).batch_size(4).verbose(0).callbacks({bar}).validation_data(
             TR::ValidationData(d.x, d.y)));
  const std::string out = os.str();
  CHECK(out.rfind("Epoch 1/2\n2/2 [==============================] - ", 0) == 0);
  CHECK(out.find("val_loss: ") != std::string::npos);
  CHECK(out.find("Epoch 2/2\n") != std::string::npos);
  std::size_t lines = 0;
  for (char c : out) lines += c == '\n';
  CHECK(lines == 4);
}
