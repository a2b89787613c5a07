#pragma once
/// Keras' depthwise separable convolutions `SeparableConv1D` and `SeparableConv2D`: a depthwise
/// convolution (`layers/depthwise_conv.hpp`) followed by a pointwise (1x1) convolution that
/// mixes the channels, then the bias and the activation.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "tapeflow/layers/depthwise_conv.hpp"

namespace tapeflow::layers {

/// The options of the separable convolutions after the common ones, Keras names, order and
/// defaults: `filters` and `kernel_size` (required), `strides` 1, `padding` "valid",
/// `data_format` "channels_last", `dilation_rate` 1, `depth_multiplier` 1, `activation` linear,
/// `use_bias` true, `depthwise_initializer` and `pointwise_initializer` "glorot_uniform",
/// `bias_initializer` "zeros", then the depthwise, pointwise and bias regularizers and
/// constraints (none).
#define TAPEFLOW_SEPARABLE_CONV_FIELDS(F)                 \
  F(long, filters, 0)                                     \
  F(PerAxis, kernel_size, {})                             \
  F(PerAxis, strides, std::vector<long>(N, 1))            \
  F(std::string, padding, "valid")                        \
  F(std::string, data_format, "channels_last")            \
  F(PerAxis, dilation_rate, std::vector<long>(N, 1))      \
  F(long, depth_multiplier, 1)                            \
  F(ActivationArg, activation, {})                        \
  F(bool, use_bias, true)                                 \
  F(Initializer, depthwise_initializer, "glorot_uniform") \
  F(Initializer, pointwise_initializer, "glorot_uniform") \
  F(Initializer, bias_initializer, "zeros")               \
  F(Regularizer, depthwise_regularizer, {})               \
  F(Regularizer, pointwise_regularizer, {})               \
  F(Regularizer, bias_regularizer, {})                    \
  F(Constraint, depthwise_constraint, {})                 \
  F(Constraint, pointwise_constraint, {})                 \
  F(Constraint, bias_constraint, {})

/// Options of `SeparableConv1D` / `SeparableConv2D` (see `TAPEFLOW_SEPARABLE_CONV_FIELDS` for
/// every argument and its default), chainable. `padding` is "valid" or "same", any case.
///
/// Example: `SeparableConv2DOptions(/*filters=*/16, /*kernel_size=*/3).depth_multiplier(2)`
template <std::size_t N>
struct SeparableConvNDOptions : LayerOptionsBase<SeparableConvNDOptions<N>> {
  static_assert(N == 1 || N == 2, "1 or 2 spatial axes");
  static constexpr std::size_t rank = N;
  SeparableConvNDOptions() = default;
  SeparableConvNDOptions(long filters, PerAxis kernel_size) {
    this->filters(filters).kernel_size(std::move(kernel_size));
  }
  TAPEFLOW_DERIVED_FIELDS(SeparableConvNDOptions, LayerOptionsBase<SeparableConvNDOptions<N>>,
                          TAPEFLOW_SEPARABLE_CONV_FIELDS)
  static constexpr PrintedFields printed{
      "filters, kernel_size, strides, padding",
      "data_format, dilation_rate, depth_multiplier, activation, use_bias"};
};
using SeparableConv1DOptions = SeparableConvNDOptions<1>;
using SeparableConv2DOptions = SeparableConvNDOptions<2>;

/// Keras `SeparableConv1D` / `SeparableConv2D` (TF `tf.nn.separable_conv2d`): the depthwise
/// convolution of `DepthwiseConvND` (strides, padding and dilation_rate apply to it; output
/// channel `c * depth_multiplier + m`), then a 1x1 convolution with `pointwise_kernel`, then
/// `bias` and the activation. Weights, in this order: `<scope>/depthwise_kernel`
/// `(k..., in_channels, depth_multiplier)`, `<scope>/pointwise_kernel`
/// `(1..., in_channels * depth_multiplier, filters)`, `<scope>/bias` `(filters,)`. Default
/// names "separable_conv1d", "separable_conv2d". Errors: those of `DepthwiseConvBase`, and
/// `filters <= 0` (ValueError at construction).
///
/// Example:
/// ```
/// tapeflow::layers::SeparableConv2D sep(
///     tapeflow::layers::SeparableConv2DOptions(16, 3).padding("same").activation("relu"));
/// tapeflow::Variable y = sep(x);   // x (4, 32, 32, 8) -> y (4, 32, 32, 16)
/// ```
template <std::size_t N>
class SeparableConvND : public DepthwiseConvBase<SeparableConvNDOptions<N>> {
 public:
  explicit SeparableConvND(const SeparableConvNDOptions<N>& options)
      : DepthwiseConvBase<SeparableConvNDOptions<N>>("separable_conv" + std::to_string(N) + "d",
                                                     options) {}
  std::string class_name() const override { return "SeparableConv" + std::to_string(N) + "D"; }
  long filters() const { return this->options_.filters(); }
  /// `(1..., in_channels * depth_multiplier, filters)` (undefined before the first call).
  Variable pointwise_kernel() const { return pointwise_kernel_; }

 protected:
  std::size_t output_channels(std::size_t) const override { return std::size_t(filters()); }
  void build(const Shape& input_shape) override;
  Variable call(const Variable& x, bool training) override;

  Variable pointwise_kernel_;
};

extern template class DepthwiseConvBase<SeparableConvNDOptions<1>>;
extern template class DepthwiseConvBase<SeparableConvNDOptions<2>>;
extern template class SeparableConvND<1>;
extern template class SeparableConvND<2>;

/// Keras `SeparableConv1D`: input `(batch, steps, channels)`.
/// Example: `SeparableConv1D c(SeparableConv1DOptions(8, 3).padding("same"));`
class SeparableConv1D : public SeparableConvND<1> {
 public:
  using SeparableConvND<1>::SeparableConvND;
};
/// Keras `SeparableConv2D`: input `(batch, h, w, channels)`.
/// Example: `SeparableConv2D c(SeparableConv2DOptions(16, {3, 3}).depth_multiplier(2));`
class SeparableConv2D : public SeparableConvND<2> {
 public:
  using SeparableConvND<2>::SeparableConvND;
};

}  // namespace tapeflow::layers
