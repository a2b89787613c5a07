#pragma once
/// Keras `SyncBatchNormalization` (Keras 3: `BatchNormalization(synchronized=True)`): batch
/// normalization whose training statistics span the batches of every rank of a distributed job.
#include <string>

#include "tapeflow/layers/batch_normalization.hpp"

namespace tapeflow::layers {

/// Options of `SyncBatchNormalization`: those of `BatchNormalization` (Keras has the same).
using SyncBatchNormalizationOptions = BatchNormalizationOptions;

/// Keras 2's `tf.keras.layers.experimental.SyncBatchNormalization`, default name
/// "sync_batch_normalization": `BatchNormalization` (same options, weights, moving-statistics
/// update and inference) whose training statistics are those of the global batch, the union of
/// the batches of every rank of the job (framework/runtime/communicator.hpp). For data-parallel
/// training with small per-rank batches; a single process computes what `BatchNormalization`
/// computes.
///
/// - `training=true` (and the layer trainable): per feature (the positions along `axis`), as
///   Keras 2's `_calculate_mean_and_var`, `sum` and `squared_sum` of the input over every axis
///   but `axis`, and the number of elements reduced, each summed over the ranks; then
///   `mean = sum / count`, `var = squared_sum / count - mean^2` (the biased variance of the
///   global batch, from its moments: float32 loses digits when the mean is large next to the
///   spread) and `y = (x - mean) / sqrt(var + epsilon) * gamma + beta`. Gradients flow through
///   the sums of every rank (`all_reduce_sum`). The moving statistics are updated as
///   `BatchNormalization` updates them, from the global `mean` and `var`, so they stay equal on
///   every rank. A rank's batch may be of another size than the others' (even empty), but not
///   the sizes along `axis`.
/// - `training=false`, or a non-trainable layer: `BatchNormalization`'s inference, with the
///   moving statistics; no communication.
///
/// Every rank must call the layer in training mode, and run the backward pass, in the same
/// order as the others (with the other collectives of the job): each such call is a collective;
/// a rank that skips one leaves the others waiting.
///
/// Weights, `UPDATE_OPS` and errors: those of `BatchNormalization` (the messages name this
/// layer): momentum outside [0, 1], a negative or non-finite epsilon, an empty or repeated axis
/// list, an axis out of range for the input; after the first call, an input of another rank or
/// other sizes along `axis`.
///
/// Example (run under `mpirun -np 4`, after `tapeflow::distributed::init()`):
/// ```
/// tapeflow::layers::SyncBatchNormalization bn;
/// tapeflow::Variable y = bn(x, /*training=*/true);   // statistics of the 4 ranks' batches
/// tapeflow::Variable z = bn(x);                      // inference: moving statistics
/// ```
class SyncBatchNormalization : public BatchNormalization {
 public:
  explicit SyncBatchNormalization(const SyncBatchNormalizationOptions& options = {});
  std::string class_name() const override { return "SyncBatchNormalization"; }

 protected:
  Variable call(const Variable& x, bool training) override;
};

}  // namespace tapeflow::layers
