#pragma once
/// Keras `LayerNormalization`: normalizes each sample over the given axes.
#include <string>
#include <vector>

#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// Options of `LayerNormalization` (Keras names and defaults): `axis` (-1; one axis or a list,
/// negative counts from the end), `epsilon` (1e-3), `center` (true: add `beta`), `scale` (true:
/// multiply by `gamma`), `beta_initializer` ("zeros"), `gamma_initializer` ("ones"),
/// `beta_regularizer`, `gamma_regularizer`, `beta_constraint`, `gamma_constraint`.
///
/// Example: `LayerNormalizationOptions().axis({1, 2, 3}).epsilon(1e-5f)`
struct LayerNormalizationOptions : LayerOptionsBase<LayerNormalizationOptions> {
  LayerNormalizationOptions& axis(int a) {
    axis_ = {a};
    return *this;
  }
  LayerNormalizationOptions& axis(std::vector<int> a) {
    axis_ = std::move(a);
    return *this;
  }
  const std::vector<int>& axis() const { return axis_; }
  TAPEFLOW_ARG(float, epsilon) = 1e-3f;
  TAPEFLOW_ARG(bool, center) = true;
  TAPEFLOW_ARG(bool, scale) = true;
  TAPEFLOW_ARG(Initializer, beta_initializer) = "zeros";
  TAPEFLOW_ARG(Initializer, gamma_initializer) = "ones";
  TAPEFLOW_ARG(Regularizer, beta_regularizer);
  TAPEFLOW_ARG(Regularizer, gamma_regularizer);
  TAPEFLOW_ARG(Constraint, beta_constraint);
  TAPEFLOW_ARG(Constraint, gamma_constraint);

 private:
  std::vector<int> axis_{-1};
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
class LayerNormalization : public Layer {
 public:
  explicit LayerNormalization(const LayerNormalizationOptions& options = {});
  std::string class_name() const override { return "LayerNormalization"; }
  const LayerNormalizationOptions& options() const { return options_; }
  /// The weights (undefined before the first call, or when `scale` / `center` is false).
  const Variable& gamma() const { return gamma_; }
  const Variable& beta() const { return beta_; }
  /// Base keys plus `axis`, `epsilon`, `center`, `scale`, the initializers, regularizers and
  /// constraints ("None" when unset).
  Config get_config() const override;

 protected:
  void build(const Shape& input_shape) override;
  Variable call(const Variable& x, bool training) override;
  /// `axis=-1, epsilon=0.001`.
  std::string extra_repr() const override;

 private:
  LayerNormalizationOptions options_;
  std::vector<std::size_t> axes_;  // normalized, sorted; set by build
  Variable gamma_;
  Variable beta_;
};

}  // namespace tapeflow::layers
