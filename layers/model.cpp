#include "tapeflow/layers/model.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "tapeflow/framework/core/profile.hpp"
#include "tapeflow/layers/detail/layer_list_json.hpp"
#include "tapeflow/layers/detail/summary_table.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

using Json = nlohmann::json;

// ---- construction: validate and order the graph --------------------------------------------

Model::Model(const std::string& default_name, const ModelOptions& options)
    : LayerWith(default_name, options) {
  set_scopes_sublayers(false);
}

Model::Model(SymbolicTensors inputs, SymbolicTensors outputs, const std::string& name)
    : Model(std::move(inputs), std::move(outputs), ModelOptions().name(name)) {}

Model::Model(SymbolicTensors inputs, SymbolicTensors outputs, const ModelOptions& options)
    : Model("functional", options) {
  set_graph(std::move(inputs), std::move(outputs));
  set_model_layers(layers_);
  Shape first{inputs_[0].batch_size().value_or(1)};
  first.insert(first.end(), inputs_[0].sample_shape().begin(), inputs_[0].sample_shape().end());
  mark_built(first);
}

void Model::clear_graph() {
  inputs_.clear();
  outputs_.clear();
  steps_.clear();
  layers_.clear();
  slots_.clear();
  input_slots_.clear();
  output_slots_.clear();
  last_use_.clear();
  slot_count_ = 0;
}

void Model::set_graph(SymbolicTensors inputs, SymbolicTensors outputs) {
  clear_graph();
  if (inputs.empty()) fail(name(), "a model needs at least one input");
  if (outputs.empty()) fail(name(), "a model needs at least one output");
  std::set<const detail::Node*> input_nodes;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) fail(name(), "input " + std::to_string(i) + " is undefined");
    if (!is_model_input(inputs[i]))
      fail(name(), "input " + std::to_string(i) + " comes from layer '" + inputs[i].layer_name() +
                       "'; the inputs of a model must be Input(...) tensors");
    if (!input_nodes.insert(inputs[i].node().get()).second)
      fail(name(), "input '" + inputs[i].layer_name() + "' is given twice");
  }
  for (std::size_t i = 0; i < outputs.size(); ++i)
    if (!outputs[i].defined()) fail(name(), "output " + std::to_string(i) + " is undefined");

  // Depth-first from the outputs, without recursion (deep models): a node is placed after
  // every node it takes an input from.
  std::vector<std::shared_ptr<const detail::Node>> order;
  std::set<const detail::Node*> seen;
  std::set<const detail::Node*> used_inputs;
  for (const SymbolicTensor& out : outputs) {
    if (!seen.insert(out.node().get()).second) continue;
    std::vector<std::pair<std::shared_ptr<const detail::Node>, std::size_t>> stack{{out.node(), 0}};
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (node->inputs.empty()) {
        if (!input_nodes.count(node.get()))
          fail(name(), "output '" + out.layer_name() + "' depends on input '" + node->layer.name +
                           "', which is not one of the model's inputs");
        used_inputs.insert(node.get());
        stack.pop_back();
        continue;
      }
      if (next < node->inputs.size()) {
        const auto& child = node->inputs[next++].node();
        if (seen.insert(child.get()).second) stack.emplace_back(child, 0);
        continue;
      }
      order.push_back(node);
      stack.pop_back();
    }
  }
  for (const SymbolicTensor& in : inputs)
    if (!used_inputs.count(in.node().get()))
      fail(name(), "input '" + in.layer_name() + "' is not used by any output");

  // Slots: the inputs, then each node's outputs in running order.
  inputs_ = std::move(inputs);
  outputs_ = std::move(outputs);
  for (const SymbolicTensor& in : inputs_) {
    slots_[{in.node().get(), 0}] = slot_count_;
    input_slots_.push_back(slot_count_++);
    layers_.push_back(in.node()->layer);
  }
  std::map<const Layer*, std::size_t> calls;
  for (const auto& node : order) {
    Step step;
    step.node = node;
    for (const SymbolicTensor& t : node->inputs) step.in_slots.push_back(slot_of(t));
    step.first_out_slot = slot_count_;
    for (std::size_t i = 0; i < node->output_shapes.size(); ++i)
      slots_[{node.get(), i}] = slot_count_++;
    step.node_index = calls[node->layer.raw]++;
    if (step.node_index == 0) layers_.push_back(node->layer);
    steps_.push_back(std::move(step));
  }
  for (const SymbolicTensor& out : outputs_) output_slots_.push_back(slot_of(out));

  std::map<std::string, const Layer*> by_name;
  for (const auto& l : layers_) {
    auto [it, fresh] = by_name.emplace(l.name, l.raw);
    if (!fresh && it->second != l.raw)
      fail(name(), "two layers are named '" + l.name + "'; layer names in a model must be unique");
  }
  // A slot is freed after the last step that reads it, so that a forward pass without a tape
  // holds only the tensors still needed.
  last_use_.assign(slot_count_, 0);
  for (std::size_t k = 0; k < steps_.size(); ++k)
    for (std::size_t s : steps_[k].in_slots) last_use_[s] = k;
  for (std::size_t s : output_slots_) last_use_[s] = steps_.size();
}

