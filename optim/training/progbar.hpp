#pragma once
/// Keras' progress bar (`keras.utils.Progbar`, Keras 2's look) and `ProgbarLogger`, the callback
/// `fit`, `evaluate` and `predict` add when `verbose` is 1 or 2.
///
/// verbose 1, on a terminal: one line redrawn in place (`\r`, at most every 0.05 s) with the step
/// count, the bar, the ETA and the running logs; when the epoch ends it shows the time taken and
/// the time per step:
/// ```
/// Epoch 1/3
///  7/10 [====================>.........] - ETA: 0s - loss: 0.6932 - accuracy: 0.5104
/// 10/10 [==============================] - 1s 52ms/step - loss: 0.6929 - accuracy: 0.5125
/// ```
/// verbose 1 elsewhere (a log file, a pipe, CI) and verbose 2: only the final line of each
/// epoch (`\r` redraws would pile up into one unreadable line). Values print as `%.4f`, or
/// `%.4e` when their magnitude is at most 1e-3, as Keras prints them.
///
/// Example:
/// ```
/// tapeflow::training::Progbar bar(100);       // stdout, redrawn when it is a terminal
/// for (int i = 1; i <= 100; ++i) { Logs l; l.set("loss", step()); bar.update(i, l); }
/// ```
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "tapeflow/optim/training/callback.hpp"

namespace tapeflow::training {

class Progbar {
 public:
  /// `target` steps; `verbose` 1 (bar) or 2 (final line only); `dynamic`: redraw in place
  /// (defaults to whether `out` is std::cout on a terminal).
  explicit Progbar(std::int64_t target, int verbose = 1);
  Progbar(std::int64_t target, int verbose, std::ostream& out, bool dynamic);
  /// Step `current` done with these running logs; `finalize` ends the line (the last step).
  void update(std::int64_t current, const Logs& values, bool finalize = false);
  /// "1:02:03", "1:05" or "42s", as Keras formats an ETA.
  static std::string format_eta(double seconds);
  /// "2s/step", "52ms/step" or "310us/step".
  static std::string format_time_per_step(double seconds);

 private:
  std::string line(std::int64_t current, const Logs& values, bool finalize, double elapsed) const;

  std::int64_t target_;
  int verbose_;
  std::ostream* out_;
  bool dynamic_;
  std::size_t last_width_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool drawn_ = false;
};

/// Prints `Epoch e/E` and a `Progbar` per epoch of `fit` (the validation run inside `fit` prints
/// nothing of its own: its "val_" logs join the epoch's line), and a bar for a standalone
/// `evaluate` or `predict`. `fit` adds one first when `verbose` > 0.
/// Example: `FitOptions().verbose(2)`: one line per epoch.
class ProgbarLogger : public Callback {
 public:
  ProgbarLogger();
  /// Output to `out`; `dynamic` as Progbar's; `verbose` (1 or 2) instead of the run's.
  ProgbarLogger(std::ostream& out, bool dynamic, std::optional<int> verbose = std::nullopt);
  void on_train_begin(Logs& logs) override;
  void on_train_end(Logs& logs) override;
  void on_epoch_begin(int epoch, Logs& logs) override;
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_train_batch_end(std::int64_t batch, Logs& logs) override;
  void on_test_begin(Logs& logs) override;
  void on_test_batch_end(std::int64_t batch, Logs& logs) override;
  void on_test_end(Logs& logs) override;
  void on_predict_begin(Logs& logs) override;
  void on_predict_batch_end(std::int64_t batch, Logs& logs) override;
  void on_predict_end(Logs& logs) override;

 private:
  Progbar make_bar() const;
  std::ostream* out_;
  bool dynamic_;
  std::optional<int> verbose_;
  bool in_fit_ = false;
  std::int64_t seen_ = 0;
  Logs last_;
  std::unique_ptr<Progbar> bar_;
};

}  // namespace tapeflow::training
