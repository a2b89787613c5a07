#pragma once
/// What the training examples do around `fit`, written once: the callbacks that keep the epoch
/// with the lowest held-out loss as a checkpoint (ModelCheckpoint; when resuming, only an epoch
/// that beats the loaded model's loss replaces it), stop early (EarlyStopping on val_loss),
/// stop on a NaN loss (TerminateOnNaN) and log every epoch (CSVLogger); then which epoch was
/// kept.
///
/// Example:
/// ```
/// examples::BestEpochFit run(out + "/model.tfw", out + "/log.csv", /*patience=*/3);
/// auto history = run.fit("voxel_autoencoder", [&](const tapeflow::training::Callbacks& cbs) {
///   return model.fit(x, y, FitOptions().epochs(3).callbacks(cbs));
/// });
/// if (!history) return 1;                    // the loss went NaN (the advice is printed)
/// std::size_t best = run.best_epoch(*history); // index in history->epoch
/// ```
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tapeflow.hpp>

namespace examples {

class BestEpochFit {
 public:
  /// `resumed_loss`: the held-out loss of a model loaded to resume (the epoch to beat).
  BestEpochFit(std::string checkpoint, std::string csv_log, int patience,
               std::optional<double> resumed_loss = std::nullopt);
  /// Runs `fit_call` with the callbacks; nothing (after printing "<program>: the loss became
  /// NaN or infinite; try a smaller --lr" on stderr) when the loss went NaN before any epoch
  /// was kept. Prints "stopped early: ..." when EarlyStopping ended the run.
  std::optional<tapeflow::training::History> fit(
      const std::string& program,
      const std::function<tapeflow::training::History(const tapeflow::training::Callbacks&)>&
          fit_call);
  /// The index in `history.epoch` of the lowest val_loss: the epoch the checkpoint holds.
  static std::size_t best_epoch(const tapeflow::training::History& history);
  /// Whether some epoch of this run was saved (false when none beat `resumed_loss`).
  bool saved() const { return !best_->last_saved().empty(); }
  /// Seconds `fit` took.
  double seconds() const { return seconds_; }
  const std::string& checkpoint() const { return checkpoint_; }
  const std::string& csv_log() const { return csv_log_; }

 private:
  std::string checkpoint_, csv_log_;
  int patience_;
  std::optional<double> resumed_loss_;
  std::shared_ptr<tapeflow::training::ModelCheckpoint> best_;
  std::shared_ptr<tapeflow::training::EarlyStopping> stop_;
  std::shared_ptr<tapeflow::training::TerminateOnNaN> nan_;
  double seconds_ = 0;
};

}  // namespace examples
