#include "tapeflow/layers/keras_json.hpp"

#include <map>
#include <set>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/layers/detail/keras_model_json.hpp"
#include "tapeflow/layers/model.hpp"
#include "tapeflow/layers/registry.hpp"
#include "tapeflow/layers/sequential.hpp"

namespace tapeflow::layers::detail {

namespace {

// Deeper JSON than any model needs (a layer config nests about 6 levels, a nested model adds 4);
// the bound keeps a hostile file from exhausting the stack of the recursive readers.
constexpr int kMaxJsonDepth = 256;
// Models inside models, as deep as a real architecture goes.
constexpr int kMaxModelNesting = 16;

// ---- writing -----------------------------------------------------------------------------

Json batch_shape_json(std::optional<std::size_t> batch, const Shape& sample) {
  Json shape = Json::array();
  shape.push_back(batch ? Json(*batch) : Json(nullptr));
  for (std::size_t d : sample) shape.push_back(d);
  return shape;
}

// Keras 2's InputLayer config (TF.js reads it too): an input is its batch shape.
Json input_layer_config(Json batch_shape, const std::string& name) {
  return {{"batch_input_shape", std::move(batch_shape)},
          {"dtype", "float32"},
          {"sparse", false},
          {"name", name}};
}

Json layer_entry(const Layer& layer);

Json plain_layer_config(const Layer& layer) {
  const Config config = layer.get_config();
  Json out = Json::object();
  if (layer.class_name() == "InputLayer") {
    const auto& input = dynamic_cast<const InputLayer&>(layer);
    Json shape = batch_shape_json(std::nullopt, input.sample_shape());
    shape[0] = config_text_to_json("batch_size", config.at("batch_size"));
    return input_layer_config(std::move(shape), layer.name());
  }
  for (const auto& [key, text] : config) out[key] = config_text_to_json(key, text);
  out["dtype"] = "float32";
  return out;
}

Json functional_config(const Model& model) {
  const Config config = model.get_config();
  // The nodes in running order, [layer, [[layer, node, tensor], ...]], become each layer's
  // inbound_nodes, each input as Keras 2 writes it: [layer, node, tensor, {kwargs}].
  std::map<std::string, Json> inbound;
  for (const Json& node : Json::parse(config.at("nodes"))) {
    Json inputs = Json::array();
    for (const Json& ref : node[1]) inputs.push_back({ref[0], ref[1], ref[2], Json::object()});
    auto [it, added] = inbound.try_emplace(node[0].get<std::string>(), Json::array());
    it->second.push_back(std::move(inputs));
  }
  Json layers = Json::array();
  for (const auto& layer : model.layers()) {
    Json entry = layer_entry(*layer);
    entry["name"] = layer->name();
    auto it = inbound.find(layer->name());
    entry["inbound_nodes"] = it == inbound.end() ? Json::array() : it->second;
    layers.push_back(std::move(entry));
  }
  return {{"name", model.name()},
          {"trainable", model.trainable()},
          {"layers", std::move(layers)},
          {"input_layers", Json::parse(config.at("input_layers"))},
          {"output_layers", Json::parse(config.at("output_layers"))}};
}

Json sequential_config(const Sequential& model) {
  Json layers = Json::array();
  // Keras 2 starts a built Sequential's layers with its InputLayer (TF.js reads that too).
  if (!model.inputs().empty()) {
    const SymbolicTensor& input = model.inputs()[0];
    layers.push_back(
        {{"class_name", "InputLayer"},
         {"config", input_layer_config(batch_shape_json(input.batch_size(), input.sample_shape()),
                                       input.layer_name())}});
  }
  for (const auto& layer : model.layers()) layers.push_back(layer_entry(*layer));
  return {{"name", model.name()}, {"trainable", model.trainable()}, {"layers", std::move(layers)}};
}

Json layer_entry(const Layer& layer) {
  if (const auto* s = dynamic_cast<const Sequential*>(&layer))
    return {{"class_name", "Sequential"}, {"config", sequential_config(*s)}};
  if (const auto* m = dynamic_cast<const Model*>(&layer))
    return {{"class_name", "Functional"}, {"config", functional_config(*m)}};
  return {{"class_name", layer.class_name()}, {"config", plain_layer_config(layer)}};
}

// ---- reading -----------------------------------------------------------------------------

// Config fields Keras or TF.js write that tapeflow has no option for, with the value that means
// what tapeflow does; another value is an error (the model would compute something else).
bool field_at_tapeflow_value(const std::string& key, const Json& value) {
  static const std::map<std::string, Json> fixed = {
      {"groups", 1},
      {"sparse", false},
      {"ragged", false},
      {"synchronized", false},
      {"renorm", false},
      {"lora_rank", nullptr},
      {"autocast", true},
      {"optional", false},
      {"noise_shape", nullptr},  // SpatialDropout*: Keras 2 writes Dropout's keys
      {"implementation", 2},     // LSTM, GRU (Keras 2): the fused form, which tapeflow runs
      {"time_major", false},     // the recurrent layers (Keras 2)
  };
  auto it = fixed.find(key);
  // TF.js writes some of them as null when they were not given.
  return it != fixed.end() && (it->second == value || value.is_null());
}

bool is_float32_dtype(const Json& dtype) {
  if (dtype.is_null()) return true;
  if (dtype.is_string()) return dtype == "float32";
  // Keras 3: {"class_name": "DTypePolicy", "config": {"name": "float32"}}.
  if (dtype.is_object() && dtype.contains("config") && dtype["config"].is_object())
    return dtype["config"].value("name", Json(nullptr)) == "float32";
  return false;
}

const Json& member(const std::string& where, const Json& object, const char* key,
                   Json::value_t type, const char* expected) {
  auto it = object.find(key);
  if (it == object.end() || it->type() != type)
    fail_file(where, std::string("'") + key + "' must be " + expected +
                         (it == object.end() ? ", it is missing" : ", got " + it->dump()));
  return *it;
}

// A layer's or model's own error as a FileError of the file, its context not repeated.
[[noreturn]] void file_error_in(const std::string& here, const Error& e) {
  throw FileError(tapeflow::detail::with_context(here, e.what()));
}

std::string layer_where(const std::string& where, const std::string& class_name,
                        const std::string& name) {
  return where + ": " + class_name + " '" + name + "'";
}

struct SampleShape {
  bool known = false;
  std::optional<long> batch;
  std::vector<long> dims;
};

// A Keras batch shape [batch | null, d1, ...]; `known` only when every sample axis is given.
SampleShape read_batch_shape(const std::string& where, const Json& shape) {
  if (!shape.is_array() || shape.empty())
    fail_file(where, "batch_input_shape must be a list [batch, d1, ...], got " + shape.dump());
  SampleShape s;
  s.known = true;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const Json& d = shape[i];
    if (d.is_null()) {
      if (i > 0) s.known = false;
      continue;
    }
    if (!d.is_number_integer() || d.get<long long>() <= 0)
      fail_file(where, "batch_input_shape must hold positive sizes or null, got " + shape.dump());
    if (i == 0)
      s.batch = d.get<long>();
    else
      s.dims.push_back(d.get<long>());
  }
  return s;
}

const Json* batch_shape_field(const Json& config) {
  for (const char* key : {"batch_input_shape", "batch_shape"})
    if (auto it = config.find(key); it != config.end() && !it->is_null()) return &*it;
  return nullptr;
}

class Reader {
 public:
  explicit Reader(std::string where) : where_(std::move(where)) {}

