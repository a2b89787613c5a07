#include <cmath>

#include "optim/optim_test_util.hpp"
#include "tapeflow/optim/rmsprop.hpp"

using namespace tapeflow;
using namespace tapeflow::test;
using optim::RMSprop;
using optim::RMSpropOptions;

namespace {

// Keras' RMSprop written out in double.
std::vector<std::vector<double>> rmsprop_reference(double lr, double rho, double momentum,
                                                   double eps, bool centered,
                                                   std::vector<double> w) {
  std::vector<double> rms(w.size(), 0.0), mg(w.size(), 0.0), mom(w.size(), 0.0);
  std::vector<std::vector<double>> out;
  for (const auto& gs : kGrads) {
    for (std::size_t i = 0; i < w.size(); ++i) {
      const double g = gs[i];
      rms[i] = rho * rms[i] + (1 - rho) * g * g;
      double denom = rms[i] + eps;
      if (centered) {
        mg[i] = rho * mg[i] + (1 - rho) * g;
        denom = rms[i] - mg[i] * mg[i] + eps;
      }
      const double inc = lr * g / std::sqrt(denom);
      if (momentum > 0) {
        mom[i] = momentum * mom[i] + inc;
        w[i] -= mom[i];
      } else {
        w[i] -= inc;
      }
    }
    out.push_back(w);
  }
  return out;
}
}  // namespace

TEST_CASE("RMSprop: defaults are Keras'") {
  RMSpropOptions o;
  CHECK(o.learning_rate()(0) == doctest::Approx(0.001));
  CHECK(o.rho() == 0.9);
  CHECK(o.momentum() == 0.0);
  CHECK(o.epsilon() == 1e-7);
  CHECK_FALSE(o.centered());
  CHECK(RMSprop().slot_names() == std::vector<std::string>{"rms"});
  CHECK(RMSprop(RMSpropOptions().momentum(0.5).centered(true)).slot_names() ==
        std::vector<std::string>{"rms", "momentum", "mg"});
}

TEST_CASE("RMSprop: three steps of Keras' formula") {
  RMSprop opt(RMSpropOptions().learning_rate(0.01));
  auto got = run_steps(opt, kW0, kGrads);
  auto expected = rmsprop_reference(0.01, 0.9, 0.0, 1e-7, false, kW0);
  // Step 1, element 0 by hand: rms = 0.1 * 0.25 = 0.025, w = 1 - 0.01 * 0.5 / sqrt(0.025 + 1e-7).
  CHECK(expected[0][0] == doctest::Approx(1.0 - 0.005 / std::sqrt(0.0250001)));
  check_steps(got, expected);
}

TEST_CASE("RMSprop: momentum and centered variants over three steps") {
  RMSprop mom(RMSpropOptions().learning_rate(0.01).rho(0.8).momentum(0.9));
  check_steps(run_steps(mom, kW0, kGrads), rmsprop_reference(0.01, 0.8, 0.9, 1e-7, false, kW0));
  RMSprop centered(RMSpropOptions().learning_rate(0.01).centered(true));
  check_steps(run_steps(centered, kW0, kGrads), rmsprop_reference(0.01, 0.9, 0.0, 1e-7, true, kW0),
              2e-5);
  RMSprop both(RMSpropOptions().learning_rate(0.01).momentum(0.5).centered(true));
  check_steps(run_steps(both, kW0, kGrads), rmsprop_reference(0.01, 0.9, 0.5, 1e-7, true, kW0),
              2e-5);
  // The variants differ from the plain rule, so each comparison above tests something.
  auto plain = rmsprop_reference(0.01, 0.9, 0.0, 1e-7, false, kW0);
  CHECK(std::abs(rmsprop_reference(0.01, 0.9, 0.0, 1e-7, true, kW0)[2][0] - plain[2][0]) > 1e-4);
}

TEST_CASE("RMSprop: lowers the loss of a linear regression") {
  RMSprop opt(RMSpropOptions().learning_rate(0.02));
  auto [first, last] = fit_regression(opt, 80);
  CHECK(last < 0.05f * first);
  RMSprop centered(RMSpropOptions().learning_rate(0.01).momentum(0.5).centered(true));
  auto [first2, last2] = fit_regression(centered, 80);
  CHECK(last2 < 0.05f * first2);
}

TEST_CASE("RMSprop: bad options") {
  TF_CHECK_ERROR(RMSprop(RMSpropOptions().learning_rate(-1.0)), "RMSprop", "learning_rate");
  TF_CHECK_ERROR(RMSprop(RMSpropOptions().rho(1.0)), "RMSprop", "rho", "[0, 1)");
  TF_CHECK_ERROR(RMSprop(RMSpropOptions().momentum(-0.1)), "RMSprop", "momentum");
  TF_CHECK_ERROR(RMSprop(RMSpropOptions().momentum(2.0)), "RMSprop", "momentum", "[0, 1]");
  TF_CHECK_ERROR(RMSprop(RMSpropOptions().epsilon(0.0)), "RMSprop", "epsilon");
}
