#pragma once
/// Keras `Dropout`, `SpatialDropout1D/2D/3D` and `AlphaDropout`: random zeroing with inverted
/// scaling (AlphaDropout: setting to SELU's saturation value, then an affine correction), in
/// training only.
#include <optional>
#include <string>
#include <vector>

#include "tapeflow/framework/runtime/random.hpp"
#include "tapeflow/layers/detail/random_layer.hpp"
#include "tapeflow/layers/layer.hpp"

/// The options of `Dropout` after the common ones (Keras names): `rate` (required, in [0, 1)),
/// the fraction of inputs dropped; `noise_shape` (None), the shape of the binary mask, broadcast
/// against the input (empty: the input's shape; an entry -1 takes the input's size there, as
/// Keras' `None`); `seed` (None), the op seed (see framework/runtime/random.hpp).
#define TAPEFLOW_DROPOUT_FIELDS(F)       \
  F(float, rate, 0.f)                    \
  F(NoneableList<long>, noise_shape, {}) \
  F(Seed, seed, std::nullopt)

/// The options of `SpatialDropout1D` after the common ones: `rate` (required), `seed` (None).
#define TAPEFLOW_SPATIAL_DROPOUT1D_FIELDS(F) \
  F(float, rate, 0.f)                        \
  F(Seed, seed, std::nullopt)

/// The options of `SpatialDropout2D` and `SpatialDropout3D` after the common ones: `rate`
/// (required), `data_format` ("channels_last", or "channels_first", any case), `seed` (None).
#define TAPEFLOW_SPATIAL_DROPOUT3D_FIELDS(F)   \
  F(float, rate, 0.f)                          \
  F(std::string, data_format, "channels_last") \
  F(Seed, seed, std::nullopt)

namespace tapeflow::layers {

/// Options of `Dropout`.
///
/// Example: `DropoutOptions(0.5f).noise_shape({-1, 1, -1}).seed(42)`
struct DropoutOptions : LayerOptionsBase<DropoutOptions> {
  DropoutOptions() = default;
  explicit DropoutOptions(float r) { rate(r); }
  TAPEFLOW_DERIVED_FIELDS(DropoutOptions, LayerOptionsBase, TAPEFLOW_DROPOUT_FIELDS)
  static constexpr PrintedFields printed{"rate"};
};

/// Options of `SpatialDropout1D`. Example: `SpatialDropout1DOptions(0.2f).seed(3)`
struct SpatialDropout1DOptions : LayerOptionsBase<SpatialDropout1DOptions> {
  SpatialDropout1DOptions() = default;
  explicit SpatialDropout1DOptions(float r) { rate(r); }
  TAPEFLOW_DERIVED_FIELDS(SpatialDropout1DOptions, LayerOptionsBase,
                          TAPEFLOW_SPATIAL_DROPOUT1D_FIELDS)
  static constexpr PrintedFields printed{"rate"};
};

/// Options of `SpatialDropout2D`. Example:
/// `SpatialDropout2DOptions(0.2f).data_format("channels_first")`
struct SpatialDropout2DOptions : LayerOptionsBase<SpatialDropout2DOptions> {
  SpatialDropout2DOptions() = default;
  explicit SpatialDropout2DOptions(float r) { rate(r); }
  TAPEFLOW_DERIVED_FIELDS(SpatialDropout2DOptions, LayerOptionsBase,
                          TAPEFLOW_SPATIAL_DROPOUT3D_FIELDS)
  static constexpr PrintedFields printed{"rate, data_format"};
};

/// Options of `SpatialDropout3D`.
///
/// Example: `SpatialDropout3DOptions(0.2f).data_format("channels_first")`
struct SpatialDropout3DOptions : LayerOptionsBase<SpatialDropout3DOptions> {
  SpatialDropout3DOptions() = default;
  explicit SpatialDropout3DOptions(float r) { rate(r); }
  TAPEFLOW_DERIVED_FIELDS(SpatialDropout3DOptions, LayerOptionsBase,
                          TAPEFLOW_SPATIAL_DROPOUT3D_FIELDS)
  static constexpr PrintedFields printed{"rate, data_format"};
};

namespace detail {

/// What `Dropout` and the spatial dropouts share: the rate check and the masking. With
/// `training=true` each mask element is kept with probability `1 - rate` and the kept inputs are
/// scaled by `1 / (1 - rate)` (so the expected output equals the input); with `training=false`,
/// or `rate == 0`, the input is returned as is. The gradient is the same mask times the scale.
/// Masks come from the layer's random stream (`RandomLayer`). A subclass gives the mask shape
/// (`noise_shape_for`).
///
/// Example (a subclass): `Shape noise_shape_for(const Shape& s) const override { return s; }`
class RandomDropout : public RandomLayer {
 protected:
  /// Error: `rate` outside [0, 1).
  RandomDropout(const std::string& default_name, const LayerOptions& common, float rate,
                const Seed& seed);
  Variable call(const Variable& x, bool training) override;
  /// The mask shape for an input of shape `input` (an Error naming the layer if invalid).
  virtual Shape noise_shape_for(const Shape& input) const = 0;

