#include "tapeflow/layers/leaky_relu.hpp"

#include <cmath>

#include "tapeflow/framework/ops/activations.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

LeakyReLU::LeakyReLU(const LeakyReLUOptions& options) : LayerWith("leaky_re_lu", options) {
  if (!std::isfinite(options_.alpha()))
    fail(name(), "alpha must be a finite number, got " + config_float(options_.alpha()));
}

Variable LeakyReLU::call(const Variable& x, bool) {
  return activations::leaky_relu(x, options_.alpha());
}

TAPEFLOW_REGISTER_LAYER(LeakyReLU)

}  // namespace tapeflow::layers
