#include "tapeflow/layers/dropout.hpp"

#include <cmath>

#include "tapeflow/framework/ops/conv.hpp"
#include "tapeflow/framework/ops/ops.hpp"

namespace tapeflow::layers {

namespace {
void check_rate(const std::string& layer, float rate) {
  if (!(rate >= 0.f && rate < 1.f))
    fail(layer, "rate must be in [0, 1), got " + config_float(rate));
}

DropoutOptions to_dropout_options(const SpatialDropout3DOptions& o) {
  DropoutOptions d(o.rate());
  d.seed(o.seed())
      .name(o.name())
      .trainable(o.trainable())
      .activity_regularizer(o.activity_regularizer());
  return d;
}
}  // namespace

Dropout::Dropout(const DropoutOptions& options) : Dropout("dropout", options) {}

Dropout::Dropout(const std::string& default_name, const DropoutOptions& options)
    : Layer(default_name, options.common()), options_(options) {
  check_rate(name(), options_.rate());
  for (long d : options_.noise_shape())
    if (d < -1)
      fail(name(), "noise_shape " + shape_str(options_.noise_shape()) +
                       " has a negative size (use -1 for the input's size)");
}

Shape Dropout::noise_shape_for(const Shape& s) const {
  const auto& ns = options_.noise_shape();
  if (ns.empty()) return s;
  if (ns.size() != s.size())
    fail(name(), "noise_shape " + shape_str(ns) + " has rank " + std::to_string(ns.size()) +
                     " but the input has shape " + shape_str(s));
  Shape out(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    out[i] = ns[i] == -1 ? s[i] : static_cast<std::size_t>(ns[i]);
    if (out[i] != s[i] && out[i] != 1)
      fail(name(), "noise_shape " + shape_str(ns) + " does not broadcast to the input shape " +
                       shape_str(s) + " (axis " + std::to_string(i) + ")");
  }
  return out;
}

Variable Dropout::call(const Variable& x, bool training) {
  const float rate = options_.rate();
  if (!training || rate == 0.f) return x;
  Shape ns = noise_shape_for(x.shape());
  // The stream starts at the first training call, not at construction, so that a
  // set_random_seed between building a model and training it still decides the masks.
  if (!rng_) rng_.emplace(RandomGenerator::for_op(options_.seed()));
  const float scale = 1.f / (1.f - rate);
  Tensor mask = Tensor::from_shape(ns);
  // TF keeps an element when its uniform draw is >= rate.
  for (auto& m : mask) m = rng_->uniform01() >= rate ? scale : 0.f;
  return mul(x, Variable(std::move(mask)));
}

std::string Dropout::random_state() const { return rng_ ? rng_->state() : std::string(); }

void Dropout::set_random_state(const std::string& state) {
  if (state.empty()) {
    rng_.reset();
    return;
  }
  RandomGenerator g(0);
  try {
    g.set_state(state);
  } catch (const Error& e) {
    fail(name(), std::string("set_random_state: ") + e.what());
  }
  rng_ = std::move(g);
}

Config Dropout::get_config() const {
  Config c = Layer::get_config();
  c["rate"] = config_float(options_.rate());
  if (options_.noise_shape().empty()) {
    c["noise_shape"] = "None";
  } else {
    std::string s = "(";
    for (std::size_t i = 0; i < options_.noise_shape().size(); ++i) {
      long d = options_.noise_shape()[i];
      s += (i ? ", " : "") + (d == -1 ? std::string("None") : std::to_string(d));
    }
    c["noise_shape"] = s + (options_.noise_shape().size() == 1 ? ",)" : ")");
  }
  c["seed"] = config_seed(options_.seed());
  return c;
}

std::string Dropout::extra_repr() const { return "rate=" + config_float(options_.rate()); }

SpatialDropout3D::SpatialDropout3D(const SpatialDropout3DOptions& options)
    : Dropout("spatial_dropout3d", to_dropout_options(options)), spatial_options_(options) {
  spatial_options_.data_format(
      detail::normalize_data_format(name(), spatial_options_.data_format()));
  channels_first_ = spatial_options_.data_format() == "channels_first";
  InputSpec spec;
  spec.ndim = 5;
  set_input_spec(spec);
}

Shape SpatialDropout3D::noise_shape_for(const Shape& s) const {
  // Keras: (batch, 1, 1, 1, channels) or (batch, channels, 1, 1, 1).
  return channels_first_ ? Shape{s[0], s[1], 1, 1, 1} : Shape{s[0], 1, 1, 1, s[4]};
}

Config SpatialDropout3D::get_config() const {
  Config c = Layer::get_config();
  c["rate"] = config_float(spatial_options_.rate());
  c["data_format"] = spatial_options_.data_format();
  c["seed"] = config_seed(spatial_options_.seed());
  return c;
}

std::string SpatialDropout3D::extra_repr() const {
  return "rate=" + config_float(spatial_options_.rate()) +
         ", data_format=" + spatial_options_.data_format();
}

}  // namespace tapeflow::layers
