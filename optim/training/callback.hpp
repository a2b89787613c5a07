#pragma once
/// `Callback`: Keras' hooks into `fit`, `evaluate` and `predict`. A user callback derives from it
/// and overrides the hooks it needs; each gets the epoch or batch index (from 0, as Keras) and
/// the logs so far, which it may read and add to (`ReduceLROnPlateau` adds "learning_rate").
///
/// Order of the calls in `fit`: `on_train_begin`, then per epoch `on_epoch_begin`, per batch
/// `on_train_batch_begin` / `on_train_batch_end` (whose logs hold the running means of the
/// epoch so far), the validation run (`on_test_begin` ... `on_test_end`), `on_epoch_end` (the
/// epoch's logs, with the "val_" entries), and `on_train_end`. `on_batch_begin` /
/// `on_batch_end` are Keras' older names: the default `on_train_batch_*` call them.
/// Callbacks run in the order given to `fit`, after the progress bar and before the `History`.
///
/// Example:
/// ```
/// struct PrintLoss : tapeflow::training::Callback {
///   void on_epoch_end(int epoch, tapeflow::training::Logs& logs) override {
///     std::printf("epoch %d: loss %.4f\n", epoch + 1, logs.at("loss"));
///   }
/// };
/// model.fit(x, y, FitOptions().epochs(5).callbacks({std::make_shared<PrintLoss>()}));
/// ```
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tapeflow/optim/training/logs.hpp"

namespace tapeflow::layers {
class Model;
}
namespace tapeflow::optim {
class Optimizer;
}

namespace tapeflow::training {

/// What a run is (Keras' `callback.params`): the verbosity, the epochs and the steps per epoch;
/// `chief`: whether this process writes the run's files (false on the ranks other than 0 of a
/// distributed fit: `ModelCheckpoint`, `BackupAndRestore` and `CSVLogger` write on rank 0 only,
/// a callback of one's own may check it too).
struct RunParams {
  int verbose = 1;
  int epochs = 1;
  std::int64_t steps = 0;
  bool chief = true;
};

/// Where `fit` starts or stands: the epoch (from 0) and the batch within it. `BackupAndRestore`
/// moves it in `on_train_begin` to resume an interrupted run.
struct FitPosition {
  int epoch = 0;
  std::int64_t batch = 0;
  /// The seed of the shuffled orders (the same order for the same seed and epoch).
  std::uint64_t shuffle_seed = 0;
};

class Callback {
 public:
  virtual ~Callback();

  // Set by fit / evaluate / predict before the first hook.
  void set_model(layers::Model* model) { model_ = model; }
  void set_params(const RunParams& params) { params_ = params; }
  void set_position(FitPosition* position) { position_ = position; }

  virtual void on_train_begin(Logs& logs);
  virtual void on_train_end(Logs& logs);
  virtual void on_epoch_begin(int epoch, Logs& logs);
  virtual void on_epoch_end(int epoch, Logs& logs);
  /// Call `on_batch_begin` / `on_batch_end` unless overridden.
  virtual void on_train_batch_begin(std::int64_t batch, Logs& logs);
  virtual void on_train_batch_end(std::int64_t batch, Logs& logs);
  virtual void on_batch_begin(std::int64_t batch, Logs& logs);
  virtual void on_batch_end(std::int64_t batch, Logs& logs);
  virtual void on_test_begin(Logs& logs);
  virtual void on_test_end(Logs& logs);
  virtual void on_test_batch_begin(std::int64_t batch, Logs& logs);
  virtual void on_test_batch_end(std::int64_t batch, Logs& logs);
  virtual void on_predict_begin(Logs& logs);
  virtual void on_predict_end(Logs& logs);
  virtual void on_predict_batch_begin(std::int64_t batch, Logs& logs);
  virtual void on_predict_batch_end(std::int64_t batch, Logs& logs);

 protected:
  /// The model being run. Errors: called outside a run (a ValueError naming `where`).
  layers::Model& model(const std::string& where = "callback") const;
  /// The model's compiled optimizer. Errors: outside a run or an uncompiled model.
  optim::Optimizer& optimizer(const std::string& where = "callback") const;
  const RunParams& params() const { return params_; }
  /// The position of the fit being run, or null (evaluate / predict).
  FitPosition* position() const { return position_; }

 private:
  layers::Model* model_ = nullptr;
  RunParams params_;
  FitPosition* position_ = nullptr;
};

using Callbacks = std::vector<std::shared_ptr<Callback>>;

namespace detail {
/// Every hook called on each callback in turn (fit's, evaluate's and predict's list).
class CallbackList {
 public:
  CallbackList(Callbacks callbacks, layers::Model& model, const RunParams& params,
               FitPosition* position);
  void train_begin(Logs& logs);
  void train_end(Logs& logs);
  void epoch_begin(int epoch, Logs& logs);
  void epoch_end(int epoch, Logs& logs);
  void train_batch_begin(std::int64_t batch, Logs& logs);
  void train_batch_end(std::int64_t batch, Logs& logs);
  void test_begin(Logs& logs);
  void test_end(Logs& logs);
  void test_batch_begin(std::int64_t batch, Logs& logs);
  void test_batch_end(std::int64_t batch, Logs& logs);
  void predict_begin(Logs& logs);
  void predict_end(Logs& logs);
  void predict_batch_begin(std::int64_t batch, Logs& logs);
  void predict_batch_end(std::int64_t batch, Logs& logs);

 private:
  Callbacks callbacks_;
};
}  // namespace detail

}  // namespace tapeflow::training
