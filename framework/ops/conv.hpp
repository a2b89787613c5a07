#pragma once
/// Differentiable N-d convolutions (1 to 3 spatial axes): `conv` (TF `tf.nn.convolution`) and
/// `conv_transpose` (TF `tf.nn.conv3d_transpose` and friends), each the other's input gradient,
/// so gradients of any order work. Computed channels_last on the kernels of
/// `framework/kernels/conv_kernels.hpp`; channels_first inputs are transposed at the boundary.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tapeflow/framework/core/tape.hpp"
#include "tapeflow/framework/kernels/conv_kernels.hpp"

namespace tapeflow {

/// Options of `conv` and `conv_transpose`, chainable (PyTorch `TORCH_ARG` style). Per-axis values
/// take one number (every spatial axis) or one per spatial axis.
///
/// - `strides`, `dilation`: default 1.
/// - `padding`: `"valid"` (default) or `"same"`, any case; TF's rules (see `conv_transpose`).
/// - `pads`: explicit `(before, after)` per spatial axis instead of `padding` (PyTorch's
///   `padding=p` is `pads({{p, p}})`).
/// - `output_padding` (conv_transpose only): extra output length, smaller than the stride
///   (Keras `output_padding`; the output is placed as Keras places it, see `conv_transpose`).
/// - `output_shape` (conv_transpose only): the spatial output sizes, as TF's `output_shape`.
/// - `data_format`: `"channels_last"` (default) or `"channels_first"`, any case.
/// - `groups` (conv only): a grouped convolution (Keras `groups`, default 1): the input
///   channels and the filters are split into `groups` contiguous blocks, output block `i` sees
///   input block `i` only, and the kernel is `(k..., in_channels / groups, filters)`. A
///   depthwise convolution is `groups = in_channels`.
///
/// Example: `conv_transpose(x, k, ConvOptions().strides(2).padding("same"))`
struct ConvOptions {
  ConvOptions& strides(long s) { return strides(std::vector<long>{s}); }
  ConvOptions& strides(std::vector<long> s) {
    strides_ = std::move(s);
    return *this;
  }
  ConvOptions& dilation(long d) { return dilation(std::vector<long>{d}); }
  ConvOptions& dilation(std::vector<long> d) {
    dilation_ = std::move(d);
    return *this;
  }
  ConvOptions& padding(std::string p) {
    padding_ = std::move(p);
    return *this;
  }
  ConvOptions& pads(long p) { return pads(std::vector<std::pair<long, long>>{{p, p}}); }
  ConvOptions& pads(std::vector<std::pair<long, long>> p) {
    pads_ = std::move(p);
    return *this;
  }
  ConvOptions& output_padding(long p) { return output_padding(std::vector<long>{p}); }
  ConvOptions& output_padding(std::vector<long> p) {
    output_padding_ = std::move(p);
    return *this;
  }
  ConvOptions& output_shape(std::vector<long> s) {
    output_shape_ = std::move(s);
    return *this;
  }
  ConvOptions& data_format(std::string f) {
    data_format_ = std::move(f);
    return *this;
  }
  ConvOptions& groups(long g) {
    groups_ = g;
    return *this;
  }

  const std::vector<long>& strides() const { return strides_; }
  const std::vector<long>& dilation() const { return dilation_; }
  const std::string& padding() const { return padding_; }
  const std::optional<std::vector<std::pair<long, long>>>& pads() const { return pads_; }
  const std::optional<std::vector<long>>& output_padding() const { return output_padding_; }
  const std::optional<std::vector<long>>& output_shape() const { return output_shape_; }
  const std::string& data_format() const { return data_format_; }
  long groups() const { return groups_; }

