#pragma once
/// Differentiable N-d max and average pooling (1 to 3 spatial axes), TF `tf.nn.max_pool` /
/// `tf.nn.avg_pool` semantics. Computed channels_last with the channel loop innermost;
/// channels_first inputs are transposed at the boundary.
#include <string>
#include <utility>
#include <vector>

#include "tapeflow/framework/core/tape.hpp"

namespace tapeflow {

/// Options of `max_pool` and `avg_pool`, chainable. Per-axis values take one number (every
/// spatial axis) or one per spatial axis.
///
/// - `pool_size` (constructor, required): the window.
/// - `strides`: default the pool size (Keras `strides=None`).
/// - `padding`: `"valid"` (default) or `"same"`, any case. TF's rule: `same` gives
///   `ceil(in / s)` outputs and pads `max((out - 1) * s + k - in, 0)` in total, the smaller half
///   before; padded positions never win a max and do not count in an average.
/// - `data_format`: `"channels_last"` (default) or `"channels_first"`, any case.
///
/// Example: `Variable y = max_pool(x, PoolOptions(2).strides(1).padding("same"));`
struct PoolOptions {
  explicit PoolOptions(long pool_size) : pool_size_{pool_size} {}
  explicit PoolOptions(std::vector<long> pool_size) : pool_size_(std::move(pool_size)) {}

  PoolOptions& pool_size(long k) { return pool_size(std::vector<long>{k}); }
  PoolOptions& pool_size(std::vector<long> k) {
    pool_size_ = std::move(k);
    return *this;
  }
  PoolOptions& strides(long s) { return strides(std::vector<long>{s}); }
  /// An empty list means "the pool size".
  PoolOptions& strides(std::vector<long> s) {
    strides_ = std::move(s);
    return *this;
  }
  PoolOptions& padding(std::string p) {
    padding_ = std::move(p);
    return *this;
  }
  PoolOptions& data_format(std::string f) {
    data_format_ = std::move(f);
    return *this;
  }

  const std::vector<long>& pool_size() const { return pool_size_; }
  const std::vector<long>& strides() const { return strides_; }
  const std::string& padding() const { return padding_; }
  const std::string& data_format() const { return data_format_; }

 private:
  std::vector<long> pool_size_;
  std::vector<long> strides_;
  std::string padding_ = "valid";
  std::string data_format_ = "channels_last";
};

/// Max pooling: each output is the largest input in its window, or NaN if the window holds one
/// (as TF). The gradient goes to the first largest element of each window (row-major order over
/// the window), as TF's CPU kernel; in a window with a NaN, to its first NaN.
/// `x` is `(batch, spatial..., channels)` (or `(batch, channels, spatial...)`), rank 3 to 5.
///
/// Example: `max_pool(x, PoolOptions({2, 2}))` halves a `(n, 8, 8, c)` input to `(n, 4, 4, c)`.
Variable max_pool(const Variable& x, const PoolOptions& options);

/// Average pooling: each output is the mean of the window's elements inside the input (with
/// `same` padding, border windows divide by their number of non-padded elements, as TF).
///
/// Example: `avg_pool(x, PoolOptions(3).strides(1).padding("same"))` keeps the spatial size.
Variable avg_pool(const Variable& x, const PoolOptions& options);

/// Output length of pooling (or of a convolution without dilation) along one axis:
/// `valid`: `floor((in - k) / s) + 1`, `same`: `ceil(in / s)`. An Error naming `where` for an
/// unknown padding or when the output would be empty (`valid` with `in < k`).
/// Example: `pool_output_length(7, 2, 2, "valid") == 3`
long pool_output_length(long in, long pool_size, long stride, const std::string& padding,
                        const std::string& where = "pool");

}  // namespace tapeflow
