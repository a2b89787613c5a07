#pragma once
/// Keras' transposed convolution layers `Conv1DTranspose` and `Conv2DTranspose`: one template
/// `ConvNDTranspose<N>` on `ConvBase<N>` (layers/conv.hpp) and the shared N-d kernels.
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "tapeflow/layers/conv.hpp"

namespace tapeflow::layers {

/// Options of `Conv1DTranspose` / `Conv2DTranspose`: every argument of
/// `detail::ConvOptionsBase` (padding "valid" or "same"), plus Keras' `output_padding` (none by
/// default; one number or one per axis, each smaller than its stride), with PyTorch
/// `ConvTranspose` semantics (`padding = dk / 2` for "same", 0 for "valid").
///
/// Example: `Conv2DTransposeOptions(/*filters=*/8, /*kernel_size=*/3).strides(2).padding("same")`
template <std::size_t N>
struct ConvNDTransposeOptions : detail::ConvOptionsBase<ConvNDTransposeOptions<N>> {
  static_assert(N >= 1 && N <= 3, "1 to 3 spatial axes");
  using detail::ConvOptionsBase<ConvNDTransposeOptions<N>>::ConvOptionsBase;

  ConvNDTransposeOptions& output_padding(long p) { return output_padding(std::vector<long>{p}); }
  ConvNDTransposeOptions& output_padding(const std::vector<long>& p) {
    this->args_.output_padding = p;
    return *this;
  }
  const std::optional<std::vector<long>>& output_padding() const {
    return this->args_.output_padding;
  }
};
using Conv1DTransposeOptions = ConvNDTransposeOptions<1>;
using Conv2DTransposeOptions = ConvNDTransposeOptions<2>;

/// Keras `Conv1DTranspose` / `Conv2DTranspose` (TF `conv*_transpose`, the input gradient of the
/// ordinary convolution): `y[i * s + t * d - pad_before] += x[i] . kernel[t]`, then the bias and
/// the activation. Kernel `(k..., filters, in_channels)`. Output length per axis (Keras
/// `deconv_output_length`, dk = dilation_rate * (kernel_size - 1) + 1): "same" `in * s`,
/// "valid" `in * s + max(dk - s, 0)`; with output_padding `op`:
/// `(in - 1) * s + dk - 2 * padding + op` (padding = dk / 2 for "same", 0 for "valid").
/// Default names "conv1d_transpose", "conv2d_transpose". Errors as `ConvND`, plus
/// output_padding >= strides.
///
/// Example:
/// ```
/// tapeflow::layers::Conv2DTranspose up(
///     tapeflow::layers::Conv2DTransposeOptions(8, 3).strides(2).padding("same"));
/// tapeflow::Variable y = up(x);   // x (2, 4, 4, 16) -> y (2, 8, 8, 8)
/// ```
template <std::size_t N>
class ConvNDTranspose : public ConvBase<N> {
 public:
  explicit ConvNDTranspose(const ConvNDTransposeOptions<N>& options)
      : ConvBase<N>("conv" + std::to_string(N) + "d_transpose", options.common(), options.args(),
                    true),
        options_(options) {}
  std::string class_name() const override { return "Conv" + std::to_string(N) + "DTranspose"; }
  const ConvNDTransposeOptions<N>& options() const { return options_; }
  const std::optional<std::array<long, N>>& output_padding() const {
    return this->output_padding_value();
  }

 private:
  ConvNDTransposeOptions<N> options_;
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

}  // namespace tapeflow::layers
