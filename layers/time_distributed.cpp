#include "tapeflow/layers/time_distributed.hpp"

#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

namespace {
std::shared_ptr<Layer> checked_wrapped_layer(std::shared_ptr<Layer> layer) {
  if (!layer) fail("time_distributed", "layer: the wrapped layer is null");
  return layer;
}
}  // namespace

TimeDistributed::TimeDistributed(std::shared_ptr<Layer> layer,
                                 const TimeDistributedOptions& options)
    : LayerWith("time_distributed", options),
      layer_(register_sublayer(checked_wrapped_layer(std::move(layer)))) {
  set_input_spec(InputSpec{.min_ndim = 3});
}

Config TimeDistributed::get_config() const {
  Config config = LayerWith::get_config();
  config["layer"] = config_write(LayerSpec(*layer_));
  return config;
}

void TimeDistributed::build(const Shape& s) {
  // Fixed from the first call on: the rank and every size after the batch axis.
  InputSpec spec{.ndim = s.size()};
  for (std::size_t a = 1; a < s.size(); ++a) spec.axes[static_cast<int>(a)] = s[a];
  set_input_spec(spec);
}

Variable TimeDistributed::call(const Variable& x, bool training) {
  const Shape& s = x.shape();
  const long batch = static_cast<long>(s[0]), steps = static_cast<long>(s[1]);
  std::vector<long> merged{batch * steps};
  for (std::size_t a = 2; a < s.size(); ++a) merged.push_back(static_cast<long>(s[a]));
  const Variable y = (*layer_)(reshape(x, merged), training);
  const Shape& ys = y.shape();
  if (ys.empty() || ys[0] != static_cast<std::size_t>(batch * steps))
    fail_shape(name(), "the wrapped layer '" + layer_->name() + "' changed the batch size: " +
                           shape_str(Shape(merged.begin(), merged.end())) + " -> " + shape_str(ys));
  std::vector<long> out{batch, steps};
  for (std::size_t a = 1; a < ys.size(); ++a) out.push_back(static_cast<long>(ys[a]));
  return reshape(y, out);
}

namespace {
std::shared_ptr<Layer> time_distributed_from_config(const std::string& where,
                                                    const Config& config) {
  auto it = config.find("layer");
  if (it == config.end()) fail(where, "layer: the config has no wrapped layer");
  LayerSpec spec;
  config_read(where, "layer", it->second, spec);
  if (!spec.defined()) fail(where, "layer: the config has no wrapped layer (None)");
  auto inner = create_layer(spec.class_name, spec.config);
  // Making the wrapped layer took the name a rebuild reserved for this one (KeepNames): hand
  // it back to the layer made next, this one.
  if (auto name = config.find("name"); name != config.end()) detail::KeepNames::next(name->second);
  return std::make_shared<TimeDistributed>(
      inner, options_from_config<TimeDistributedOptions>(where, config));
}
}  // namespace

TAPEFLOW_REGISTER_LAYER_AS(TimeDistributed, &time_distributed_from_config)

}  // namespace tapeflow::layers