std::size_t Model::slot_of(const SymbolicTensor& t) const {
  auto it = slots_.find({t.node().get(), t.index()});
  if (it == slots_.end())
    fail(name(), "internal: a tensor of '" + t.layer_name() + "' has no slot");
  return it->second;
}

std::size_t Model::node_index_of(const detail::Node* node) const {
  for (const Step& s : steps_)
    if (s.node.get() == node) return s.node_index;
  return 0;  // an input's node
}

std::string Model::tensor_key(const SymbolicTensor& t) const {
  return t.layer_name() + "[" + std::to_string(node_index_of(t.node().get())) + "][" +
         std::to_string(t.index()) + "]";
}

// ---- eager calls -----------------------------------------------------------------------------

std::vector<Variable> Model::run(const std::vector<Variable>& xs, bool training,
                                 bool check_shapes) const {
  if (!has_graph()) fail(name(), "the model has no graph to run");
  profile::Scope profiled([&] { return profile::layer_label(class_name(), name()); });
  if (xs.size() != input_slots_.size())
    fail(name(), "the model takes " + std::to_string(input_slots_.size()) + " input(s), got " +
                     std::to_string(xs.size()));
  std::vector<Variable> slots(slot_count_);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const SymbolicTensor& in = inputs_[i];
    if (!xs[i].defined()) fail(name(), "input '" + in.layer_name() + "' is undefined");
    const Shape s = xs[i].shape();
    if (check_shapes) {
      bool ok = s.size() == in.rank() &&
                std::equal(in.sample_shape().begin(), in.sample_shape().end(), s.begin() + 1);
      if (ok && in.batch_size()) ok = s[0] == *in.batch_size();
      if (!ok)
        fail_shape(name(), "input '" + in.layer_name() + "' expects shape " + in.shape_str() +
                               ", got " + shape_str(s));
    }
    slots[input_slots_[i]] = xs[i];
  }
  // Keras' masks (layers/layer.hpp, "masking"), one per slot: made by a layer's compute_mask
  // (Masking) and handed, with its tensor, to the next single-input layer, which uses it
  // (call_masked) or passes it on where it supports masking. Layers of several inputs or
  // outputs take and give none.
  std::vector<std::optional<Tensor>> masks(slot_count_);
  for (std::size_t k = 0; k < steps_.size(); ++k) {
    const Step& step = steps_[k];
    std::vector<Variable> ins;
    for (std::size_t s : step.in_slots) ins.push_back(slots[s]);
    Layer& layer = step.node->layer.get(name());
    // Layers of several inputs are timed here; one of one input merges this into its own call.
    profile::Scope profiled_step(
        [&] { return profile::layer_label(layer.class_name(), layer.name()); });
    const bool single = ins.size() == 1 && step.node->output_shapes.size() == 1;
    const std::optional<Tensor>* mask = single ? &masks[step.in_slots[0]] : nullptr;
    std::vector<Variable> outs =
        mask && *mask ? std::vector<Variable>{layer.masked_call(ins[0], **mask, training)}
                      : layer.call_on_list(ins, training);
    if (outs.size() != step.node->output_shapes.size())
      fail(name(), "layer '" + step.node->layer.name + "' gave " + std::to_string(outs.size()) +
                       " outputs; the model was built with " +
                       std::to_string(step.node->output_shapes.size()));
    if (mask) masks[step.first_out_slot] = layer.compute_mask(ins[0], *mask);
    for (std::size_t i = 0; i < outs.size(); ++i)
      slots[step.first_out_slot + i] = std::move(outs[i]);
    for (std::size_t s : step.in_slots)
      if (last_use_[s] == k) {
        slots[s] = Variable();
        masks[s].reset();
      }
  }
  std::vector<Variable> out;
  for (std::size_t s : output_slots_) out.push_back(slots[s]);
  return out;
}

