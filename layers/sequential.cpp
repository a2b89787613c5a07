#include "tapeflow/layers/sequential.hpp"

#include <sstream>

#include "tapeflow/layers/detail/layer_list_json.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

Sequential::Sequential(const SequentialOptions& options) : Model("sequential", options) {}

Sequential::Sequential(std::vector<std::shared_ptr<Layer>> layers, const SequentialOptions& options)
    : Sequential(options) {
  for (auto& l : layers) add(std::move(l));
}

void Sequential::layers_changed() {
  clear_graph();
  std::vector<detail::LayerRef> refs;
  for (const auto& l : layers_) refs.push_back(detail::LayerRef::shared(l));
  set_model_layers(std::move(refs));
}

void Sequential::add(std::shared_ptr<Layer> layer) {
  if (!layer) fail(name(), "add: the layer is null");
  if (layer.get() == this) fail(name(), "add: a model cannot contain itself");
  for (const auto& l : layers_)
    if (l == layer) fail(name(), "add: the layer '" + layer->name() + "' is already in the model");
  if (!trainable()) layer->set_trainable(false);
  layers_.push_back(std::move(layer));
  layers_changed();
}

std::shared_ptr<Layer> Sequential::pop() {
  if (layers_.empty()) fail(name(), "pop: the model has no layers");
  auto last = layers_.back();
  layers_.pop_back();
  layers_changed();
  return last;
}

void Sequential::build_graph(const Shape& input_shape) {
  if (layers_.empty()) fail(name(), "the model has no layers; add some before calling it");
  if (input_shape.empty())
    fail_shape(name(), "build: the input shape needs a batch axis, got " + shape_str(input_shape));
  SymbolicTensor t = Input(std::vector<long>(input_shape.begin() + 1, input_shape.end()));
  const SymbolicTensor input = t;
  for (const auto& l : layers_) t = (*l)(t);
  set_graph(input, t);
}

void Sequential::build(const Shape& input_shape) {
  build_graph(input_shape);
  // Called by Layer::operator() before the first forward pass, which marks the model built.
  if (!building()) mark_built(input_shape);
}

Variable Sequential::call(const Variable& x, bool training) {
  if (!has_graph()) build_graph(x.shape());
  return run({x}, training, /*check_shapes=*/false)[0];
}

void Sequential::check_summarizable(const char* what) const {
  if (!built())
    fail(name(), std::string(what) +
                     ": the model is not built yet; call it on a batch of data "
                     "or call build(input_shape) first");
  if (has_graph()) return;
  if (layers_.empty()) fail(name(), std::string(what) + ": the model has no layers");
  std::string changed = layers_.back()->name();
  for (const auto& l : layers_)
    if (!l->built()) {
      changed = l->name();
      break;
    }
  fail(name(), std::string(what) + ": layer '" + changed +
                   "' was added after the model was last called (or a layer was removed); call "
                   "the model or build(input_shape) again");
}

std::size_t Sequential::count_params() const {
  check_summarizable("count_params");
  return Model::count_params();
}

void Sequential::summary(std::ostream& os) const {
  check_summarizable("summary");
  summary_table(os, /*connections=*/false);
}

std::vector<LayerConfig> Sequential::layer_configs() const {
  std::vector<LayerConfig> out;
  for (const auto& l : layers_) out.push_back({l->class_name(), l->get_config()});
  return out;
}

Config Sequential::get_config() const {
  Config c = LayerWith::get_config();
  c["layers"] = detail::layers_to_json(layers_);
  return c;
}

std::shared_ptr<Sequential> Sequential::from_config(const Config& config) {
  const auto options = options_from_config<SequentialOptions>("Sequential", config);
  const std::string where = "Sequential '" + options.name() + "'";
  auto layers = config.find("layers");
  // The model and its layers keep their names (a composite's sublayers would otherwise take
  // some).
  std::vector<std::string> names{options.name()};
  if (layers != config.end()) {
    std::vector<std::string> more = detail::layer_names_in_json(where, layers->second);
    names.insert(names.end(), more.begin(), more.end());
  }
  detail::KeepNames keep(names);
  detail::KeepNames::next(options.name());
  auto model = std::make_shared<Sequential>(options);
  if (layers != config.end())
    for (auto& [saved_name, layer] : detail::layers_from_json(where, layers->second))
      model->add(std::move(layer));
  return model;
}

std::string Sequential::print_label(std::size_t index, const Layer&) const {
  return std::to_string(index);
}

namespace {
std::shared_ptr<Layer> sequential_from_config(const std::string&, const Config& config) {
  return Sequential::from_config(config);
}
}  // namespace

TAPEFLOW_REGISTER_LAYER_AS(Sequential, &sequential_from_config)

}  // namespace tapeflow::layers
