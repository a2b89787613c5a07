#pragma once
// The geometry every convolution layer shares (internal to layers/): per-axis options, the input
// checks of each call and the output shape, with one wording of their errors for all of them
// (ConvBase, the depthwise and separable convolutions; pooling uses `per_axis`).
#include <algorithm>
#include <array>
#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "tapeflow/framework/core/tensor.hpp"

namespace tapeflow::layers::detail {

/// One value per axis from one value or `rank` values, each `>= min_value`; otherwise a
/// ValueError naming `layer` and `what`, e.g. "conv2d: kernel_size (3, 3, 3) has 3 values,
/// expected 1 or 2 (one per spatial axis)".
std::vector<long> normalize_tuple(const std::string& layer, const char* what,
                                  const std::vector<long>& values, std::size_t rank,
                                  long min_value);

/// `normalize_tuple` for `N` axes, as an array.
/// Example: `std::array<long, 2> k = per_axis<2>("conv2d", "kernel_size", {3}, 1);  // {3, 3}`
template <std::size_t N>
std::array<long, N> per_axis(const std::string& layer, const char* what,
                             const std::vector<long>& values, long min_value) {
  const std::vector<long> v = normalize_tuple(layer, what, values, N, min_value);
  std::array<long, N> a{};
  std::copy(v.begin(), v.end(), a.begin());
  return a;
}

/// The kernel geometry of an N-d convolution layer, its options normalized (one value per
/// spatial axis; padding lower-case).
struct ConvGeometry {
  std::span<const long> kernel_size, strides, dilation_rate;
  const std::string& padding;
  bool channels_first;

  std::size_t spatial_rank() const { return kernel_size.size(); }
  std::size_t channel_axis() const { return channels_first ? 1 : spatial_rank() + 1; }
};

/// The output length along one spatial axis, for a transposed convolution (whose rule has
/// output_padding): `(axis, input length) -> output length`.
using OutputLength = std::function<long(std::size_t axis, long input_length)>;

/// A ShapeError naming `layer` unless the input's rank is the spatial rank + 2.
void check_conv_input_rank(const std::string& layer, const Shape& input_shape,
                           const ConvGeometry& geometry);

/// Keras `compute_output_shape` of a convolution: `channels` at the channel axis, each spatial
/// length by Keras' `conv_output_length` ("valid": (in - dilated kernel) / stride + 1; "same"
/// and "causal": ceil(in / stride)), or by `transposed_length` where given. A ShapeError naming
/// `layer` for an input of a rank other than spatial rank + 2, or too small for an output (it
/// names the axis and the geometry).
Shape conv_output_shape(const std::string& layer, const Shape& input_shape,
                        const ConvGeometry& geometry, std::size_t channels,
                        const OutputLength& transposed_length = nullptr);

/// The checks of every call, as Keras' input spec (an error naming the layer beats one from
/// deep inside the kernels): the rank, the channels the layer was built for (`built`) and an
/// output that is not empty; a ShapeError naming `layer` otherwise.
void check_conv_call_input(const std::string& layer, const Shape& input_shape, const Shape& built,
                           const ConvGeometry& geometry, std::size_t channels,
                           const OutputLength& transposed_length = nullptr);

}  // namespace tapeflow::layers::detail
