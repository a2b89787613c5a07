#pragma once
/// Keras' `EarlyStopping`: stops `fit` when the monitored quantity has not improved for
/// `patience` epochs (Keras 3's rule).
///
/// Options (Keras' defaults): `monitor` ("val_loss"), `min_delta` (0: an improvement must be
/// larger than this), `patience` (0), `verbose` (0), `mode` ("auto", see `Monitor`),
/// `baseline` (unset; set, training stops unless the quantity beats it within `patience`),
/// `restore_best_weights` (false: when it stops, the weights of the best epoch are put back),
/// `start_from_epoch` (0: epochs before it are not watched).
///
/// Each epoch end: `wait += 1`; an improvement on the best records it (and the weights when
/// restoring) and, if it also beats the baseline, resets `wait` to 0; otherwise once `wait >=
/// patience` (and not in the first epoch) training stops, restoring the best weights if asked.
///
/// Example:
/// ```
/// auto stop = std::make_shared<tf::training::EarlyStopping>(
///     tf::training::EarlyStoppingOptions().monitor("val_loss").patience(3).restore_best_weights(true));
/// model.fit(x, y, FitOptions().epochs(100).validation_split(0.2).callbacks({stop}));
/// int stopped = stop->stopped_epoch();   // 0 if it never stopped
/// ```
#include <optional>
#include <string>
#include <vector>

#include "tapeflow/framework/core/tensor.hpp"
#include "tapeflow/optim/training/callback.hpp"
#include "tapeflow/optim/training/detail/monitor.hpp"
#include "tapeflow/optim/training/run_arg.hpp"

namespace tapeflow::training {

class EarlyStoppingOptions {
  TAPEFLOW_RUN_ARG(std::string, monitor, "val_loss")
  TAPEFLOW_RUN_ARG(double, min_delta, 0.0)
  TAPEFLOW_RUN_ARG(int, patience, 0)
  TAPEFLOW_RUN_ARG(int, verbose, 0)
  TAPEFLOW_RUN_ARG(std::string, mode, "auto")
  TAPEFLOW_RUN_ARG(std::optional<double>, baseline, std::nullopt)
  TAPEFLOW_RUN_ARG(bool, restore_best_weights, false)
  TAPEFLOW_RUN_ARG(int, start_from_epoch, 0)
};

class EarlyStopping : public Callback {
 public:
  /// Errors: a negative patience or start_from_epoch, a bad mode.
  explicit EarlyStopping(EarlyStoppingOptions options = {});
  void on_train_begin(Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_train_end(Logs& logs) override;
  /// The epoch training stopped at (0 if it ran to the end), as Keras.
  int stopped_epoch() const { return stopped_epoch_; }
  /// The best value seen and its epoch.
  std::optional<double> best() const { return best_; }
  int best_epoch() const { return best_epoch_; }
  int wait() const { return wait_; }

 private:
  EarlyStoppingOptions options_;
  detail::Monitor monitor_;
  double min_delta_;
  int wait_ = 0, stopped_epoch_ = 0, best_epoch_ = 0;
  std::optional<double> best_;
  std::vector<Tensor> best_weights_;
};

}  // namespace tapeflow::training
