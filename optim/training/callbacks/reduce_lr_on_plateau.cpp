#include "tapeflow/optim/training/callbacks/reduce_lr_on_plateau.hpp"

#include <algorithm>
#include <cstdio>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::training {

namespace {
constexpr const char* kReduceLROnPlateau = "ReduceLROnPlateau";
}

ReduceLROnPlateau::ReduceLROnPlateau(ReduceLROnPlateauOptions options)
    : options_(std::move(options)),
      monitor_(kReduceLROnPlateau, options_.monitor(), options_.mode()),
      best_(monitor_.worst()) {
  const auto& o = options_;
  if (!(o.factor() > 0.0 && o.factor() < 1.0))
    fail(std::string(kReduceLROnPlateau) + ": factor",
         "must be in (0, 1), got " + std::to_string(o.factor()));
  if (o.patience() < 0) fail(std::string(kReduceLROnPlateau) + ": patience", "must be >= 0");
  if (o.cooldown() < 0) fail(std::string(kReduceLROnPlateau) + ": cooldown", "must be >= 0");
  if (!(o.min_delta() >= 0)) fail(std::string(kReduceLROnPlateau) + ": min_delta", "must be >= 0");
  if (!(o.min_lr() >= 0)) fail(std::string(kReduceLROnPlateau) + ": min_lr", "must be >= 0");
}

void ReduceLROnPlateau::on_train_begin(Logs&) {
  best_ = monitor_.worst();
  wait_ = cooldown_counter_ = 0;
}

void ReduceLROnPlateau::on_epoch_end(int epoch, Logs& logs) {
  optim::Optimizer& opt = optimizer(kReduceLROnPlateau);
  logs.set("learning_rate", static_cast<double>(opt.learning_rate()));
  const double current = monitor_.value(logs);
  if (in_cooldown()) {
    --cooldown_counter_;
    wait_ = 0;
  }
  if (monitor_.improved(current, best_, options_.min_delta())) {
    best_ = current;
    wait_ = 0;
    return;
  }
  if (in_cooldown()) return;
  if (++wait_ < options_.patience()) return;
  const double old_lr = opt.learning_rate();
  // Keras compares with min_lr as a float32.
  if (old_lr > static_cast<double>(static_cast<float>(options_.min_lr()))) {
    if (opt.learning_rate_option().is_schedule())
      fail(kReduceLROnPlateau,
           "the optimizer's learning rate is a schedule; ReduceLROnPlateau needs a number");
    const double new_lr = std::max(old_lr * options_.factor(), options_.min_lr());
    opt.set_learning_rate(static_cast<float>(new_lr));
    if (options_.verbose() > 0)
      std::printf("\nEpoch %d: ReduceLROnPlateau reducing learning rate to %g.\n", epoch + 1,
                  new_lr);
    cooldown_counter_ = options_.cooldown();
    wait_ = 0;
  }
}

}  // namespace tapeflow::training
