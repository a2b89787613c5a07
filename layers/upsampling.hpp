#pragma once
/// Keras' nearest-neighbour upsampling layers `UpSampling1D`, `UpSampling2D`, `UpSampling3D`:
/// each spatial element is repeated `size` times along its axis.
#include <cstddef>
#include <string>
#include <vector>

#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// Options of `UpSampling<N>` (N spatial axes), Keras' arguments and defaults:
/// - `size`: one factor for every spatial axis or one per axis (default 2); positive.
///   `UpSampling1D` takes one number, as in Keras.
/// - `data_format` (2-D and 3-D, as in Keras): `"channels_last"` (default) or
///   `"channels_first"`, any case. The 1-D layer is always `(batch, steps, features)`.
/// - `interpolation` (2-D only, as in Keras): `"nearest"` (default, the only one supported;
///   `"bilinear"` is an Error).
///
/// Example: `UpSampling2DOptions().size({2, 3}).data_format("channels_first")`
template <std::size_t N>
struct UpSamplingOptions : LayerOptionsBase<UpSamplingOptions<N>> {
  static_assert(N >= 1 && N <= 3, "UpSampling has 1 to 3 spatial axes");
  UpSamplingOptions& size(long s) {
    size_ = {s};
    return *this;
  }
  UpSamplingOptions& size(std::vector<long> s) requires(N > 1) {
    size_ = std::move(s);
    return *this;
  }
  const std::vector<long>& size() const { return size_; }
  UpSamplingOptions& data_format(std::string f) requires(N > 1) {
    data_format_ = std::move(f);
    return *this;
  }
  const std::string& data_format() const { return data_format_; }
  UpSamplingOptions& interpolation(std::string i) requires(N == 2) {
    interpolation_ = std::move(i);
    return *this;
  }
  const std::string& interpolation() const { return interpolation_; }

 private:
  std::vector<long> size_{2};
  std::string data_format_ = "channels_last";
  std::string interpolation_ = "nearest";
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
class UpSampling : public Layer {
 public:
  explicit UpSampling(const UpSamplingOptions<N>& options = {});
  /// "UpSampling1D", "UpSampling2D" or "UpSampling3D".
  std::string class_name() const override;
  const UpSamplingOptions<N>& options() const { return options_; }
  /// The factor of each spatial axis.
  const std::vector<long>& size() const { return size_; }
  /// Base keys plus `size` (an int for 1-D, a tuple otherwise), `data_format` (2-D, 3-D) and
  /// `interpolation` (2-D).
  Config get_config() const override;

 protected:
  Variable call(const Variable& x, bool training) override;
  std::string extra_repr() const override;

 private:
  UpSamplingOptions<N> options_;
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
