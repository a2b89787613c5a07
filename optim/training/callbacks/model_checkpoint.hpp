#pragma once
/// Keras' `ModelCheckpoint`: saves the model at the end of every epoch (or every `save_freq`
/// batches), or only when the monitored quantity improved.
///
/// Options (Keras' defaults): `filepath` (required; a template: `{epoch}` (from 1), `{batch}`,
/// and any log name, e.g. "ckpt-{epoch:02d}-{val_loss:.3f}.tfw", see path_template.hpp; the
/// extension picks the archive as `save` does; missing folders are created), `monitor`
/// ("val_loss"), `verbose` (0), `save_best_only` (false), `save_weights_only` (false: a
/// training checkpoint with the optimizer and random state, `save_checkpoint`, which `load`
/// also reads as a model; true: the model file of `save`, no optimizer state), `mode`
/// ("auto"), `save_freq` (0: every epoch, Keras' "epoch"; N > 0: every N batches),
/// `initial_value_threshold` (unset; set, the first save needs a value better than it).
/// Files are written atomically.
///
/// Example:
/// ```
/// auto best = std::make_shared<tf::training::ModelCheckpoint>(
///     tf::training::ModelCheckpointOptions("out/best.tfw").monitor("val_loss").save_best_only(true));
/// ```
#include <cstdint>
#include <optional>
#include <string>

#include "tapeflow/optim/training/callback.hpp"
#include "tapeflow/optim/training/detail/monitor.hpp"
#include "tapeflow/optim/training/run_arg.hpp"

namespace tapeflow::training {

class ModelCheckpointOptions {
 public:
  explicit ModelCheckpointOptions(std::string filepath) : filepath_(std::move(filepath)) {}
  TAPEFLOW_RUN_ARG(std::string, filepath, "")
  TAPEFLOW_RUN_ARG(std::string, monitor, "val_loss")
  TAPEFLOW_RUN_ARG(int, verbose, 0)
  TAPEFLOW_RUN_ARG(bool, save_best_only, false)
  TAPEFLOW_RUN_ARG(bool, save_weights_only, false)
  TAPEFLOW_RUN_ARG(std::string, mode, "auto")
  TAPEFLOW_RUN_ARG(std::int64_t, save_freq, 0)
  TAPEFLOW_RUN_ARG(std::optional<double>, initial_value_threshold, std::nullopt)
};

class ModelCheckpoint : public Callback {
 public:
  /// Errors: an empty filepath, a negative save_freq, a bad mode.
  explicit ModelCheckpoint(ModelCheckpointOptions options);
  void on_train_begin(Logs& logs) override;
  void on_train_batch_end(std::int64_t batch, Logs& logs) override;
  void on_epoch_begin(int epoch, Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  /// The best monitored value so far (save_best_only), and the last path written (on the
  /// other ranks of a distributed fit, the last path rank 0 wrote).
  double best() const { return best_; }
  const std::string& last_saved() const { return last_saved_; }

 private:
  void save(int epoch, std::optional<std::int64_t> batch, const Logs& logs);
  ModelCheckpointOptions options_;
  detail::Monitor monitor_;
  double best_;
  int epoch_ = 0;
  std::int64_t batches_since_save_ = 0;
  std::string last_saved_;
};

}  // namespace tapeflow::training
