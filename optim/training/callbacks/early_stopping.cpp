#include "tapeflow/optim/training/callbacks/early_stopping.hpp"

#include <cmath>
#include <cstdio>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/layers/model.hpp"

namespace tapeflow::training {

EarlyStopping::EarlyStopping(EarlyStoppingOptions options)
    : options_(std::move(options)),
      monitor_("EarlyStopping", options_.monitor(), options_.mode()),
      min_delta_(std::fabs(options_.min_delta())) {
  if (options_.patience() < 0)
    fail("EarlyStopping: patience", "must be >= 0, got " + std::to_string(options_.patience()));
  if (options_.start_from_epoch() < 0)
    fail("EarlyStopping: start_from_epoch",
         "must be >= 0, got " + std::to_string(options_.start_from_epoch()));
}

void EarlyStopping::on_train_begin(Logs&) {
  wait_ = stopped_epoch_ = best_epoch_ = 0;
  best_.reset();
  best_weights_.clear();
}

void EarlyStopping::on_epoch_end(int epoch, Logs& logs) {
  const double current = monitor_.value(logs);
  if (epoch < options_.start_from_epoch()) return;
  // Keras 3: until a best is recorded, the current weights count as the best.
  if (options_.restore_best_weights() && best_weights_.empty())
    best_weights_ = model("EarlyStopping").get_weights();
  ++wait_;
  if (!best_ || monitor_.improved(current, *best_, min_delta_)) {
    best_ = current;
    best_epoch_ = epoch;
    if (options_.restore_best_weights()) best_weights_ = model("EarlyStopping").get_weights();
    if (!options_.baseline() || monitor_.improved(current, *options_.baseline(), min_delta_))
      wait_ = 0;
    return;
  }
  if (wait_ >= options_.patience() && epoch > 0) {
    stopped_epoch_ = epoch;
    model("EarlyStopping").stop_training = true;
    if (options_.restore_best_weights() && !best_weights_.empty()) {
      if (options_.verbose() > 0)
        std::printf("Restoring model weights from the end of the best epoch: %d.\n",
                    best_epoch_ + 1);
      model("EarlyStopping").set_weights(best_weights_);
    }
  }
}

void EarlyStopping::on_train_end(Logs&) {
  if (stopped_epoch_ > 0 && options_.verbose() > 0)
    std::printf("Epoch %d: early stopping\n", stopped_epoch_ + 1);
}

}  // namespace tapeflow::training
