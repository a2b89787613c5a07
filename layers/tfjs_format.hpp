#pragma once
/// The TensorFlow.js Layers format: a folder with `model.json` (`format` "layers-model", the
/// Keras topology JSON of layers/keras_json.hpp as `modelTopology`, and a `weightsManifest`
/// of weight names, shapes and dtypes) and the weight bytes it lists (`weights.bin`, float32,
/// little-endian, in manifest order). What `tf.loadLayersModel` reads and TF.js' `model.save`
/// and `tensorflowjs_converter` write. `serialization::save` / `load` / `load_weights`
/// (layers/saving.hpp) use it for a path ending in `.json`.
///
/// Reading takes weights stored as float32 or quantized as the converter writes them (uint8 or
/// uint16 with `scale` and `min`: value = q * scale + min; float16), split over any number of
/// shard files and groups. Weights are placed by name (`<layer>/<weight>`, as TF.js does): every
/// weight of the model must be in the manifest with its shape, and every manifest entry must
/// belong to a weight. Everything read is bounded: the JSON by size and nesting, each shard by
/// the bytes its manifest entries need, which must be exactly its size; a shard path must stay
/// inside the folder. Any problem is a `FileError` naming the file and, where there is one, the
/// layer, the weight and the field.
///
/// Writing is atomic per file: `weights.bin` first, then `model.json`, each replaced whole.
/// `model.json` also carries the checksum of `weights.bin` (in `userDefinedMetadata`, which
/// TF.js keeps and ignores), so that a pair left mismatched by a crash between the two renames
/// is a `FileError` for tapeflow.
///
/// Example:
/// ```
/// tapeflow::serialization::save(model, "export/model.json");   // + export/weights.bin
/// auto back = tapeflow::serialization::load("export/model.json");
/// // in TF.js: await tf.loadLayersModel('file://export/model.json')
/// ```
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "tapeflow/layers/layer.hpp"

namespace tapeflow::serialization {

/// Whether `path` names a TF.js `model.json` (it ends in ".json"; case does not matter).
bool is_tfjs_path(const std::string& path);

/// Writes `model` as `path` (the model.json) and `weights.bin` beside it. A model that cannot
/// be described (a custom callable initializer, a layer class the registry does not know) is a
/// `ValueError` and nothing is written; a failed write a `FileError`, the old files kept.
void save_tfjs(const layers::Layer& model, const std::string& path);

/// The model of a TF.js `model.json` with its weights (a file holding only a Keras topology,
/// Keras' `model.to_json()`, gives the model with new weights, as `model_from_json`).
std::shared_ptr<layers::Layer> load_tfjs(const std::string& path);

/// Sets the weights of `model` from a TF.js `model.json` and its shards, by weight name.
void load_tfjs_weights(layers::Layer& model, const std::string& path);

namespace detail {

/// Reads a shard named in a manifest (`relative_path`, already checked to stay in the folder),
/// at most `max_bytes`; a file of more is a `FileError`.
using ShardReader =
    std::function<std::string(const std::string& relative_path, std::size_t max_bytes)>;

/// `load_tfjs` on a model.json's text and a way to read its shards: for the fuzzer and tests.
/// Example: `parse_tfjs(json, [](const std::string&, std::size_t) { return bytes; }, "fuzz")`
std::shared_ptr<layers::Layer> parse_tfjs(const std::string& json_text,
                                          const ShardReader& read_shard, const std::string& where);

}  // namespace detail

}  // namespace tapeflow::serialization
