#pragma once
/// A model's layers as Keras writes them in a model config: a JSON list of
/// `{"class_name": ..., "config": {...}}` (config values are the layers' config text). Shared by
/// `Model` and `Sequential`.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers::detail {

/// Example: `layers_to_json(model.layers())` gives `[{"class_name":"Dense","config":{...}}]`.
std::string layers_to_json(const std::vector<std::shared_ptr<Layer>>& layers);

/// New layers (unbuilt) from `layers_to_json`'s text, each with the name its config gives,
/// empty if none (the layer's own name may differ when that name is taken). A ValueError naming
/// `where` for text that is not such a list, two layers with one name, or a layer the registry
/// cannot create.
std::vector<std::pair<std::string, std::shared_ptr<Layer>>> layers_from_json(
    const std::string& where, const std::string& text);

/// The names the layers of `layers_to_json`'s text have in their configs (for `KeepNames`); the
/// same errors as `layers_from_json` for text that is not such a list.
std::vector<std::string> layer_names_in_json(const std::string& where, const std::string& text);

}  // namespace tapeflow::layers::detail
