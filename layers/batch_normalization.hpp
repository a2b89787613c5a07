#pragma once
/// Keras `BatchNormalization`: batch statistics in training, moving statistics in inference.
#include <string>
#include <vector>

#include "tapeflow/layers/detail/normalization.hpp"
#include "tapeflow/layers/layer.hpp"

/// The options of `BatchNormalization` after the common ones (Keras names and defaults): those of
/// every normalization layer (`TAPEFLOW_NORMALIZATION_FIELDS`: `axis` -1, `epsilon` 1e-3,
/// `center`, `scale`, the initializers, regularizers and constraints of `beta` and `gamma`), then
/// `momentum` (0.99), `moving_mean_initializer` ("zeros"), `moving_variance_initializer`
/// ("ones").
#define TAPEFLOW_BATCH_NORMALIZATION_FIELDS(F)     \
  TAPEFLOW_NORMALIZATION_FIELDS(F)                 \
  F(float, momentum, 0.99f)                        \
  F(Initializer, moving_mean_initializer, "zeros") \
  F(Initializer, moving_variance_initializer, "ones")

namespace tapeflow::layers {

/// Options of `BatchNormalization`.
///
/// Example: `BatchNormalizationOptions().axis(1).momentum(0.9f)` for channels_first inputs.
struct BatchNormalizationOptions : LayerOptionsBase<BatchNormalizationOptions> {
  TAPEFLOW_DERIVED_FIELDS(BatchNormalizationOptions, LayerOptionsBase,
                          TAPEFLOW_BATCH_NORMALIZATION_FIELDS)
  static constexpr PrintedFields printed{"axis, momentum, epsilon", "center, scale"};
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
/// NaN, as in TF (nothing is silently corrected): a training call on a batch holding a NaN
/// gives NaN batch statistics for every feature the NaN reaches, so all of that batch's outputs
/// of those features are NaN, and TF's update rule carries the NaN into `moving_mean` and
/// `moving_variance` of those features. From then on inference gives NaN for those features for
/// every input: loud, never one plausible value for all inputs (which is what the old relu made
/// of it downstream). Such a model is lost, as in TF; guard the input (or call
/// `enable_check_numerics()`, which raises at the first op producing the NaN) and reload the
/// last good weights.
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
class BatchNormalization : public detail::Normalization<BatchNormalizationOptions> {
 public:
  explicit BatchNormalization(const BatchNormalizationOptions& options = {});
  std::string class_name() const override { return "BatchNormalization"; }
  /// The moving statistics (undefined before the first call).
  const Variable& moving_mean() const { return moving_mean_; }
  const Variable& moving_variance() const { return moving_variance_; }

 protected:
  /// For a subclass with the same options and weights (`SyncBatchNormalization`).
  BatchNormalization(const std::string& default_name, const BatchNormalizationOptions& options);
  void build(const Shape& input_shape) override;
  Variable call(const Variable& x, bool training) override;
  /// `moving = moving * momentum + batch * (1 - momentum)` for both moving statistics, from the
  /// values of the batch mean `bm` and (biased) variance `bv` (of the moving statistics' size,
  /// any shape): state, outside the differentiated computation.
  void update_moving(Tensor bm, Tensor bv);

 private:
  Variable moving_mean_;
  Variable moving_variance_;
};

}  // namespace tapeflow::layers
