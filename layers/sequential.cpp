#include "tapeflow/layers/sequential.hpp"

#include <algorithm>
#include <sstream>
#include <unordered_set>

#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

namespace {
// Keras' '{:,}': 1234567 -> "1,234,567".
std::string with_commas(std::size_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
    s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

std::string batch_none_shape(const Shape& s) {
  std::string out = "(";
  for (std::size_t i = 0; i < s.size(); ++i)
    out += (i ? ", " : "") + (i == 0 ? std::string("None") : std::to_string(s[i]));
  return out + (s.size() == 1 ? ",)" : ")");
}

std::vector<Variable> unique(std::vector<Variable> vs) {
  std::unordered_set<std::uint64_t> seen;
  std::vector<Variable> out;
  for (auto& v : vs)
    if (seen.insert(v.id()).second) out.push_back(std::move(v));
  return out;
}

std::size_t total_size(const std::vector<Variable>& vs) {
  std::size_t n = 0;
  for (const auto& v : vs) n += v.size();
  return n;
}
}  // namespace

Sequential::Sequential(const SequentialOptions& options) : LayerWith("sequential", options) {}

Sequential::Sequential(std::vector<std::shared_ptr<Layer>> layers, const SequentialOptions& options)
    : Sequential(options) {
  for (auto& l : layers) add(std::move(l));
}

void Sequential::add(std::shared_ptr<Layer> layer) {
  if (!layer) fail(name(), "add: the layer is null");
  if (layer.get() == this) fail(name(), "add: a model cannot contain itself");
  for (const auto& l : layers_)
    if (l == layer) fail(name(), "add: the layer '" + layer->name() + "' is already in the model");
  if (!trainable()) layer->set_trainable(false);
  layers_.push_back(std::move(layer));
}

std::shared_ptr<Layer> Sequential::pop() {
  if (layers_.empty()) fail(name(), "pop: the model has no layers");
  auto last = layers_.back();
  layers_.pop_back();
  if (output_shapes_.size() > layers_.size()) output_shapes_.resize(layers_.size());
  return last;
}

std::shared_ptr<Layer> Sequential::get_layer(const std::string& layer_name) const {
  std::string names;
  for (const auto& l : layers_) {
    if (l->name() == layer_name) return l;
    names += (names.empty() ? "" : ", ") + l->name();
  }
  fail(name(), "get_layer: no layer named '" + layer_name +
                   "' (layers: " + (names.empty() ? "none" : names) + ")");
}

std::shared_ptr<Layer> Sequential::get_layer(std::size_t index) const {
  if (index >= layers_.size())
    fail(name(), "get_layer: index " + std::to_string(index) + " is out of range (the model has " +
                     std::to_string(layers_.size()) + " layers)");
  return layers_[index];
}

void Sequential::build(const Shape& input_shape) {
  // Layer::operator() calls this before the first forward pass, which builds the layers itself.
  if (building()) return;
  StopRecording pause;
  (*this)(Variable(Tensor(xt::zeros<float>(input_shape))), false);
}

Variable Sequential::call(const Variable& x, bool training) {
  if (layers_.empty()) fail(name(), "the model has no layers; add some before calling it");
  Variable y = x;
  std::vector<Shape> shapes;
  for (const auto& l : layers_) {
    y = (*l)(y, training);
    shapes.push_back(y.shape());
  }
  output_shapes_ = std::move(shapes);
  return y;
}

std::vector<Variable> Sequential::variables() const {
  std::vector<Variable> out;
  for (const auto& l : layers_)
    for (auto& v : l->variables()) out.push_back(v);
  for (auto& v : Layer::variables()) out.push_back(v);
  return unique(std::move(out));
}

std::vector<Variable> Sequential::trainable_variables() const {
  if (!trainable()) return {};
  std::vector<Variable> out;
  for (const auto& l : layers_)
    for (auto& v : l->trainable_variables()) out.push_back(v);
  for (auto& v : Layer::trainable_variables()) out.push_back(v);
  return unique(std::move(out));
}

std::vector<Variable> Sequential::non_trainable_variables() const {
  if (!trainable()) return variables();
  std::vector<Variable> out;
  for (const auto& l : layers_)
    for (auto& v : l->non_trainable_variables()) out.push_back(v);
  for (auto& v : Layer::non_trainable_variables()) out.push_back(v);
  return unique(std::move(out));
}

std::vector<Tensor> Sequential::get_weights() const {
  std::vector<Tensor> out;
  for (const auto& v : variables()) out.push_back(v.value());
  return out;
}

void Sequential::set_weights(const std::vector<Tensor>& values) {
  auto vars = variables();
  if (values.size() != vars.size())
    fail(name(), "set_weights: the model has " + std::to_string(vars.size()) + " weights but " +
                     std::to_string(values.size()) + " values were given");
  for (std::size_t i = 0; i < values.size(); ++i)
    if (shape_of(values[i]) != vars[i].shape())
      fail_shape(name(), "set_weights: weight '" + vars[i].name() + "' has shape " +
                             shape_str(vars[i].shape()) + " but value " + std::to_string(i) +
                             " has shape " + shape_str(values[i].shape()));
  for (std::size_t i = 0; i < values.size(); ++i) vars[i].assign(values[i]);
}

void Sequential::check_summarizable(const char* what) const {
  if (!built())
    fail(name(), std::string(what) +
                     ": the model is not built yet; call it on a batch of data "
                     "or call build(input_shape) first");
  for (std::size_t i = 0; i < layers_.size(); ++i)
    if (!layers_[i]->built() || i >= output_shapes_.size())
      fail(name(), std::string(what) + ": layer '" + layers_[i]->name() +
                       "' was added after the model was last called; call the model or "
                       "build(input_shape) again");
}

std::size_t Sequential::count_params() const {
  check_summarizable("count_params");
  return total_size(variables());
}

std::vector<Variable> Sequential::losses() const {
  std::vector<Variable> out;
  for (const auto& l : layers_)
    for (auto& v : l->losses()) out.push_back(v);
  for (auto& v : Layer::losses()) out.push_back(v);
  return out;
}

void Sequential::set_trainable(bool t) {
  Layer::set_trainable(t);
  for (const auto& l : layers_) l->set_trainable(t);
}

void Sequential::summary(std::ostream& os) const {
  check_summarizable("summary");
  struct Row {
    std::string layer, shape, params;
  };
  std::vector<Row> rows;
  for (std::size_t i = 0; i < layers_.size(); ++i)
    rows.push_back({layers_[i]->name() + " (" + layers_[i]->class_name() + ")",
                    batch_none_shape(output_shapes_[i]), with_commas(layers_[i]->count_params())});
  // Keras' columns end at 29, 55 and 65 characters; wider content widens its column instead of
  // being cut.
  std::size_t w0 = 29, w1 = 26, w2 = 10;
  for (const auto& r : rows) {
    w0 = std::max(w0, r.layer.size() + 1);
    w1 = std::max(w1, r.shape.size() + 1);
    w2 = std::max(w2, r.params.size() + 1);
  }
  const std::size_t width = w0 + w1 + w2;
  auto pad = [](const std::string& s, std::size_t w) { return s + std::string(w - s.size(), ' '); };
  auto row = [&](const std::string& a, const std::string& b, const std::string& c) {
    os << pad(a, w0) << pad(b, w1) << pad(c, w2) << '\n';
  };
  os << "Model: \"" << name() << "\"\n";
  os << std::string(width, '_') << '\n';
  row("Layer (type)", "Output Shape", "Param #");
  os << std::string(width, '=') << '\n';
  for (std::size_t i = 0; i < rows.size(); ++i) {
    row(rows[i].layer, rows[i].shape, rows[i].params);
    os << std::string(width, i + 1 == rows.size() ? '=' : '_') << '\n';
  }
  const std::size_t trainable_n = total_size(trainable_variables());
  const std::size_t non_trainable_n = total_size(non_trainable_variables());
  os << "Total params: " << with_commas(trainable_n + non_trainable_n) << '\n';
  os << "Trainable params: " << with_commas(trainable_n) << '\n';
  os << "Non-trainable params: " << with_commas(non_trainable_n) << '\n';
  os << std::string(width, '_') << '\n';
}

std::string Sequential::summary() const {
  std::ostringstream os;
  summary(os);
  return os.str();
}

std::vector<LayerConfig> Sequential::layer_configs() const {
  std::vector<LayerConfig> out;
  for (const auto& l : layers_) out.push_back({l->class_name(), l->get_config()});
  return out;
}

Config Sequential::get_config() const {
  Config c = LayerWith::get_config();
  std::string s = "[";
  for (std::size_t i = 0; i < layers_.size(); ++i)
    s += (i ? ", " : "") + config_repr(layers_[i]->class_name(), layers_[i]->get_config());
  c["layers"] = s + "]";
  return c;
}

void Sequential::pretty_print(std::ostream& os) const {
  os << class_name() << "(\n";
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    std::string inner = layers_[i]->pretty_print();
    std::string indented;
    for (char ch : inner) {
      indented += ch;
      if (ch == '\n') indented += "  ";
    }
    os << "  (" << i << "): " << indented << '\n';
  }
  os << ')';
}

// A saved model's layers are records of their own (layers/saving.cpp): a Sequential comes back
// empty from its config.
TAPEFLOW_REGISTER_LAYER(Sequential)

}  // namespace tapeflow::layers
