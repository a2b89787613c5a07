#pragma once
/// Differentiable collectives over the ranks of a distributed job (framework/runtime/
/// communicator.hpp): the building block of statistics that span every rank's batch, such as
/// `SyncBatchNormalization`'s mean and variance.
#include "tapeflow/framework/core/variable.hpp"

namespace tapeflow {

/// The element-wise sum of `x` over the ranks (every rank gets the same result; a single
/// process gets `x`). Its gradient is the sum of the ranks' output gradients: each rank's
/// output feeds that rank's loss, and the job's objective is the sum of those. Every rank calls
/// it, forward and backward, in the same order and with the same shape.
Variable all_reduce_sum(const Variable& x);

}  // namespace tapeflow
