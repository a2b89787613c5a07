#include "tapeflow/layers/prelu.hpp"

#include <set>

#include "tapeflow/framework/ops/activations.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

PReLU::PReLU(const PReLUOptions& options) : LayerWith("p_re_lu", options) {
  if (!options_.alpha_initializer().defined()) fail(name(), "alpha_initializer is undefined");
  for (int a : options_.shared_axes())
    if (a < 1)
      fail(name(), "shared_axes must be input axes >= 1 (axis 0 is the batch), got " +
                       shape_str(options_.shared_axes()));
  InputSpec spec;
  spec.min_ndim = 2;
  set_input_spec(spec);
}

void PReLU::build(const Shape& s) {
  Shape param(s.begin() + 1, s.end());
  std::set<int> shared(options_.shared_axes().begin(), options_.shared_axes().end());
  for (int a : shared) {
    if (static_cast<std::size_t>(a) >= s.size())
      fail_shape(name(), "shared_axes " + shape_str(options_.shared_axes()) + " has axis " +
                             std::to_string(a) + ", out of range for an input of shape " +
                             shape_str(s) + " (axes 1 to " + std::to_string(s.size() - 1) + ")");
    param[static_cast<std::size_t>(a) - 1] = 1;
  }
  alpha_ = add_weight("alpha", param, options_.alpha_initializer(), options_.alpha_regularizer(),
                      options_.alpha_constraint());
  // Keras' InputSpec after build: the rank and every non-shared size are fixed.
  InputSpec spec;
  spec.ndim = s.size();
  for (std::size_t i = 1; i < s.size(); ++i)
    if (!shared.count(static_cast<int>(i))) spec.axes[static_cast<int>(i)] = s[i];
  set_input_spec(spec);
}

Variable PReLU::call(const Variable& x, bool) {
  // Keras: relu(x) - alpha * relu(-x); alpha broadcasts over the batch and the shared axes.
  return sub(activations::relu(x), mul(alpha_, activations::relu(neg(x))));
}

TAPEFLOW_REGISTER_LAYER(PReLU)

}  // namespace tapeflow::layers
