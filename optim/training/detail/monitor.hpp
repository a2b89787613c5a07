#pragma once
/// The quantity a callback watches (`monitor`) and which way it improves (`mode`), as Keras'
/// ModelCheckpoint, EarlyStopping and ReduceLROnPlateau read them.
///
/// Example:
/// ```
/// tapeflow::training::detail::Monitor m("EarlyStopping", "val_accuracy", "auto");   // max
/// bool better = m.improved(0.91, 0.90, /*min_delta=*/0.0);                          // true
/// ```
#include <string>

#include "tapeflow/optim/training/logs.hpp"

namespace tapeflow::training::detail {

class Monitor {
 public:
  /// `mode`: "min", "max", or "auto": max for a quantity that grows as the model gets better
  /// (a name containing "acc", "auc", "precision", "recall", "iou" or "dice", with or without
  /// "val_"), min otherwise (losses and errors). Errors: another mode, an empty monitor.
  Monitor(std::string callback, std::string monitor, const std::string& mode);
  const std::string& name() const { return monitor_; }
  bool maximize() const { return maximize_; }
  /// The monitored value. Errors: `logs` has none (a ValueError naming the callback and the
  /// monitor and listing the logs there are).
  double value(const Logs& logs) const;
  /// Whether `current` beats `reference` by more than `min_delta` (>= 0) in the monitor's
  /// direction (NaN never does).
  bool improved(double current, double reference, double min_delta = 0.0) const;
  /// The value everything beats: +inf when minimizing, -inf when maximizing.
  double worst() const;

 private:
  std::string callback_, monitor_;
  bool maximize_ = false;
};

}  // namespace tapeflow::training::detail