std::vector<Variable> Model::operator()(const std::vector<Variable>& inputs, bool training) {
  return run(inputs, training, /*check_shapes=*/true);
}

std::vector<Variable> Model::call_on_list(const std::vector<Variable>& inputs, bool training) {
  // One input and one output (or a Sequential not yet built): the layer call, which builds.
  if (inputs.size() == 1 && output_slots_.size() <= 1) return {(*this)(inputs[0], training)};
  return (*this)(inputs, training);
}

Variable Model::call(const Variable& x, bool training) {
  if (output_slots_.size() != 1)
    fail(name(), "the model has " + std::to_string(output_slots_.size()) +
                     " outputs; call it on a list, model({x}), to get them all");
  return run({x}, training, /*check_shapes=*/true)[0];
}

// ---- structure -------------------------------------------------------------------------------

std::vector<std::shared_ptr<Layer>> Model::layers() const {
  std::vector<std::shared_ptr<Layer>> out;
  for (const auto& l : layers_) out.push_back(l.pointer(name()));
  return out;
}

std::shared_ptr<Layer> Model::get_layer(const std::string& layer_name) const {
  std::string names;
  for (const auto& l : layers()) {
    if (l->name() == layer_name) return l;
    names += (names.empty() ? "" : ", ") + l->name();
  }
  fail(name(), "get_layer: no layer named '" + layer_name +
                   "' (layers: " + (names.empty() ? "none" : names) + ")");
}

std::shared_ptr<Layer> Model::get_layer(std::size_t index) const {
  auto all = layers();
  if (index >= all.size())
    fail(name(), "get_layer: index " + std::to_string(index) + " is out of range (the model has " +
                     std::to_string(all.size()) + " layers)");
  return all[index];
}

// ---- description -----------------------------------------------------------------------------

namespace {

std::string none_batch_shape(const Shape& sample) {
  std::string out = "(None";
  for (std::size_t d : sample) out += ", " + std::to_string(d);
  return out + (sample.empty() ? ",)" : ")");
}

std::size_t total_size(const std::vector<Variable>& vs) {
  std::size_t n = 0;
  for (const auto& v : vs) n += v.size();
  return n;
}

}  // namespace

std::string Model::summary_output_shape(const Layer& layer) const {
  std::vector<std::vector<Shape>> calls;
  for (const SymbolicTensor& in : inputs_)
    if (in.node()->layer.raw == &layer) calls.push_back(in.node()->output_shapes);
  for (const Step& s : steps_)
    if (s.node->layer.raw == &layer) calls.push_back(s.node->output_shapes);
  if (calls.empty()) return "?";
  for (const auto& c : calls)
    if (c != calls[0]) return "multiple";
  // Keras 2 prints an InputLayer's shape as a list, like a layer with several outputs.
  const bool as_list = calls[0].size() != 1 || layer.class_name() == "InputLayer";
  std::string s;
  for (const Shape& shape : calls[0]) s += (s.empty() ? "" : ", ") + none_batch_shape(shape);
  return as_list ? "[" + s + "]" : s;
}

