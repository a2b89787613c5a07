#pragma once
/// Keras `LayerNormalization`: normalizes each sample over the given axes.
#include <string>
#include <vector>

#include "tapeflow/layers/detail/normalization.hpp"
#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// Options of `LayerNormalization`: the common ones, then those of every normalization layer
/// (`TAPEFLOW_NORMALIZATION_FIELDS`: `axis` -1, `epsilon` 1e-3, `center`, `scale`, the
/// initializers, regularizers and constraints of `beta` and `gamma`; Keras names and defaults).
///
/// Example: `LayerNormalizationOptions().axis({1, 2, 3}).epsilon(1e-5f)`
struct LayerNormalizationOptions : LayerOptionsBase<LayerNormalizationOptions> {
  TAPEFLOW_DERIVED_FIELDS(LayerNormalizationOptions, LayerOptionsBase,
                          TAPEFLOW_NORMALIZATION_FIELDS)
  static constexpr PrintedFields printed{"axis, epsilon", "center, scale"};
};

/// Keras `LayerNormalization`, default name "layer_normalization":
/// `y = (x - mean) / sqrt(var + epsilon) * gamma + beta`, with the mean and the (biased)
/// variance of each sample taken over `axis`. Weights `gamma` and `beta` have the input's sizes
/// along `axis` (in axis order), e.g. `(C,)` for the default axis. Same in training and inference.
/// Errors: an empty or repeated axis list, an axis out of range for the input, a negative
/// or non-finite epsilon; after the first call, an input of another rank or other sizes along
/// `axis`.
///
/// Example:
/// ```
/// tapeflow::layers::LayerNormalization norm;
/// tapeflow::Variable y = norm(x);   // x (2, 5, 8): each of the 10 rows of 8 normalized
/// ```
class LayerNormalization : public detail::Normalization<LayerNormalizationOptions> {
 public:
  explicit LayerNormalization(const LayerNormalizationOptions& options = {});
  std::string class_name() const override { return "LayerNormalization"; }

 protected:
  void build(const Shape& input_shape) override;
  Variable call(const Variable& x, bool training) override;
};

}  // namespace tapeflow::layers
