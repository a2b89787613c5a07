#pragma once
/// Keras `Dropout` and `SpatialDropout3D`: random zeroing with inverted scaling, in training only.
#include <optional>
#include <string>
#include <vector>

#include "tapeflow/framework/runtime/random.hpp"
#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// Options of `Dropout` (Keras names): the required `rate` in [0, 1), the fraction of inputs
/// dropped; `noise_shape`, the shape of the binary mask, broadcast against the input (empty: the
/// input's shape; an entry -1 takes the input's size there, as Keras' `None`); `seed`, the op
/// seed (see `framework/runtime/random.hpp`).
///
/// Example: `DropoutOptions(0.5f).noise_shape({-1, 1, -1}).seed(42)`
struct DropoutOptions : LayerOptionsBase<DropoutOptions> {
  explicit DropoutOptions(float rate) : rate_(rate) {}
  TAPEFLOW_ARG(float, rate);
  TAPEFLOW_ARG(std::vector<long>, noise_shape);
  TAPEFLOW_ARG(Seed, seed);
};

/// Keras `Dropout`, default name "dropout". With `training=true` each mask element is kept with
/// probability `1 - rate` and the kept inputs are scaled by `1 / (1 - rate)` (so the expected
/// output equals the input); with `training=false`, or `rate == 0`, the input is returned as is.
/// The gradient is the same mask times the scale. Masks come from one random stream per layer,
/// started at the first training call from `(global seed, seed)` (TF1 rules): successive calls
/// draw new masks, and a rerun after `set_random_seed` repeats them.
/// Errors: `rate` outside [0, 1); a `noise_shape` whose rank differs from the input's or with a
/// size other than -1, 1 or the input's.
///
/// Example:
/// ```
/// tapeflow::layers::Dropout drop(tapeflow::layers::DropoutOptions(0.25f).seed(1));
/// tapeflow::Variable y = drop(x, /*training=*/true);   // ~1/4 zeros, the rest x * 4/3
/// ```
class Dropout : public Layer {
 public:
  explicit Dropout(const DropoutOptions& options);
  std::string class_name() const override { return "Dropout"; }
  const DropoutOptions& options() const { return options_; }
  /// Base keys plus `rate`, `noise_shape` (with None for -1; "None" when unset), `seed`.
  Config get_config() const override;
  /// The mask stream's position (empty before the first training call).
  std::string random_state() const override;
  void set_random_state(const std::string& state) override;

 protected:
  /// For subclasses: another default name.
  Dropout(const std::string& default_name, const DropoutOptions& options);
  Variable call(const Variable& x, bool training) override;
  /// The mask shape for an input of shape `input` (an Error naming the layer if invalid).
  virtual Shape noise_shape_for(const Shape& input) const;
  /// `rate=0.5`.
  std::string extra_repr() const override;

 private:
  DropoutOptions options_;
  std::optional<RandomGenerator> rng_;
};

/// Options of `SpatialDropout3D`: the required `rate`, `data_format` ("channels_last", default,
/// or "channels_first", any case) and `seed`.
///
/// Example: `SpatialDropout3DOptions(0.2f).data_format("channels_first")`
struct SpatialDropout3DOptions : LayerOptionsBase<SpatialDropout3DOptions> {
  explicit SpatialDropout3DOptions(float rate) : rate_(rate) {}
  TAPEFLOW_ARG(float, rate);
  TAPEFLOW_ARG(std::string, data_format) = "channels_last";
  TAPEFLOW_ARG(Seed, seed);
};

/// Keras `SpatialDropout3D`, default name "spatial_dropout3d": `Dropout` of whole feature maps.
/// The input is `(batch, d, h, w, channels)` (channels_last) or `(batch, channels, d, h, w)`; one
/// mask value per (sample, channel), shared over the three spatial axes. Errors: those of
/// `Dropout`, a bad `data_format`, an input of rank other than 5.
///
/// Example:
/// ```
/// tapeflow::layers::SpatialDropout3D drop(tapeflow::layers::SpatialDropout3DOptions(0.5f));
/// tapeflow::Variable y = drop(x, true);   // x (2, 4, 4, 4, 8): each of the 2 x 8 maps kept or not
/// ```
class SpatialDropout3D : public Dropout {
 public:
  explicit SpatialDropout3D(const SpatialDropout3DOptions& options);
  std::string class_name() const override { return "SpatialDropout3D"; }
  const SpatialDropout3DOptions& spatial_options() const { return spatial_options_; }
  /// Base keys plus `rate`, `data_format`, `seed`.
  Config get_config() const override;

 protected:
  Shape noise_shape_for(const Shape& input) const override;
  /// `rate=0.5, data_format=channels_last`.
  std::string extra_repr() const override;

 private:
  SpatialDropout3DOptions spatial_options_;
  bool channels_first_ = false;
};

}  // namespace tapeflow::layers
