#pragma once
/// Layer registry: rebuilds a layer from its `class_name()` and `get_config()` (Keras
/// `deserialize`), for every layer in layers/. Initializers, regularizers, constraints and
/// activations are rebuilt from their `repr()` text in the config.
///
/// Example:
/// ```
/// tapeflow::layers::Dense d(tapeflow::layers::DenseOptions(4).activation("relu"));
/// auto copy = tapeflow::layers::create_layer(d.class_name(), d.get_config());
/// ```
#include <memory>
#include <string>
#include <vector>

#include "tapeflow/framework/nn/config.hpp"
#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// A new, unbuilt layer of class `class_name` from `config`. An unknown class name, or a config
/// value that does not parse, is an Error naming the class and the key. A Sequential comes back
/// empty (its layers are serialized separately).
std::shared_ptr<Layer> create_layer(const std::string& class_name, const Config& config);

/// The class names `create_layer` knows, sorted.
std::vector<std::string> registered_layers();

/// Checks that `layer`'s config can be rebuilt (no custom callable initializer, regularizer or
/// constraint): an Error naming the layer and the argument otherwise.
void check_serializable(const Layer& layer);

/// Parses `name(k1=v1, k2=v2)` (as written by `config_repr`) into a name and a config; values
/// may contain parentheses and commas, e.g. `(3, 3)`. An Error naming `where` if malformed.
std::pair<std::string, Config> parse_repr(const std::string& where, const std::string& text);

}  // namespace tapeflow::layers
