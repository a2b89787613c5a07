#include <cmath>

#include "tapeflow/optim/adam.hpp"
#include "optim/optim_test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::test;
using optim::Adam;
using optim::AdamOptions;
using optim::AdamW;
using optim::AdamWOptions;

namespace {
const std::vector<double> kW0 = {1.0, -2.0, 0.5};
const std::vector<std::vector<double>> kGrads = {
    {0.5, -1.0, 2.0}, {0.1, 0.2, -0.3}, {-1.0, 0.5, 0.25}};

// The golden README's formula, written out in double: bias-corrected m and v, epsilon outside
// the square root; `weight_decay` decays w first (AdamW); `amsgrad` keeps the running max of v.
std::vector<std::vector<double>> adam_reference(double lr, double b1, double b2, double eps,
                                                bool amsgrad, double weight_decay,
                                                std::vector<double> w,
                                                const std::vector<std::vector<double>>& grads) {
  std::vector<double> m(w.size(), 0.0), v(w.size(), 0.0), vmax(w.size(), 0.0);
  std::vector<std::vector<double>> out;
  for (std::size_t k = 0; k < grads.size(); ++k) {
    const double t = static_cast<double>(k + 1);
    for (std::size_t i = 0; i < w.size(); ++i) {
      const double g = grads[k][i];
      w[i] -= lr * weight_decay * w[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      vmax[i] = std::max(vmax[i], v[i]);
      const double vv = amsgrad ? vmax[i] : v[i];
      w[i] -= lr * (m[i] / (1 - std::pow(b1, t))) / (std::sqrt(vv / (1 - std::pow(b2, t))) + eps);
    }
    out.push_back(w);
  }
  return out;
}
}  // namespace

TEST_CASE("Adam: defaults are Keras'") {
  AdamOptions o;
  CHECK(o.learning_rate()(0) == doctest::Approx(0.001));
  CHECK(o.beta_1() == 0.9);
  CHECK(o.beta_2() == 0.999);
  CHECK(o.epsilon() == 1e-7);
  CHECK_FALSE(o.amsgrad());
  CHECK(Adam().slot_names() == std::vector<std::string>{"m", "v"});
  Adam ams(AdamOptions().learning_rate(1e-3).amsgrad(true));
  CHECK(ams.slot_names() == std::vector<std::string>{"m", "v", "vhat"});
  CHECK(ams.options().amsgrad());
  CHECK(ams.learning_rate() == doctest::Approx(1e-3));
}

TEST_CASE("Adam: three steps of the golden formula") {
  Adam opt(AdamOptions().learning_rate(0.01));
  auto got = run_steps(opt, kW0, kGrads);
  auto expected = adam_reference(0.01, 0.9, 0.999, 1e-7, false, 0.0, kW0, kGrads);
  // Step 1, element 0 by hand: m = 0.05, v = 0.00025, m_hat = 0.5, v_hat = 0.25,
  // w = 1 - 0.01 * 0.5 / (0.5 + 1e-7).
  CHECK(expected[0][0] == doctest::Approx(1.0 - 0.01 * 0.5 / (0.5 + 1e-7)));
  CHECK(got[0][0] == doctest::Approx(0.99).epsilon(1e-6));
  check_steps(got, expected);
}

TEST_CASE("Adam: slots hold m and v") {
  Adam opt(AdamOptions().learning_rate(0.01));
  Variable w(Tensor{1.f, 2.f}, true, "w");
  opt.apply_gradients({Variable(Tensor{2.f, -4.f})}, {w});
  TF_CHECK_CLOSE(opt.get_slot(w, "m"), (Tensor{0.2f, -0.4f}));
  TF_CHECK_CLOSE(opt.get_slot(w, "v"), (Tensor{0.004f, 0.016f}));
  TF_CHECK_ERROR(opt.get_slot(w, "vhat"), "Adam.get_slot", "'w'", "vhat", "m, v");
}

TEST_CASE("Adam: amsgrad keeps the maximum of v") {
  // beta_2 = 0.5 makes v shrink after a large gradient, so the maximum matters.
  const std::vector<double> w0 = {1.0, -1.0};
  const std::vector<std::vector<double>> grads = {{2.0, -3.0}, {0.1, 0.2}, {0.1, -0.1}};
  Adam opt(AdamOptions().learning_rate(0.1).beta_2(0.5).amsgrad(true));
  auto got = run_steps(opt, w0, grads);
  auto expected = adam_reference(0.1, 0.9, 0.5, 1e-7, true, 0.0, w0, grads);
  auto plain = adam_reference(0.1, 0.9, 0.5, 1e-7, false, 0.0, w0, grads);
  CHECK(std::abs(expected[2][0] - plain[2][0]) > 1e-3);  // the variant is really exercised
  check_steps(got, expected);
}

TEST_CASE("AdamW: decoupled weight decay then Adam, three steps") {
  CHECK(AdamWOptions().weight_decay() == 0.004f);
  AdamW opt(AdamWOptions().learning_rate(0.01).weight_decay(0.5f));
  CHECK(opt.name() == "AdamW");
  auto got = run_steps(opt, kW0, kGrads);
  auto expected = adam_reference(0.01, 0.9, 0.999, 1e-7, false, 0.5, kW0, kGrads);
  auto no_decay = adam_reference(0.01, 0.9, 0.999, 1e-7, false, 0.0, kW0, kGrads);
  // Step 1, element 0: w = 1 - 0.01 * 0.5 * 1 = 0.995, then the Adam step of about 0.01.
  CHECK(expected[0][0] == doctest::Approx(0.995 - 0.01 * 0.5 / (0.5 + 1e-7)));
  CHECK(std::abs(expected[2][1] - no_decay[2][1]) > 1e-3);
  check_steps(got, expected);
}

TEST_CASE("Adam and AdamW lower the loss of a linear regression") {
  Adam adam(AdamOptions().learning_rate(0.05));
  auto [first, last] = fit_regression(adam, 80);
  CHECK(last < 0.05f * first);
  Adam ams(AdamOptions().learning_rate(0.05).amsgrad(true));
  auto [first2, last2] = fit_regression(ams, 80);
  CHECK(last2 < 0.05f * first2);
  AdamW adamw(AdamWOptions().learning_rate(0.05));
  auto [first3, last3] = fit_regression(adamw, 80);
  CHECK(last3 < 0.05f * first3);
}

TEST_CASE("Adam: bad options") {
  TF_CHECK_ERROR(Adam(AdamOptions().learning_rate(-1e-3)), "Adam", "learning_rate");
  TF_CHECK_ERROR(Adam(AdamOptions().learning_rate(std::nan(""))), "Adam", "learning_rate");
  TF_CHECK_ERROR(Adam(AdamOptions().beta_1(1.0)), "Adam", "beta_1", "[0, 1)");
  TF_CHECK_ERROR(Adam(AdamOptions().beta_1(-0.1)), "Adam", "beta_1", "-0.1");
  TF_CHECK_ERROR(Adam(AdamOptions().beta_2(1.5)), "Adam", "beta_2", "1.5");
  TF_CHECK_ERROR(Adam(AdamOptions().epsilon(0.0)), "Adam", "epsilon", "> 0");
  TF_CHECK_ERROR(Adam(AdamOptions().epsilon(-1e-8)), "Adam", "epsilon");
  TF_CHECK_ERROR(AdamW(AdamWOptions().beta_2(1.0)), "AdamW", "beta_2");
  TF_CHECK_ERROR(AdamW(AdamWOptions().epsilon(0.0)), "AdamW", "epsilon");
  TF_CHECK_ERROR(AdamW(AdamWOptions().weight_decay(-0.1f)), "AdamW", "weight_decay");
  CHECK_NOTHROW(Adam(AdamOptions().beta_1(0.0).beta_2(0.0)));
}
