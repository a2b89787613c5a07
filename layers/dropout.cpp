#include "tapeflow/layers/dropout.hpp"

#include <cmath>

#include "tapeflow/framework/ops/conv.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

// ---- RandomDropout -------------------------------------------------------------------------

namespace detail {

RandomDropout::RandomDropout(const std::string& default_name, const LayerOptions& common,
                             float rate, const Seed& seed)
    : RandomLayer(default_name, common, seed), rate_(rate) {
  check_rate(rate);
}

Variable RandomDropout::call(const Variable& x, bool training) {
  if (!training || rate_ == 0.f) return x;
  Shape ns = noise_shape_for(x.shape());
  RandomGenerator& rng = stream();
  const float scale = 1.f / (1.f - rate_);
  Tensor mask = Tensor::from_shape(ns);
  // TF keeps an element when its uniform draw is >= rate.
  for (auto& m : mask) m = rng.uniform01() >= rate_ ? scale : 0.f;
  return mul(x, Variable(std::move(mask)));
}

}  // namespace detail

// ---- Dropout -------------------------------------------------------------------------------

Dropout::Dropout(const DropoutOptions& options) : Dropout("dropout", options) {}

Dropout::Dropout(const std::string& default_name, const DropoutOptions& options)
    : LayerWith(std::in_place, options, default_name, options.common(), options.rate(),
                options.seed()) {
  for (long d : options_.noise_shape())
    if (d < -1)
      fail(name(), "noise_shape " + shape_str(options_.noise_shape()) +
                       " has a negative size (use -1 for the input's size)");
}

Shape Dropout::noise_shape_for(const Shape& s) const {
  const auto& ns = options_.noise_shape();
  if (ns.empty()) return s;
  if (ns.size() != s.size())
    fail_shape(name(), "noise_shape " + shape_str(ns) + " has rank " + std::to_string(ns.size()) +
                           " but the input has shape " + shape_str(s));
  Shape out(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    out[i] = ns[i] == -1 ? s[i] : static_cast<std::size_t>(ns[i]);
    if (out[i] != s[i] && out[i] != 1)
      fail_shape(name(), "noise_shape " + shape_str(ns) +
                             " does not broadcast to the input shape " + shape_str(s) + " (axis " +
                             std::to_string(i) + ")");
  }
  return out;
}

TAPEFLOW_REGISTER_LAYER(Dropout)

// ---- AlphaDropout --------------------------------------------------------------------------

AlphaDropout::AlphaDropout(const AlphaDropoutOptions& options)
    : Dropout("alpha_dropout", options) {}

Variable AlphaDropout::call(const Variable& x, bool training) {
  const double rate = options_.rate();
  if (!training || rate == 0.) return x;
  // SELU's alpha and scale (Klambauer et al. 2017, as Keras): alpha' is SELU's limit at -inf.
  constexpr double selu_alpha = 1.6732632423543772848170429916717;
  constexpr double selu_scale = 1.0507009873554804934193349852946;
  constexpr double alpha_p = -selu_alpha * selu_scale;
  const double a = 1. / std::sqrt((1. - rate) * (1. + rate * alpha_p * alpha_p));
  const double b = -a * alpha_p * rate;
  // a * (x * kept + alpha' * (1 - kept)) + b = x * (a * kept) + (a * alpha' * (1 - kept) + b):
  // one factor and one offset per mask element, broadcast over the input.
  const Shape ns = noise_shape_for(x.shape());
  Tensor factor = Tensor::from_shape(ns);
  Tensor offset = Tensor::from_shape(ns);
  RandomGenerator& rng = stream();
  for (std::size_t i = 0; i < factor.size(); ++i) {
    const bool kept = rng.uniform01() >= rate;  // kept as Dropout: a draw >= rate
    factor.flat(i) = kept ? static_cast<float>(a) : 0.f;
    offset.flat(i) = static_cast<float>(kept ? b : a * alpha_p + b);
  }
  return add(mul(x, Variable(std::move(factor))), Variable(std::move(offset)));
}

TAPEFLOW_REGISTER_LAYER(AlphaDropout)

// ---- SpatialDropout1D, SpatialDropout2D -----------------------------------------------------

SpatialDropout1D::SpatialDropout1D(const SpatialDropout1DOptions& options)
    : LayerWith(std::in_place, options, "spatial_dropout1d", options.common(), options.rate(),
                options.seed()) {
  set_input_spec(InputSpec{.ndim = 3});
}

Shape SpatialDropout1D::noise_shape_for(const Shape& s) const {
  return Shape{s[0], 1, s[2]};  // Keras: (batch, 1, channels)
}

TAPEFLOW_REGISTER_LAYER(SpatialDropout1D)

SpatialDropout2D::SpatialDropout2D(const SpatialDropout2DOptions& options)
    : LayerWith(std::in_place, options, "spatial_dropout2d", options.common(), options.rate(),
                options.seed()) {
  options_.data_format(tapeflow::detail::normalize_data_format(name(), options_.data_format()));
  set_input_spec(InputSpec{.ndim = 4});
}

Shape SpatialDropout2D::noise_shape_for(const Shape& s) const {
  // Keras: (batch, 1, 1, channels) or (batch, channels, 1, 1).
  return options_.data_format() == "channels_first" ? Shape{s[0], s[1], 1, 1}
                                                    : Shape{s[0], 1, 1, s[3]};
}

TAPEFLOW_REGISTER_LAYER(SpatialDropout2D)

// ---- SpatialDropout3D ----------------------------------------------------------------------

SpatialDropout3D::SpatialDropout3D(const SpatialDropout3DOptions& options)
    : LayerWith(std::in_place, options, "spatial_dropout3d", options.common(), options.rate(),
                options.seed()) {
  options_.data_format(tapeflow::detail::normalize_data_format(name(), options_.data_format()));
  set_input_spec(InputSpec{.ndim = 5});
}

Shape SpatialDropout3D::noise_shape_for(const Shape& s) const {
  // Keras: (batch, 1, 1, 1, channels) or (batch, channels, 1, 1, 1).
  return options_.data_format() == "channels_first" ? Shape{s[0], s[1], 1, 1, 1}
                                                    : Shape{s[0], 1, 1, 1, s[4]};
}

TAPEFLOW_REGISTER_LAYER(SpatialDropout3D)

}  // namespace tapeflow::layers
