#include <cmath>

#include "optim/optim_test_util.hpp"
#include "tapeflow/optim/adagrad.hpp"

using namespace tapeflow;
using namespace tapeflow::test;
using optim::Adagrad;
using optim::AdagradOptions;

TEST_CASE("Adagrad: defaults are Keras'") {
  AdagradOptions o;
  CHECK(o.learning_rate()(0) == doctest::Approx(0.001));
  CHECK(o.initial_accumulator_value() == 0.1);
  CHECK(o.epsilon() == 1e-7);
  CHECK(Adagrad().slot_names() == std::vector<std::string>{"accumulator"});
}

TEST_CASE("Adagrad: three steps of Keras' formula") {
  const double lr = 0.1, init = 0.1, eps = 1e-7;
  Adagrad opt(AdagradOptions().learning_rate(lr));
  auto got = run_steps(opt, kW0, kGrads);
  // accumulator += g^2; w -= lr * g / sqrt(accumulator + eps)
  std::vector<std::vector<double>> expected;
  std::vector<double> w = kW0, acc(3, init);
  for (const auto& g : kGrads) {
    for (int i = 0; i < 3; ++i) {
      acc[i] += g[i] * g[i];
      w[i] -= lr * g[i] / std::sqrt(acc[i] + eps);
    }
    expected.push_back(w);
  }
  // Step 1, element 0 by hand: acc = 0.35, w = 1 - 0.05 / sqrt(0.35 + 1e-7).
  CHECK(expected[0][0] == doctest::Approx(1.0 - 0.05 / std::sqrt(0.3500001)));
  check_steps(got, expected);
}

TEST_CASE("Adagrad: the accumulator starts at initial_accumulator_value") {
  Adagrad opt(AdagradOptions().initial_accumulator_value(0.5));
  Variable w(Tensor{1.f, 2.f}, true, "w");
  opt.build({w});
  TF_CHECK_CLOSE(opt.get_slot(w, "accumulator"), (Tensor{0.5f, 0.5f}));
  opt.apply_gradients({Variable(Tensor{1.f, -2.f})}, {w});
  TF_CHECK_CLOSE(opt.get_slot(w, "accumulator"), (Tensor{1.5f, 4.5f}));
}

TEST_CASE("Adagrad: lowers the loss of a linear regression") {
  Adagrad opt(AdagradOptions().learning_rate(0.3));
  auto [first, last] = fit_regression(opt, 80);
  CHECK(last < 0.05f * first);
}

TEST_CASE("Adagrad: bad options") {
  TF_CHECK_ERROR(Adagrad(AdagradOptions().learning_rate(-1.0)), "Adagrad", "learning_rate");
  TF_CHECK_ERROR(Adagrad(AdagradOptions().initial_accumulator_value(-0.1)), "Adagrad",
                 "initial_accumulator_value");
  TF_CHECK_ERROR(Adagrad(AdagradOptions().epsilon(0.0)), "Adagrad", "epsilon");
  CHECK_NOTHROW(Adagrad(AdagradOptions().initial_accumulator_value(0.0)));
}
