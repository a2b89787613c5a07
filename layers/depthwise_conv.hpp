#pragma once
/// Keras' depthwise convolutions `DepthwiseConv1D` and `DepthwiseConv2D`: one template
/// `DepthwiseConvND<N>` over a grouped convolution (`framework/ops/conv.hpp`, `groups` = input
/// channels), and `DepthwiseConvBase`, which the separable convolutions
/// (`layers/separable_conv.hpp`) share with them: the argument checks, the output shape and the
/// depthwise step.
#include <array>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "tapeflow/layers/conv.hpp"

namespace tapeflow::layers {

/// The options of the depthwise convolutions after the common ones, Keras names, order and
/// defaults: `kernel_size` (required), `strides` 1, `padding` "valid", `depth_multiplier` 1,
/// `data_format` "channels_last", `dilation_rate` 1, `activation` linear, `use_bias` true,
/// `depthwise_initializer` "glorot_uniform", `bias_initializer` "zeros", `depthwise_regularizer`,
/// `bias_regularizer`, `depthwise_constraint`, `bias_constraint` (none).
#define TAPEFLOW_DEPTHWISE_CONV_FIELDS(F)                 \
  F(PerAxis, kernel_size, {})                             \
  F(PerAxis, strides, std::vector<long>(N, 1))            \
  F(std::string, padding, "valid")                        \
  F(long, depth_multiplier, 1)                            \
  F(std::string, data_format, "channels_last")            \
  F(PerAxis, dilation_rate, std::vector<long>(N, 1))      \
  F(ActivationArg, activation, {})                        \
  F(bool, use_bias, true)                                 \
  F(Initializer, depthwise_initializer, "glorot_uniform") \
  F(Initializer, bias_initializer, "zeros")               \
  F(Regularizer, depthwise_regularizer, {})               \
  F(Regularizer, bias_regularizer, {})                    \
  F(Constraint, depthwise_constraint, {})                 \
  F(Constraint, bias_constraint, {})

/// Options of `DepthwiseConv1D` / `DepthwiseConv2D` (see `TAPEFLOW_DEPTHWISE_CONV_FIELDS` for
/// every argument and its default), chainable. `padding` is "valid" or "same" (TF's rule), any
/// case. Per-axis values hold one number (every spatial axis) or one per axis.
///
/// Example: `DepthwiseConv2DOptions(/*kernel_size=*/3).depth_multiplier(2).padding("same")`
template <std::size_t N>
struct DepthwiseConvNDOptions : LayerOptionsBase<DepthwiseConvNDOptions<N>> {
  static_assert(N == 1 || N == 2, "1 or 2 spatial axes");
  static constexpr std::size_t rank = N;
  DepthwiseConvNDOptions() = default;
  explicit DepthwiseConvNDOptions(PerAxis kernel_size) {
    this->kernel_size(std::move(kernel_size));
  }
  TAPEFLOW_DERIVED_FIELDS(DepthwiseConvNDOptions, LayerOptionsBase<DepthwiseConvNDOptions<N>>,
                          TAPEFLOW_DEPTHWISE_CONV_FIELDS)
  static constexpr PrintedFields printed{"kernel_size, strides, padding, depth_multiplier",
                                         "data_format, dilation_rate, activation, use_bias"};
};
using DepthwiseConv1DOptions = DepthwiseConvNDOptions<1>;
using DepthwiseConv2DOptions = DepthwiseConvNDOptions<2>;

/// What the depthwise and the separable convolutions share (options `O` with `O::rank` spatial
/// axes and the fields kernel_size, strides, padding, depth_multiplier, data_format,
/// dilation_rate, activation): the argument checks (Keras' rules, at construction, naming the
/// layer), the output shape, the input checks of every call and the depthwise step: input
/// channel `c` convolved with `depthwise_kernel[..., c, m]` gives output channel
/// `c * depth_multiplier + m` (TF's order). Not used directly: see `DepthwiseConvND` and
/// `SeparableConvND`.
///
/// Errors (the message starts with the layer name, then the argument):
/// - `ValueError` at construction: kernel_size / strides / dilation_rate with the wrong count
///   or a value < 1, `depth_multiplier < 1`, an unknown padding ("valid" or "same"),
///   data_format or activation name.
/// - `ShapeError` at every call (and from `compute_output_shape`): a rank other than
///   `rank + 2`, a channel count other than the first call's, an input too small to give an
///   output.
///
/// Unlike `Conv1D`/`Conv2D` (and as Keras' depthwise and separable layers), strides > 1 together
/// with dilation_rate > 1 is accepted.
template <class O>
class DepthwiseConvBase : public LayerWith<O> {
 public:
  static constexpr std::size_t rank = O::rank;

