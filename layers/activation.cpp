#include "tapeflow/layers/activation.hpp"

namespace tapeflow::layers {

Activation::Activation(const ActivationOptions& options)
    : Layer("activation", options.common()), options_(options) {}

Variable Activation::call(const Variable& x, bool) { return options_.activation()(x); }

Config Activation::get_config() const {
  Config c = Layer::get_config();
  c["activation"] = options_.activation().name();
  return c;
}

std::string Activation::extra_repr() const { return "activation=" + options_.activation().name(); }

}  // namespace tapeflow::layers
