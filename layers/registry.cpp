#include "tapeflow/layers/registry.hpp"

#include <mutex>
#include <optional>

#include "tapeflow/framework/ops/activations.hpp"
#include "tapeflow/layers/model.hpp"

namespace tapeflow::layers {

namespace {

struct Registry {
  std::mutex mutex;
  detail::LayerFactories factories;
};

// Filled on first use, so that no registration depends on the order of static initialization.
Registry& registry() {
  static Registry r;
  static const bool filled = (detail::register_builtin_layers(r.factories), true);
  (void)filled;
  return r;
}

std::optional<LayerFactory> find_factory(const std::string& class_name) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.factories.find(class_name);
  if (it == r.factories.end()) return std::nullopt;
  return it->second;
}

}  // namespace

void register_layer(const std::string& class_name, LayerFactory factory) {
  if (class_name.empty()) fail("register_layer", "the class name is empty");
  if (!factory) fail("register_layer", "the factory of '" + class_name + "' is empty");
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.factories[class_name] = std::move(factory);
}

std::shared_ptr<Layer> create_layer(const std::string& class_name, const Config& config) {
  std::optional<LayerFactory> factory = find_factory(class_name);
  if (!factory) {
    std::string known;
    for (const auto& name : registered_layers()) known += (known.empty() ? "" : ", ") + name;
    fail("create_layer", "unknown layer class '" + class_name + "' (known: " + known + ")");
  }
  auto name_it = config.find("name");
  std::string where = class_name + (name_it != config.end() ? " '" + name_it->second + "'" : "");
  return (*factory)(where, config);
}

std::vector<std::string> registered_layers() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::vector<std::string> out;
  for (const auto& kv : r.factories) out.push_back(kv.first);
  return out;
}

void check_serializable(const Layer& layer) {
  if (!find_factory(layer.class_name()))
    fail("save", "layer '" + layer.name() + "' has class '" + layer.class_name() +
                     "', which the layer registry cannot rebuild");
  for (const auto& [key, value] : layer.get_config()) {
    std::string v = tapeflow::detail::trim_space(value);
    bool custom = v == "custom" || v.rfind("custom(", 0) == 0;
    if (!custom && key == "activation") {
      try {
        activations::get(v);
      } catch (const Error&) {
        custom = true;
      }
    }
    if (custom)
      fail("save", "layer '" + layer.name() + "' (" + layer.class_name() + "): argument '" + key +
                       "' is a custom callable (" + v +
                       "), which cannot be saved; use a named one");
  }
  if (auto* model = dynamic_cast<const Model*>(&layer))
    for (const auto& l : model->layers()) check_serializable(*l);
}

}  // namespace tapeflow::layers
