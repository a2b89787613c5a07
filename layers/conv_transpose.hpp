#pragma once
/// Keras' transposed convolution layers `Conv1DTranspose`, `Conv2DTranspose` and
/// `Conv3DTranspose` (the flagship): one template `ConvNDTranspose<N>` on `ConvBase`
/// (layers/conv.hpp) and the shared N-d kernels; each rank is a thin subclass, as PyTorch's
/// `ConvTranspose3d` is of its `ConvTransposeNd` base. TF1's functional form
/// `conv3d_transpose(...)` is in layers/conv3d_transpose.hpp.
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "tapeflow/layers/conv.hpp"

namespace tapeflow::layers {

/// The option of the transposed convolutions after those of every convolution
/// (`TAPEFLOW_CONV_FIELDS`): Keras' `output_padding` (None; one number or one per axis, each
/// smaller than its stride).
#define TAPEFLOW_CONV_TRANSPOSE_FIELDS(F) F(OptionalPerAxis, output_padding, std::nullopt)

/// Options of `Conv1DTranspose` / `Conv2DTranspose` / `Conv3DTranspose`, chainable. Required:
/// `filters` and `kernel_size` (one number for every spatial axis, or one per axis; the default
/// constructor leaves them for the functional form to set). Every argument of
/// `TAPEFLOW_CONV_FIELDS`, with TF/Keras defaults: `strides` 1, `padding` "valid" ("valid"
/// or "same", any case), `data_format` "channels_last" (or "channels_first", any case),
/// `dilation_rate` 1, `activation` none (linear; a Keras name or any callable), `use_bias` true,
/// `kernel_initializer` "glorot_uniform", `bias_initializer` "zeros", regularizers and
/// constraints none, `trainable` true, `name` automatic; plus `output_padding`.
///
/// Beyond Keras: strides > 1 together with dilation_rate > 1 is accepted (Keras refuses it
/// because TF's op lacks a kernel for it; ours computes `y[i * s + t * d - pad_before] +=
/// x[i] . kernel[t]` for any s and d).
///
/// Values are checked when the layer is constructed (ValueErrors naming the layer and the
/// argument).
///
/// Example:
/// ```
/// auto o = tapeflow::layers::Conv3DTransposeOptions(/*filters=*/8, /*kernel_size=*/3)
///              .strides(2).padding("same").activation("relu")
///              .kernel_regularizer(tapeflow::regularizers::l2(1e-4));
/// ```
template <std::size_t N>
struct ConvNDTransposeOptions : detail::ConvOptionsBase<ConvNDTransposeOptions<N>, N> {
  using conv_options = detail::ConvOptionsBase<ConvNDTransposeOptions<N>, N>;
  using detail::ConvOptionsBase<ConvNDTransposeOptions<N>, N>::ConvOptionsBase;
  static constexpr bool transposed = true;
  TAPEFLOW_DERIVED_FIELDS(ConvNDTransposeOptions, conv_options, TAPEFLOW_CONV_TRANSPOSE_FIELDS)
  static constexpr PrintedFields printed{
      "filters, kernel_size, strides, padding",
      "data_format, dilation_rate, output_padding, activation, use_bias"};
};
using Conv1DTransposeOptions = ConvNDTransposeOptions<1>;
using Conv2DTransposeOptions = ConvNDTransposeOptions<2>;
using Conv3DTransposeOptions = ConvNDTransposeOptions<3>;

extern template class ConvBase<ConvNDTransposeOptions<1>>;
extern template class ConvBase<ConvNDTransposeOptions<2>>;
extern template class ConvBase<ConvNDTransposeOptions<3>>;

/// Keras `Conv1DTranspose` / `Conv2DTranspose` / `Conv3DTranspose` (TF `conv*_transpose`, the
/// input gradient of the ordinary convolution): `y[i * s + t * d - pad_before] += x[i] .
/// kernel[t]`, then the bias and the activation. Kernel `(k..., filters, in_channels)` named
/// `<scope>/kernel`, bias `(filters,)` named `<scope>/bias`. Output length per axis (Keras
/// `deconv_output_length`, dk = dilation_rate * (kernel_size - 1) + 1): "same" `in * s`,
/// "valid" `in * s + max(dk - s, 0)`; with output_padding `op`: `(in - 1) * s + dk - 2 * pad +
/// op` (pad = dk / 2 for "same", 0 for "valid"). Placed, in every case, by TF's SAME rule on
/// that length, as Keras: `pad_before = max(0, (in - 1) * s + dk - out) / 2` ("valid": 0).
/// (Before issue 19 "same" with output_padding cropped PyTorch's `dk / 2` instead: outputs of
/// such layers moved to Keras' placement.) Default names
/// "conv1d_transpose", "conv2d_transpose", "conv3d_transpose". Errors: those of `ConvBase`
/// (strides > 1 with dilation_rate > 1 is not one: see `ConvNDTransposeOptions`).
///
/// Example:
/// ```
/// tapeflow::layers::Conv2DTranspose up(
///     tapeflow::layers::Conv2DTransposeOptions(8, 3).strides(2).padding("same"));
/// tapeflow::Variable y = up(x);   // x (2, 4, 4, 16) -> y (2, 8, 8, 8)
/// ```
template <std::size_t N>
class ConvNDTranspose : public ConvBase<ConvNDTransposeOptions<N>> {
 public:
  explicit ConvNDTranspose(const ConvNDTransposeOptions<N>& options)
      : ConvBase<ConvNDTransposeOptions<N>>("conv" + std::to_string(N) + "d_transpose", options) {}
  std::string class_name() const override { return "Conv" + std::to_string(N) + "DTranspose"; }
  const std::optional<std::array<long, N>>& output_padding() const {
    return this->output_padding_value();
  }
};

extern template class ConvNDTranspose<1>;
extern template class ConvNDTranspose<2>;
extern template class ConvNDTranspose<3>;

/// Keras `Conv1DTranspose`: input `(batch, steps, channels)`, kernel `(k, filters, in)`.
/// Example: `Conv1DTranspose up(Conv1DTransposeOptions(4, 3).strides(2));`
class Conv1DTranspose : public ConvNDTranspose<1> {
 public:
  using ConvNDTranspose<1>::ConvNDTranspose;
};
/// Keras `Conv2DTranspose`: input `(batch, h, w, channels)`, kernel `(kh, kw, filters, in)`.
/// Example: `Conv2DTranspose up(Conv2DTransposeOptions(8, {4, 4}).strides(2).padding("same"));`
class Conv2DTranspose : public ConvNDTranspose<2> {
 public:
  using ConvNDTranspose<2>::ConvNDTranspose;
};
/// TF / Keras `Conv3DTranspose`: input `(batch, d, h, w, channels)` (channels_first:
/// `(batch, channels, d, h, w)`), kernel `(kd, kh, kw, filters, in)`. `scope_name()` (an error
/// before the first call) and `graph()` come from `Layer`.
///
/// Example:
/// ```
/// tapeflow::layers::Conv3DTranspose up(
///     tapeflow::layers::Conv3DTransposeOptions(8, 3).strides(2).padding("same"));
/// tapeflow::Variable y = up(x);   // x (2, 4, 4, 4, 16) -> y (2, 8, 8, 8, 8)
/// ```
class Conv3DTranspose : public ConvNDTranspose<3> {
 public:
  using ConvNDTranspose<3>::ConvNDTranspose;
};

}  // namespace tapeflow::layers
