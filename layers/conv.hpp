#pragma once
/// Keras' convolution layers `Conv1D`, `Conv2D`, `Conv3D`: one template `ConvND<N>` over the
/// shared N-d kernels of `framework/ops/conv.hpp`, and the pieces the transposed convolutions
/// (`layers/conv_transpose.hpp`) share with it: the options base and `ConvBase<N>`.
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tapeflow/framework/ops/activations.hpp"
#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

namespace detail {

/// Every argument of a convolution layer, as given (not yet checked). Per-axis values hold one
/// number (every spatial axis) or one per spatial axis.
struct ConvArgs {
  long filters = 0;
  std::vector<long> kernel_size;
  std::vector<long> strides{1};
  std::vector<long> dilation_rate{1};
  std::optional<std::vector<long>> output_padding;  // transposed convolutions only
  std::string padding = "valid";
  std::string data_format = "channels_last";
  std::optional<std::string> activation_name;  // resolved by the layer, whose errors name it
  activations::Activation activation;
  bool use_bias = true;
  Initializer kernel_initializer = "glorot_uniform";
  Initializer bias_initializer = "zeros";
  Regularizer kernel_regularizer;
  Regularizer bias_regularizer;
  Constraint kernel_constraint;
  Constraint bias_constraint;
};

/// One value per axis from one value or `rank` values, each `>= min_value`; otherwise an Error
/// naming `layer` and `what`, e.g. "conv2d: kernel_size (3, 3, 3) has 3 values, expected 1 or
/// 2 (one per spatial axis)".
std::vector<long> normalize_tuple(const std::string& layer, const char* what,
                                  const std::vector<long>& values, std::size_t rank,
                                  long min_value);

/// "channels_last" / "channels_first" (any case accepted) or an Error naming `layer`.
std::string normalize_data_format(const std::string& layer, const std::string& data_format);

#define TAPEFLOW_CONV_OPTION(T, field) \
  D& field(const T& v) {               \
    this->args_.field = v;             \
    return static_cast<D&>(*this);     \
  }                                    \
  const T& field() const noexcept { return this->args_.field; }

/// The chainable arguments every convolution layer takes (CRTP: setters return `D&`). Keras
/// names and defaults: `filters` and `kernel_size` (required), `strides` 1, `padding` "valid",
/// `data_format` "channels_last", `dilation_rate` 1, `activation` none (linear), `use_bias`
/// true, `kernel_initializer` "glorot_uniform", `bias_initializer` "zeros", regularizers and
/// constraints none, plus `name`, `trainable`, `activity_regularizer`.
template <class D>
class ConvOptionsBase : public LayerOptionsBase<D> {
 public:
  ConvOptionsBase() = default;
  ConvOptionsBase(long filters, long kernel_size) {
    args_.filters = filters;
    args_.kernel_size = {kernel_size};
  }
  ConvOptionsBase(long filters, std::vector<long> kernel_size) {
    args_.filters = filters;
    args_.kernel_size = std::move(kernel_size);
  }

  TAPEFLOW_CONV_OPTION(long, filters)
  TAPEFLOW_CONV_OPTION(std::vector<long>, kernel_size)
  TAPEFLOW_CONV_OPTION(std::vector<long>, strides)
  TAPEFLOW_CONV_OPTION(std::vector<long>, dilation_rate)
  TAPEFLOW_CONV_OPTION(std::string, padding)
  TAPEFLOW_CONV_OPTION(std::string, data_format)
  TAPEFLOW_CONV_OPTION(bool, use_bias)
  TAPEFLOW_CONV_OPTION(Initializer, kernel_initializer)
  TAPEFLOW_CONV_OPTION(Initializer, bias_initializer)
  TAPEFLOW_CONV_OPTION(Regularizer, kernel_regularizer)
  TAPEFLOW_CONV_OPTION(Regularizer, bias_regularizer)
  TAPEFLOW_CONV_OPTION(Constraint, kernel_constraint)
  TAPEFLOW_CONV_OPTION(Constraint, bias_constraint)

