#pragma once
/// What keeps the ranks of a distributed `fit` (FitOptions::distributed) in step: MPI
/// collectives have no timeout, so every rank must make the same collective calls in the same
/// order, whatever its data and its callbacks decide. The ranks agree
/// - at the start: on rank 0's weights, optimizer state and position (epoch, batch, shuffle
///   seed), after the callbacks' `on_train_begin` (a BackupAndRestore resumes there);
/// - before the first epoch: on the steps per epoch, the fewest any rank has (a rank with more
///   batches leaves the rest out: the guard against unequal step counts; a rank's step count
///   is the same every epoch);
/// - per step: on the global batch's size (each rank's gradients weigh by its share), and
///   after the batch's callbacks on whether to stop (any rank's `stop_training` stops all);
/// - per epoch end: on the logs, the ranks' values averaged by their sample counts (exact for
///   the loss and for metrics that are means over samples), so that every rank's callbacks
///   (EarlyStopping, ReduceLROnPlateau) see the same values and decide alike.
#include <cstddef>
#include <cstdint>

#include "tapeflow/optim/training/callback.hpp"
#include "tapeflow/optim/training/logs.hpp"

namespace tapeflow::layers {
class Model;
}
namespace tapeflow::optim {
class Optimizer;
}

namespace tapeflow::training::detail {

/// The fewest steps any rank has.
std::int64_t agree_steps(std::int64_t local_steps);
/// True on every rank when it is true on any.
bool agree_stop(bool local_stop);
/// The rows of the step's batches summed over the ranks.
std::size_t total_rows(std::size_t local_rows);
/// Rank 0's variables (every one of the model's), optimizer state and position on every rank.
void broadcast_start(layers::Model& model, optim::Optimizer& optimizer, FitPosition& position);
/// Each numeric log replaced by the mean over the ranks weighted by their `samples`.
void average_logs(Logs& logs, double samples);

}  // namespace tapeflow::training::detail
