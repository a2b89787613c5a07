#include "tapeflow/layers/input_layer.hpp"

#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

InputLayer::InputLayer(const InputLayerOptions& options) : LayerWith("input_layer", options) {
  Shape sample;
  for (long d : options_.shape()) {
    if (d <= 0)
      fail(name(), "shape: every dimension must be positive, got " +
                       tapeflow::config_write(options_.shape()));
    sample.push_back(static_cast<std::size_t>(d));
  }
  if (options_.batch_size() && *options_.batch_size() <= 0)
    fail(name(), "batch_size must be positive, got " + std::to_string(*options_.batch_size()));
  sample_shape_ = sample;
  Shape built{options_.batch_size() ? static_cast<std::size_t>(*options_.batch_size()) : 1};
  built.insert(built.end(), sample.begin(), sample.end());
  mark_built(built);
}

Variable InputLayer::call(const Variable& x, bool) { return x; }

SymbolicTensor Input(const std::vector<long>& shape, const std::string& name,
                     std::optional<long> batch_size) {
  return input_tensor(std::make_shared<InputLayer>(
      InputLayerOptions().shape(shape).batch_size(batch_size).name(name)));
}

SymbolicTensor input_tensor(std::shared_ptr<InputLayer> layer) {
  if (!layer) fail("input_tensor", "the input layer is null");
  auto node = std::make_shared<detail::Node>();
  node->output_shapes = {layer->sample_shape()};
  if (auto b = layer->options().batch_size()) node->batch_size = static_cast<std::size_t>(*b);
  node->layer = detail::LayerRef::shared(std::move(layer));
  return SymbolicTensor(node, 0);
}

bool is_model_input(const SymbolicTensor& t) { return t.defined() && t.node()->inputs.empty(); }

TAPEFLOW_REGISTER_LAYER(InputLayer)

}  // namespace tapeflow::layers
