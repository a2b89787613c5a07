#pragma once
// Helpers shared by the optimizer tests (not a test file itself: no `test_` prefix).
#include <cmath>
#include <utility>
#include <vector>

#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/optim/optimizer.hpp"
#include "test_util.hpp"

namespace tapeflow::test {

/// The variable and the gradients every optimizer test steps through (`run_steps(opt, kW0,
/// kGrads)`), each test against its optimizer's formulas written out in double.
inline const std::vector<double> kW0 = {1.0, -2.0, 0.5};
inline const std::vector<std::vector<double>> kGrads = {
    {0.5, -1.0, 2.0}, {0.1, 0.2, -0.3}, {-1.0, 0.5, 0.25}};

/// Applies `grads[k]` to a fresh variable holding `w0` for each k and returns the value after
/// every step (the gradients do not depend on w, so expected values are easy to write by hand).
inline std::vector<std::vector<double>> run_steps(optim::Optimizer& opt,
                                                  const std::vector<double>& w0,
                                                  const std::vector<std::vector<double>>& grads) {
  auto to_tensor = [](const std::vector<double>& v) {
    Tensor t = Tensor::from_shape({v.size()});
    for (std::size_t i = 0; i < v.size(); ++i) t(i) = static_cast<float>(v[i]);
    return t;
  };
  Variable w(to_tensor(w0), true, "w");
  std::vector<std::vector<double>> out;
  for (const auto& g : grads) {
    opt.apply_gradients({Variable(to_tensor(g))}, {w});
    out.emplace_back(w.value().begin(), w.value().end());
  }
  return out;
}

/// Checks `got` against `expected` elementwise with a relative tolerance (float32 arithmetic in
/// the optimizer against double arithmetic in the test).
inline void check_steps(const std::vector<std::vector<double>>& got,
                        const std::vector<std::vector<double>>& expected, double rtol = 2e-6,
                        double atol = 1e-7) {
  REQUIRE(got.size() == expected.size());
  for (std::size_t k = 0; k < got.size(); ++k) {
    REQUIRE(got[k].size() == expected[k].size());
    for (std::size_t i = 0; i < got[k].size(); ++i)
      CHECK_MESSAGE(std::abs(got[k][i] - expected[k][i]) <= atol + rtol * std::abs(expected[k][i]),
                    "step " << k + 1 << " element " << i << ": got " << got[k][i] << ", expected "
                            << expected[k][i]);
  }
}

/// Mean squared error of the elementwise model `w * x + b` on y = 2x - 1 over 8 points, built
/// from the core ops only (add, sub, mul, sum).
inline Variable regression_loss(const Variable& w, const Variable& b) {
  static const Tensor x = {0.f, 0.25f, 0.5f, 0.75f, 1.f, 1.25f, 1.5f, 1.75f};
  static const Tensor y = 2.f * x - 1.f;
  Variable d = w * Variable(x) + b - Variable(y);
  return sum(d * d) * (1.f / 8.f);
}

/// Trains the regression for `steps` steps with `opt.minimize`; returns (first, last) loss.
inline std::pair<float, float> fit_regression(optim::Optimizer& opt, int steps) {
  Variable w(Tensor{0.3f}, true, "w");
  Variable b(Tensor{0.2f}, true, "b");
  float first = regression_loss(w, b).item();
  for (int i = 0; i < steps; ++i) opt.minimize([&] { return regression_loss(w, b); }, {w, b});
  return {first, regression_loss(w, b).item()};
}

}  // namespace tapeflow::test
