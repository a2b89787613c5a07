#pragma once
/// Fused batch normalization over the last axis (channels_last), training mode.
#include "tapeflow/framework/core/tape.hpp"
#include "tapeflow/framework/core/tensor.hpp"

namespace tapeflow {

/// `y = (x - mean) / sqrt(variance + epsilon) * gamma + beta`, with the batch statistics of
/// each channel (the last axis of `x`) over every other axis: `mean`, and the biased
/// `variance` (the mean of squared deviations), as Keras' BatchNormalization in training.
/// `gamma` / `beta` (shape `(channels,)`) may be undefined (scale / center off). A few passes
/// over `x`, split over threads, instead of a graph of broadcasting ops; differentiable in `x`,
/// `gamma` and `beta` (to any order: a backward pass that is itself recorded runs as ops).
///
/// Example:
/// ```
/// auto r = tapeflow::batch_norm_channels_last(x, gamma, beta, 1e-3f);
/// // r.y; r.mean and r.variance (shape (channels,)) update the moving averages
/// ```
struct BatchNormResult {
  Variable y;
  Tensor mean, variance;
};
BatchNormResult batch_norm_channels_last(const Variable& x, const Variable& gamma,
                                         const Variable& beta, float epsilon);

}  // namespace tapeflow