void Model::summary_table(std::ostream& os, bool connections) const {
  if (!has_graph())
    fail(name(),
         "summary: the model is not built yet; call it on a batch of data or call "
         "build(input_shape) first");
  std::vector<std::vector<std::string>> rows;
  for (const auto& ref : layers_) {
    const Layer& l = ref.get(name());
    if (!connections && l.class_name() == "InputLayer") continue;
    std::vector<std::string> row{l.name() + " (" + l.class_name() + ")", summary_output_shape(l),
                                 detail::with_commas(l.count_params())};
    if (connections) {
      std::string links;
      for (const Step& s : steps_)
        if (s.node->layer.raw == &l)
          for (const SymbolicTensor& t : s.node->inputs) {
            // Appended piece by piece: GCC 12 warns falsely (-Wstringop-overflow) on the
            // inlined `const char* + std::string&&` here.
            if (!links.empty()) links += '\n';
            links += tensor_key(t);
          }
      row.push_back(links);  // empty for an input, as Keras 2's table
    }
    rows.push_back(std::move(row));
  }
  const std::size_t trainable_n = total_size(trainable_variables());
  const std::size_t non_trainable_n = total_size(non_trainable_variables());
  // Keras 2's widths: a functional table is 98 characters (columns at .33, .55, .67), a
  // sequential one 65 (.45, .85).
  if (connections)
    detail::print_summary(os, name(), {"Layer (type)", "Output Shape", "Param #", "Connected to"},
                          {32, 21, 12, 33}, rows, trainable_n, non_trainable_n);
  else
    detail::print_summary(os, name(), {"Layer (type)", "Output Shape", "Param #"}, {29, 26, 10},
                          rows, trainable_n, non_trainable_n);
}

void Model::summary(std::ostream& os) const { summary_table(os, /*connections=*/true); }

std::string Model::summary() const {
  std::ostringstream os;
  summary(os);
  return os.str();
}

std::string Model::print_label(std::size_t, const Layer& layer) const { return layer.name(); }

void Model::pretty_print(std::ostream& os) const {
  os << class_name() << "(\n";
  const auto all = layers();
  for (std::size_t i = 0; i < all.size(); ++i) {
    std::string indented;
    for (char ch : all[i]->pretty_print()) {
      indented += ch;
      if (ch == '\n') indented += "  ";
    }
    os << "  (" << print_label(i, *all[i]) << "): " << indented << '\n';
  }
  os << ')';
}

// ---- config ----------------------------------------------------------------------------------

namespace {

Json parse_json(const std::string& where, const Config& config, const std::string& key) {
  auto it = config.find(key);
  if (it == config.end()) fail(where, "the config has no '" + key + "'");
  try {
    return Json::parse(it->second);
  } catch (const Json::exception& e) {
    fail(where, "'" + key + "' is not valid JSON: " + e.what());
  }
}

// [layer name, node index, tensor index]
struct TensorRef {
  std::string layer;
  std::size_t node = 0, tensor = 0;
};

TensorRef tensor_ref(const std::string& where, const Json& j) {
  if (!j.is_array() || j.size() != 3 || !j[0].is_string() || !j[1].is_number_unsigned() ||
      !j[2].is_number_unsigned())
    fail(where, "a tensor reference must be [layer, node, tensor], got " + j.dump());
  return {j[0].get<std::string>(), j[1].get<std::size_t>(), j[2].get<std::size_t>()};
}

}  // namespace

Config Model::get_config() const {
  Config c = LayerWith::get_config();
  c["layers"] = detail::layers_to_json(layers());
  auto refs = [&](const SymbolicTensors& ts) {
    Json j = Json::array();
    for (const auto& t : ts)
      j.push_back({t.layer_name(), node_index_of(t.node().get()), t.index()});
    return j;
  };
  c["input_layers"] = refs(inputs_).dump();
  c["output_layers"] = refs(outputs_).dump();
  Json nodes = Json::array();
  for (const Step& s : steps_) nodes.push_back({s.node->layer.name, refs(s.node->inputs)});
  c["nodes"] = nodes.dump();
  return c;
}

