#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/archive/text_iarchive.hpp>
#include <boost/archive/text_oarchive.hpp>
#include <cmath>
#include <sstream>

#include "tapeflow/optim/schedules.hpp"
#include "tapeflow/optim/sgd.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::optim;
using namespace tapeflow::optim::schedules;

namespace {
const double kPi = std::acos(-1.0);

template <class S>
void check_values(const S& s, const std::vector<std::pair<std::int64_t, double>>& expected) {
  for (const auto& point : expected) {
    const std::int64_t step = point.first;  // not bound: see test_util.hpp
    const double value = point.second;
    CHECK_MESSAGE(s(step) == doctest::Approx(value).epsilon(1e-6),
                  s.name() << " at step " << step << ": got " << s(step) << ", expected " << value);
  }
}
}  // namespace

TEST_CASE("ExponentialDecay: initial * rate^(step / decay_steps), floored with staircase") {
  ExponentialDecay s(0.1, 10, 0.5);
  CHECK(s.name() == "ExponentialDecay");
  check_values(s, {{0, 0.1},
                   {5, 0.1 * std::sqrt(0.5)},
                   {10, 0.05},
                   {20, 0.025},
                   {15, 0.1 * std::pow(0.5, 1.5)}});
  ExponentialDecay stair(0.1, 10, 0.5, true);
  check_values(stair, {{0, 0.1}, {9, 0.1}, {10, 0.05}, {15, 0.05}, {29, 0.025}});
  TF_CHECK_ERROR(ExponentialDecay(0.1, 0, 0.5), "ExponentialDecay", "decay_steps", "> 0");
  TF_CHECK_ERROR(ExponentialDecay(std::nan(""), 1, 0.5), "ExponentialDecay",
                 "initial_learning_rate");
}

TEST_CASE("InverseTimeDecay: initial / (1 + rate * step / decay_steps)") {
  InverseTimeDecay s(0.1, 1, 0.5);
  check_values(s, {{0, 0.1}, {1, 0.1 / 1.5}, {2, 0.05}, {10, 0.1 / 6.0}});
  InverseTimeDecay stair(0.1, 4, 0.5, true);
  check_values(stair, {{0, 0.1}, {3, 0.1}, {4, 0.1 / 1.5}, {7, 0.1 / 1.5}, {8, 0.05}});
  TF_CHECK_ERROR(InverseTimeDecay(0.1, -3, 0.5), "InverseTimeDecay", "decay_steps", "-3");
}

TEST_CASE("PiecewiseConstantDecay: values[i] while boundaries[i-1] < step <= boundaries[i]") {
  PiecewiseConstantDecay s({10, 20}, {1.0, 0.5, 0.1});
  check_values(s, {{0, 1.0}, {10, 1.0}, {11, 0.5}, {20, 0.5}, {21, 0.1}, {1000, 0.1}});
  PiecewiseConstantDecay one({5}, {0.3, 0.2});
  check_values(one, {{5, 0.3}, {6, 0.2}});
  TF_CHECK_ERROR(PiecewiseConstantDecay({10, 20}, {1.0, 0.5}), "PiecewiseConstantDecay",
                 "2 boundaries", "2 values");
  TF_CHECK_ERROR(PiecewiseConstantDecay({10, 10}, {1.0, 0.5, 0.1}), "PiecewiseConstantDecay",
                 "strictly increasing");
}

TEST_CASE("PolynomialDecay: (initial - end) * (1 - step / decay_steps)^power + end") {
  PolynomialDecay linear(0.1, 10);  // Keras defaults: end 1e-4, power 1
  check_values(linear, {{0, 0.1}, {5, 0.0999 * 0.5 + 0.0001}, {10, 0.0001}, {50, 0.0001}});
  PolynomialDecay square(0.1, 10, 0.01, 2.0);
  check_values(square, {{5, 0.09 * 0.25 + 0.01}, {15, 0.01}});
  PolynomialDecay cycle(0.1, 10, 0.01, 2.0, true);
  // Step 15 lies in the second cycle: decay_steps becomes 20, (1 - 15/20)^2 = 0.0625.
  check_values(cycle, {{0, 0.1}, {5, 0.0325}, {10, 0.01}, {15, 0.09 * 0.0625 + 0.01}, {20, 0.01}});
  TF_CHECK_ERROR(PolynomialDecay(0.1, 0), "PolynomialDecay", "decay_steps");
}

