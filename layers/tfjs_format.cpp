#include "tapeflow/layers/tfjs_format.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <set>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/core/strings.hpp"
#include "tapeflow/framework/io/atomic_file.hpp"
#include "tapeflow/framework/io/bounded_read.hpp"
#include "tapeflow/framework/io/detail/file_context.hpp"
#include "tapeflow/framework/io/file_header.hpp"
#include "tapeflow/layers/detail/keras_model_json.hpp"
#include "tapeflow/layers/model.hpp"

namespace tapeflow::serialization {

namespace {

using layers::detail::Json;

// The weight bytes are copied as they are in memory.
static_assert(std::endian::native == std::endian::little,
              "the TF.js format stores little-endian float32; this build assumes a little-endian "
              "machine");

// A model.json is the topology and the manifest: a few MB for the largest Keras models.
constexpr std::size_t kMaxJsonBytes = std::size_t(64) << 20;
// Bounds on what a manifest may ask for before any shard is read.
constexpr std::uint64_t kMaxWeightBytes = std::uint64_t(16) << 30;
constexpr std::size_t kMaxWeights = 1 << 20;
constexpr std::size_t kMaxShards = 1 << 16;
constexpr std::size_t kMaxTfjsRank = 16;
const char* const kWeightsFile = "weights.bin";
const char* const kChecksumKey = "tapeflow_weights_checksum";

// IEEE half -> float, every case (subnormals, infinities, NaN), as TF.js' float16 decoding.
float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = (h >> 15) & 1u, exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu;
  float magnitude;
  if (exponent == 0)
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);
  else if (exponent == 31)
    magnitude =
        mantissa ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  else
    magnitude = std::ldexp(static_cast<float>(mantissa | 0x400u), static_cast<int>(exponent) - 25);
  return sign ? -magnitude : magnitude;
}

// One manifest entry: where its bytes are and how to decode them.
struct WeightSpec {
  std::string name;
  Shape shape;
  std::size_t count = 0;
  std::string stored = "float32";  // float32, uint8, uint16 or float16
  double scale = 1, min = 0;       // uint8 / uint16: value = q * scale + min
  std::size_t group = 0;
  std::uint64_t offset = 0;  // in the group's bytes
  std::uint64_t bytes() const {
    return count * (stored == "float32" ? 4u : stored == "uint8" ? 1u : 2u);
  }
};

WeightSpec read_spec(const std::string& where, const Json& j) {
  if (!j.is_object())
    fail_file(where, "a weightsManifest entry must be an object, got " + j.dump());
  WeightSpec s;
  auto name = j.find("name");
  if (name == j.end() || !name->is_string())
    fail_file(where, "a weightsManifest entry needs a string 'name', got " + j.dump());
  s.name = name->get<std::string>();
  const std::string here = where + ": weight '" + s.name + "'";
  auto shape = j.find("shape");
  if (shape == j.end() || !shape->is_array() || shape->size() > kMaxTfjsRank)
    fail_file(here, "'shape' must be a list of at most " + std::to_string(kMaxTfjsRank) + " sizes");
  std::uint64_t count = 1;
  for (const Json& d : *shape) {
    if (!d.is_number_unsigned() || d.get<std::uint64_t>() > kMaxWeightBytes)
      fail_file(here, "'shape' must hold sizes >= 0, got " + shape->dump());
    const std::uint64_t n = d.get<std::uint64_t>();
    if (n != 0 && count > kMaxWeightBytes / n)
      fail_file(here, "shape " + shape->dump() + " is larger than any weight tapeflow reads");
    count *= n;
    s.shape.push_back(static_cast<std::size_t>(n));
  }
  s.count = static_cast<std::size_t>(count);
  const std::string dtype = j.value("dtype", Json("float32")).is_string()
                                ? j.value("dtype", std::string("float32"))
                                : std::string("?");
  if (dtype != "float32")
    fail_file(here, "dtype '" + dtype + "' is not supported (tapeflow weights are float32)");
  if (auto q = j.find("quantization"); q != j.end() && !q->is_null()) {
    if (!q->is_object() || !q->contains("dtype") || !(*q)["dtype"].is_string())
      fail_file(here, "'quantization' must be {\"dtype\": ..., ...}, got " + q->dump());
    s.stored = (*q)["dtype"].get<std::string>();
    if (s.stored == "uint8" || s.stored == "uint16") {
      if (!q->contains("scale") || !(*q)["scale"].is_number() || !q->contains("min") ||
          !(*q)["min"].is_number())
        fail_file(here, "quantization " + s.stored + " needs numbers 'scale' and 'min', got " +
                            q->dump());
      s.scale = (*q)["scale"].get<double>();
      s.min = (*q)["min"].get<double>();
    } else if (s.stored != "float16") {
      fail_file(here, "quantization dtype '" + s.stored +
                          "' is not supported (expected uint8, uint16 or float16)");
    }
  }
  return s;
}