std::shared_ptr<Model> Model::from_layers(
    const Config& config,
    const std::vector<std::pair<std::string, std::shared_ptr<Layer>>>& given) {
  auto name_it = config.find("name");
  const std::string where =
      "Functional '" + (name_it != config.end() ? name_it->second : std::string()) + "'";
  std::map<std::string, std::shared_ptr<Layer>> by_name;
  for (const auto& [saved, layer] : given) {
    if (!layer) fail(where, "layer '" + saved + "' is null");
    if (!by_name.emplace(saved, layer).second) fail(where, "two layers are named '" + saved + "'");
  }
  auto layer_named = [&](const std::string& n) {
    auto it = by_name.find(n);
    if (it == by_name.end())
      fail(where, "the nodes name a layer '" + n + "' the model does not have");
    return it->second;
  };
  // The outputs of each call of each layer, by node index.
  std::map<std::string, std::vector<std::vector<SymbolicTensor>>> calls;
  auto resolve = [&](const Json& j) {
    TensorRef r = tensor_ref(where, j);
    auto it = calls.find(r.layer);
    if (it == calls.end() || r.node >= it->second.size() || r.tensor >= it->second[r.node].size())
      fail(where, "tensor " + j.dump() + " is not produced by an earlier node");
    return it->second[r.node][r.tensor];
  };
  auto list = [&](const std::string& key) {
    Json j = parse_json(where, config, key);
    if (!j.is_array()) fail(where, "'" + key + "' must be a JSON list");
    return j;
  };
  SymbolicTensors inputs;
  for (const Json& j : list("input_layers")) {
    TensorRef r = tensor_ref(where, j);
    auto input = std::dynamic_pointer_cast<InputLayer>(layer_named(r.layer));
    if (!input || r.node != 0 || r.tensor != 0 || calls.count(r.layer))
      fail(where, "input " + j.dump() + " is not an InputLayer's tensor [name, 0, 0], once");
    inputs.push_back(input_tensor(input));
    calls[r.layer].push_back({inputs.back()});
  }
  for (const Json& node : list("nodes")) {
    if (!node.is_array() || node.size() != 2 || !node[0].is_string() || !node[1].is_array())
      fail(where, "a node must be [layer, [[layer, node, tensor], ...]], got " + node.dump());
    std::vector<SymbolicTensor> ins;
    for (const Json& j : node[1]) ins.push_back(resolve(j));
    const std::string n = node[0].get<std::string>();
    calls[n].push_back(layer_named(n)->call_symbolic(ins));
  }
  SymbolicTensors outputs;
  for (const Json& j : list("output_layers")) outputs.push_back(resolve(j));
  ModelOptions options;
  if (name_it != config.end()) options.name(name_it->second);
  if (auto t = config.find("trainable"); t != config.end()) options.trainable(t->second == "true");
  detail::KeepNames::next(options.name());
  auto model = std::make_shared<Model>(std::move(inputs), std::move(outputs), options);
  for (const auto& [saved, layer] : given) {
    bool used = false;
    for (const auto& l : model->layers_) used = used || l.raw == layer.get();
    if (!used) fail(where, "layer '" + saved + "' is not used by the model's nodes");
  }
  return model;
}

std::shared_ptr<Model> Model::from_config(const Config& config) {
  auto name_it = config.find("name");
  const std::string where =
      "Functional '" + (name_it != config.end() ? name_it->second : std::string()) + "'";
  auto layers = config.find("layers");
  if (layers == config.end()) fail(where, "the config has no 'layers'");
  // The layers keep their names (a composite's sublayers would otherwise take some).
  std::vector<std::string> names = detail::layer_names_in_json(where, layers->second);
  if (name_it != config.end()) names.push_back(name_it->second);
  detail::KeepNames keep(names);
  return from_layers(config, detail::layers_from_json(where, layers->second));
}

namespace {
std::shared_ptr<Layer> functional_from_config(const std::string&, const Config& config) {
  return Model::from_config(config);
}
}  // namespace

// The class name is Keras' ("Functional"); the config holds the layers and nodes.
TAPEFLOW_REGISTER_LAYER_AS(Functional, &functional_from_config)

}  // namespace tapeflow::layers
