#include <cmath>

#include "optim/optim_test_util.hpp"
#include "tapeflow/optim/adadelta.hpp"

using namespace tapeflow;
using namespace tapeflow::test;
using optim::Adadelta;
using optim::AdadeltaOptions;

TEST_CASE("Adadelta: defaults are Keras'") {
  AdadeltaOptions o;
  CHECK(o.learning_rate()(0) == doctest::Approx(0.001));
  CHECK(o.rho() == 0.95);
  CHECK(o.epsilon() == 1e-7);
  CHECK(Adadelta().slot_names() == std::vector<std::string>{"accum_grad", "accum_var"});
}

TEST_CASE("Adadelta: three steps of Keras' formula") {
  // A large epsilon keeps the steps far from rounding noise.
  const double lr = 1.0, rho = 0.9, eps = 1e-3;
  Adadelta opt(AdadeltaOptions().learning_rate(lr).rho(rho).epsilon(eps));
  auto got = run_steps(opt, kW0, kGrads);
  std::vector<std::vector<double>> expected;
  std::vector<double> w = kW0, ag(3, 0.0), av(3, 0.0);
  for (const auto& g : kGrads) {
    for (int i = 0; i < 3; ++i) {
      ag[i] = rho * ag[i] + (1 - rho) * g[i] * g[i];
      const double delta = -std::sqrt(av[i] + eps) / std::sqrt(ag[i] + eps) * g[i];
      av[i] = rho * av[i] + (1 - rho) * delta * delta;
      w[i] += lr * delta;
    }
    expected.push_back(w);
  }
  // Step 1, element 0 by hand: ag = 0.025, delta = -sqrt(0.001 / 0.026) * 0.5.
  CHECK(expected[0][0] == doctest::Approx(1.0 - std::sqrt(0.001 / 0.026) * 0.5));
  check_steps(got, expected, 1e-5);
}

TEST_CASE("Adadelta: lowers the loss of a linear regression") {
  Adadelta opt(AdadeltaOptions().learning_rate(1.0).epsilon(1e-4));
  auto [first, last] = fit_regression(opt, 100);
  CHECK(last < 0.5f * first);
}

TEST_CASE("Adadelta: bad options") {
  TF_CHECK_ERROR(Adadelta(AdadeltaOptions().learning_rate(-1.0)), "Adadelta", "learning_rate");
  TF_CHECK_ERROR(Adadelta(AdadeltaOptions().rho(1.0)), "Adadelta", "rho");
  TF_CHECK_ERROR(Adadelta(AdadeltaOptions().rho(-0.5)), "Adadelta", "rho");
  TF_CHECK_ERROR(Adadelta(AdadeltaOptions().epsilon(-1.0)), "Adadelta", "epsilon");
}
