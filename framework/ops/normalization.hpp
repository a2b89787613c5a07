#pragma once
/// Fused normalization ops: batch normalization over the last axis (channels_last, training
/// mode) and group normalization over any channel axis.
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

/// `y = x * scale + shift` with one `scale` and one `shift` per channel (the last axis of `x`;
/// both of shape `(channels,)`): a normalization with fixed statistics (BatchNormalization in
/// inference) in one pass over `x`, split over threads, instead of a chain of broadcasting ops.
/// Differentiable in all three (to any order). Errors (ShapeError naming "channel_affine"): `x`
/// of rank < 1, `scale` or `shift` not of shape `(channels,)`.
///
/// Example: `Variable y = tapeflow::channel_affine(x, scale, shift);`
Variable channel_affine(const Variable& x, const Variable& scale, const Variable& shift);

/// Group normalization (Wu & He 2018, Keras' GroupNormalization): the channels of `x` (axis
/// `axis`, 1 <= axis < rank; axis 0 is the batch) split into `groups` consecutive groups of
/// equal size, each sample's group normalized with its own mean and biased variance over the
/// group's channels and every axis after the batch:
/// `y = (x - mean) / sqrt(variance + epsilon) * gamma + beta`, `gamma` / `beta` one value per
/// channel (shape `(channels,)`, undefined: scale / center off). `groups == channels` is
/// instance normalization, `groups == 1` layer normalization over all non-batch axes. One pass
/// per statistic over each (sample, group), split over threads (the result does not depend on
/// their number); differentiable in `x`, `gamma` and `beta` (to any order, as
/// `batch_norm_channels_last`). Errors (ShapeError, naming "group_norm"): an axis out of range,
/// `groups` not dividing the channels, weights of another shape.
///
/// Example: `Variable y = tapeflow::group_norm(x, gamma, beta, /*groups=*/4, /*axis=*/4, 1e-3f);`
Variable group_norm(const Variable& x, const Variable& gamma, const Variable& beta,
                    std::size_t groups, std::size_t axis, float epsilon);

}  // namespace tapeflow
