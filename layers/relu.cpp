#include "tapeflow/layers/relu.hpp"

#include <cmath>

#include "tapeflow/framework/ops/activations.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

namespace {
// Keras refuses a negative value for each of the three options.
void check_non_negative(const std::string& layer, const char* option, float v) {
  if (!(std::isfinite(v) && v >= 0.f))
    fail(layer, std::string(option) + " must be a finite number >= 0, got " + config_float(v));
}
}  // namespace

ReLU::ReLU(const ReLUOptions& options) : LayerWith("re_lu", options) {
  if (options_.max_value()) check_non_negative(name(), "max_value", *options_.max_value());
  check_non_negative(name(), "negative_slope", options_.negative_slope());
  check_non_negative(name(), "threshold", options_.threshold());
}

Variable ReLU::call(const Variable& x, bool) {
  return activations::relu(x, options_.negative_slope(), options_.max_value(),
                           options_.threshold());
}

TAPEFLOW_REGISTER_LAYER(ReLU)

}  // namespace tapeflow::layers
