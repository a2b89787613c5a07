// Symbolic tensors and the calls of layers on them: each call builds the layer on an example of
// its inputs, which is the shape inference, and records a node.
#include "tapeflow/layers/symbolic_tensor.hpp"

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/core/tape.hpp"
#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

namespace detail {

LayerRef LayerRef::shared(std::shared_ptr<Layer> layer) {
  if (!layer) fail("LayerRef", "the layer is null");
  LayerRef r;
  r.raw = layer.get();
  r.name = layer->name();
  r.owned = std::move(layer);
  return r;
}

LayerRef LayerRef::borrowed(Layer& layer) {
  LayerRef r;
  r.raw = &layer;
  r.name = layer.name();
  r.alive = layer.lifetime_;
  return r;
}

LayerRef LayerRef::to(Layer& layer) {
  if (std::shared_ptr<Layer> owner = layer.weak_from_this().lock()) return shared(owner);
  return borrowed(layer);
}

Layer& LayerRef::get(const std::string& who) const {
  if (!owned && alive.expired())
    fail(who, "layer '" + name +
                  "' was destroyed while this still uses it; keep it alive as long as its user, "
                  "or create it with std::make_shared");
  return *raw;
}

std::shared_ptr<Layer> LayerRef::pointer(const std::string& who) const {
  if (owned) return owned;
  return std::shared_ptr<Layer>(&get(who), [](Layer*) {});
}

}  // namespace detail

// ---- SymbolicTensor ------------------------------------------------------------------------

namespace {
[[noreturn]] void undefined_tensor() {
  fail("SymbolicTensor", "the symbolic tensor is undefined (default-constructed)");
}
}  // namespace

const Shape& SymbolicTensor::sample_shape() const {
  if (!node_) undefined_tensor();
  return node_->output_shapes[index_];
}

std::optional<std::size_t> SymbolicTensor::batch_size() const {
  if (!node_) undefined_tensor();
  return node_->batch_size;
}

std::string SymbolicTensor::shape_str() const {
  const Shape& s = sample_shape();
  std::optional<std::size_t> batch = batch_size();
  std::string out = "(" + (batch ? std::to_string(*batch) : std::string("None"));
  for (std::size_t d : s) out += ", " + std::to_string(d);
  return out + (s.empty() ? ",)" : ")");
}

const std::string& SymbolicTensor::layer_name() const {
  if (!node_) undefined_tensor();
  return node_->layer.name;
}

// ---- Layer's symbolic calls ----------------------------------------------------------------

namespace {

std::string shapes_of(const std::vector<SymbolicTensor>& inputs) {
  std::string s;
  for (const auto& t : inputs) s += (s.empty() ? "" : ", ") + t.shape_str();
  return s;
}

// Builds `ref`'s layer on zeros shaped like `inputs` and records the node.
std::vector<SymbolicTensor> record_node(detail::LayerRef ref,
                                        const std::vector<SymbolicTensor>& inputs) {
  Layer& layer = *ref.raw;
  if (inputs.empty()) fail(layer.name(), "called on an empty list of symbolic tensors");
  std::optional<std::size_t> batch;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined())
      fail(layer.name(), "symbolic input " + std::to_string(i) + " is undefined");
    std::optional<std::size_t> b = inputs[i].batch_size();
    if (b && batch && *b != *batch)
      fail_shape(layer.name(),
                 "the symbolic inputs have different batch sizes: " + shapes_of(inputs));
    if (b) batch = b;
  }
  const std::size_t example_batch = batch.value_or(1);
  std::vector<Variable> examples;
  for (const auto& t : inputs) {
    Shape s{example_batch};
    s.insert(s.end(), t.sample_shape().begin(), t.sample_shape().end());
    examples.emplace_back(Tensor(xt::zeros<float>(s)));
  }
  std::vector<Variable> outputs;
  {
    StopRecording pause;
    try {
      outputs = layer.call_on_list(examples, /*training=*/false);
    } catch (const Error& e) {
      e.rethrow_in(layer.name() + " (" + layer.class_name() + ") called on " + shapes_of(inputs));
    }
  }
  auto node = std::make_shared<detail::Node>();
  node->batch_size = batch;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const Shape s = outputs[i].shape();
    if (s.empty() || s[0] != example_batch)
      fail_shape(layer.name(), "output " + std::to_string(i) + " has shape " + shape_str(s) +
                                   ": a layer in a model must keep the batch axis first");
    node->output_shapes.emplace_back(s.begin() + 1, s.end());
  }
  node->inputs = inputs;
  node->layer = std::move(ref);
  std::vector<SymbolicTensor> out;
  for (std::size_t i = 0; i < outputs.size(); ++i) out.emplace_back(node, i);
  return out;
}

SymbolicTensor single(const Layer& layer, std::vector<SymbolicTensor> outputs) {
  if (outputs.size() != 1)
    fail(layer.name(), "has " + std::to_string(outputs.size()) +
                           " outputs; take them all with call_symbolic(inputs)");
  return outputs[0];
}

}  // namespace

std::vector<SymbolicTensor> Layer::call_symbolic(const std::vector<SymbolicTensor>& inputs) & {
  return record_node(detail::LayerRef::to(*this), inputs);
}

std::vector<SymbolicTensor> Layer::call_symbolic(const std::vector<SymbolicTensor>& inputs) && {
  std::shared_ptr<Layer> twin = twin_for_node();
  return record_node(detail::LayerRef::shared(twin), inputs);
}

SymbolicTensor Layer::operator()(const SymbolicTensor& x) & {
  return single(*this, call_symbolic({x}));
}
SymbolicTensor Layer::operator()(const SymbolicTensor& x) && {
  return single(*this, std::move(*this).call_symbolic({x}));
}
SymbolicTensor Layer::operator()(const std::vector<SymbolicTensor>& inputs) & {
  return single(*this, call_symbolic(inputs));
}
SymbolicTensor Layer::operator()(const std::vector<SymbolicTensor>& inputs) && {
  return single(*this, std::move(*this).call_symbolic(inputs));
}

}  // namespace tapeflow::layers
