#pragma once
/// The JSON-valued halves of layers/keras_json.hpp, for the TF.js format
/// (layers/tfjs_format.cpp), which puts the topology inside its `model.json` and places the
/// weights by the names the topology gives the layers.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tapeflow/layers/detail/keras_values.hpp"
#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers::detail {

/// `{"class_name", "config", "keras_version", "backend"}` of `model`.
Json keras_topology(const Layer& model);

/// A model rebuilt from a topology (the object `keras_topology` writes, or its `model_config`
/// wrapper), with every layer the file names under that name, including those of nested models:
/// the weights of layer `n` are `n/<weight>` in a TF.js manifest. A layer may have been given
/// another name in this process (the name was taken), so the file's names are listed here.
/// Errors: `FileError` naming `where`, the layer and the field.
struct KerasModel {
  std::shared_ptr<Layer> model;
  std::vector<std::pair<std::string, std::shared_ptr<Layer>>> named_layers;
};
KerasModel model_from_topology(const std::string& where, const Json& topology);

/// JSON text parsed with a bound on nesting (a hostile file cannot exhaust the stack); a syntax
/// error or deeper nesting is a `FileError` naming `where`.
Json parse_json_bounded(const std::string& where, const std::string& text);

}  // namespace tapeflow::layers::detail