Tensor decode(const WeightSpec& s, const char* p) {
  Tensor t = xt::zeros<float>(s.shape);
  float* out = t.data();
  if (s.stored == "float32") {
    std::memcpy(out, p, s.count * sizeof(float));
  } else if (s.stored == "uint8") {
    for (std::size_t i = 0; i < s.count; ++i)
      out[i] = static_cast<float>(static_cast<unsigned char>(p[i]) * s.scale + s.min);
  } else {
    for (std::size_t i = 0; i < s.count; ++i) {
      std::uint16_t q;
      std::memcpy(&q, p + 2 * i, 2);
      out[i] = s.stored == "float16" ? half_to_float(q) : static_cast<float>(q * s.scale + s.min);
    }
  }
  return t;
}

// A shard path is a plain relative path inside the model's folder.
void check_shard_path(const std::string& where, const std::string& path) {
  const std::filesystem::path p(path);
  bool ok = !path.empty() && p.is_relative() && path.find('\0') == std::string::npos;
  for (const auto& part : p) ok = ok && part != "..";
  if (!ok) fail_file(where, "shard path '" + path + "' must be a relative path inside the folder");
}

struct Manifest {
  std::vector<WeightSpec> weights;
  std::vector<std::string> group_bytes;
};

Manifest read_manifest(const std::string& where, const Json& manifest,
                       const detail::ShardReader& read_shard) {
  if (!manifest.is_array()) fail_file(where, "'weightsManifest' must be a list of groups");
  Manifest m;
  std::uint64_t total = 0;
  std::size_t shards = 0;
  for (const Json& group : manifest) {
    if (!group.is_object() || !group.contains("paths") || !group["paths"].is_array() ||
        !group.contains("weights") || !group["weights"].is_array())
      fail_file(where, "a weightsManifest group must be {\"paths\": [...], \"weights\": [...]}");
    std::uint64_t offset = 0;
    for (const Json& w : group["weights"]) {
      if (m.weights.size() >= kMaxWeights) fail_file(where, "the manifest lists too many weights");
      WeightSpec s = read_spec(where, w);
      s.group = m.group_bytes.size();
      s.offset = offset;
      offset += s.bytes();
      total += s.bytes();
      if (total > kMaxWeightBytes) fail_file(where, "the manifest's weights exceed 16 GiB");
      m.weights.push_back(std::move(s));
    }
    // The group's shards, concatenated, are exactly its weights' bytes (TF.js splits a group's
    // bytes over its paths in order).
    std::string bytes;
    shards += group["paths"].size();
    if (shards > kMaxShards) fail_file(where, "the manifest lists too many weight files");
    for (const Json& path : group["paths"]) {
      if (!path.is_string()) fail_file(where, "a shard path must be a string, got " + path.dump());
      const std::string p = path.get<std::string>();
      check_shard_path(where, p);
      const std::size_t room =
          static_cast<std::size_t>(offset - std::min<std::uint64_t>(offset, bytes.size()));
      std::string shard = read_shard(p, room);
      bytes += shard;
    }
    if (bytes.size() != offset)
      fail_file(where, "the weight files of a group hold " + std::to_string(bytes.size()) +
                           " bytes, the manifest describes " + std::to_string(offset));
    m.group_bytes.push_back(std::move(bytes));
  }
  return m;
}

