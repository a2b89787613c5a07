#include "tapeflow/layers/leaky_relu.hpp"

#include <cmath>

#include "tapeflow/framework/ops/activations.hpp"

namespace tapeflow::layers {

LeakyReLU::LeakyReLU(const LeakyReLUOptions& options)
    : Layer("leaky_re_lu", options.common()), options_(options) {
  if (!std::isfinite(options_.alpha()))
    fail(name(), "alpha must be a finite number, got " + config_float(options_.alpha()));
}

Variable LeakyReLU::call(const Variable& x, bool) {
  return activations::leaky_relu(x, options_.alpha());
}

Config LeakyReLU::get_config() const {
  Config c = Layer::get_config();
  c["alpha"] = config_float(options_.alpha());
  return c;
}

std::string LeakyReLU::extra_repr() const { return "alpha=" + config_float(options_.alpha()); }

}  // namespace tapeflow::layers
