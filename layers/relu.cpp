#include "tapeflow/layers/relu.hpp"

#include "tapeflow/framework/ops/activations.hpp"
#include "tapeflow/layers/detail/option_checks.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

ReLU::ReLU(const ReLUOptions& options) : LayerWith("re_lu", options) {
  if (options_.max_value())
    detail::check_non_negative_option(name(), "max_value", *options_.max_value());
  detail::check_non_negative_option(name(), "negative_slope", options_.negative_slope());
  detail::check_non_negative_option(name(), "threshold", options_.threshold());
}

Variable ReLU::call(const Variable& x, bool) {
  return activations::relu(x, options_.negative_slope(), options_.max_value(),
                           options_.threshold());
}

TAPEFLOW_REGISTER_LAYER(ReLU)

}  // namespace tapeflow::layers