  std::shared_ptr<Layer> layer(const Json& entry, int nesting) {
    if (!entry.is_object())
      fail_file(where_, "a layer must be {\"class_name\", \"config\"}, got " + entry.dump());
    const std::string cls =
        member(where_, entry, "class_name", Json::value_t::string, "a string").get<std::string>();
    auto cfg_it = entry.find("config");
    // Very old Keras wrote a Sequential's config as the bare list of its layers.
    if (cls == "Sequential" && cfg_it != entry.end() && cfg_it->is_array())
      return sequential({{"layers", *cfg_it}}, nesting);
    const Json& config = member(where_, entry, "config", Json::value_t::object, "an object");
    if (cls == "Sequential") return sequential(config, nesting);
    if (cls == "Functional" || cls == "Model") return functional(config, nesting);
    return plain(cls, config);
  }

  std::vector<std::pair<std::string, std::shared_ptr<Layer>>> named;

 private:
  std::string where_;

  static std::string name_in(const std::string& where, const Json& config) {
    auto it = config.find("name");
    if (it == config.end() || it->is_null()) return "";
    if (!it->is_string()) fail_file(where, "a layer's name must be a string, got " + it->dump());
    return it->get<std::string>();
  }

  std::shared_ptr<Layer> plain(const std::string& file_cls, const Json& config) {
    // Keras 3 spells Keras 2's SyncBatchNormalization BatchNormalization(synchronized=True).
    const bool sync_bn =
        file_cls == "BatchNormalization" && config.value("synchronized", Json(false)) == true;
    const std::string cls = sync_bn ? "SyncBatchNormalization" : file_cls;
    const std::string name = name_in(where_, config);
    const std::string here = layer_where(where_, file_cls, name);
    const Config text = config_text(cls, here, config);
    std::shared_ptr<Layer> made;
    KeepNames::next(name);
    try {
      made = create_layer(cls, text);
    } catch (const Error& e) {
      file_error_in(here, e);
    }
    // A field the layer does not know would be silently dropped by the registry: refuse it.
    const Config known = made->get_config();
    for (const auto& [key, value] : text)
      if (!known.count(key) && key != "activity_regularizer")
        fail_file(here, "config field '" + key + "' (" + value +
                            ") is not supported by tapeflow's " + cls);
    named.emplace_back(name, made);
    return made;
  }

