#pragma once
/// Models as Keras' topology JSON: what Keras 2's `model.to_json()` writes and
/// `keras.models.model_from_json` reads, and the `modelTopology` of a TensorFlow.js Layers model
/// (`model.json`, layers/tfjs_format.hpp). Sequential and functional models (nested ones too),
/// every zoo layer with its Keras class name and config (initializers, regularizers and
/// constraints as `{"class_name", "config"}` objects, tuples as lists, `null` for None).
///
/// Reading accepts what Keras 2 and TF.js 4.22 write: `Functional` or `Model`, a Sequential with
/// or without an `InputLayer` entry (a first layer's `batch_input_shape` builds it), a
/// converter's `{"model_config": ...}` wrapper, Keras 3's `negative_slope` of LeakyReLU. A class
/// tapeflow does not have, or a config field it lacks (other than one at the value that means
/// tapeflow's behaviour: `dtype` "float32", `groups` 1, `mask_zero` false, ...), is a
/// `FileError` naming the layer and the field, as is malformed JSON or a node that names no
/// layer.
///
/// Example:
/// ```
/// std::string json = tapeflow::serialization::to_json(model);   // Keras' model.to_json()
/// auto twin = tapeflow::serialization::model_from_json(json);   // same layers, new weights
/// ```
#include <memory>
#include <string>

#include "tapeflow/layers/layer.hpp"

namespace tapeflow::serialization {

/// The Keras topology JSON of `model` (a Sequential, a functional Model or a single layer):
/// `{"class_name", "config", "keras_version", "backend"}`. A layer whose initializer,
/// regularizer or constraint is a custom callable is a `ValueError` naming the layer.
/// Example: `std::ofstream("model_topology.json") << to_json(model);`
std::string to_json(const layers::Layer& model);

/// A new model (unbuilt layers get built by the graph; new weights) from Keras topology JSON:
/// `to_json`'s, Keras 2's `model.to_json()`, or a TF.js `modelTopology`. Errors: a `FileError`
/// naming the layer and the field (see the top of this file).
/// Example: `std::shared_ptr<tapeflow::layers::Layer> m = model_from_json(text);`
std::shared_ptr<layers::Layer> model_from_json(const std::string& json);

}  // namespace tapeflow::serialization