TEST_CASE("CosineDecay: cosine from initial to alpha * initial, optional linear warm-up") {
  CosineDecay s(0.1, 10, 0.1);
  check_values(s, {{0, 0.1},
                   {5, 0.1 * (0.9 * 0.5 + 0.1)},
                   {3, 0.1 * (0.9 * 0.5 * (1 + std::cos(kPi * 0.3)) + 0.1)},
                   {10, 0.01},
                   {100, 0.01}});
  CosineDecay warm(0.0, 10, 0.0, 0.1, 5);
  CHECK(warm.warmup_target() == 0.1);
  check_values(warm, {{0, 0.0},
                      {2, 0.04},
                      {5, 0.1},
                      {10, 0.05},
                      {8, 0.1 * 0.5 * (1 + std::cos(kPi * 0.3))},
                      {15, 0.0},
                      {100, 0.0}});
  TF_CHECK_ERROR(CosineDecay(0.1, 0), "CosineDecay", "decay_steps");
  TF_CHECK_ERROR(CosineDecay(0.1, 10, 0.0, 0.2, -1), "CosineDecay", "warmup_steps");
}

TEST_CASE("LearningRate: from numbers, schedule objects and shared pointers") {
  LearningRate a = 0.5;
  LearningRate b = 1;
  LearningRate c = 0.25f;
  CHECK_FALSE(a.is_schedule());
  CHECK(a(123) == 0.5f);
  CHECK(b(0) == 1.f);
  CHECK(c(0) == 0.25f);
  LearningRate d = ExponentialDecay(0.1, 10, 0.5);
  CHECK(d.is_schedule());
  CHECK(d(10) == doctest::Approx(0.05));
  auto shared = std::make_shared<PiecewiseConstantDecay>(std::vector<std::int64_t>{1},
                                                         std::vector<double>{0.2, 0.1});
  LearningRate e = shared;
  CHECK(e.schedule().get() == shared.get());
  CHECK(e(2) == doctest::Approx(0.1));
  CHECK(e.describe() == "PiecewiseConstantDecay");
  CHECK(a.describe() == "0.5");
}

TEST_CASE("A schedule drives an optimizer's learning rate, step 0 first") {
  SGD opt(SGDOptions().learning_rate(PiecewiseConstantDecay({0, 1}, {0.1, 0.2, 0.3})));
  Variable w(Tensor{0.f}, true, "w");
  std::vector<float> seen;
  for (int i = 0; i < 3; ++i) {
    seen.push_back(opt.learning_rate());
    opt.apply_gradients({Variable(Tensor{1.f})}, {w});
  }
  CHECK(seen == std::vector<float>{0.1f, 0.2f, 0.3f});
  CHECK(w.item() == doctest::Approx(-0.6));
  // A schedule that turns negative is caught when the step is taken.
  SGD bad(SGDOptions().learning_rate(PolynomialDecay(0.1, 2, -0.3)));
  bad.apply_gradients({Variable(Tensor{1.f})}, {w});
  TF_CHECK_ERROR(bad.apply_gradients({Variable(Tensor{1.f})}, {w}), "SGD", "learning_rate",
                 "PolynomialDecay", "step 1");
}

namespace {
template <class OArchive, class IArchive>
void check_round_trip(const LearningRate& lr) {
  std::stringstream ss;
  {
    OArchive oa(ss);
    LearningRate copy = lr;
    oa << copy;
  }
  LearningRate back = 7.f;
  {
    IArchive ia(ss);
    ia >> back;
  }
  REQUIRE(back.is_schedule() == lr.is_schedule());
  if (lr.is_schedule()) CHECK(back.schedule()->name() == lr.schedule()->name());
  for (std::int64_t step : {0, 1, 3, 7, 12, 40}) CHECK(back(step) == lr(step));
}
}  // namespace

TEST_CASE("Schedules and constants survive text and binary archives") {
  std::vector<LearningRate> rates = {
      LearningRate(0.125f),
      ExponentialDecay(0.1, 3, 0.7, true),
      InverseTimeDecay(0.2, 2, 0.3),
      PiecewiseConstantDecay({2, 5}, {0.3, 0.2, 0.1}),
      PolynomialDecay(0.1, 4, 0.02, 1.5, true),
      CosineDecay(0.01, 10, 0.1, 0.2, 3),
      CosineDecay(0.05, 6),
  };
  for (const auto& lr : rates) {
    check_round_trip<boost::archive::text_oarchive, boost::archive::text_iarchive>(lr);
    check_round_trip<boost::archive::binary_oarchive, boost::archive::binary_iarchive>(lr);
  }
}