  const std::array<long, rank>& kernel_size() const { return kernel_size_; }
  const std::array<long, rank>& strides() const { return strides_; }
  const std::array<long, rank>& dilation_rate() const { return dilation_rate_; }
  long depth_multiplier() const { return this->options_.depth_multiplier(); }
  /// "valid" or "same".
  const std::string& padding() const { return this->options_.padding(); }
  /// "channels_last" or "channels_first".
  const std::string& data_format() const { return this->options_.data_format(); }
  bool use_bias() const { return this->options_.use_bias(); }
  const activations::NamedActivation& activation() const { return activation_; }
  /// `(k..., in_channels, depth_multiplier)` (undefined before the first call).
  Variable depthwise_kernel() const { return depthwise_kernel_; }
  /// Undefined before the first call and without use_bias.
  Variable bias() const { return bias_; }

  /// The output shape for an input shape (Keras `compute_output_shape`); a ShapeError naming
  /// the layer for a wrong rank or an input too small to give an output.
  Shape compute_output_shape(const Shape& input_shape) const;

 protected:
  DepthwiseConvBase(const std::string& default_name, const O& options);
  /// The output channels for `in_channels` input channels.
  virtual std::size_t output_channels(std::size_t in_channels) const = 0;
  std::size_t channel_axis() const { return geometry().channel_axis(); }
  detail::ConvGeometry geometry() const {
    return {kernel_size_, strides_, dilation_rate_, padding(), data_format() == "channels_first"};
  }
  /// The depthwise kernel's shape for `input_shape`, checked first by `compute_output_shape`.
  Shape depthwise_shape(const Shape& input_shape) const;
  /// The rank, channel and size checks of every call (a ShapeError naming the layer).
  void check_call_input(const Shape& input_shape) const;
  /// The depthwise step of a channels_last input `x`, plus `bias` (if defined).
  Variable depthwise_step(const Variable& x, const Variable& bias) const;
  /// `activation(y)`.
  Variable activate(const Variable& y) const {
    return activation_.is_linear() ? y : activation_(y);
  }

  // Protected so that a subclass (or a test) can substitute the weights.
  Variable depthwise_kernel_;
  Variable bias_;

 private:
  std::array<long, rank> kernel_size_{};
  std::array<long, rank> strides_{};
  std::array<long, rank> dilation_rate_{};
  activations::NamedActivation activation_;
};

/// Keras `DepthwiseConv1D` / `DepthwiseConv2D` (TF `tf.nn.depthwise_conv2d`): each input
/// channel `c` is convolved on its own with `depth_multiplier` kernels,
/// `y[o, c * dm + m] = activation(sum_t x[o * s + t * d - pad_before, c] .
/// depthwise_kernel[t, c, m] + bias[c * dm + m])`. Weights `<scope>/depthwise_kernel`
/// `(k..., in_channels, depth_multiplier)` and `<scope>/bias` `(in_channels * depth_multiplier,)`
/// (Keras 3 names the kernel "kernel"; TF.js and Keras 2 "depthwise_kernel", which tapeflow
/// keeps). Output lengths as `ConvND` ("valid" or "same"). Default names "depthwise_conv1d",
/// "depthwise_conv2d". Computed as a grouped convolution (`groups` = input channels). Errors:
/// those of `DepthwiseConvBase`.
///
/// Example:
/// ```
/// tapeflow::layers::DepthwiseConv2D dw(
///     tapeflow::layers::DepthwiseConv2DOptions(3).depth_multiplier(2).padding("same"));
/// tapeflow::Variable y = dw(x);   // x (4, 16, 16, 8) -> y (4, 16, 16, 16)
/// ```
template <std::size_t N>
class DepthwiseConvND : public DepthwiseConvBase<DepthwiseConvNDOptions<N>> {
 public:
  explicit DepthwiseConvND(const DepthwiseConvNDOptions<N>& options)
      : DepthwiseConvBase<DepthwiseConvNDOptions<N>>("depthwise_conv" + std::to_string(N) + "d",
                                                     options) {}
  std::string class_name() const override { return "DepthwiseConv" + std::to_string(N) + "D"; }

 protected:
  std::size_t output_channels(std::size_t in_channels) const override {
    return in_channels * std::size_t(this->depth_multiplier());
  }
  void build(const Shape& input_shape) override;
  Variable call(const Variable& x, bool training) override;
};

extern template class DepthwiseConvBase<DepthwiseConvNDOptions<1>>;
extern template class DepthwiseConvBase<DepthwiseConvNDOptions<2>>;
extern template class DepthwiseConvND<1>;
extern template class DepthwiseConvND<2>;

/// Keras `DepthwiseConv1D`: input `(batch, steps, channels)`, depthwise kernel
/// `(k, in, depth_multiplier)`. Example: `DepthwiseConv1D c(DepthwiseConv1DOptions(3));`
class DepthwiseConv1D : public DepthwiseConvND<1> {
 public:
  using DepthwiseConvND<1>::DepthwiseConvND;
};
/// Keras `DepthwiseConv2D`: input `(batch, h, w, channels)`, depthwise kernel
/// `(kh, kw, in, depth_multiplier)`.
/// Example: `DepthwiseConv2D c(DepthwiseConv2DOptions({3, 3}).strides(2));`
class DepthwiseConv2D : public DepthwiseConvND<2> {
 public:
  using DepthwiseConvND<2>::DepthwiseConvND;
};

}  // namespace tapeflow::layers