// Every leaf layer (one that is no model) under the name the file knows it by.
void collect_leaves(const std::string& name, const std::shared_ptr<layers::Layer>& layer,
                    std::vector<std::pair<std::string, std::shared_ptr<layers::Layer>>>& out) {
  if (auto model = std::dynamic_pointer_cast<layers::Model>(layer)) {
    for (const auto& l : model->layers()) collect_leaves(l->name(), l, out);
    return;
  }
  out.emplace_back(name, layer);
}

void assign_weights(
    const std::string& where,
    const std::vector<std::pair<std::string, std::shared_ptr<layers::Layer>>>& named,
    const Manifest& manifest, const Json& metadata) {
  if (metadata.is_object() && metadata.contains(kChecksumKey) && manifest.group_bytes.size() == 1) {
    if (metadata[kChecksumKey] != payload_checksum_hex(manifest.group_bytes[0]))
      fail_file(where, std::string(kWeightsFile) +
                           " does not match model.json (checksum): the pair was not written "
                           "together");
  }
  std::map<std::string, const WeightSpec*> by_name;
  for (const WeightSpec& s : manifest.weights)
    if (!by_name.emplace(s.name, &s).second)
      fail_file(where, "the manifest lists weight '" + s.name + "' twice");
  std::set<std::string> used;
  for (const auto& [file_name, layer] : named) {
    if (std::dynamic_pointer_cast<layers::Model>(layer)) continue;
    for (Variable v : layer->weights()) {
      // The variable is "<its layer's name>/<weight>"; the file knows the layer as file_name.
      std::string local = v.name();
      const std::string prefix = layer->name() + "/";
      if (local.compare(0, prefix.size(), prefix) == 0) local = local.substr(prefix.size());
      const std::string key = file_name + "/" + local;
      auto it = by_name.find(key);
      if (it == by_name.end())
        fail_file(where, "weight '" + key + "' of layer '" + file_name +
                             "' is not in the weights manifest");
      const WeightSpec& s = *it->second;
      if (s.shape != v.shape())
        fail_file(where, "weight '" + key + "' has shape " + tapeflow::shape_str(s.shape) +
                             " in the manifest, the layer needs " + tapeflow::shape_str(v.shape()));
      v.assign(decode(s, manifest.group_bytes[s.group].data() + s.offset));
      used.insert(key);
    }
  }
  for (const WeightSpec& s : manifest.weights)
    if (!used.count(s.name))
      fail_file(where, "the manifest's weight '" + s.name + "' belongs to no weight of the model");
}

detail::ShardReader folder_reader(const std::string& json_path, const std::string& where) {
  const std::filesystem::path folder = std::filesystem::path(json_path).parent_path();
  return [folder, where](const std::string& relative, std::size_t max_bytes) {
    const std::string p = (folder / relative).string();
    return read_file_bounded(p, max_bytes, where + ": " + detail::quoted(p));
  };
}

struct Artifacts {
  Json topology;
  const Json* manifest = nullptr;
  Json metadata;
};

Artifacts read_artifacts(const Json& file, const std::string& where) {
  Artifacts a;
  if (!file.is_object()) fail_file(where, "model.json must hold an object");
  if (file.contains("modelTopology")) {
    if (auto f = file.find("format"); f != file.end() && *f != "layers-model")
      fail_file(where, "format " + f->dump() +
                           " is not a Layers model (a graph model has no Keras layers)");
    a.topology = file["modelTopology"];
    if (auto m = file.find("weightsManifest"); m != file.end()) a.manifest = &*m;
    a.metadata = file.value("userDefinedMetadata", Json::object());
  } else {
    a.topology = file;  // a bare Keras topology (`model.to_json()`)
  }
  return a;
}

}  // namespace

bool is_tfjs_path(const std::string& path) {
  return tapeflow::detail::to_lower(std::filesystem::path(path).extension().string()) == ".json";
}