  D& kernel_size(long k) { return kernel_size(std::vector<long>{k}); }
  D& strides(long s) { return strides(std::vector<long>{s}); }
  D& dilation_rate(long d) { return dilation_rate(std::vector<long>{d}); }

  /// A Keras activation name (resolved by the layer, whose errors name it) or a callable.
  D& activation(const char* name) { return activation(std::string(name)); }
  D& activation(const std::string& name) {
    args_.activation_name = name;
    args_.activation = {};
    return static_cast<D&>(*this);
  }
  D& activation(const activations::Activation& a) {
    args_.activation_name.reset();
    args_.activation = a;
    return static_cast<D&>(*this);
  }
  /// The activation name given, if it was given by name.
  const std::optional<std::string>& activation_name() const { return args_.activation_name; }
  /// The activation (resolving a name: an Error naming "activation" if it is unknown).
  activations::Activation activation() const {
    return args_.activation_name ? activations::Activation(*args_.activation_name)
                                 : args_.activation;
  }

  /// All arguments, for the layer.
  const ConvArgs& args() const { return args_; }

 protected:
  ConvArgs args_;
};

#undef TAPEFLOW_CONV_OPTION

}  // namespace detail

/// Options of `Conv1D` / `Conv2D` / `Conv3D` (see `detail::ConvOptionsBase` for every argument
/// and its default). `padding` is "valid", "same" (TF's rule) or, for `Conv1D` only, "causal"
/// (left padding by `dilation_rate * (kernel_size - 1)`, Keras' WaveNet-style padding).
///
/// Example: `Conv2DOptions(/*filters=*/16, /*kernel_size=*/3).strides(2).padding("same")`
template <std::size_t N>
struct ConvNDOptions : detail::ConvOptionsBase<ConvNDOptions<N>> {
  static_assert(N >= 1 && N <= 3, "1 to 3 spatial axes");
  using detail::ConvOptionsBase<ConvNDOptions<N>>::ConvOptionsBase;
};
using Conv1DOptions = ConvNDOptions<1>;
using Conv2DOptions = ConvNDOptions<2>;
using Conv3DOptions = ConvNDOptions<3>;

/// What every N-d convolution layer shares, ordinary or transposed: argument checks (Keras'
/// errors, at construction, naming the layer), the weights `<scope>/kernel` and
/// `<scope>/bias`, the forward pass `activation(conv(x, kernel) + bias)`, the config and the
/// printed form. Kernel layout (TF): `(k..., in_channels, filters)` for a convolution,
/// `(k..., filters, in_channels)` for a transposed one. Input rank `N + 2`; `channels_first`
/// inputs are `(batch, channels, spatial...)`. Not used directly: see `ConvND` and
/// `ConvNDTranspose`.
template <std::size_t N>
class ConvBase : public Layer {
 public:
  long filters() const { return filters_; }
  const std::array<long, N>& kernel_size() const { return kernel_size_; }
  const std::array<long, N>& strides() const { return strides_; }
  const std::array<long, N>& dilation_rate() const { return dilation_rate_; }
  /// "valid", "same" or "causal".
  const std::string& padding() const { return padding_; }
  /// "channels_last" or "channels_first".
  const std::string& data_format() const { return data_format_; }
  bool use_bias() const { return args_.use_bias; }
  const activations::Activation& activation() const { return activation_; }
  /// The weights (undefined before the first call; bias undefined without use_bias).
  const Variable& kernel() const { return kernel_; }
  const Variable& bias() const { return bias_; }

  /// The output shape for an input shape (Keras `compute_output_shape`); an Error naming the
  /// layer for a wrong rank or an input too small to give an output.
  Shape compute_output_shape(const Shape& input_shape) const;
  /// Base keys plus filters, kernel_size, strides, padding, data_format, dilation_rate,
  /// (output_padding,) activation, use_bias, initializers, regularizers and constraints.
  Config get_config() const override;

