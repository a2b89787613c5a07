#pragma once
/// Keras' `TerminateOnNaN`: stops `fit` after the batch whose running loss is NaN or infinite,
/// printing "Batch N: Invalid loss, terminating training".
///
/// Example: `FitOptions().callbacks({std::make_shared<tf::training::TerminateOnNaN>()})`
#include "tapeflow/optim/training/callback.hpp"

namespace tapeflow::training {

class TerminateOnNaN : public Callback {
 public:
  void on_batch_end(std::int64_t batch, Logs& logs) override;
  /// The batch training stopped at, or -1.
  std::int64_t stopped_batch() const { return stopped_batch_; }

 private:
  std::int64_t stopped_batch_ = -1;
};

}  // namespace tapeflow::training