void save_tfjs(const layers::Layer& model, const std::string& path) {
  const std::string where = detail::file_context("save", path);
  Json topology = layers::detail::keras_topology(model);  // ValueError before anything is written
  Json specs = Json::array();
  std::string bytes;
  std::set<std::string> names;
  for (const Variable& v : model.weights()) {
    if (!names.insert(v.name()).second)
      fail("save", "two weights of the model are named '" + v.name() +
                       "': the TF.js format places weights by name");
    const Tensor& value = v.value();
    Json shape = Json::array();
    for (std::size_t d : value.shape()) shape.push_back(d);
    specs.push_back({{"name", v.name()}, {"shape", shape}, {"dtype", "float32"}});
    bytes.append(reinterpret_cast<const char*>(value.data()), value.size() * sizeof(float));
  }
  Json file = {{"format", "layers-model"},
               {"generatedBy", std::string("tapeflow ") + TAPEFLOW_VERSION},
               {"convertedBy", nullptr},
               {"modelTopology", std::move(topology)},
               {"weightsManifest", Json::array({{{"paths", {kWeightsFile}}, {"weights", specs}}})},
               {"userDefinedMetadata", {{kChecksumKey, payload_checksum_hex(bytes)}}}};
  const std::filesystem::path weights = std::filesystem::path(path).parent_path() / kWeightsFile;
  write_file_atomically(weights.string(), bytes, detail::file_context("save", weights.string()));
  write_file_atomically(path, file.dump(1) + "\n", where);
}

std::shared_ptr<layers::Layer> load_tfjs(const std::string& path) {
  const std::string where = detail::file_context("load", path);
  return detail::parse_tfjs(read_file_bounded(path, kMaxJsonBytes, where),
                            folder_reader(path, where), where);
}

void load_tfjs_weights(layers::Layer& model, const std::string& path) {
  const std::string where = detail::file_context("load_weights", path);
  const Json file =
      layers::detail::parse_json_bounded(where, read_file_bounded(path, kMaxJsonBytes, where));
  const Artifacts a = read_artifacts(file, where);
  if (!a.manifest) fail_file(where, "the file has no weightsManifest");
  const Manifest manifest = read_manifest(where, *a.manifest, folder_reader(path, where));
  std::vector<std::pair<std::string, std::shared_ptr<layers::Layer>>> named;
  // The model is the caller's: walk it without owning it.
  std::shared_ptr<layers::Layer> view(&model, [](layers::Layer*) {});
  collect_leaves(model.name(), view, named);
  std::set<std::string> in_file;
  for (const WeightSpec& s : manifest.weights) in_file.insert(s.name);
  bool names_match = true;
  for (const Variable& v : model.weights()) names_match = names_match && in_file.count(v.name());
  if (names_match) return assign_weights(where, named, manifest, a.metadata);
  // The layers are named otherwise (a model built again in this process takes new names): as
  // Keras' load_weights, take the file's model's weights in layer order, where the architecture
  // must match (set_weights checks each shape: a ShapeError otherwise).
  layers::detail::KerasModel m = layers::detail::model_from_topology(where, a.topology);
  assign_weights(where, m.named_layers, manifest, a.metadata);
  const std::vector<Tensor> values = m.model->get_weights();
  if (values.size() != model.weights().size())
    fail_shape("load_weights: " + detail::quoted(path),
               "the file's model has " + std::to_string(values.size()) + " weights, the model " +
                   std::to_string(model.weights().size()) + " (and their names differ)");
  model.set_weights(values);
}

namespace detail {

std::shared_ptr<layers::Layer> parse_tfjs(const std::string& json_text,
                                          const ShardReader& read_shard, const std::string& where) {
  const Json file = layers::detail::parse_json_bounded(where, json_text);
  const Artifacts a = read_artifacts(file, where);
  layers::detail::KerasModel m = layers::detail::model_from_topology(where, a.topology);
  if (a.manifest)
    assign_weights(where, m.named_layers, read_manifest(where, *a.manifest, read_shard),
                   a.metadata);
  return m.model;
}

}  // namespace detail

}  // namespace tapeflow::serialization
