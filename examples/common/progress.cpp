#include "progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace examples {

ProgressBar::ProgressBar(int total, std::FILE* out, int every)
    : total_(total),
      every_(every > 0 ? every : std::max(1, total / 10)),
      out_(out),
      tty_(isatty(fileno(out)) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

double ProgressBar::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string format_duration(double seconds) {
  long s = std::lround(std::max(0.0, seconds));
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

void ProgressBar::update(int done, double loss) {
  auto now = std::chrono::steady_clock::now();
  // A terminal shows the latest step, but redrawing faster than the eye reads only costs time;
  // elsewhere each line stays, so print few of them.
  bool redraw =
      tty_ ? (done == total_ || std::chrono::duration<double>(now - last_draw_).count() > 0.1)
           : (done == total_ || done % every_ == 0);
  if (!redraw) return;
  last_draw_ = now;
  double secs = elapsed_seconds();
  double rate = secs > 0 ? done / secs : 0;
  double eta = rate > 0 ? (total_ - done) / rate : 0;
  const int width = 30;
  int filled = total_ > 0 ? std::clamp(done * width / total_, 0, width) : width;
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(width, '.');
  std::fprintf(out_, "%s[%s] %d/%d  loss %.4f  %.1f s  %.1f it/s  ETA %s%s", tty_ ? "\r" : "",
               bar.c_str(), done, total_, loss, secs, rate, format_duration(eta).c_str(),
               tty_ ? "   " : "\n");
  std::fflush(out_);
}

void ProgressBar::finish() {
  if (tty_) std::fprintf(out_, "\n");
  std::fflush(out_);
}

}  // namespace examples
