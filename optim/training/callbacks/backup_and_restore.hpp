#pragma once
/// Keras' `BackupAndRestore`: backs up the training state into `backup_dir` during `fit`; a
/// `fit` started again (after a crash, a kill, a preempted job) with the same callback resumes
/// from the last backup, and ends with the weights an uninterrupted run would have had, bit
/// for bit.
///
/// A backup is the model's weights, the optimizer's state and the random state (a training
/// checkpoint, `save_checkpoint`) and where training stood: the epoch, the batch within it and
/// the shuffling seed. Written each epoch end (`save_freq` 0, Keras' "epoch") or every
/// `save_freq` batches, so a run killed mid-epoch resumes at the batch after the last backup.
/// The checkpoint file is written first and the state file (`state.json`, which names it)
/// after, each atomically, so a kill at any moment leaves a complete backup. `delete_checkpoint`
/// (true): the backup is removed when `fit` ends normally.
///
/// The resumed epoch's logged means cover the batches run since the resume (the metric
/// accumulators are not part of the backup, as in Keras); the weights, the optimizer state and
/// everything after do not depend on the interruption.
///
/// Example:
/// ```
/// auto backup = std::make_shared<tf::training::BackupAndRestore>("out/backup", /*save_freq=*/10);
/// model.fit(x, y, FitOptions().epochs(50).seed(7).callbacks({backup}));  // rerun to resume
/// ```
#include <cstdint>
#include <optional>
#include <string>

#include "tapeflow/optim/training/callback.hpp"

namespace tapeflow::training {

class BackupAndRestore : public Callback {
 public:
  /// Errors: an empty backup_dir, a negative save_freq.
  explicit BackupAndRestore(std::string backup_dir, std::int64_t save_freq = 0,
                            bool delete_checkpoint = true);
  /// Restores a backup if `backup_dir` has one. Errors: a FileError for a corrupt or
  /// unreadable backup (never silently restarting from scratch), a ShapeError or ValueError
  /// when it belongs to another model or optimizer.
  void on_train_begin(Logs& logs) override;
  void on_train_batch_end(std::int64_t batch, Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_train_end(Logs& logs) override;
  /// Whether this fit resumed from a backup, and from which position.
  bool resumed() const { return resumed_.has_value(); }
  std::optional<FitPosition> resumed_from() const { return resumed_; }

 private:
  void backup();
  std::string state_path() const;
  std::string backup_dir_;
  std::int64_t save_freq_;
  bool delete_checkpoint_;
  std::int64_t batches_since_backup_ = 0;
  int next_slot_ = 0;
  std::optional<FitPosition> resumed_;
};

}  // namespace tapeflow::training