  // A Keras layer config as tapeflow's config text of class `cls` (errors name `here`).
  Config config_text(const std::string& cls, const std::string& here, const Json& config) {
    Config text;
    for (const auto& [key, value] : config.items()) {
      if (key == "dtype") {
        if (!is_float32_dtype(value))
          fail_file(here,
                    "dtype " + value.dump() + " is not supported (tapeflow computes in float32)");
        continue;
      }
      if (key == "batch_input_shape" || key == "batch_shape" || key == "input_shape") {
        if (cls != "InputLayer") continue;  // the model's input: read by the Sequential
        const SampleShape s = read_batch_shape(here, value);
        if (!s.known)
          fail_file(here,
                    "every axis of the input but the batch needs a size, got " + value.dump());
        text["shape"] = json_to_config_text(here, "shape", Json(s.dims));
        text["batch_size"] = s.batch ? std::to_string(*s.batch) : "None";
        continue;
      }
      if (key == "synchronized" && cls == "SyncBatchNormalization") {
        if (value == false)
          fail_file(here, "synchronized false contradicts the class SyncBatchNormalization");
        continue;
      }
      if (field_at_tapeflow_value(key, value) || (key == "input_length" && cls == "Embedding"))
        continue;
      // TF.js writes null for options not given: the default.
      if ((key == "activity_regularizer" || key == "mask_zero") && value.is_null()) continue;
      // Keras 3 renamed LeakyReLU's alpha.
      const std::string field = cls == "LeakyReLU" && key == "negative_slope" ? "alpha" : key;
      text[field] = json_to_config_text(here, field, value);
    }
    return text;
  }

  static std::vector<std::string> names_of(const Json& layers) {
    std::vector<std::string> names;
    for (const Json& entry : layers)
      if (entry.is_object()) {
        if (auto n = entry.find("name"); n != entry.end() && n->is_string())
          names.push_back(n->get<std::string>());
        else if (auto c = entry.find("config"); c != entry.end() && c->is_object())
          if (auto cn = c->find("name"); cn != c->end() && cn->is_string())
            names.push_back(cn->get<std::string>());
      }
    return names;
  }

  // What both kinds of model start with: the name, where errors happen, the layer list, and
  // the names to keep while the layers are made (theirs and the model's).
  struct ModelHead {
    std::string name, here;
    const Json* layers = nullptr;
    std::vector<std::string> names;
  };
  ModelHead model_head(const Json& config, const char* class_name, int nesting) const {
    if (nesting > kMaxModelNesting) fail_file(where_, "models nested too deeply");
    ModelHead h;
    h.name = name_in(where_, config);
    h.here = layer_where(where_, class_name, h.name);
    h.layers = &member(h.here, config, "layers", Json::value_t::array, "a list of layers");
    h.names = names_of(*h.layers);
    h.names.push_back(h.name);
    return h;
  }

