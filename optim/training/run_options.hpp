#pragma once
/// The options of `fit`, `evaluate` and `predict` (Keras' arguments and defaults), each with a
/// chainable setter and a getter.
///
/// Example:
/// ```
/// auto h = model.fit(x, y, tf::training::FitOptions()
///                              .epochs(20).batch_size(8).validation_split(0.2)
///                              .callbacks({std::make_shared<tf::training::EarlyStopping>(
///                                  tf::training::EarlyStoppingOptions().patience(3))}));
/// ```
#include <cstdint>
#include <optional>
#include <vector>

#include "tapeflow/framework/core/tensor.hpp"
#include "tapeflow/optim/training/callback.hpp"
#include "tapeflow/optim/training/run_arg.hpp"

namespace tapeflow::training {

/// Validation inputs and targets (one tensor per model input and output).
struct ValidationData {
  std::vector<Tensor> x, y;
  ValidationData(Tensor x_, Tensor y_) : x{std::move(x_)}, y{std::move(y_)} {}
  ValidationData(std::vector<Tensor> x_, std::vector<Tensor> y_)
      : x(std::move(x_)), y(std::move(y_)) {}
};

/// `fit`'s options:
/// - `batch_size` (32): samples per step; the last batch of an epoch may be smaller;
/// - `epochs` (1): the index of the last epoch, counted from `initial_epoch`, as Keras;
/// - `verbose` (1): 0 silent, 1 progress bar, 2 one line per epoch (see `ProgbarLogger`);
/// - `callbacks`: run in this order, after the progress bar and before the `History`;
/// - `validation_split` (0): the last fraction of the samples (taken before shuffling) held out
///   for validation, in [0, 1);
/// - `validation_data`: validation samples instead (takes precedence over the split);
/// - `shuffle` (true): each epoch visits the training samples in a new order, drawn from
///   `seed`: the order of an epoch depends only on the seed and the epoch (`shuffled_order`);
/// - `seed`: unset draws it from the global random stream (`set_random_seed` fixes it);
/// - `initial_epoch` (0): the epoch to start at (resuming a run);
/// - `steps_per_epoch`: batches per epoch; unset, one pass over the samples. Set, the batches
///   continue from where the previous epoch stopped, starting a new shuffled pass whenever one
///   ends;
/// - `validation_batch_size`: unset, `batch_size`;
/// - `distributed` (false): data-parallel training over the ranks of an MPI job
///   (`distributed::init` first; see optim/training/detail/distributed_fit.hpp for how the ranks
///   stay in step). Every rank calls `fit` with the same model, options and data. With tensors,
///   `batch_size` is the global batch, as with Keras' distribution strategies: each rank takes
///   its rows of every batch (at least one: a batch_size below the number of ranks is an Error,
///   and a pass's last batch is left out when it has fewer samples than there are ranks). With a
///   dataset, each rank takes every size()-th element (`Dataset::shard`), one batch per rank per
///   step. The gradients are averaged with bucketed all-reduces overlapping the backward pass;
///   rank 0's weights, optimizer state and position start every rank; the progress bar,
///   ModelCheckpoint, BackupAndRestore's backups and CSVLogger write on rank 0 only; the epoch
///   logs are the ranks' sample-weighted means. A rank whose fit fails ends the whole job with
///   its error (`distributed::abort_job`), as a rank left behind would wait forever. As one
///   process it is the usual fit.
class FitOptions {
  TAPEFLOW_RUN_ARG(std::int64_t, batch_size, 32)
  TAPEFLOW_RUN_ARG(int, epochs, 1)
  TAPEFLOW_RUN_ARG(int, verbose, 1)
  TAPEFLOW_RUN_ARG(Callbacks, callbacks, {})
  TAPEFLOW_RUN_ARG(double, validation_split, 0.0)
  TAPEFLOW_RUN_ARG(std::optional<ValidationData>, validation_data, std::nullopt)
  TAPEFLOW_RUN_ARG(bool, shuffle, true)
  TAPEFLOW_RUN_ARG(std::optional<std::uint64_t>, seed, std::nullopt)
  TAPEFLOW_RUN_ARG(int, initial_epoch, 0)
  TAPEFLOW_RUN_ARG(std::optional<std::int64_t>, steps_per_epoch, std::nullopt)
  TAPEFLOW_RUN_ARG(std::optional<std::int64_t>, validation_batch_size, std::nullopt)
  TAPEFLOW_RUN_ARG(bool, distributed, false)
};

/// `evaluate`'s options: `batch_size` (32), `verbose` (1), `callbacks`, `steps` (unset: every
/// sample once; set: at most that many batches).
class EvaluateOptions {
  TAPEFLOW_RUN_ARG(std::int64_t, batch_size, 32)
  TAPEFLOW_RUN_ARG(int, verbose, 1)
  TAPEFLOW_RUN_ARG(Callbacks, callbacks, {})
  TAPEFLOW_RUN_ARG(std::optional<std::int64_t>, steps, std::nullopt)
};

/// `predict`'s options: `batch_size` (32), `verbose` (1), `callbacks`.
class PredictOptions {
  TAPEFLOW_RUN_ARG(std::int64_t, batch_size, 32)
  TAPEFLOW_RUN_ARG(int, verbose, 1)
  TAPEFLOW_RUN_ARG(Callbacks, callbacks, {})
};

}  // namespace tapeflow::training
