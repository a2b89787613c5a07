#include "tapeflow/layers/elu.hpp"

#include <cmath>

#include "tapeflow/framework/ops/activations.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

ELU::ELU(const ELUOptions& options) : LayerWith("elu", options) {
  if (!std::isfinite(options_.alpha()))
    fail(name(), "alpha must be a finite number, got " + config_float(options_.alpha()));
}

Variable ELU::call(const Variable& x, bool) { return activations::elu(x, options_.alpha()); }

TAPEFLOW_REGISTER_LAYER(ELU)

}  // namespace tapeflow::layers
