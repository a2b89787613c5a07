#pragma once
/// `History`: the per-epoch logs of a `fit` (Keras' `History` callback, which `fit` always adds
/// last and returns): `epoch` lists the epochs run (from 0) and `history` each quantity's value
/// per epoch ("loss", the metrics, "val_..." ones, "learning_rate" when a callback logs it).
///
/// Example:
/// ```
/// tapeflow::training::History h = model.fit(x, y, FitOptions().epochs(10));
/// double last = h.history.at("loss").back();
/// h.to_csv("history.csv");   // epoch,loss,...: one row per epoch
/// ```
#include <map>
#include <string>
#include <vector>

#include "tapeflow/optim/training/callback.hpp"

namespace tapeflow::training {

class History : public Callback {
 public:
  /// The epochs run, from 0 (an `initial_epoch` or a resumed run starts later).
  std::vector<int> epoch;
  /// Each quantity's values, one per epoch in `epoch`, keyed by log name.
  std::map<std::string, std::vector<double>> history;

  void on_train_begin(Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;

  /// The names in the order the logs first held them ("loss", "accuracy", "val_loss", ...).
  const std::vector<std::string>& keys() const { return keys_; }
  /// The values of `name`. Errors: no such log (a ValueError listing the names).
  const std::vector<double>& at(const std::string& name) const;
  /// Writes `epoch,<names...>` and one row per epoch (each number in the shortest text that
  /// reads back to it, "NA" where an epoch has no value of a name), atomically. Errors: a FileError
  /// naming the path.
  void to_csv(const std::string& path) const;

 private:
  std::vector<std::string> keys_;
};

}  // namespace tapeflow::training
