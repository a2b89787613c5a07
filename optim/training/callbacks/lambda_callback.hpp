#pragma once
/// Keras' `LambdaCallback`: a callback made of functions, each hook optional.
///
/// Example:
/// ```
/// tf::training::LambdaCallback::Hooks hooks;
/// hooks.on_epoch_end = [](int epoch, tf::training::Logs& logs) { std::printf("%d\n", epoch); };
/// auto cb = std::make_shared<tf::training::LambdaCallback>(hooks);
/// ```
#include <cstdint>
#include <functional>

#include "tapeflow/optim/training/callback.hpp"

namespace tapeflow::training {

class LambdaCallback : public Callback {
 public:
  struct Hooks {
    std::function<void(Logs&)> on_train_begin, on_train_end;
    std::function<void(int, Logs&)> on_epoch_begin, on_epoch_end;
    std::function<void(std::int64_t, Logs&)> on_train_batch_begin, on_train_batch_end;
  };
  explicit LambdaCallback(Hooks hooks) : hooks_(std::move(hooks)) {}
  void on_train_begin(Logs& logs) override;
  void on_train_end(Logs& logs) override;
  void on_epoch_begin(int epoch, Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_train_batch_begin(std::int64_t batch, Logs& logs) override;
  void on_train_batch_end(std::int64_t batch, Logs& logs) override;

 private:
  Hooks hooks_;
};

}  // namespace tapeflow::training
