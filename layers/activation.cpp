#include "tapeflow/layers/activation.hpp"

#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

Activation::Activation(const ActivationOptions& options) : LayerWith("activation", options) {}

Variable Activation::call(const Variable& x, bool) { return options_.activation()(x); }

TAPEFLOW_REGISTER_LAYER(Activation)

}  // namespace tapeflow::layers