  std::shared_ptr<Layer> sequential(const Json& config, int nesting) {
    const ModelHead head = model_head(config, "Sequential", nesting);
    const std::string& name = head.name;
    const std::string& here = head.here;
    const Json& layers = *head.layers;
    KeepNames keep(head.names);
    KeepNames::next(name);
    SequentialOptions options;
    if (!name.empty()) options.name(name);
    auto model = std::make_shared<Sequential>(options);
    std::optional<SampleShape> input;
    for (const Json& entry : layers) {
      if (!entry.is_object()) fail_file(here, "a layer must be an object, got " + entry.dump());
      const Json* cfg =
          entry.contains("config") && entry["config"].is_object() ? &entry["config"] : nullptr;
      const Json* shape = cfg ? batch_shape_field(*cfg) : nullptr;
      if (!input && shape) input = read_batch_shape(here, *shape);
      if (entry.value("class_name", Json("")) == "InputLayer") continue;
      model->add(layer(entry, nesting + 1));
    }
    if (input && input->known) {
      Shape s{static_cast<std::size_t>(input->batch.value_or(1))};
      for (long d : input->dims) s.push_back(static_cast<std::size_t>(d));
      try {
        model->build(s);
      } catch (const Error& e) {
        file_error_in(here, e);
      }
    }
    if (config.contains("trainable") && config["trainable"] == false) model->set_trainable(false);
    named.emplace_back(name, model);
    return model;
  }

  // One input of a node: Keras 2's [layer, node, tensor, kwargs] (TF.js too), or Keras 3's
  // {"class_name": "__keras_tensor__", "config": {"keras_history": [layer, node, tensor]}}.
  Json tensor_ref(const std::string& here, const Json& j) {
    if (j.is_object()) {
      const Json* history = nullptr;
      if (auto c = j.find("config"); c != j.end() && c->is_object())
        if (auto h = c->find("keras_history"); h != c->end()) history = &*h;
      if (!history) fail_file(here, "a node input must be a tensor reference, got " + j.dump());
      return tensor_ref(here, *history);
    }
    if (!j.is_array() || j.size() < 3 || j.size() > 4 || !j[0].is_string() ||
        !j[1].is_number_unsigned() || !j[2].is_number_unsigned())
      fail_file(here, "a node input must be [layer, node, tensor, {kwargs}], got " + j.dump());
    if (j.size() == 4 && !(j[3].is_object() && j[3].empty()))
      fail_file(here, "a node input passes keyword arguments tapeflow does not take: " + j.dump());
    return {j[0], j[1], j[2]};
  }

  Json node_inputs(const std::string& here, const Json& node) {
    Json refs = Json::array();
    if (node.is_object()) {  // Keras 3: {"args": [...], "kwargs": {...}}
      if (auto kw = node.find("kwargs"); kw != node.end() && !(kw->is_object() && kw->empty()))
        fail_file(here, "a node passes keyword arguments tapeflow does not take: " + kw->dump());
      auto args = node.find("args");
      if (args == node.end() || !args->is_array() || args->empty())
        fail_file(here, "a node must have args, got " + node.dump());
      const Json& first = (*args)[0];
      if (first.is_array())
        for (const Json& t : first) refs.push_back(tensor_ref(here, t));
      else
        for (const Json& t : *args) refs.push_back(tensor_ref(here, t));
      return refs;
    }
    if (!node.is_array()) fail_file(here, "a node must be a list of inputs, got " + node.dump());
    for (const Json& t : node) refs.push_back(tensor_ref(here, t));
    return refs;
  }

