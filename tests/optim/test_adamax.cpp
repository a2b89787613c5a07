#include <cmath>

#include "optim/optim_test_util.hpp"
#include "tapeflow/optim/adamax.hpp"

using namespace tapeflow;
using namespace tapeflow::test;
using optim::Adamax;
using optim::AdamaxOptions;

TEST_CASE("Adamax: defaults are Keras'") {
  AdamaxOptions o;
  CHECK(o.learning_rate()(0) == doctest::Approx(0.001));
  CHECK(o.beta_1() == 0.9);
  CHECK(o.beta_2() == 0.999);
  CHECK(o.epsilon() == 1e-7);
  CHECK(Adamax().slot_names() == std::vector<std::string>{"m", "v"});
}

TEST_CASE("Adamax: three steps of Keras' formula") {
  const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-7;
  Adamax opt(AdamaxOptions().learning_rate(lr));
  auto got = run_steps(opt, kW0, kGrads);
  // m = b1 m + (1 - b1) g; u = max(b2 u, |g|); w -= lr m / ((1 - b1^t) (u + eps))
  std::vector<std::vector<double>> expected;
  std::vector<double> w = kW0, m(3, 0.0), u(3, 0.0);
  for (int t = 1; t <= 3; ++t) {
    const auto& g = kGrads[t - 1];
    for (int i = 0; i < 3; ++i) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      u[i] = std::max(b2 * u[i], std::abs(g[i]));
      w[i] -= lr * m[i] / ((1 - std::pow(b1, t)) * (u[i] + eps));
    }
    expected.push_back(w);
  }
  // Step 1, element 0 by hand: m = 0.05, u = 0.5, w = 1 - 0.01 * 0.05 / (0.1 * (0.5 + 1e-7)).
  CHECK(expected[0][0] == doctest::Approx(1.0 - 0.0005 / (0.1 * 0.5000001)));
  check_steps(got, expected);
}

TEST_CASE("Adamax: lowers the loss of a linear regression") {
  Adamax opt(AdamaxOptions().learning_rate(0.05));
  auto [first, last] = fit_regression(opt, 80);
  CHECK(last < 0.05f * first);
}

TEST_CASE("Adamax: bad options") {
  TF_CHECK_ERROR(Adamax(AdamaxOptions().learning_rate(-1.0)), "Adamax", "learning_rate");
  TF_CHECK_ERROR(Adamax(AdamaxOptions().beta_1(1.0)), "Adamax", "beta_1");
  TF_CHECK_ERROR(Adamax(AdamaxOptions().beta_2(-0.1)), "Adamax", "beta_2");
  TF_CHECK_ERROR(Adamax(AdamaxOptions().epsilon(0.0)), "Adamax", "epsilon");
}
