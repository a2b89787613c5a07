#pragma once
/// Keras' convolution layers `Conv1D`, `Conv2D`, `Conv3D`: one template `ConvND<N>` over the
/// shared N-d kernels of `framework/ops/conv.hpp`, and the pieces the transposed convolutions
/// (`layers/conv_transpose.hpp`) share with it: the options, their activation argument and
/// `ConvBase`.
#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tapeflow/framework/ops/activations.hpp"
#include "tapeflow/layers/detail/conv_geometry.hpp"
#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// A convolution's `activation` as given: a Keras name, which the layer resolves (so that an
/// unknown name is an error naming the layer), or a function (see
/// `activations::NamedActivation`); linear by default. Config text: the name ("relu").
///
/// Example: `Conv2DOptions(8, 3).activation("relu")`, `.activation(tapeflow::activations::gelu)`
class ActivationArg {
 public:
  ActivationArg() = default;
  ActivationArg(const char* name) : name_(name) {}                              // NOLINT
  ActivationArg(std::string name) : name_(std::move(name)) {}                   // NOLINT
  ActivationArg(activations::NamedActivation a) : activation_(std::move(a)) {}  // NOLINT
  /// A built-in function, also an overloaded one such as `activations::relu`.
  ActivationArg(activations::ActivationPtr fn) : activation_(fn) {}  // NOLINT
  /// Any other callable `Variable(const Variable&)`.
  template <class F, std::enable_if_t<activations::detail::is_custom_activation_v<F>, int> = 0>
  ActivationArg(F&& fn) : activation_(std::forward<F>(fn)) {}  // NOLINT

  /// The name, if the activation was given by name.
  const std::optional<std::string>& name_given() const { return name_; }
  /// The name given, or the function's ("relu", "custom").
  const std::string& name() const { return name_ ? *name_ : activation_.name(); }
  /// The activation of `layer`; an unknown name is a ValueError "<layer>: activation: ...".
  activations::NamedActivation resolve(const std::string& layer) const;

 private:
  std::optional<std::string> name_;
  activations::NamedActivation activation_;
};
/// Its `name()`.
std::string config_write(const ActivationArg& activation);
/// A built-in activation's name (an unknown one is a ValueError naming `where`, `key`, `text`).
void config_read(const std::string& where, const std::string& key, const std::string& text,
                 ActivationArg& out);

/// The options every convolution layer takes after the common ones, Keras names and defaults:
/// `filters` and `kernel_size` (required), `strides` 1, `padding` "valid", `data_format`
/// "channels_last", `dilation_rate` 1, `activation` linear, then those of every layer with a
/// kernel and a bias (`TAPEFLOW_KERNEL_BIAS_FIELDS`: `use_bias` true, `kernel_initializer`
/// "glorot_uniform", `bias_initializer` "zeros", regularizers and constraints none). Per-axis
/// values hold one number (every spatial axis) or one per axis; the defaults have one per axis
/// (of the `N` of the options struct that expands this list).
#define TAPEFLOW_CONV_FIELDS(F)                      \
  F(long, filters, 0)                                \
  F(PerAxis, kernel_size, {})                        \
  F(PerAxis, strides, std::vector<long>(N, 1))       \
  F(std::string, padding, "valid")                   \
  F(std::string, data_format, "channels_last")       \
  F(PerAxis, dilation_rate, std::vector<long>(N, 1)) \
  F(ActivationArg, activation, {})                   \
  TAPEFLOW_KERNEL_BIAS_FIELDS(F)

namespace detail {

/// The options of every convolution layer over `N` spatial axes (`TAPEFLOW_CONV_FIELDS` after
/// the common ones), chainable: setters return `D&` (CRTP).
template <class D, std::size_t N>
class ConvOptionsBase : public LayerOptionsBase<D> {
 public:
  static_assert(N >= 1 && N <= 3, "1 to 3 spatial axes");
  /// The number of spatial axes.
  static constexpr std::size_t rank = N;
  /// A transposed convolution's options say true.
  static constexpr bool transposed = false;