  std::shared_ptr<Layer> functional(const Json& config, int nesting) {
    const ModelHead head = model_head(config, "Functional", nesting);
    const std::string& name = head.name;
    const std::string& here = head.here;
    const Json& layers = *head.layers;
    KeepNames keep(head.names);
    std::vector<std::pair<std::string, std::shared_ptr<Layer>>> given;
    // Per layer (in the file's order): its nodes' inputs, waiting to be run.
    std::vector<std::pair<std::string, std::vector<Json>>> pending;
    std::map<std::string, std::size_t> runs;  // nodes of each layer ordered so far
    for (const Json& entry : layers) {
      if (!entry.is_object()) fail_file(here, "a layer must be an object, got " + entry.dump());
      const std::string layer_name =
          member(here, entry, "name", Json::value_t::string, "a string").get<std::string>();
      given.emplace_back(layer_name, layer(entry, nesting + 1));
      std::vector<Json> nodes;
      if (auto in = entry.find("inbound_nodes"); in != entry.end() && !in->is_null()) {
        if (!in->is_array())
          fail_file(here, "inbound_nodes of '" + layer_name + "' must be a list");
        for (const Json& node : *in) nodes.push_back(node_inputs(here, node));
      }
      if (entry.value("class_name", Json("")) == "InputLayer") runs[layer_name] = 1;
      pending.emplace_back(layer_name, std::move(nodes));
    }
    // Keras' order: sweep the layers in file order, running each node whose inputs exist, until
    // all have run; a sweep that runs none means a node waits on a tensor nobody makes.
    Json ordered = Json::array();
    std::vector<std::size_t> next(pending.size(), 0);
    std::size_t left = 0;
    for (const auto& p : pending) left += p.second.size();
    while (left > 0) {
      bool progress = false;
      for (std::size_t i = 0; i < pending.size(); ++i) {
        auto& [layer_name, nodes] = pending[i];
        while (next[i] < nodes.size()) {
          bool ready = true;
          for (const Json& ref : nodes[next[i]]) {
            auto r = runs.find(ref[0].get<std::string>());
            ready = ready && r != runs.end() && r->second > ref[1].get<std::size_t>();
          }
          if (!ready) break;
          ordered.push_back({layer_name, nodes[next[i]]});
          ++runs[layer_name];
          ++next[i];
          --left;
          progress = true;
        }
      }
      if (!progress)
        fail_file(here,
                  "a node's input is made by no layer of the model (or the nodes form a cycle)");
    }
    Config text;
    text["name"] = name;
    text["trainable"] = config.value("trainable", Json(true)) == false ? "false" : "true";
    text["input_layers"] =
        member(here, config, "input_layers", Json::value_t::array, "a list").dump();
    text["output_layers"] =
        member(here, config, "output_layers", Json::value_t::array, "a list").dump();
    text["nodes"] = ordered.dump();
    std::shared_ptr<Layer> model;
    try {
      model = Model::from_layers(text, given);
    } catch (const Error& e) {
      file_error_in(here, e);
    }
    named.emplace_back(name, model);
    return model;
  }
};

}  // namespace

Json parse_json_bounded(const std::string& where, const std::string& text) {
  try {
    return Json::parse(text, [&](int depth, Json::parse_event_t, Json&) {
      if (depth > kMaxJsonDepth)
        fail_file(where, "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
      return true;
    });
  } catch (const Json::exception& e) {
    fail_file(where, std::string("not valid JSON: ") + e.what());
  }
}

Json keras_topology(const Layer& model) {
  check_serializable(model);
  Json j = layer_entry(model);
  j["keras_version"] = std::string("tapeflow ") + TAPEFLOW_VERSION;
  j["backend"] = "tapeflow";
  return j;
}

KerasModel model_from_topology(const std::string& where, const Json& topology) {
  if (!topology.is_object()) fail_file(where, "the model topology must be an object");
  // The converter's Keras files wrap the model: {"model_config": {...}, "training_config": ...}.
  const Json& model = topology.contains("model_config") ? topology["model_config"] : topology;
  Reader reader(where);
  KerasModel out;
  out.model = reader.layer(model, 0);
  out.named_layers = std::move(reader.named);
  return out;
}

}  // namespace tapeflow::layers::detail

namespace tapeflow::serialization {

std::string to_json(const layers::Layer& model) {
  return layers::detail::keras_topology(model).dump();
}

std::shared_ptr<layers::Layer> model_from_json(const std::string& json) {
  const std::string where = "model_from_json";
  return layers::detail::model_from_topology(where, layers::detail::parse_json_bounded(where, json))
      .model;
}

}  // namespace tapeflow::serialization