TEST_CASE("Schedules: get_config lists the constructor arguments, from_config rebuilds") {
  ExponentialDecay e(0.1, 10, 0.5, true);
  CHECK(e.get_config() == Config{{"initial_learning_rate", "0.1"},
                                 {"decay_steps", "10"},
                                 {"decay_rate", "0.5"},
                                 {"staircase", "true"}});
  CHECK(CosineDecay(0.05, 6).get_config().at("warmup_target") == "None");
  CHECK(PiecewiseConstantDecay({2, 5}, {0.3, 0.2, 0.1}).get_config() ==
        Config{{"boundaries", "(2, 5)"}, {"values", "(0.3, 0.2, 0.1)"}});

  const std::vector<std::shared_ptr<LearningRateSchedule>> all = {
      std::make_shared<ExponentialDecay>(0.1, 3, 0.7, true),
      std::make_shared<InverseTimeDecay>(0.2, 2, 0.3),
      std::make_shared<PiecewiseConstantDecay>(std::vector<std::int64_t>{2, 5},
                                               std::vector<double>{0.3, 0.2, 0.1}),
      std::make_shared<PolynomialDecay>(0.1, 4, 0.02, 1.5, true),
      std::make_shared<CosineDecay>(0.01, 10, 0.1, 0.2, 3),
      std::make_shared<CosineDecay>(0.05, 6),
  };
  for (const auto& s : all) {
    CAPTURE(s->name());
    auto back = schedules::from_config(s->name(), s->get_config());
    CHECK(back->name() == s->name());
    CHECK(back->get_config() == s->get_config());
    for (std::int64_t step : {0, 1, 3, 7, 12, 40}) CHECK((*back)(step) == (*s)(step));
  }
  // Missing keys take the defaults (Keras' for the optional arguments).
  auto p = PolynomialDecay::from_config({{"initial_learning_rate", "0.1"}, {"decay_steps", "10"}});
  CHECK(p->end_learning_rate() == 0.0001);
  CHECK(p->power() == 1.0);
  CHECK_FALSE(p->cycle());
}

TEST_CASE("Schedules: from_config errors name the schedule and the key") {
  TF_CHECK_ERROR(schedules::from_config("StepDecay", {}), "unknown schedule 'StepDecay'",
                 "ExponentialDecay");
  TF_CHECK_ERROR(ExponentialDecay::from_config({{"decay_step", "3"}}), "ExponentialDecay",
                 "unknown config key 'decay_step'", "decay_steps");
  TF_CHECK_ERROR(ExponentialDecay::from_config({{"decay_steps", "3.5"}}), "ExponentialDecay",
                 "'decay_steps'", "'3.5'");
  // The values are checked as the constructor checks them.
  TF_CHECK_ERROR(ExponentialDecay::from_config({{"decay_steps", "0"}}), "ExponentialDecay",
                 "decay_steps", "> 0");
  TF_CHECK_ERROR(schedules::from_config("PiecewiseConstantDecay", {{"boundaries", "(1, 2)"}}),
                 "PiecewiseConstantDecay", "2 boundaries", "0 values");
}

TEST_CASE("LearningRate: config text of a constant and of a schedule reads back") {
  CHECK(config_write(LearningRate(0.001f)) == "0.001");
  const LearningRate schedule = InverseTimeDecay(0.1, 4, 0.5, true);
  const std::string text = config_write(schedule);
  CHECK(text ==
        "InverseTimeDecay(decay_rate=0.5, decay_steps=4, initial_learning_rate=0.1, "
        "staircase=true)");
  LearningRate back = 1.f;
  config_read("Adam", "learning_rate", text, back);
  REQUIRE(back.is_schedule());
  for (std::int64_t step : {0, 3, 4, 9}) CHECK(back(step) == schedule(step));
  LearningRate pw = 1.f;
  config_read("Adam", "learning_rate",
              config_write(LearningRate(PiecewiseConstantDecay({2, 5}, {0.3, 0.2, 0.1}))), pw);
  CHECK(pw(3) == doctest::Approx(0.2));
  config_read("Adam", "learning_rate", "0.25", back);
  CHECK_FALSE(back.is_schedule());
  CHECK(back(0) == 0.25f);

  TF_CHECK_ERROR(config_read("Adam", "learning_rate", "fast", back), "Adam", "'learning_rate'",
                 "'fast'");
  TF_CHECK_ERROR(config_read("Adam", "learning_rate", "Halving(step=2)", back),
                 "Adam: learning_rate", "unknown schedule 'Halving'");
  TF_CHECK_ERROR(config_read("Adam", "learning_rate", "ExponentialDecay(decay_steps=-1)", back),
                 "Adam: learning_rate", "ExponentialDecay", "decay_steps");
  CHECK(back(0) == 0.25f);  // unchanged by the errors
}
