#pragma once
/// Keras' nearest-neighbour upsampling layers `UpSampling1D`, `UpSampling2D`, `UpSampling3D`:
/// each spatial element is repeated `size` times along its axis.
#include <cstddef>
#include <string>
#include <vector>

#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// The own options of `UpSampling<N>` (Keras' arguments and defaults): `size`, one factor for
/// every spatial axis or one per axis (default 2, positive; `UpSampling1D` takes one number, as
/// in Keras), and for 2-D only `interpolation` ("nearest", default and the only one supported;
/// "bilinear" is an Error). `data_format` (2-D and 3-D) comes first, from
/// `detail::SpatialOptionsBase`.
#define TAPEFLOW_UPSAMPLING1D_FIELDS(F) F(long, size, 2)
#define TAPEFLOW_UPSAMPLING3D_FIELDS(F) F(PerAxis, size, {2})
#define TAPEFLOW_UPSAMPLING2D_FIELDS(F) \
  TAPEFLOW_UPSAMPLING3D_FIELDS(F)       \
  F(std::string, interpolation, "nearest")

/// Options of `UpSampling<N>` (N spatial axes), one specialization per rank (their fields
/// differ, as in Keras).
///
/// Example: `UpSampling2DOptions().size({2, 3}).data_format("channels_first")`
template <std::size_t N>
struct UpSamplingOptions;
template <>
struct UpSamplingOptions<1> : detail::SpatialOptionsBase<UpSamplingOptions<1>, 1> {
  using spatial_options = detail::SpatialOptionsBase<UpSamplingOptions<1>, 1>;
  TAPEFLOW_DERIVED_FIELDS(UpSamplingOptions, spatial_options, TAPEFLOW_UPSAMPLING1D_FIELDS)
  static constexpr PrintedFields printed{"size"};
};
template <>
struct UpSamplingOptions<2> : detail::SpatialOptionsBase<UpSamplingOptions<2>, 2> {
  using spatial_options = detail::SpatialOptionsBase<UpSamplingOptions<2>, 2>;
  TAPEFLOW_DERIVED_FIELDS(UpSamplingOptions, spatial_options, TAPEFLOW_UPSAMPLING2D_FIELDS)
  static constexpr PrintedFields printed{"size", "data_format"};
};
template <>
struct UpSamplingOptions<3> : detail::SpatialOptionsBase<UpSamplingOptions<3>, 3> {
  using spatial_options = detail::SpatialOptionsBase<UpSamplingOptions<3>, 3>;
  TAPEFLOW_DERIVED_FIELDS(UpSamplingOptions, spatial_options, TAPEFLOW_UPSAMPLING3D_FIELDS)
  static constexpr PrintedFields printed{"size", "data_format"};
};

/// Keras `UpSampling1D/2D/3D` (nearest): the input has rank N + 2; each spatial axis grows by
/// its factor, `y[..., i, ...] = x[..., i / size, ...]`. Default names "up_sampling1d",
/// "up_sampling2d", "up_sampling3d". Use the aliases `UpSampling1D`, `UpSampling2D`,
/// `UpSampling3D`.
///
/// Example:
/// ```
/// tapeflow::layers::UpSampling3D up(tapeflow::layers::UpSampling3DOptions().size({1, 2, 2}));
/// tapeflow::Variable y = up(x);   // x (1, 4, 4, 4, 8) -> y (1, 4, 8, 8, 8)
/// ```
template <std::size_t N>
class UpSampling : public LayerWith<UpSamplingOptions<N>> {
 public:
  explicit UpSampling(const UpSamplingOptions<N>& options = {});
  /// "UpSampling1D", "UpSampling2D" or "UpSampling3D".
  std::string class_name() const override;
  /// The factor of each spatial axis.
  const std::vector<long>& size() const { return size_; }

 protected:
  Variable call(const Variable& x, bool training) override;

 private:
  std::vector<long> size_;
};

using UpSampling1DOptions = UpSamplingOptions<1>;
using UpSampling2DOptions = UpSamplingOptions<2>;
using UpSampling3DOptions = UpSamplingOptions<3>;
using UpSampling1D = UpSampling<1>;
using UpSampling2D = UpSampling<2>;
using UpSampling3D = UpSampling<3>;

extern template class UpSampling<1>;
extern template class UpSampling<2>;
extern template class UpSampling<3>;

}  // namespace tapeflow::layers