  ConvOptionsBase() = default;
  ConvOptionsBase(long filters, PerAxis kernel_size) {
    this->filters(filters).kernel_size(std::move(kernel_size));
  }
  TAPEFLOW_DERIVED_FIELDS(D, LayerOptionsBase<D>, TAPEFLOW_CONV_FIELDS)
  static constexpr PrintedFields printed{"filters, kernel_size, strides, padding",
                                         "data_format, dilation_rate, activation, use_bias"};

  /// The activation name given, if it was given by name.
  const std::optional<std::string>& activation_name() const {
    return this->activation().name_given();
  }
};

}  // namespace detail

/// The option of the ordinary convolutions after those of every convolution
/// (`TAPEFLOW_CONV_FIELDS`): Keras' `groups` (1), the number of blocks the input channels and
/// the filters are split into; output block `i` sees input block `i` only.
#define TAPEFLOW_CONV_GROUPS_FIELDS(F) F(long, groups, 1)

/// Options of `Conv1D` / `Conv2D` / `Conv3D` (see `TAPEFLOW_CONV_FIELDS` for every argument
/// and its default, plus `groups`). `padding` is "valid", "same" (TF's rule) or, for `Conv1D`
/// only, "causal" (left padding by `dilation_rate * (kernel_size - 1)`, Keras' WaveNet-style
/// padding).
///
/// Example: `Conv2DOptions(/*filters=*/16, /*kernel_size=*/3).strides(2).padding("same")`,
/// `Conv2DOptions(8, 3).groups(4)`
template <std::size_t N>
struct ConvNDOptions : detail::ConvOptionsBase<ConvNDOptions<N>, N> {
  using conv_options = detail::ConvOptionsBase<ConvNDOptions<N>, N>;
  using detail::ConvOptionsBase<ConvNDOptions<N>, N>::ConvOptionsBase;
  TAPEFLOW_DERIVED_FIELDS(ConvNDOptions, conv_options, TAPEFLOW_CONV_GROUPS_FIELDS)
  static constexpr PrintedFields printed{"filters, kernel_size, strides, padding",
                                         "data_format, dilation_rate, groups, activation, "
                                         "use_bias"};
};
using Conv1DOptions = ConvNDOptions<1>;
using Conv2DOptions = ConvNDOptions<2>;
using Conv3DOptions = ConvNDOptions<3>;

/// What every N-d convolution layer shares, ordinary or transposed (options `O`, with `O::rank`
/// spatial axes): argument checks (Keras' rules, at construction, naming the layer), the
/// weights `<scope>/kernel` and `<scope>/bias`, the forward pass
/// `activation(conv(x, kernel) + bias)`; the config and the printed form follow from the
/// options (`LayerWith`). Kernel layout (TF): `(k..., in_channels, filters)` for a convolution,
/// `(k..., filters, in_channels)` for a transposed one. Input rank `rank + 2`; `channels_first`
/// inputs are `(batch, channels, spatial...)`. Not used directly: see `ConvND` and
/// `ConvNDTranspose`.
///
/// Errors, with one wording for every rank, ordinary or transposed (the message starts with
/// the layer name, then the argument):
/// - `ValueError` at construction for a bad argument: `filters <= 0`; kernel_size / strides /
///   dilation_rate / output_padding with the wrong count or a value out of range; an unknown
///   padding, data_format or activation name; "causal" outside Conv1D; output_padding >=
///   strides; `groups < 1` or not dividing `filters`. At the first call (Keras `build`), a
///   ValueError too when `groups` does not divide the input channels.
/// - `ShapeError` at every call (and from `compute_output_shape`) for a bad input: a rank other
///   than `rank + 2`, a channel count other than the first call's, an input too small to give
///   an output.
///
/// Example (through a subclass):
/// ```
/// tapeflow::layers::Conv2D c(tapeflow::layers::Conv2DOptions(8, 3));
/// try {
///   c(x);                                   // x (1, 5, 5, 3): builds for 3 channels
///   c(x4);                                  // x4 (1, 5, 5, 4)
/// } catch (const tapeflow::ShapeError& e) { // "conv2d: input has 4 channels (axis 3) but ..."
/// }
/// ```
template <class O>
class ConvBase : public LayerWith<O> {
 public:
  static constexpr std::size_t rank = O::rank;

