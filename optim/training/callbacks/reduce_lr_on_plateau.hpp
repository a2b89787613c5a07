#pragma once
/// Keras' `ReduceLROnPlateau`: multiplies the optimizer's learning rate by `factor` when the
/// monitored quantity has not improved for `patience` epochs (Keras 3's rule).
///
/// Options (Keras' defaults): `monitor` ("val_loss"), `factor` (0.1, in (0, 1)), `patience`
/// (10), `verbose` (0), `mode` ("auto"), `min_delta` (1e-4), `cooldown` (0: epochs to wait
/// after a reduction before counting again), `min_lr` (0: the rate never goes below it).
/// Each epoch end it logs the current rate as "learning_rate" first. The optimizer's rate must
/// be a number, not a schedule (an Error otherwise, as Keras).
///
/// Example:
/// ```
/// auto plateau = std::make_shared<tf::training::ReduceLROnPlateau>(
///     tf::training::ReduceLROnPlateauOptions().factor(0.5).patience(2).min_lr(1e-5));
/// ```
#include <string>

#include "tapeflow/optim/training/callback.hpp"
#include "tapeflow/optim/training/detail/monitor.hpp"
#include "tapeflow/optim/training/run_arg.hpp"

namespace tapeflow::training {

class ReduceLROnPlateauOptions {
  TAPEFLOW_RUN_ARG(std::string, monitor, "val_loss")
  TAPEFLOW_RUN_ARG(double, factor, 0.1)
  TAPEFLOW_RUN_ARG(int, patience, 10)
  TAPEFLOW_RUN_ARG(int, verbose, 0)
  TAPEFLOW_RUN_ARG(std::string, mode, "auto")
  TAPEFLOW_RUN_ARG(double, min_delta, 1e-4)
  TAPEFLOW_RUN_ARG(int, cooldown, 0)
  TAPEFLOW_RUN_ARG(double, min_lr, 0.0)
};

class ReduceLROnPlateau : public Callback {
 public:
  /// Errors: a factor outside (0, 1), a negative patience, cooldown, min_delta or min_lr, a
  /// bad mode.
  explicit ReduceLROnPlateau(ReduceLROnPlateauOptions options = {});
  void on_train_begin(Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  int wait() const { return wait_; }
  int cooldown_counter() const { return cooldown_counter_; }
  double best() const { return best_; }

 private:
  bool in_cooldown() const { return cooldown_counter_ > 0; }
  ReduceLROnPlateauOptions options_;
  detail::Monitor monitor_;
  double best_;
  int wait_ = 0, cooldown_counter_ = 0;
};

}  // namespace tapeflow::training
