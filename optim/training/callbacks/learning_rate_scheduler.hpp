#pragma once
/// Keras' `LearningRateScheduler`: at each epoch's start, sets the optimizer's learning rate to
/// `schedule(epoch, current_rate)` (epoch from 0); logs the rate as "learning_rate" at the end.
///
/// Example:
/// ```
/// auto sched = std::make_shared<tf::training::LearningRateScheduler>(
///     [](int epoch, double lr) { return epoch < 10 ? lr : lr * std::exp(-0.1); });
/// ```
#include <functional>

#include "tapeflow/optim/training/callback.hpp"

namespace tapeflow::training {

class LearningRateScheduler : public Callback {
 public:
  using Schedule = std::function<double(int epoch, double learning_rate)>;
  /// Errors: an empty schedule.
  explicit LearningRateScheduler(Schedule schedule, int verbose = 0);
  /// Errors: a rate that is negative or not finite (naming the epoch and the rate).
  void on_epoch_begin(int epoch, Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;

 private:
  Schedule schedule_;
  int verbose_;
};

}  // namespace tapeflow::training
