#include "tapeflow/layers/softmax.hpp"

#include "tapeflow/framework/ops/activations.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

Softmax::Softmax(const SoftmaxOptions& options) : LayerWith("softmax", options) {}

Variable Softmax::call(const Variable& x, bool) {
  const long rank = static_cast<long>(x.shape().size());
  const int axis = options_.axis();
  if (axis < -rank || axis >= rank)
    fail_shape(name(), "axis " + std::to_string(axis) + " is out of range for an input of shape " +
                           shape_str(x.shape()));
  return activations::softmax(x, axis);
}

TAPEFLOW_REGISTER_LAYER(Softmax)

}  // namespace tapeflow::layers
