#include "tapeflow/layers/layer_spec.hpp"

#include <utility>

#include "tapeflow/framework/nn/detail/repr.hpp"

namespace tapeflow::layers {

std::string config_write(const LayerSpec& spec) {
  return spec.defined() ? config_repr(spec.class_name, spec.config) : std::string("None");
}

void config_read(const std::string& where, const std::string& key, const std::string& text,
                 LayerSpec& out) {
  if (tapeflow::detail::trim_space(text) == "None") {
    out = LayerSpec();
    return;
  }
  auto [name, config] = tapeflow::detail::parse_repr(where + ": config key '" + key + "'", text);
  out = LayerSpec(std::move(name), std::move(config));
}

}  // namespace tapeflow::layers