 private:
  std::vector<long> strides_{1};
  std::vector<long> dilation_{1};
  std::string padding_ = "valid";
  std::optional<std::vector<std::pair<long, long>>> pads_;
  std::optional<std::vector<long>> output_padding_;
  std::optional<std::vector<long>> output_shape_;
  std::string data_format_ = "channels_last";
  long groups_ = 1;
};

/// Ordinary (strided, dilated) convolution, no kernel flip:
/// `y[o] = sum_t x[o * s + t * d - pad_before] . kernel[t]`. `x` is `(batch, spatial..., in)`
/// (or `(batch, in, spatial...)` for channels_first), `kernel` TF's `(k..., in, out)`
/// (`(k..., in / groups, out)` with `groups`: a ValueError unless groups >= 1 divides both `in`
/// and `out`).
/// `same`: output `ceil(in / s)`, padded by `max((out - 1) * s + dk - in, 0)` in total, the
/// smaller half before (dk = d * (k - 1) + 1); `valid`: output `floor((in - dk) / s) + 1`.
///
/// Example: `Variable y = conv(x, kernel, ConvOptions().strides(2).padding("same"));`
Variable conv(const Variable& x, const Variable& kernel, const ConvOptions& options = {});
/// The same plus `bias` (shape `(filters,)`) on every output position, added inside the kernel
/// (no extra pass over the output, unlike `bias_add(conv(x, kernel), bias)`); an undefined
/// `bias` adds nothing. As PyTorch's `conv3d(input, weight, bias, ...)`.
/// Example: `Variable y = conv(x, kernel, bias, ConvOptions().padding("same"));`
Variable conv(const Variable& x, const Variable& kernel, const Variable& bias,
              const ConvOptions& options = {});

/// Transposed convolution (the input gradient of `conv`), kernel in TF's layout
/// `(k..., filters, in)`: `y[i * s + t * d - pad_before] += x[i] . kernel[t]`. Output length per
/// spatial axis, with dk = d * (k - 1) + 1 (Keras `deconv_output_length`):
/// - no output_padding: `same`: `in * s`, `valid`: `in * s + max(dk - s, 0)`;
/// - with output_padding `op`: `(in - 1) * s + dk - 2 * (dk / 2) + op` for `same`,
///   `(in - 1) * s + dk + op` for `valid`;
/// - in both cases placed by TF's SAME rule on that output length, as Keras (not PyTorch's
///   `dk / 2`): `pad_before = max(0, (in - 1) * s + dk - out) / 2` (`valid`: 0). Example: k 2,
///   s 2, op 1, x = ones(3), kernel [1, 2]: `[1, 2, 1, 2, 1]`;
/// - explicit `pads`: `(in - 1) * s + dk - before - after + op`, `pad_before = before`;
/// - `output_shape`: as given (checked against the input), TF's padding rule.
///
/// Example: `Variable y = conv_transpose(x, kernel, ConvOptions().strides(2).padding("same"));`
Variable conv_transpose(const Variable& x, const Variable& kernel, const ConvOptions& options = {});
/// The same plus `bias` (shape `(filters,)`) on every output position, added while the output
/// is written (one pass less than `bias_add(conv_transpose(x, kernel), bias)`); an undefined
/// `bias` adds nothing.
/// Example: `Variable y = conv_transpose(x, kernel, bias, ConvOptions().strides(2));`
Variable conv_transpose(const Variable& x, const Variable& kernel, const Variable& bias,
                        const ConvOptions& options = {});

/// Output length of a transposed convolution along one axis (see `conv_transpose`); an Error
/// naming `where` for an unknown padding. `output_padding < 0` means none.
/// Example: `conv_transpose_output_length(8, 4, 2, 1, "same") == 16`
long conv_transpose_output_length(long in, long kernel, long stride, long dilation,
                                  const std::string& padding, long output_padding = -1,
                                  const std::string& where = "conv_transpose");

/// TF `tf.nn.bias_add`: adds `bias` (shape `(channels,)`) along the channel axis of `x` (the
/// last one for channels_last, axis 1 for channels_first); one pass, no broadcasting machinery.
/// Example: `Variable y = bias_add(conv_transpose(x, k), b);`
Variable bias_add(const Variable& x, const Variable& bias,
                  const std::string& data_format = "channels_last");

namespace detail {
/// Sum of `g` over every axis but the channel axis: the bias gradient of `bias_add`.
Variable channel_sum(const Variable& g, const std::string& data_format = "channels_last");
/// The channels_last primitives over an explicit geometry, for conv layers of any rank:
/// `image` is `(batch, image..., image_channels)`, `grid` `(batch, grid..., grid_channels)`,
/// `kernel` `(k..., image_channels / g.groups, grid_channels)`. Each is differentiable in both
/// arguments.
/// An optional `bias` (shape `(grid_channels,)` for conv_nd, `(image_channels,)` for
/// conv_transpose_nd) is added to the output inside the kernel.
Variable conv_nd(const Variable& image, const Variable& kernel, const kernels::ConvGeometry& g,
                 const Variable& bias = Variable());
Variable conv_transpose_nd(const Variable& grid, const Variable& kernel,
                           const kernels::ConvGeometry& g, const Variable& bias = Variable());
/// `d sum(grid . conv_nd(image, K)) / dK`.
Variable conv_kernel_grad_nd(const Variable& image, const Variable& grid,
                             const kernels::ConvGeometry& g);
/// `(batch, C, spatial...)` <-> `(batch, spatial..., C)`, differentiable.
Variable to_channels_last(const Variable& x);
Variable to_channels_first(const Variable& x);
/// "channels_last" / "channels_first" from any case, or an Error naming `where`.
std::string normalize_data_format(const std::string& where, const std::string& data_format);
/// "valid" / "same" from any case, or an Error naming `where`.
std::string normalize_padding(const std::string& where, const std::string& padding);
}  // namespace detail

}  // namespace tapeflow