 protected:
  ConvBase(const std::string& default_name, const LayerOptions& common,
           const detail::ConvArgs& args, bool transpose);
  void build(const Shape& input_shape) override;
  Variable call(const Variable& x, bool training) override;
  /// "filters=8, kernel_size=(3, 3), strides=(1, 1), padding=same" and the non-default
  /// data_format, dilation_rate, output_padding, activation, use_bias.
  std::string extra_repr() const override;
  std::size_t channel_axis() const { return data_format_ == "channels_first" ? 1 : N + 1; }
  const std::optional<std::array<long, N>>& output_padding_value() const { return output_padding_; }

  // Protected so that a subclass (or a test) can substitute the weights.
  Variable kernel_;
  Variable bias_;

 private:
  detail::ConvArgs args_;
  bool transpose_;
  long filters_;
  std::array<long, N> kernel_size_{};
  std::array<long, N> strides_{};
  std::array<long, N> dilation_rate_{};
  std::optional<std::array<long, N>> output_padding_;
  std::string padding_;
  std::string data_format_;
  activations::Activation activation_;
};

extern template class ConvBase<1>;
extern template class ConvBase<2>;
extern template class ConvBase<3>;

/// Keras `Conv1D` / `Conv2D` / `Conv3D` (TF `tf.nn.convolution` semantics, no kernel flip):
/// `y[o] = activation(sum_t x[o * s + t * d - pad_before] . kernel[t] + bias)`. Output length
/// per axis with dk = dilation_rate * (kernel_size - 1) + 1: "valid" `floor((in - dk) / s) + 1`,
/// "same" and "causal" `ceil(in / s)` (TF pads "same" by `max((out - 1) * s + dk - in, 0)`, the
/// smaller half before). Default names "conv1d", "conv2d", "conv3d". Errors (Keras'):
/// `filters <= 0`, kernel_size / strides / dilation_rate with a zero or the wrong count,
/// strides > 1 together with dilation_rate > 1, unknown padding or data_format, "causal"
/// outside Conv1D, an input of the wrong rank, a channel count other than the first call's.
///
/// Example:
/// ```
/// tapeflow::layers::Conv2D conv(tapeflow::layers::Conv2DOptions(8, 3).padding("same"));
/// tapeflow::Variable y = conv(x);   // x (4, 32, 32, 3) -> y (4, 32, 32, 8)
/// ```
template <std::size_t N>
class ConvND : public ConvBase<N> {
 public:
  explicit ConvND(const ConvNDOptions<N>& options)
      : ConvBase<N>("conv" + std::to_string(N) + "d", options.common(), options.args(), false),
        options_(options) {}
  std::string class_name() const override { return "Conv" + std::to_string(N) + "D"; }
  const ConvNDOptions<N>& options() const { return options_; }

 private:
  ConvNDOptions<N> options_;
};

extern template class ConvND<1>;
extern template class ConvND<2>;
extern template class ConvND<3>;

/// Keras `Conv1D`: input `(batch, steps, channels)`, kernel `(k, in, filters)`; also
/// `padding("causal")`. Example: `Conv1D c(Conv1DOptions(4, 3).padding("causal"));`
class Conv1D : public ConvND<1> {
 public:
  using ConvND<1>::ConvND;
};
/// Keras `Conv2D`: input `(batch, h, w, channels)`, kernel `(kh, kw, in, filters)`.
/// Example: `Conv2D c(Conv2DOptions(16, {3, 3}).strides(2));`
class Conv2D : public ConvND<2> {
 public:
  using ConvND<2>::ConvND;
};
/// Keras `Conv3D`: input `(batch, d, h, w, channels)`, kernel `(kd, kh, kw, in, filters)`.
/// Example: `Conv3D c(Conv3DOptions(8, 3).dilation_rate(2));`
class Conv3D : public ConvND<3> {
 public:
  using ConvND<3>::ConvND;
};

}  // namespace tapeflow::layers
