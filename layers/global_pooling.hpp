#pragma once
/// Keras' global pooling layers `GlobalMaxPooling1D/2D/3D` and `GlobalAveragePooling1D/2D/3D`:
/// the max or mean over every spatial axis.
#include <cstddef>
#include <optional>
#include <string>

#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// The options of the global pooling layers after the common ones (Keras names and defaults):
/// `data_format` ("channels_last", or "channels_first", any case), `keepdims` (false; true keeps
/// the spatial axes with length 1).
#define TAPEFLOW_GLOBAL_POOLING_FIELDS(F)      \
  F(std::string, data_format, "channels_last") \
  F(bool, keepdims, false)

/// Options of the global pooling layers.
///
/// Example: `GlobalAveragePooling2DOptions().keepdims(true)`
struct GlobalPoolingOptions : LayerOptionsBase<GlobalPoolingOptions> {
  TAPEFLOW_DERIVED_FIELDS(GlobalPoolingOptions, LayerOptionsBase, TAPEFLOW_GLOBAL_POOLING_FIELDS)
  static constexpr PrintedFields printed{"", "data_format, keepdims"};
};
using GlobalMaxPooling1DOptions = GlobalPoolingOptions;
using GlobalMaxPooling2DOptions = GlobalPoolingOptions;
using GlobalMaxPooling3DOptions = GlobalPoolingOptions;
using GlobalAveragePooling1DOptions = GlobalPoolingOptions;
using GlobalAveragePooling2DOptions = GlobalPoolingOptions;
using GlobalAveragePooling3DOptions = GlobalPoolingOptions;

/// What the global max and average pooling layers share: input rank `N + 2`, output
/// `(batch, channels)` (or with length-1 spatial axes when `keepdims`), config and printing.
/// The max's gradient is shared equally among tied maxima (TF's `reduce_max`).
template <std::size_t N>
class GlobalPoolingBase : public LayerWith<GlobalPoolingOptions> {
 public:
  /// "channels_last" or "channels_first".
  const std::string& data_format() const { return options_.data_format(); }
  bool keepdims() const { return options_.keepdims(); }
  /// Keras `compute_output_shape`; an Error naming the layer for a wrong rank.
  Shape compute_output_shape(const Shape& input_shape) const;

 protected:
  GlobalPoolingBase(const std::string& default_name, const GlobalPoolingOptions& options,
                    bool is_max);
  Variable call(const Variable& x, bool training) override;

 private:
  bool is_max_;
};

extern template class GlobalPoolingBase<1>;
extern template class GlobalPoolingBase<2>;
extern template class GlobalPoolingBase<3>;

/// Keras `GlobalMaxPooling1D/2D/3D`: the largest element over the spatial axes, per channel.
/// Default names "global_max_pooling1d", "global_max_pooling2d", "global_max_pooling3d".
///
/// Example:
/// ```
/// tapeflow::layers::GlobalMaxPooling2D pool;
/// tapeflow::Variable y = pool(x);   // x (4, 7, 7, 32) -> y (4, 32)
/// ```
template <std::size_t N>
class GlobalMaxPoolingND : public GlobalPoolingBase<N> {
 public:
  explicit GlobalMaxPoolingND(const GlobalPoolingOptions& options = {})
      : GlobalPoolingBase<N>("global_max_pooling" + std::to_string(N) + "d", options, true) {}
  std::string class_name() const override { return "GlobalMaxPooling" + std::to_string(N) + "D"; }
};

/// Keras `GlobalAveragePooling1D/2D/3D`: the mean over the spatial axes, per channel.
/// Default names "global_average_pooling1d", "global_average_pooling2d",
/// "global_average_pooling3d".
///
/// Example:
/// ```
/// tapeflow::layers::GlobalAveragePooling3D pool(
///     tapeflow::layers::GlobalAveragePooling3DOptions().keepdims(true));
/// tapeflow::Variable y = pool(x);   // x (2, 4, 4, 4, 8) -> y (2, 1, 1, 1, 8)
/// ```
template <std::size_t N>
class GlobalAveragePoolingND : public GlobalPoolingBase<N> {
 public:
  explicit GlobalAveragePoolingND(const GlobalPoolingOptions& options = {})
      : GlobalPoolingBase<N>("global_average_pooling" + std::to_string(N) + "d", options, false) {}
  std::string class_name() const override {
    return "GlobalAveragePooling" + std::to_string(N) + "D";
  }
};

extern template class GlobalMaxPoolingND<1>;
extern template class GlobalMaxPoolingND<2>;
extern template class GlobalMaxPoolingND<3>;
extern template class GlobalAveragePoolingND<1>;
extern template class GlobalAveragePoolingND<2>;
extern template class GlobalAveragePoolingND<3>;

/// Keras `GlobalMaxPooling1D`: `(batch, steps, channels)` -> `(batch, channels)`.
class GlobalMaxPooling1D : public GlobalMaxPoolingND<1> {
 public:
  using GlobalMaxPoolingND<1>::GlobalMaxPoolingND;
};
/// Keras `GlobalMaxPooling2D`: `(batch, h, w, channels)` -> `(batch, channels)`.
class GlobalMaxPooling2D : public GlobalMaxPoolingND<2> {
 public:
  using GlobalMaxPoolingND<2>::GlobalMaxPoolingND;
};
/// Keras `GlobalMaxPooling3D`: `(batch, d, h, w, channels)` -> `(batch, channels)`.
class GlobalMaxPooling3D : public GlobalMaxPoolingND<3> {
 public:
  using GlobalMaxPoolingND<3>::GlobalMaxPoolingND;
};
/// Keras `GlobalAveragePooling1D`: `(batch, steps, channels)` -> `(batch, channels)`. With a
/// mask `(batch, steps)` (layers/masking.hpp), the mean of the steps that count,
/// `sum(x * mask) / sum(mask)` over the steps, as Keras (channels_last only: a mask with
/// channels_first is an Error); the output has no mask.
class GlobalAveragePooling1D : public GlobalAveragePoolingND<1> {
 public:
  using GlobalAveragePoolingND<1>::GlobalAveragePoolingND;
  bool supports_masking() const override { return true; }
  std::optional<Tensor> compute_mask(const Variable&, const std::optional<Tensor>&) const override {
    return std::nullopt;
  }

 protected:
  Variable call_masked(const Variable& x, const Tensor& mask, bool training) override;
};
/// Keras `GlobalAveragePooling2D`: `(batch, h, w, channels)` -> `(batch, channels)`.
class GlobalAveragePooling2D : public GlobalAveragePoolingND<2> {
 public:
  using GlobalAveragePoolingND<2>::GlobalAveragePoolingND;
};
/// Keras `GlobalAveragePooling3D`: `(batch, d, h, w, channels)` -> `(batch, channels)`.
class GlobalAveragePooling3D : public GlobalAveragePoolingND<3> {
 public:
  using GlobalAveragePoolingND<3>::GlobalAveragePoolingND;
};

}  // namespace tapeflow::layers
