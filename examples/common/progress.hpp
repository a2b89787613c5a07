#pragma once
/// A training progress bar for the example programs: step i/n, the latest loss, the elapsed
/// seconds, the speed and the time left.
///
/// On a terminal the line is redrawn in place (`\r`, at most ten times a second); in a log or a
/// pipe (a test capturing the output, CI) a `\r` would pile up into one unreadable line, so it
/// prints a full line every `every` steps instead.
///
/// Example:
/// ```
/// examples::ProgressBar bar(300);            // stdout; a line every 30 steps when not a tty
/// for (int step = 1; step <= 300; ++step) bar.update(step, train_step());
/// bar.finish();
/// // [############..................] 120/300  loss 0.0812  19.7 s  6.1 it/s  ETA 0:29
/// ```
#include <chrono>
#include <cstdio>
#include <string>

namespace examples {

/// One progress line, redrawn in place on a terminal (`isatty`), else printed every `every`
/// steps and at the last one.
class ProgressBar {
 public:
  /// `every` <= 0: a tenth of `total` (at least 1).
  explicit ProgressBar(int total, std::FILE* out = stdout, int every = 0);
  /// Step `done` of `total` finished with this loss.
  void update(int done, double loss);
  /// Ends the line (on a terminal).
  void finish();
  /// Seconds since construction.
  double elapsed_seconds() const;
  /// Whether the output is a terminal (lines redrawn in place).
  bool redraws() const { return tty_; }

 private:
  int total_, every_;
  std::FILE* out_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

/// "1:05" / "1:02:03" for a number of seconds.
std::string format_duration(double seconds);

}  // namespace examples
