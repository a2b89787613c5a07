#include "tapeflow/optim/training/progbar.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>

namespace tapeflow::training {

namespace {

// Keras redraws a dynamic bar at most every 0.05 s (Progbar's `interval`).
constexpr double kRedrawInterval = 0.05;
constexpr int kBarWidth = 30;

bool stdout_is_terminal(const std::ostream& out) {
  return &out == &std::cout && ::isatty(STDOUT_FILENO) == 1;
}

std::string format_value(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, std::fabs(v) > 1e-3 ? "%.4f" : "%.4e", v);
  return buf;
}

std::string format_logs(const Logs& values) {
  std::string out;
  for (const auto& [name, v] : values.items()) out += " - " + name + ": " + format_value(v);
  return out;
}

int digits(std::int64_t n) { return n > 0 ? static_cast<int>(std::log10(double(n))) + 1 : 1; }

}  // namespace

Progbar::Progbar(std::int64_t target, int verbose)
    : Progbar(target, verbose, std::cout, stdout_is_terminal(std::cout)) {}

Progbar::Progbar(std::int64_t target, int verbose, std::ostream& out, bool dynamic)
    : target_(target),
      verbose_(verbose),
      out_(&out),
      dynamic_(dynamic),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

std::string Progbar::format_eta(double s) {
  char buf[64];
  long t = static_cast<long>(s);
  if (s > 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t % 3600) / 60, t % 60);
  else if (s > 60)
    std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%lds", t);
  return buf;
}

std::string Progbar::format_time_per_step(double s) {
  char buf[64];
  if (s >= 1 || s == 0)
    std::snprintf(buf, sizeof buf, "%.0fs/step", s);
  else if (s >= 1e-3)
    std::snprintf(buf, sizeof buf, "%.0fms/step", s * 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.0fus/step", s * 1e6);
  return buf;
}

std::string Progbar::line(std::int64_t current, const Logs& values, bool finalize,
                          double elapsed) const {
  char count[64];
  std::snprintf(count, sizeof count, "%*lld/%lld", digits(target_), static_cast<long long>(current),
                static_cast<long long>(target_));
  std::string out = count;
  if (verbose_ == 1) {
    // Keras' bar: '=' for the steps done, '>' at the head until the end, '.' for the rest.
    const std::int64_t clamped = std::min(current, target_);
    const int done = target_ > 0 ? static_cast<int>(kBarWidth * clamped / target_) : kBarWidth;
    std::string bar = "[";
    if (done > 0)
      bar += std::string(static_cast<std::size_t>(done - 1), '=') + (clamped < target_ ? ">" : "=");
    bar += std::string(static_cast<std::size_t>(kBarWidth - done), '.') + "]";
    out += " " + bar;
  }
  const double per_step = current > 0 ? elapsed / double(current) : 0.0;
  if (!finalize)
    out += " - ETA: " + format_eta(per_step * double(std::max<std::int64_t>(target_ - current, 0)));
  else
    out += " - " + std::to_string(static_cast<long>(std::lround(elapsed))) + "s " +
           format_time_per_step(per_step);
  return out + format_logs(values);
}

void Progbar::update(std::int64_t current, const Logs& values, bool finalize) {
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  if (!finalize) {
    // Only a bar redrawn in place shows the steps in between.
    if (verbose_ != 1 || !dynamic_) return;
    if (drawn_ && std::chrono::duration<double>(now - last_draw_).count() < kRedrawInterval) return;
  }
  std::string text = line(current, values, finalize, elapsed);
  if (dynamic_ && drawn_) {
    *out_ << '\r';
    // Blank out what the previous, longer line left behind.
    if (text.size() < last_width_) text += std::string(last_width_ - text.size(), ' ');
  }
  *out_ << text;
  if (finalize) *out_ << '\n';
  out_->flush();
  last_width_ = text.size();
  last_draw_ = now;
  drawn_ = !finalize;
}

// ---- ProgbarLogger ----------------------------------------------------------------------------

ProgbarLogger::ProgbarLogger() : ProgbarLogger(std::cout, stdout_is_terminal(std::cout)) {}

ProgbarLogger::ProgbarLogger(std::ostream& out, bool dynamic, std::optional<int> verbose)
    : out_(&out), dynamic_(dynamic), verbose_(verbose) {}

Progbar ProgbarLogger::make_bar() const {
  return Progbar(params().steps, verbose_.value_or(params().verbose), *out_, dynamic_);
}

void ProgbarLogger::on_train_begin(Logs&) { in_fit_ = true; }
void ProgbarLogger::on_train_end(Logs&) { in_fit_ = false; }

void ProgbarLogger::on_epoch_begin(int epoch, Logs&) {
  *out_ << "Epoch " << epoch + 1 << "/" << params().epochs << "\n";
  out_->flush();
  bar_ = std::make_unique<Progbar>(make_bar());
  seen_ = 0;
}

void ProgbarLogger::on_train_batch_end(std::int64_t batch, Logs& logs) {
  seen_ = batch + 1;
  if (bar_) bar_->update(seen_, logs);
}

void ProgbarLogger::on_epoch_end(int, Logs& logs) {
  if (bar_) bar_->update(std::max<std::int64_t>(seen_, params().steps), logs, /*finalize=*/true);
  bar_.reset();
}

void ProgbarLogger::on_test_begin(Logs&) {
  if (in_fit_) return;
  bar_ = std::make_unique<Progbar>(make_bar());
  seen_ = 0;
}

void ProgbarLogger::on_test_batch_end(std::int64_t batch, Logs& logs) {
  if (in_fit_ || !bar_) return;
  seen_ = batch + 1;
  last_ = logs;
  bar_->update(seen_, logs);
}

void ProgbarLogger::on_test_end(Logs& logs) {
  if (in_fit_ || !bar_) return;
  bar_->update(seen_, logs.empty() ? last_ : logs, /*finalize=*/true);
  bar_.reset();
}

void ProgbarLogger::on_predict_begin(Logs&) {
  bar_ = std::make_unique<Progbar>(make_bar());
  seen_ = 0;
}

void ProgbarLogger::on_predict_batch_end(std::int64_t batch, Logs& logs) {
  seen_ = batch + 1;
  if (bar_) bar_->update(seen_, logs);
}

void ProgbarLogger::on_predict_end(Logs& logs) {
  if (bar_) bar_->update(seen_, logs, /*finalize=*/true);
  bar_.reset();
}

}  // namespace tapeflow::training
