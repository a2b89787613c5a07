#include <cmath>

#include "optim/optim_test_util.hpp"
#include "tapeflow/optim/nadam.hpp"

using namespace tapeflow;
using namespace tapeflow::test;
using optim::Nadam;
using optim::NadamOptions;

TEST_CASE("Nadam: defaults are Keras'") {
  NadamOptions o;
  CHECK(o.learning_rate()(0) == doctest::Approx(0.001));
  CHECK(o.beta_1() == 0.9);
  CHECK(o.beta_2() == 0.999);
  CHECK(o.epsilon() == 1e-7);
  Nadam opt;
  CHECK(opt.slot_names() == std::vector<std::string>{"m", "v"});
  CHECK(opt.scalar_state().at("u_product") == 1.0);
}

TEST_CASE("Nadam: three steps of Keras' formula") {
  const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-7;
  Nadam opt(NadamOptions().learning_rate(lr));
  auto got = run_steps(opt, kW0, kGrads);
  auto u = [&](double s) { return b1 * (1 - 0.5 * std::pow(0.96, s)); };
  std::vector<std::vector<double>> expected;
  std::vector<double> w = kW0, m(3, 0.0), v(3, 0.0);
  double u_product = 1.0;
  for (int t = 1; t <= 3; ++t) {
    const auto& g = kGrads[t - 1];
    u_product *= u(t);
    for (int i = 0; i < 3; ++i) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      const double m_hat =
          u(t + 1) * m[i] / (1 - u_product * u(t + 1)) + (1 - u(t)) * g[i] / (1 - u_product);
      const double v_hat = v[i] / (1 - std::pow(b2, t));
      w[i] -= lr * m_hat / (std::sqrt(v_hat) + eps);
    }
    expected.push_back(w);
  }
  // Step 1, element 0 by hand: u1 = 0.9 * 0.52 = 0.468, u2 = 0.9 * (1 - 0.5 * 0.9216) = 0.48528,
  // m_hat = 0.48528 * 0.05 / (1 - 0.468 * 0.48528) + 0.532 * 0.5 / 0.532, v_hat = 0.25.
  const double m_hat1 = 0.48528 * 0.05 / (1 - 0.468 * 0.48528) + 0.5;
  CHECK(expected[0][0] == doctest::Approx(1.0 - 0.01 * m_hat1 / (0.5 + 1e-7)));
  check_steps(got, expected);
  CHECK(opt.scalar_state().at("u_product") == doctest::Approx(u_product));
}

TEST_CASE("Nadam: u_product advances once per step, whatever the number of variables") {
  Nadam opt;
  Variable a(Tensor{1.f}, true, "a"), b(Tensor{2.f}, true, "b");
  opt.apply_gradients({Variable(Tensor{1.f}), Variable(Tensor{1.f})}, {a, b});
  CHECK(opt.scalar_state().at("u_product") == doctest::Approx(0.9 * (1 - 0.5 * 0.96)));
  // Both variables got the same gradient and start state, so the same step.
  CHECK(1.f - a.item() == doctest::Approx(2.f - b.item()));
}

TEST_CASE("Nadam: lowers the loss of a linear regression") {
  Nadam opt(NadamOptions().learning_rate(0.05));
  auto [first, last] = fit_regression(opt, 80);
  CHECK(last < 0.05f * first);
}

TEST_CASE("Nadam: bad options") {
  TF_CHECK_ERROR(Nadam(NadamOptions().learning_rate(-1.0)), "Nadam", "learning_rate");
  TF_CHECK_ERROR(Nadam(NadamOptions().beta_1(1.0)), "Nadam", "beta_1");
  TF_CHECK_ERROR(Nadam(NadamOptions().beta_2(2.0)), "Nadam", "beta_2");
  TF_CHECK_ERROR(Nadam(NadamOptions().epsilon(0.0)), "Nadam", "epsilon");
}