 private:
  float rate_;
};

}  // namespace detail

/// Keras `Dropout`, default name "dropout" (see `detail::RandomDropout` for the masks).
/// Errors: `rate` outside [0, 1); a `noise_shape` whose rank differs from the input's or with a
/// size other than -1, 1 or the input's.
///
/// Example:
/// ```
/// tapeflow::layers::Dropout drop(tapeflow::layers::DropoutOptions(0.25f).seed(1));
/// tapeflow::Variable y = drop(x, /*training=*/true);   // ~1/4 zeros, the rest x * 4/3
/// ```
class Dropout : public LayerWith<DropoutOptions, detail::RandomDropout> {
 public:
  explicit Dropout(const DropoutOptions& options);
  std::string class_name() const override { return "Dropout"; }

 protected:
  /// For subclasses: another default name.
  Dropout(const std::string& default_name, const DropoutOptions& options);
  Shape noise_shape_for(const Shape& input) const override;
};

/// Options of `AlphaDropout`: those of `Dropout` (`rate`, `noise_shape`, `seed`).
/// Example: `AlphaDropoutOptions(0.1f).seed(7)`
using AlphaDropoutOptions = DropoutOptions;

/// Keras `AlphaDropout`, default name "alpha_dropout": dropout that keeps the mean and variance
/// of its inputs, for self-normalizing networks (SELU activations). With `training=true`, an
/// element is kept when its uniform draw is >= `rate` (masks shaped by `noise_shape` as
/// `Dropout`), a dropped one is set to SELU's negative saturation `alpha' = -1.6733 * 1.0507`,
/// and the result is corrected affinely: `a * (x * kept + alpha' * (1 - kept)) + b` with
/// `a = ((1 - rate) * (1 + rate * alpha'^2))^-1/2` and `b = -a * alpha' * rate` (Keras 3's
/// formulas). With `training=false`, or `rate == 0`, `x` as is. Errors as `Dropout`.
///
/// Example:
/// ```
/// tapeflow::layers::AlphaDropout drop(tapeflow::layers::AlphaDropoutOptions(0.1f).seed(1));
/// tapeflow::Variable y = drop(x, /*training=*/true);   // mean and variance of x kept
/// ```
class AlphaDropout : public Dropout {
 public:
  explicit AlphaDropout(const AlphaDropoutOptions& options);
  std::string class_name() const override { return "AlphaDropout"; }

 protected:
  Variable call(const Variable& x, bool training) override;
};

/// Keras `SpatialDropout1D`, default name "spatial_dropout1d": dropout of whole feature maps
/// of a sequence (see `detail::RandomDropout` for the masks). The input is
/// `(batch, timesteps, channels)`; one mask value per (sample, channel), shared over the time
/// steps. Errors: `rate` outside [0, 1), an input of rank other than 3.
///
/// Example:
/// ```
/// tapeflow::layers::SpatialDropout1D drop(tapeflow::layers::SpatialDropout1DOptions(0.5f));
/// tapeflow::Variable y = drop(x, true);   // x (2, 10, 8): each of the 2 x 8 channels kept or not
/// ```
class SpatialDropout1D : public LayerWith<SpatialDropout1DOptions, detail::RandomDropout> {
 public:
  explicit SpatialDropout1D(const SpatialDropout1DOptions& options);
  std::string class_name() const override { return "SpatialDropout1D"; }

 protected:
  Shape noise_shape_for(const Shape& input) const override;
};

/// Keras `SpatialDropout2D`, default name "spatial_dropout2d": as `SpatialDropout3D` for
/// `(batch, h, w, channels)` (channels_last) or `(batch, channels, h, w)` inputs. Errors: `rate`
/// outside [0, 1), a bad `data_format`, an input of rank other than 4.
///
/// Example:
/// ```
/// tapeflow::layers::SpatialDropout2D drop(tapeflow::layers::SpatialDropout2DOptions(0.5f));
/// tapeflow::Variable y = drop(x, true);   // x (2, 4, 4, 8): each of the 2 x 8 maps kept or not
/// ```
class SpatialDropout2D : public LayerWith<SpatialDropout2DOptions, detail::RandomDropout> {
 public:
  explicit SpatialDropout2D(const SpatialDropout2DOptions& options);
  std::string class_name() const override { return "SpatialDropout2D"; }

 protected:
  Shape noise_shape_for(const Shape& input) const override;
};

/// Keras `SpatialDropout3D`, default name "spatial_dropout3d": dropout of whole feature maps
/// (see `detail::RandomDropout` for the masks). The input is `(batch, d, h, w, channels)`
/// (channels_last) or `(batch, channels, d, h, w)`; one mask value per (sample, channel), shared
/// over the three spatial axes. Errors: `rate` outside [0, 1), a bad `data_format`, an input of
/// rank other than 5.
///
/// Example:
/// ```
/// tapeflow::layers::SpatialDropout3D drop(tapeflow::layers::SpatialDropout3DOptions(0.5f));
/// tapeflow::Variable y = drop(x, true);   // x (2, 4, 4, 4, 8): each of the 2 x 8 maps kept or not
/// ```
class SpatialDropout3D : public LayerWith<SpatialDropout3DOptions, detail::RandomDropout> {
 public:
  explicit SpatialDropout3D(const SpatialDropout3DOptions& options);
  std::string class_name() const override { return "SpatialDropout3D"; }
  /// Its options (as `options()`).
  const SpatialDropout3DOptions& spatial_options() const { return options(); }

 protected:
  Shape noise_shape_for(const Shape& input) const override;
};

}  // namespace tapeflow::layers
