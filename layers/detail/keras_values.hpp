#pragma once
/// One config value between tapeflow's config text (framework/nn/fields.hpp) and the JSON value
/// Keras writes in a layer config (`model.to_json()`, TF.js `model.json`): numbers, booleans,
/// `null` for "None", nested lists for tuples ("((1, 1), (1, 1))" is `[[1, 1], [1, 1]]`), and
/// `{"class_name": ..., "config": {...}}` for initializers, regularizers and constraints, with
/// the class names that both Keras 2 and TF.js 4.22 read. Internal to the Keras JSON format
/// (layers/keras_json.cpp).
///
/// Example:
/// ```
/// Json k = config_text_to_json("kernel_size", "(3, 3, 3)");            // [3, 3, 3]
/// Json i = config_text_to_json("kernel_initializer", "he_normal(seed=None)");
///                         // {"class_name": "HeNormal", "config": {"seed": null}}
/// std::string t = json_to_config_text("Conv3D 'c'", "kernel_size", k);  // "(3, 3, 3)"
/// ```
#include <nlohmann/json.hpp>
#include <string>

namespace tapeflow::layers::detail {

using Json = nlohmann::json;

/// The JSON value of the config text `text` under `key`. `name` stays a string whatever it
/// looks like; keys ending in `_initializer`, `_regularizer` or `_constraint` become Keras
/// objects (`null` when unset). Other text: "None" is null, "true"/"false" booleans, numbers
/// numbers, "(...)" a list of such values, anything else a string.
Json config_text_to_json(const std::string& key, const std::string& text);

/// The config text of a Keras JSON value, the inverse of `config_text_to_json`; also reads the
/// forms Keras and TF.js write that tapeflow does not (a Keras 3 object's `module` and
/// `registered_name`, TF.js' "LeCunNormal"). A value of a kind no config holds (an object that
/// is no `{"class_name", "config"}`) is a `FileError` naming `where` and `key`.
std::string json_to_config_text(const std::string& where, const std::string& key,
                                const Json& value);

}  // namespace tapeflow::layers::detail
