#pragma once
/// Keras' pooling layers `MaxPooling1D/2D/3D` and `AveragePooling1D/2D/3D` over the N-d pooling
/// ops of `framework/ops/pooling.hpp`.
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// The options of the pooling layers after the common ones (Keras names and defaults):
/// `pool_size` (2 on every axis; one number or one per axis), `strides` (None: the pool size),
/// `padding` ("valid" or "same", any case; TF's rule: `same` windows count only their
/// non-padded elements), `data_format` ("channels_last", or "channels_first").
#define TAPEFLOW_POOLING_FIELDS(F)          \
  F(PerAxis, pool_size, {2})                \
  F(OptionalPerAxis, strides, std::nullopt) \
  F(std::string, padding, "valid")          \
  F(std::string, data_format, "channels_last")

/// Options of the pooling layers over `N` spatial axes; `pool_size` is also the constructor's
/// argument.
///
/// Example: `MaxPooling2DOptions({3, 3}).strides(2).padding("same")`
template <std::size_t N>
struct PoolingNDOptions : LayerOptionsBase<PoolingNDOptions<N>> {
  static_assert(N >= 1 && N <= 3, "1 to 3 spatial axes");
  PoolingNDOptions() = default;
  explicit PoolingNDOptions(PerAxis size) { this->pool_size(std::move(size)); }
  TAPEFLOW_DERIVED_FIELDS(PoolingNDOptions, LayerOptionsBase<PoolingNDOptions<N>>,
                          TAPEFLOW_POOLING_FIELDS)
  static constexpr PrintedFields printed{"pool_size, strides, padding", "data_format"};
};
using MaxPooling1DOptions = PoolingNDOptions<1>;
using MaxPooling2DOptions = PoolingNDOptions<2>;
using MaxPooling3DOptions = PoolingNDOptions<3>;
using AveragePooling1DOptions = PoolingNDOptions<1>;
using AveragePooling2DOptions = PoolingNDOptions<2>;
using AveragePooling3DOptions = PoolingNDOptions<3>;

/// What the max and average pooling layers share: argument checks (at construction, errors
/// naming the layer), the output shape, config and printing. Input rank `N + 2`. No weights.
/// Output length per axis: "valid" `floor((in - k) / s) + 1`, "same" `ceil(in / s)`.
template <std::size_t N>
class PoolingBase : public LayerWith<PoolingNDOptions<N>> {
 public:
  const std::array<long, N>& pool_size() const { return pool_size_; }
  /// The pool size when none was given.
  const std::array<long, N>& strides() const { return strides_; }
  /// "valid" or "same".
  const std::string& padding() const { return this->options_.padding(); }
  /// "channels_last" or "channels_first".
  const std::string& data_format() const { return this->options_.data_format(); }

  /// Keras `compute_output_shape`; an Error naming the layer for a wrong rank or an input
  /// shorter than the window with "valid" padding.
  Shape compute_output_shape(const Shape& input_shape) const;

 protected:
  PoolingBase(const std::string& default_name, const PoolingNDOptions<N>& options, bool is_max);
  Variable call(const Variable& x, bool training) override;

 private:
  bool is_max_;
  std::array<long, N> pool_size_{};
  std::array<long, N> strides_{};
};

extern template class PoolingBase<1>;
extern template class PoolingBase<2>;
extern template class PoolingBase<3>;

/// Keras `MaxPooling1D/2D/3D`: the largest element of each window (`tapeflow::max_pool`; the
/// gradient goes to the first largest one). Default names "max_pooling1d", "max_pooling2d",
/// "max_pooling3d".
///
/// Example:
/// ```
/// tapeflow::layers::MaxPooling2D pool(tapeflow::layers::MaxPooling2DOptions(2));
/// tapeflow::Variable y = pool(x);   // x (4, 32, 32, 8) -> y (4, 16, 16, 8)
/// ```
template <std::size_t N>
class MaxPoolingND : public PoolingBase<N> {
 public:
  explicit MaxPoolingND(const PoolingNDOptions<N>& options = {})
      : PoolingBase<N>("max_pooling" + std::to_string(N) + "d", options, true) {}
  std::string class_name() const override { return "MaxPooling" + std::to_string(N) + "D"; }
};

/// Keras `AveragePooling1D/2D/3D`: the mean of each window's non-padded elements
/// (`tapeflow::avg_pool`). Default names "average_pooling1d", "average_pooling2d",
/// "average_pooling3d".
///
/// Example:
/// ```
/// tapeflow::layers::AveragePooling1D pool(
///     tapeflow::layers::AveragePooling1DOptions(3).strides(1).padding("same"));
/// tapeflow::Variable y = pool(x);   // x (4, 10, 8) -> y (4, 10, 8)
/// ```
template <std::size_t N>
class AveragePoolingND : public PoolingBase<N> {
 public:
  explicit AveragePoolingND(const PoolingNDOptions<N>& options = {})
      : PoolingBase<N>("average_pooling" + std::to_string(N) + "d", options, false) {}
  std::string class_name() const override { return "AveragePooling" + std::to_string(N) + "D"; }
};

extern template class MaxPoolingND<1>;
extern template class MaxPoolingND<2>;
extern template class MaxPoolingND<3>;
extern template class AveragePoolingND<1>;
extern template class AveragePoolingND<2>;
extern template class AveragePoolingND<3>;

/// Keras `MaxPooling1D`: input `(batch, steps, channels)`.
class MaxPooling1D : public MaxPoolingND<1> {
 public:
  using MaxPoolingND<1>::MaxPoolingND;
};
/// Keras `MaxPooling2D`: input `(batch, h, w, channels)`.
class MaxPooling2D : public MaxPoolingND<2> {
 public:
  using MaxPoolingND<2>::MaxPoolingND;
};
/// Keras `MaxPooling3D`: input `(batch, d, h, w, channels)`.
class MaxPooling3D : public MaxPoolingND<3> {
 public:
  using MaxPoolingND<3>::MaxPoolingND;
};
/// Keras `AveragePooling1D`: input `(batch, steps, channels)`.
class AveragePooling1D : public AveragePoolingND<1> {
 public:
  using AveragePoolingND<1>::AveragePoolingND;
};
/// Keras `AveragePooling2D`: input `(batch, h, w, channels)`.
class AveragePooling2D : public AveragePoolingND<2> {
 public:
  using AveragePoolingND<2>::AveragePoolingND;
};
/// Keras `AveragePooling3D`: input `(batch, d, h, w, channels)`.
class AveragePooling3D : public AveragePoolingND<3> {
 public:
  using AveragePoolingND<3>::AveragePoolingND;
};

}  // namespace tapeflow::layers
