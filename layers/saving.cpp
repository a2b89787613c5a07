#include "tapeflow/layers/saving.hpp"

#include <cstdint>
#include <utility>
#include <vector>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/core/memory.hpp"
#include "tapeflow/framework/core/tape.hpp"
#include "tapeflow/framework/io/atomic_file.hpp"
#include "tapeflow/framework/io/bounded_read.hpp"
#include "tapeflow/framework/io/detail/bounded_archive.hpp"
#include "tapeflow/layers/registry.hpp"
#include "tapeflow/layers/sequential.hpp"
#include "tapeflow/layers/tfjs_format.hpp"

namespace tapeflow::serialization::detail {

// ---- the records of a file -------------------------------------------------------------------
// The payload is one FileRecord. Changing what a record writes changes the file format: bump
// the record's BOOST_CLASS_VERSION below and keep loading the old versions.

struct ConfigEntry {
  std::string key, value;
  template <class Ar>
  void save(Ar& ar, unsigned) const {
    save_string(ar, "key", key);
    save_string(ar, "value", value);
  }
  template <class Ar>
  void load(Ar& ar, unsigned) {
    load_string(ar, "key", key);
    load_string(ar, "value", value);
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};

// One weight: the last component of the variable's name ("kernel"), its shape and values.
struct WeightRecord {
  std::string name;
  std::vector<std::uint64_t> shape;
  std::vector<float> data;
  template <class Ar>
  void save(Ar& ar, unsigned) const {
    save_string(ar, "name", name);
    save_vector(ar, "dim", shape);
    save_vector(ar, "v", data);
  }
  template <class Ar>
  void load(Ar& ar, unsigned) {
    load_string(ar, "name", name);
    load_vector(ar, "dim", shape);
    load_vector(ar, "v", data);
    std::uint64_t size = 1;
    for (auto d : shape) {
      if (d != 0 && size > payload_bound() / d)
        fail_corrupt_payload("weight '" + name + "' has an impossible shape");
      size *= d;
    }
    if (size != data.size())
      fail_corrupt_payload("weight '" + name + "' has " + std::to_string(data.size()) +
                           " values but its shape needs " + std::to_string(size));
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};

struct LayerRecord {
  std::string class_name;
  std::vector<ConfigEntry> config;
  bool built = false;
  std::vector<std::uint64_t> input_shape;
  std::vector<WeightRecord> weights;
  std::vector<LayerRecord> children;  // a model's layers (Sequential, Functional)
  std::string random_state;           // version 1: the layer's own random stream (checkpoints)
  template <class Ar>
  void save(Ar& ar, unsigned) const {
    save_string(ar, "class_name", class_name);
    save_vector(ar, "config", config);
    save_bool(ar, "built", built);
    save_vector(ar, "dim", input_shape);
    save_vector(ar, "weight", weights);
    save_vector(ar, "layer", children);
    save_string(ar, "random_state", random_state);
  }
  template <class Ar>
  void load(Ar& ar, unsigned version) {
    // Nested models recurse; bound the depth so a crafted file cannot overflow the stack.
    static thread_local int depth = 0;
    if (depth > 64) fail_corrupt_payload("layers nested more than 64 deep");
    struct Nesting {
      Nesting() { ++depth; }
      ~Nesting() { --depth; }
    } nesting;
    load_string(ar, "class_name", class_name);
    load_vector(ar, "config", config);
    load_bool(ar, "built", built);
    load_vector(ar, "dim", input_shape);
    load_vector(ar, "weight", weights);
    load_vector(ar, "layer", children);
    if (version >= 1) load_string(ar, "random_state", random_state);
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};

struct FileRecord {
  LayerRecord model;
  // The checkpoint part (TrainingState); defaults in a model file.
  bool has_optimizer = false;
  std::string optimizer_class;
  std::string optimizer_state;
  bool has_random_state = false;
  bool random_seed_set = false;
  std::uint64_t random_seed = 0;
  std::uint64_t random_op_counter = 0;  // version 1
  template <class Ar>
  void save(Ar& ar, unsigned) const {
    ar << boost::serialization::make_nvp(tag("model"), model);
    save_bool(ar, "has_optimizer", has_optimizer);
    save_string(ar, "optimizer_class", optimizer_class);
    std::vector<unsigned char> bytes(optimizer_state.begin(), optimizer_state.end());
    save_vector(ar, "b", bytes);
    save_bool(ar, "has_random_state", has_random_state);
    save_bool(ar, "random_seed_set", random_seed_set);
    ar << boost::serialization::make_nvp(tag("random_seed"), random_seed);
    ar << boost::serialization::make_nvp(tag("random_op_counter"), random_op_counter);
  }
  template <class Ar>
  void load(Ar& ar, unsigned version) {
    ar >> boost::serialization::make_nvp(tag("model"), model);
    load_bool(ar, "has_optimizer", has_optimizer);
    load_string(ar, "optimizer_class", optimizer_class);
    std::vector<unsigned char> bytes;
    load_vector(ar, "b", bytes);
    optimizer_state.assign(bytes.begin(), bytes.end());
    load_bool(ar, "has_random_state", has_random_state);
    load_bool(ar, "random_seed_set", random_seed_set);
    ar >> boost::serialization::make_nvp(tag("random_seed"), random_seed);
    if (version >= 1)
      ar >> boost::serialization::make_nvp(tag("random_op_counter"), random_op_counter);
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};

}  // namespace tapeflow::serialization::detail

BOOST_CLASS_VERSION(tapeflow::serialization::detail::ConfigEntry, 0)
BOOST_CLASS_VERSION(tapeflow::serialization::detail::WeightRecord, 0)
// Version 1 (both): the random streams of checkpoints (a layer's own stream, the op-seed
// counter). Version 0 files still load; their checkpoints restore the global seed only.
BOOST_CLASS_VERSION(tapeflow::serialization::detail::LayerRecord, 1)
BOOST_CLASS_VERSION(tapeflow::serialization::detail::FileRecord, 1)

namespace tapeflow::serialization {

namespace {

using detail::LayerRecord;
using detail::WeightRecord;

// Largest tensor a rebuild may allocate (detail::set_rebuild_tensor_limit).
std::size_t g_rebuild_tensor_limit = std::size_t(2) << 30;

// Largest file `load` reads. Far above any model this CPU library trains (an XML file takes
// about 30 bytes a weight); it only stops a wrong path (a device, a huge unrelated file) from
// exhausting memory.
constexpr std::size_t kMaxFileBytes = std::size_t(16) << 30;

std::string file_where(const std::string& op, const std::string& path) {
  return op + ": '" + path + "'";
}

// ---- model -> record -------------------------------------------------------------------------

// "dense/kernel:0" -> "kernel": the name of a weight within its layer.
std::string last_component(const std::string& name) {
  std::string n = name;
  if (auto colon = n.rfind(':'); colon != std::string::npos) n = n.substr(0, colon);
  if (auto slash = n.rfind('/'); slash != std::string::npos) n = n.substr(slash + 1);
  return n;
}

LayerRecord to_record(const layers::Layer& layer, bool with_random_state) {
  LayerRecord r;
  if (with_random_state) r.random_state = layer.random_state();
  r.class_name = layer.class_name();
  for (const auto& [k, v] : layer.get_config())
    if (k != "layers") r.config.push_back({k, v});  // a model's layers are its children
  r.built = layer.built();
  if (r.built)
    for (auto d : layer.input_shape()) r.input_shape.push_back(d);
  if (auto* model = dynamic_cast<const layers::Model*>(&layer)) {
    for (const auto& child : model->layers())
      r.children.push_back(to_record(*child, with_random_state));
  } else if (r.built) {
    for (const Variable& v : layer.variables()) {
      WeightRecord w;
      w.name = last_component(v.name());
      for (auto d : v.value().shape()) w.shape.push_back(d);
      w.data.assign(v.value().begin(), v.value().end());
      r.weights.push_back(std::move(w));
    }
  }
  return r;
}

// ---- record -> model -------------------------------------------------------------------------

std::shared_ptr<layers::Layer> from_record(const LayerRecord& r, const std::string& where) {
  Config cfg;
  for (const auto& e : r.config) cfg[e.key] = e.value;
  if (r.class_name == "Functional") {
    // The layers first, then the nodes that connect them (the record's config): calling them
    // builds them, ready for their weights.
    std::vector<std::pair<std::string, std::shared_ptr<layers::Layer>>> children;
    for (const auto& child : r.children) {
      std::string saved_name;
      for (const auto& e : child.config)
        if (e.key == "name") saved_name = e.value;
      children.emplace_back(saved_name, from_record(child, where));
    }
    return layers::Model::from_layers(cfg, children);
  }
  if (auto name = cfg.find("name"); name != cfg.end())
    layers::detail::KeepNames::next(name->second);
  std::shared_ptr<layers::Layer> layer = layers::create_layer(r.class_name, cfg);
  if (auto* seq = dynamic_cast<layers::Sequential*>(layer.get())) {
    for (const auto& child : r.children) seq->add(from_record(child, where));
  } else if (!r.children.empty()) {
    fail_file(where,
              "corrupted file: layer '" + layer->name() + "' (" + r.class_name + ") has sublayers");
  }
  return layer;
}

// The saved names of a record's layers, the record's own first, depth first.
void saved_names(const LayerRecord& r, std::vector<std::string>& out) {
  for (const auto& e : r.config)
    if (e.key == "name") out.push_back(e.value);
  for (const auto& child : r.children) saved_names(child, out);
}

// The non-container layers of `layer` paired with their records, depth first. A model whose
// structure differs from the record's is a ShapeError.
void collect(const std::shared_ptr<layers::Layer>& layer, const LayerRecord& r,
             std::vector<std::pair<layers::Layer*, const LayerRecord*>>& out) {
  if (layer->class_name() != r.class_name)
    fail_shape("load_weights", "layer '" + layer->name() + "' is a " + layer->class_name() +
                                   " but the file has a " + r.class_name + " there");
  if (auto* model = dynamic_cast<layers::Model*>(layer.get())) {
    const auto children = model->layers();
    if (children.size() != r.children.size())
      fail_shape("load_weights", "model '" + layer->name() + "' has " +
                                     std::to_string(children.size()) + " layers but the file has " +
                                     std::to_string(r.children.size()));
    for (std::size_t i = 0; i < r.children.size(); ++i) collect(children[i], r.children[i], out);
  } else {
    out.emplace_back(layer.get(), &r);
  }
}

// Builds an unbuilt `layer` the way the recorded one was built, so that it has weights to
// assign. Layers without weights are left to build on their first call (merge layers need a
// list of inputs, which a build on zeros cannot give).
void build_like(layers::Layer& layer, const LayerRecord& r, const std::string& where) {
  if (!r.built || layer.built()) return;
  bool has_weights = !r.weights.empty();
  for (const auto& c : r.children) has_weights = has_weights || c.built;
  if (!has_weights) return;
  // The layer is built by a forward pass on zeros of the saved input shape. The weights do not
  // depend on the batch size: past 16M elements the pass runs on one sample, and one sample
  // must stay under 64M elements (a corrupt shape must not cost gigabytes and minutes).
  Shape s(r.input_shape.begin(), r.input_shape.end());
  auto elements = [&](std::size_t from) {
    std::uint64_t size = 1;
    for (std::size_t i = from; i < s.size(); ++i) {
      const std::uint64_t d = s[i];
      if (d != 0 && size > (std::uint64_t{1} << 40) / d) return std::uint64_t{1} << 40;
      size *= d;
    }
    return size;
  };
  if (!s.empty() && elements(0) > (std::uint64_t{1} << 24)) {
    if (elements(1) > (std::uint64_t{1} << 26))
      fail_file(where, "layer '" + layer.name() + "': build input shape " + shape_str(s) +
                           " is too large (more than 2^26 elements per sample)");
    s[0] = 1;
  }
  const std::string limit_what = where + ": rebuilding the model";
  memory::AllocationLimit limit(g_rebuild_tensor_limit, limit_what.c_str());
  if (auto* seq = dynamic_cast<layers::Sequential*>(&layer)) {
    seq->build(s);
  } else {
    StopRecording pause;
    layer(Variable(Tensor(xt::zeros<float>(s))), false);
  }
}

// Checks every layer's weights against the record's (ShapeError naming the layer when the
// count, a name or a shape differs), then assigns them all: nothing is assigned on a mismatch.
void assign_weights(const std::shared_ptr<layers::Layer>& model, const LayerRecord& r) {
  std::vector<std::pair<layers::Layer*, const LayerRecord*>> pairs;
  collect(model, r, pairs);
  for (auto [layer, rec] : pairs) {
    if (!layer->built() && rec->weights.empty()) continue;
    std::vector<Variable> vars = layer->variables();
    if (vars.size() != rec->weights.size())
      fail_shape("load_weights", "layer '" + layer->name() + "' (" + layer->class_name() +
                                     ") has " + std::to_string(vars.size()) +
                                     " weights but the file has " +
                                     std::to_string(rec->weights.size()));
    for (std::size_t i = 0; i < vars.size(); ++i) {
      const WeightRecord& w = rec->weights[i];
      Shape s(w.shape.begin(), w.shape.end());
      if (last_component(vars[i].name()) != w.name || vars[i].value().shape() != s)
        fail_shape("load_weights", "layer '" + layer->name() + "': weight " + std::to_string(i) +
                                       " is '" + last_component(vars[i].name()) + "' of shape " +
                                       shape_str(vars[i].value().shape()) + " but the file has '" +
                                       w.name + "' of shape " + shape_str(s));
    }
  }
  for (auto [layer, rec] : pairs) {
    if (!layer->built() && rec->weights.empty()) continue;
    std::vector<Variable> vars = layer->variables();
    for (std::size_t i = 0; i < vars.size(); ++i) {
      Tensor t = xt::zeros<float>(vars[i].value().shape());
      std::copy(rec->weights[i].data.begin(), rec->weights[i].data.end(), t.begin());
      vars[i].assign(t);
    }
  }
}

// A non-owning shared_ptr: lets the helpers treat the caller's model like a loaded one.
std::shared_ptr<layers::Layer> borrow(layers::Layer& model) {
  return std::shared_ptr<layers::Layer>(&model, [](layers::Layer*) {});
}

FileInfo describe(const detail::ModelFile& file) {
  const detail::TrainingState& training = file.training_state();
  FileInfo info;
  info.format_version = file.format_version();
  info.archive = file.archive();
  info.model = file.rebuild();
  info.has_optimizer = training.has_optimizer;
  info.optimizer_class = training.optimizer_class;
  info.has_random_state = training.has_random_state;
  info.random_seed = training.random.global_seed;
  return info;
}

}  // namespace

// ---- public API --------------------------------------------------------------------------------

void save(const layers::Layer& model, const std::string& path, Archive archive) {
  if (archive == Archive::automatic && is_tfjs_path(path)) return save_tfjs(model, path);
  detail::write_model_file(model, detail::TrainingState{}, path, archive, "save");
}

std::shared_ptr<layers::Layer> load(const std::string& path) {
  if (is_tfjs_path(path)) return load_tfjs(path);
  return detail::ModelFile::read(path, "load").rebuild();
}

void load_weights(layers::Layer& model, const std::string& path) {
  if (is_tfjs_path(path)) return load_tfjs_weights(model, path);
  detail::ModelFile::read(path, "load_weights").load_weights_into(model);
}

FileInfo inspect(const std::string& path) {
  return describe(detail::ModelFile::read(path, "load"));
}

namespace detail {

void set_rebuild_tensor_limit(std::size_t bytes) { g_rebuild_tensor_limit = bytes; }

FileInfo parse(const std::string& bytes, bool verify_checksum) {
  return describe(ModelFile::parse(bytes, verify_checksum, "load"));
}

void write_model_file(const layers::Layer& model, const TrainingState& training,
                      const std::string& path, Archive archive, const std::string& op) {
  layers::check_serializable(model);  // before anything is written
  FileRecord rec;
  rec.model = to_record(model, /*with_random_state=*/training.has_random_state);
  rec.has_optimizer = training.has_optimizer;
  rec.optimizer_class = training.optimizer_class;
  rec.optimizer_state = training.optimizer_state;
  rec.has_random_state = training.has_random_state;
  rec.random_seed_set = training.random.global_seed.has_value();
  rec.random_seed = training.random.global_seed.value_or(0);
  rec.random_op_counter = training.random.op_counter;
  archive = resolve_archive(archive, path);
  write_file_atomically(path, make_file_image(archive, write_payload(rec, archive)),
                        file_where(op, path));
}

ModelFile ModelFile::read(const std::string& path, const std::string& op) {
  const std::string where = file_where(op, path);
  return parse(read_file_bounded(path, kMaxFileBytes, where), /*verify_checksum=*/true, where);
}

ModelFile ModelFile::parse(const std::string& image, bool verify_checksum,
                           const std::string& where) {
  const FileHeader header = read_file_header(image, verify_checksum, where);
  FileRecord rec;
  read_payload(image.substr(header.payload_offset), header.archive, rec, where);
  ModelFile file;
  file.where_ = where;
  file.format_version_ = header.format_version;
  file.archive_ = header.archive;
  file.training_.has_optimizer = rec.has_optimizer;
  file.training_.optimizer_class = std::move(rec.optimizer_class);
  file.training_.optimizer_state = std::move(rec.optimizer_state);
  file.training_.has_random_state = rec.has_random_state;
  if (rec.random_seed_set) file.training_.random.global_seed = rec.random_seed;
  file.training_.random.op_counter = rec.random_op_counter;
  file.model_ = std::make_shared<const LayerRecord>(std::move(rec.model));
  return file;
}

std::shared_ptr<layers::Layer> ModelFile::rebuild() const {
  try {
    // Every layer the file names keeps its name (when it is free in the default graph), even
    // where a composite layer's sublayers, made by its constructor, would take it.
    std::vector<std::string> names;
    saved_names(*model_, names);
    layers::detail::KeepNames keep(names);
    auto model = from_record(*model_, where_);
    build_like(*model, *model_, where_);
    assign_weights(model, *model_);
    return model;
  } catch (const FileError&) {
    throw;
  } catch (const Error& e) {
    // A layer's own error (an unknown class, a config value that does not parse, weights that
    // do not fit the layer the file describes): here the file is at fault.
    throw FileError(::tapeflow::detail::with_context(where_, e.what()));
  } catch (const std::exception& e) {
    // a corrupt config value can make a standard parser or a layer constructor throw
    fail_file(where_, std::string("corrupted file: cannot rebuild the model: ") + e.what());
  }
}

void ModelFile::load_weights_into(layers::Layer& model) const {
  build_like(model, *model_, where_);
  assign_weights(borrow(model), *model_);
}

void ModelFile::restore_random_streams(layers::Layer& model) const {
  std::vector<std::pair<layers::Layer*, const LayerRecord*>> pairs;
  collect(borrow(model), *model_, pairs);
  for (auto [layer, rec] : pairs) {
    try {
      layer->set_random_state(rec->random_state);
    } catch (const Error& e) {
      fail_file(where_, std::string("corrupted file: ") + e.what());
    }
  }
}

}  // namespace detail

}  // namespace tapeflow::serialization
