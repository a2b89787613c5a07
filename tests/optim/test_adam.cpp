#include <cmath>

#include "optim/optim_test_util.hpp"
#include "tapeflow/optim/adam.hpp"

using namespace tapeflow;
using namespace tapeflow::test;
using optim::Adam;
using optim::AdamOptions;
using optim::AdamW;
using optim::AdamWOptions;

namespace {

// Keras 3's Adam (keras/src/optimizers/adam.py) written out in double: the bias corrections
// folded into the rate, `alpha = lr * sqrt(1 - b2^t) / (1 - b1^t)`, and epsilon added to sqrt(v)
// itself; `weight_decay` decays w first (the base optimizer's, AdamW); `amsgrad` keeps the
// running max of v. `paper` selects the paper's / TF.js's form instead,
// `lr * m_hat / (sqrt(v_hat) + eps)`, to show where the two differ.
std::vector<std::vector<double>> adam_reference(double lr, double b1, double b2, double eps,
                                                bool amsgrad, double weight_decay,
                                                std::vector<double> w,
                                                const std::vector<std::vector<double>>& grads,
                                                bool paper = false) {
  std::vector<double> m(w.size(), 0.0), v(w.size(), 0.0), vmax(w.size(), 0.0);
  std::vector<std::vector<double>> out;
  for (std::size_t k = 0; k < grads.size(); ++k) {
    const double t = static_cast<double>(k + 1);
    for (std::size_t i = 0; i < w.size(); ++i) {
      const double g = grads[k][i];
      w[i] -= w[i] * weight_decay * lr;
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      vmax[i] = std::max(vmax[i], v[i]);
      const double vv = amsgrad ? vmax[i] : v[i];
      const double c1 = 1 - std::pow(b1, t), c2 = 1 - std::pow(b2, t);
      if (paper)
        w[i] -= lr * (m[i] / c1) / (std::sqrt(vv / c2) + eps);
      else
        w[i] -= lr * std::sqrt(c2) / c1 * m[i] / (std::sqrt(vv) + eps);
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

// Was "three steps of the golden formula" (the paper's form); now Keras 3's. With epsilon 1e-7
// and gradients of 0.1 and more the two forms differ by less than the tolerance, so the next
// case takes a large epsilon to tell them apart.
TEST_CASE("Adam: three steps of Keras 3's formula") {
  Adam opt(AdamOptions().learning_rate(0.01));
  auto got = run_steps(opt, kW0, kGrads);
  auto expected = adam_reference(0.01, 0.9, 0.999, 1e-7, false, 0.0, kW0, kGrads);
  // Step 1, element 0 by hand: m = 0.05, v = 0.00025, alpha = 0.01 * sqrt(0.001) / 0.1,
  // w = 1 - alpha * 0.05 / (sqrt(0.00025) + 1e-7).
  CHECK(expected[0][0] ==
        doctest::Approx(1.0 - 0.1 * std::sqrt(0.001) * 0.05 / (std::sqrt(0.00025) + 1e-7)));
  CHECK(got[0][0] == doctest::Approx(0.99).epsilon(1e-6));
  check_steps(got, expected);
}

TEST_CASE("Adam: epsilon is added to sqrt(v), not to the bias-corrected root (Keras 3)") {
  // epsilon 0.01 against |g| of 0.1 to 2: the paper's form would be far off.
  const double lr = 0.1, eps = 0.01;
  Adam opt(AdamOptions().learning_rate(lr).epsilon(eps));
  auto got = run_steps(opt, kW0, kGrads);
  auto keras = adam_reference(lr, 0.9, 0.999, eps, false, 0.0, kW0, kGrads);
  auto paper = adam_reference(lr, 0.9, 0.999, eps, false, 0.0, kW0, kGrads, /*paper=*/true);
  // Step 1, element 0 by hand: m = 0.05, v = 0.00025, so Keras' step is
  // 0.1 * sqrt(0.001) / 0.1 * 0.05 / (sqrt(0.00025) + 0.01) = 0.0612574...; the paper's,
  // 0.1 * 0.5 / (0.5 + 0.01) = 0.0980392..., its epsilon being 0.01 * sqrt(0.001) in Keras' terms.
  CHECK(keras[0][0] == doctest::Approx(1.0 - 0.0612574).epsilon(1e-6));
  CHECK(paper[0][0] == doctest::Approx(1.0 - 0.0980392).epsilon(1e-6));
  check_steps(got, keras);
  CHECK(std::abs(got[0][0] - paper[0][0]) > 0.03);
}

TEST_CASE("Adam: slots hold m and v") {
  Adam opt(AdamOptions().learning_rate(0.01));
  Variable w(Tensor{1.f, 2.f}, true, "w");
  opt.apply_gradients({Variable(Tensor{2.f, -4.f})}, {w});
  TF_CHECK_CLOSE(opt.get_slot(w, "m"), (Tensor{0.2f, -0.4f}));
  TF_CHECK_CLOSE(opt.get_slot(w, "v"), (Tensor{0.004f, 0.016f}));
  TF_CHECK_ERROR(opt.get_slot(w, "vhat"), "Adam.get_slot", "'w'", "vhat", "m, v");
}

// Expected values changed from the paper's form to Keras 3's (adam_reference).
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

// Expected values changed from the paper's form to Keras 3's (adam_reference and step 1 below).
TEST_CASE("AdamW: decoupled weight decay then Adam, three steps") {
  CHECK(AdamWOptions().weight_decay() == 0.004f);
  AdamW opt(AdamWOptions().learning_rate(0.01).weight_decay(0.5f));
  CHECK(opt.name() == "AdamW");
  auto got = run_steps(opt, kW0, kGrads);
  auto expected = adam_reference(0.01, 0.9, 0.999, 1e-7, false, 0.5, kW0, kGrads);
  auto no_decay = adam_reference(0.01, 0.9, 0.999, 1e-7, false, 0.0, kW0, kGrads);
  // Step 1, element 0: w = 1 - 1 * 0.5 * 0.01 = 0.995, then Keras' Adam step of about 0.01.
  CHECK(expected[0][0] ==
        doctest::Approx(0.995 - 0.1 * std::sqrt(0.001) * 0.05 / (std::sqrt(0.00025) + 1e-7)));
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
