#pragma once
/// Keras `BatchNormalization`: batch statistics in training, moving statistics in inference.
#include <string>
#include <vector>

#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// Options of `BatchNormalization` (Keras names and defaults): `axis` (-1, the features axis;
/// one axis or a list, negative counts from the end), `momentum` (0.99), `epsilon` (1e-3),
/// `center` (true: `beta`), `scale` (true: `gamma`), `beta_initializer` ("zeros"),
/// `gamma_initializer` ("ones"), `moving_mean_initializer` ("zeros"),
/// `moving_variance_initializer` ("ones"), `beta_regularizer`, `gamma_regularizer`,
/// `beta_constraint`, `gamma_constraint`.
///
/// Example: `BatchNormalizationOptions().axis(1).momentum(0.9f)` for channels_first inputs.
struct BatchNormalizationOptions : LayerOptionsBase<BatchNormalizationOptions> {
  BatchNormalizationOptions& axis(int a) {
    axis_ = {a};
    return *this;
  }
  BatchNormalizationOptions& axis(std::vector<int> a) {
    axis_ = std::move(a);
    return *this;
  }
  const std::vector<int>& axis() const { return axis_; }
  TAPEFLOW_ARG(float, momentum) = 0.99f;
  TAPEFLOW_ARG(float, epsilon) = 1e-3f;
  TAPEFLOW_ARG(bool, center) = true;
  TAPEFLOW_ARG(bool, scale) = true;
  TAPEFLOW_ARG(Initializer, beta_initializer) = "zeros";
  TAPEFLOW_ARG(Initializer, gamma_initializer) = "ones";
  TAPEFLOW_ARG(Initializer, moving_mean_initializer) = "zeros";
  TAPEFLOW_ARG(Initializer, moving_variance_initializer) = "ones";
  TAPEFLOW_ARG(Regularizer, beta_regularizer);
  TAPEFLOW_ARG(Regularizer, gamma_regularizer);
  TAPEFLOW_ARG(Constraint, beta_constraint);
  TAPEFLOW_ARG(Constraint, gamma_constraint);

 private:
  std::vector<int> axis_{-1};
};

/// Keras `BatchNormalization`, default name "batch_normalization":
/// `y = (x - mean) / sqrt(var + epsilon) * gamma + beta`, per feature (the positions along
/// `axis`).
///
/// - `training=true`: `mean` and `var` are the statistics of the batch, over every axis but
///   `axis` (the biased variance, as `tf.nn.moments`); gradients flow through them. The same
///   call updates the moving statistics, right away (Keras 2 eager behaviour):
///   `moving = moving * momentum + batch * (1 - momentum)`, with the biased batch variance (as
///   Keras' non-fused path, Keras 3 and TF.js; TF's fused kernel would use the unbiased one).
///   So a training loop that just calls the layer keeps them current.
/// - `training=false`: `mean` and `var` are `moving_mean` and `moving_variance`.
/// - a layer made non-trainable (`trainable(false)` / `set_trainable(false)`) always runs in
///   inference mode, as in TF 2 Keras (fine-tuning).
///
/// Weights, in Keras' order: `gamma` (if scale), `beta` (if center), then the non-trainable
/// `moving_mean` and `moving_variance`, all of shape `(C,)` for one axis (for several axes,
/// the input's rank with 1 on the other axes, as Keras). In UPDATE_OPS, TF1 style, the layer
/// registers at build one callable per moving statistic (`<scope>/AssignMovingAvg` and
/// `<scope>/AssignMovingAvg_1`) that returns its current value: the update itself has already
/// happened at the call, so evaluating UPDATE_OPS after a step never updates twice.
///
/// Errors: momentum outside [0, 1], a negative or non-finite epsilon, an empty or repeated axis
/// list, an axis out of range for the input; after the first call, an input of another rank or
/// other sizes along `axis`.
///
/// Example:
/// ```
/// tapeflow::layers::BatchNormalization bn;
/// tapeflow::Variable y = bn(x, /*training=*/true);   // x (8, 4, 4, 4, 16): 16 features
/// tapeflow::Variable z = bn(x);                      // inference: moving statistics
/// ```
class BatchNormalization : public Layer {
 public:
  explicit BatchNormalization(const BatchNormalizationOptions& options = {});
  std::string class_name() const override { return "BatchNormalization"; }
  const BatchNormalizationOptions& options() const { return options_; }
  /// The weights (undefined before the first call, or when `scale` / `center` is false).
  const Variable& gamma() const { return gamma_; }
  const Variable& beta() const { return beta_; }
  const Variable& moving_mean() const { return moving_mean_; }
  const Variable& moving_variance() const { return moving_variance_; }
  /// Base keys plus `axis`, `momentum`, `epsilon`, `center`, `scale`, the initializers,
  /// regularizers and constraints ("None" when unset).
  Config get_config() const override;

 protected:
  void build(const Shape& input_shape) override;
  Variable call(const Variable& x, bool training) override;
  /// `axis=-1, momentum=0.99, epsilon=0.001`.
  std::string extra_repr() const override;

 private:
  BatchNormalizationOptions options_;
  std::vector<std::size_t> axes_;  // normalized, sorted; set by build
  Variable gamma_;
  Variable beta_;
  Variable moving_mean_;
  Variable moving_variance_;
};

}  // namespace tapeflow::layers