  long filters() const { return this->options_.filters(); }
  const std::array<long, rank>& kernel_size() const { return kernel_size_; }
  const std::array<long, rank>& strides() const { return strides_; }
  const std::array<long, rank>& dilation_rate() const { return dilation_rate_; }
  /// "valid", "same" or "causal".
  const std::string& padding() const { return this->options_.padding(); }
  /// "channels_last" or "channels_first".
  const std::string& data_format() const { return this->options_.data_format(); }
  bool use_bias() const { return this->options_.use_bias(); }
  /// Keras `groups` (1 for the transposed convolutions, which have no such option).
  long groups() const {
    if constexpr (requires { this->options_.groups(); })
      return this->options_.groups();
    else
      return 1;
  }
  const activations::NamedActivation& activation() const { return activation_; }
  /// The weights (undefined before the first call; bias undefined without use_bias). Handles,
  /// returned by value: copies share the variable, so `layer.kernel().assign(v)` sets it.
  Variable kernel() const { return kernel_; }
  Variable bias() const { return bias_; }

  /// The output shape for an input shape (Keras `compute_output_shape`); a ShapeError naming
  /// the layer for a wrong rank or an input too small to give an output.
  Shape compute_output_shape(const Shape& input_shape) const;

 protected:
  ConvBase(const std::string& default_name, const O& options);
  void build(const Shape& input_shape) override;
  Variable call(const Variable& x, bool training) override;
  std::size_t channel_axis() const { return geometry().channel_axis(); }
  detail::ConvGeometry geometry() const {
    return {kernel_size_, strides_, dilation_rate_, padding(), data_format() == "channels_first"};
  }
  const std::optional<std::array<long, rank>>& output_padding_value() const {
    return output_padding_;
  }

  // Protected so that a subclass (or a test) can substitute the weights.
  Variable kernel_;
  Variable bias_;

 private:
  /// The output length rule of a transposed convolution (null for an ordinary one).
  detail::OutputLength transposed_length() const;

  std::array<long, rank> kernel_size_{};
  std::array<long, rank> strides_{};
  std::array<long, rank> dilation_rate_{};
  std::optional<std::array<long, rank>> output_padding_;
  activations::NamedActivation activation_;
};

extern template class ConvBase<ConvNDOptions<1>>;
extern template class ConvBase<ConvNDOptions<2>>;
extern template class ConvBase<ConvNDOptions<3>>;

/// Keras `Conv1D` / `Conv2D` / `Conv3D` (TF `tf.nn.convolution` semantics, no kernel flip):
/// `y[o] = activation(sum_t x[o * s + t * d - pad_before] . kernel[t] + bias)`. With `groups`
/// g the kernel is `(k..., in / g, filters)` and the output is the concatenation over the
/// channel axis of g convolutions, block `i` of the input with filters block `i` (Keras). Output
/// length per axis with dk = dilation_rate * (kernel_size - 1) + 1: "valid" `floor((in - dk) / s) +
/// 1`, "same" and "causal" `ceil(in / s)` (TF pads "same" by `max((out - 1) * s + dk - in, 0)`, the
/// smaller half before). Default names "conv1d", "conv2d", "conv3d". Errors: those of
/// `ConvBase`, plus (Keras' rule, a ValueError) strides > 1 together with dilation_rate > 1,
/// which the transposed layers accept.
///
/// Example:
/// ```
/// tapeflow::layers::Conv2D conv(tapeflow::layers::Conv2DOptions(8, 3).padding("same"));
/// tapeflow::Variable y = conv(x);   // x (4, 32, 32, 3) -> y (4, 32, 32, 8)
/// ```
template <std::size_t N>
class ConvND : public ConvBase<ConvNDOptions<N>> {
 public:
  explicit ConvND(const ConvNDOptions<N>& options)
      : ConvBase<ConvNDOptions<N>>("conv" + std::to_string(N) + "d", options) {}
  std::string class_name() const override { return "Conv" + std::to_string(N) + "D"; }
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
