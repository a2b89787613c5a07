#include "tapeflow/optim/training/callbacks/learning_rate_scheduler.hpp"

#include <cmath>
#include <cstdio>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::training {

LearningRateScheduler::LearningRateScheduler(Schedule schedule, int verbose)
    : schedule_(std::move(schedule)), verbose_(verbose) {
  if (!schedule_) fail("LearningRateScheduler: schedule", "an empty function");
}

void LearningRateScheduler::on_epoch_begin(int epoch, Logs&) {
  optim::Optimizer& opt = optimizer("LearningRateScheduler");
  const double lr = schedule_(epoch, static_cast<double>(opt.learning_rate()));
  if (!std::isfinite(lr) || lr < 0)
    fail("LearningRateScheduler: schedule", "gave the learning rate " + std::to_string(lr) +
                                                " for epoch " + std::to_string(epoch) +
                                                "; it must be finite and >= 0");
  opt.set_learning_rate(static_cast<float>(lr));
  if (verbose_ > 0)
    std::printf("\nEpoch %d: LearningRateScheduler setting learning rate to %g.\n", epoch + 1, lr);
}

void LearningRateScheduler::on_epoch_end(int, Logs& logs) {
  logs.set("learning_rate",
           static_cast<double>(optimizer("LearningRateScheduler").learning_rate()));
}

}  // namespace tapeflow::training
