#pragma once
/// The finite-difference gradient check that every test of a backward uses: `gradcheck` for
/// fresh inputs, `gradcheck_variables` for existing variables (layer weights). Both run one
/// implementation, so a test of the check itself (tests/framework/ops/test_gradcheck.cpp) covers
/// every caller.
#include <functional>
#include <string>
#include <vector>

#include "tapeflow/framework/core/variable.hpp"

namespace tapeflow {

/// Tolerances of `gradcheck` / `gradcheck_variables`, with chainable setters.
///
/// - Each element passes when `|analytic - numeric| <= atol + rtol * |numeric|` (`atol` alone
///   for an input that gets no gradient: its numeric one must vanish).
/// - Each input passes as a whole when its mean `|analytic - numeric|` is at most `mean_tol`
///   times the mean of those per-element bounds: errors may reach their own bound here and
///   there, not everywhere (a systematically biased gradient fails).
/// - Two uses of `f` must give the sum of the two separate gradients within
///   `accumulation_tol * (1 + |g1| + |g2|)` per element (float round-off only).
///
/// The defaults (eps 1e-2, atol 2e-3, rtol 2e-2, seed 7) are those the tests were written
/// against. Example: `tapeflow::GradcheckOptions().eps(1e-3).atol(1e-4).mean_tol(0.25)`.
class GradcheckOptions {
 public:
  /// Central-difference step (added to and subtracted from each element in float; the quotient
  /// divides by the step actually taken).
  GradcheckOptions& eps(double v) {
    eps_ = v;
    return *this;
  }
  double eps() const { return eps_; }
  GradcheckOptions& atol(double v) {
    atol_ = v;
    return *this;
  }
  double atol() const { return atol_; }
  GradcheckOptions& rtol(double v) {
    rtol_ = v;
    return *this;
  }
  double rtol() const { return rtol_; }
  /// Fraction of the mean per-element bound that an input's mean absolute error may reach.
  GradcheckOptions& mean_tol(double v) {
    mean_tol_ = v;
    return *this;
  }
  double mean_tol() const { return mean_tol_; }
  GradcheckOptions& accumulation_tol(double v) {
    accumulation_tol_ = v;
    return *this;
  }
  double accumulation_tol() const { return accumulation_tol_; }
  /// Seed of the random weights `w` of the scalar loss `sum(f(x) * w)`.
  GradcheckOptions& seed(unsigned v) {
    seed_ = v;
    return *this;
  }
  unsigned seed() const { return seed_; }

 private:
  double eps_ = 1e-2;
  double atol_ = 2e-3;
  double rtol_ = 2e-2;
  double mean_tol_ = 0.5;
  double accumulation_tol_ = 1e-4;
  unsigned seed_ = 7;
};

struct GradcheckResult {
  bool ok = true;
  /// Why it failed: the input, the element (flat and multi-index), analytic vs numeric, and the
  /// input's mean error. Empty when `ok`.
  std::string message;
  /// Largest `|analytic - numeric|` over the elements checked.
  double max_abs_error = 0;
  /// Largest, over the inputs checked, of the input's mean `|analytic - numeric|`.
  double mean_abs_error = 0;
};

/// Checks the tape's gradient of `f` with respect to each of `inputs` (passed to `f` as fresh
/// trainable variables "input0", "input1", ...) against central finite differences, for every
/// element. The scalar loss is `sum(f(x) * w)` with random `w` (signs mixed, |w| in [0.5, 1.5]),
/// so every output element matters. In order, for each input:
/// 1. each gradient has the input's shape and is finite (a NaN or inf is an entry a backward
///    never wrote, or an overflow); an input with no gradient counts as a zero gradient;
/// 2. accumulation: the gradient of `sum(f(x) * w) + sum(f(x) * w2)` (two calls of `f`, a
///    different `w2`) equals the sum of the two separate gradients. This catches a backward
///    that assigns where it must accumulate (a buffer shared by two uses, overwritten by the
///    second) and one that is not repeatable (adds into state on every run of a persistent
///    tape); with `w2 == w` the first would go unnoticed;
/// 3. every element within `atol + rtol * |numeric|`, and the input's mean error within its
///    bound (see `GradcheckOptions`).
/// `f` must be deterministic: it runs twice under a tape and twice per element.
///
/// Returns the first failure found; throws `ValueError` for bad options and `ShapeError` when
/// `f`'s output changes shape between calls.
///
/// Example:
/// ```
/// auto r = tapeflow::gradcheck([](const std::vector<tapeflow::Variable>& in) {
///   return tapeflow::matmul(in[0], in[1]);
/// }, {a, b}, tapeflow::GradcheckOptions().atol(1e-3));
/// CHECK_MESSAGE(r.ok, r.message);
/// ```
GradcheckResult gradcheck(const std::function<Variable(const std::vector<Variable>&)>& f,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& opts = {});

/// The same check with respect to existing variables that `f` reads through its own handles
/// (a layer's weights): each element is perturbed in place, `f` rerun, the value restored (also
/// when `f` throws). Non-trainable variables are watched explicitly. Messages name each
/// variable by its name.
///
/// Example:
/// ```
/// tapeflow::Variable x(input_tensor);
/// layer(x);  // builds the weights
/// auto r = tapeflow::gradcheck_variables([&] { return layer(x); }, layer.trainable_variables());
/// CHECK_MESSAGE(r.ok, r.message);
/// ```
GradcheckResult gradcheck_variables(const std::function<Variable()>& f,
                                    const std::vector<Variable>& variables,
                                    const GradcheckOptions& opts = {});

}  // namespace tapeflow
