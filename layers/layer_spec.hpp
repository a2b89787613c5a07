#pragma once
/// `LayerSpec`: a layer as a value of a layer option, the form a wrapper (Bidirectional,
/// TimeDistributed) keeps the layer it wraps in its config.
#include <string>
#include <utility>

#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// A layer given by its class name and config (Keras' serialized layer in a wrapper's config:
/// Bidirectional's `layer`, TimeDistributed's), or none. Converts from a layer (its class name and
/// `get_config()`). Config text: `LSTM(units=4, ...)` (each entry as the layer's config text),
/// "None" for none.
///
/// Example: `LayerSpec spec = LSTM(LSTMOptions(4));`
struct LayerSpec {
  LayerSpec() = default;
  LayerSpec(const Layer& layer)  // NOLINT(google-explicit-constructor): Keras takes a layer
      : class_name(layer.class_name()), config(layer.get_config()) {}
  LayerSpec(std::string cls, Config cfg) : class_name(std::move(cls)), config(std::move(cfg)) {}
  bool defined() const { return !class_name.empty(); }
  std::string class_name;
  Config config;
};
std::string config_write(const LayerSpec& spec);
/// "None" or `Class(key=value, ...)`; a malformed value is a ValueError naming `where` and `key`.
void config_read(const std::string& where, const std::string& key, const std::string& text,
                 LayerSpec& out);

}  // namespace tapeflow::layers
