#pragma once
#include <functional>
#include <string>
#include <vector>

#include "tapeflow/framework/core/variable.hpp"

namespace tapeflow {

/// Tolerances of `gradcheck`: an element passes when
/// `|analytic - numeric| <= atol + rtol * |numeric|`.
struct GradcheckOptions {
  double eps = 1e-2;   ///< central-difference step
  double atol = 2e-3;
  double rtol = 2e-2;
  unsigned seed = 7;   ///< seed of the random weights that scalarize a non-scalar output
};

struct GradcheckResult {
  bool ok = true;
  std::string message;  ///< the first failing element, with both values
  double max_abs_error = 0;
};

/// Checks the tape's gradient of `f` against central finite differences, for every element of
/// every input. A non-scalar output is reduced as `sum(f(x) * w)` with fixed random `w`, so every
/// output element matters. It also checks each gradient's shape and that it is finite, and that
/// using the inputs twice (`f(x) * 2` via two calls) accumulates to twice the gradient.
///
/// Example:
/// ```
/// auto r = tapeflow::gradcheck([](auto& in) { return tapeflow::exp(in[0]); }, {x});
/// CHECK_MESSAGE(r.ok, r.message);
/// ```
GradcheckResult gradcheck(const std::function<Variable(const std::vector<Variable>&)>& f,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& opts = {});

}  // namespace tapeflow
