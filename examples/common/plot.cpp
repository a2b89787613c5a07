#include "plot.hpp"

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <stdexcept>
#include <utility>

#include "tapeflow/optim/training/history.hpp"

namespace examples {

namespace {

const Rgb kPalette[] = {{31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
                        {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127}};
const Rgb kInk{40, 40, 40}, kGrid{228, 228, 228};

void source(cairo_t* cr, Rgb c, double alpha = 1) {
  cairo_set_source_rgba(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0, alpha);
}

void font(cairo_t* cr, double size, bool bold = false) {
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}

double text_width(cairo_t* cr, const std::string& s) {
  cairo_text_extents_t te;
  cairo_text_extents(cr, s.c_str(), &te);
  return te.x_advance;
}

// Text in the current font with (ax, ay) of its box at (x, y): ax 0 left, 0.5 center, 1 right;
// ay 0 top, 0.5 middle, 1 bottom; the box turned by `angle` radians about that point.
void text(cairo_t* cr, double x, double y, const std::string& s, Rgb c, double ax, double ay,
          double angle = 0) {
  cairo_font_extents_t fe;
  cairo_font_extents(cr, &fe);
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_rotate(cr, angle);
  source(cr, c);
  cairo_move_to(cr, -ax * text_width(cr, s), -ay * (fe.ascent + fe.descent) + fe.ascent);
  cairo_show_text(cr, s.c_str());
  cairo_new_path(cr);
  cairo_restore(cr);
}

// A round tick spacing (1, 2 or 5 times a power of ten) giving about `target` intervals.
double nice_step(double range, double target) {
  double raw = range / std::max(target, 1.0);
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double f = raw / mag;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

std::string tick_label(double v, double step) {
  v = std::round(v / step) * step;
  if (std::abs(v) < step * 1e-9) v = 0;  // no "-0" or "1e-17"
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// [lo, hi] widened to a non-empty interval.
void widen(double& lo, double& hi) {
  if (hi > lo) return;
  double pad = lo == 0 ? 0.5 : std::abs(lo) * 0.1;
  lo -= pad;
  hi += pad;
}

}  // namespace

LinePlot::LinePlot(std::string title, std::string x_label, std::string y_label)
    : title_(std::move(title)), x_label_(std::move(x_label)), y_label_(std::move(y_label)) {}

LinePlot& LinePlot::add_series(std::string name, std::vector<double> x, std::vector<double> y) {
  if (x.size() != y.size())
    throw std::invalid_argument("LinePlot::add_series('" + name +
                                "'): " + std::to_string(x.size()) + " x values but " +
                                std::to_string(y.size()) + " y values");
  series_.push_back({std::move(name), std::move(x), std::move(y)});
  return *this;
}

LinePlot& LinePlot::add_series(std::string name, std::vector<double> y) {
  std::vector<double> x(y.size());
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i + 1);
  return add_series(std::move(name), std::move(x), std::move(y));
}

Canvas LinePlot::render(int width, int height) const {
  if (width < 160 || height < 120)
    throw std::invalid_argument("LinePlot: a plot needs at least 160x120 pixels, got " +
                                std::to_string(width) + "x" + std::to_string(height));
  Canvas canvas(width, height);
  cairo_t* cr = canvas.cairo();
  const double title_size = 16, label_size = 13, tick_size = 11, legend_size = 12;

  // The data's extent (finite points only) and whether x holds whole numbers (steps, epochs).
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  bool whole_x = true;
  for (const Series& s : series_)
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i]), y1 = std::max(y1, s.y[i]);
      whole_x = whole_x && s.x[i] == std::round(s.x[i]);
    }
  if (!(x0 <= x1)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;  // nothing to draw: an empty frame
  widen(x0, x1);
  widen(y0, y1);
  const double ypad = 0.03 * (y1 - y0);                 // the curves clear of the frame
  y0 = y0 >= 0 ? std::max(0.0, y0 - ypad) : y0 - ypad;  // not below 0 for values >= 0
  y1 += ypad;

  // Layout: the title on top, the x label and tick labels below, the y label and tick labels
  // on the left (as wide as the widest label), then the plot area.
  const double margin = 10, top = margin + title_size * 1.25 + 8;
  const double bottom = height - (margin + label_size * 1.25 + 6 + tick_size * 1.25 + 6);
  double ystep = nice_step(y1 - y0, (bottom - top) / 50);
  y0 = std::floor(y0 / ystep + 1e-9) * ystep;  // the y axis from tick to tick
  y1 = std::ceil(y1 / ystep - 1e-9) * ystep;
  std::vector<std::pair<double, std::string>> yticks;
  font(cr, tick_size);
  double label_w = 0;
  for (double v = y0; v <= y1 + ystep * 1e-6; v += ystep) {
    yticks.emplace_back(v, tick_label(v, ystep));
    label_w = std::max(label_w, text_width(cr, yticks.back().second));
  }
  const double left = margin + label_size * 1.25 + 8 + label_w + 6, right = width - 20.0;
  auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * (right - left); };
  auto py = [&](double y) { return bottom - (y - y0) / (y1 - y0) * (bottom - top); };
  double xstep = nice_step(x1 - x0, (right - left) / 90);
  if (whole_x) xstep = std::max(xstep, 1.0);

  // Grid, ticks and tick labels.
  cairo_set_line_width(cr, 1);
  for (const auto& [v, s] : yticks) {
    double y = std::round(py(v)) + 0.5;
    source(cr, kGrid);
    cairo_move_to(cr, left, y);
    cairo_line_to(cr, right, y);
    cairo_stroke(cr);
    source(cr, kInk);
    cairo_move_to(cr, left - 4, y);
    cairo_line_to(cr, left, y);
    cairo_stroke(cr);
    text(cr, left - 6, y, s, kInk, 1, 0.5);
  }
  for (double v = std::ceil(x0 / xstep - 1e-9) * xstep; v <= x1 + xstep * 1e-6; v += xstep) {
    double x = std::round(px(v)) + 0.5;
    source(cr, kGrid);
    cairo_move_to(cr, x, top);
    cairo_line_to(cr, x, bottom);
    cairo_stroke(cr);
    source(cr, kInk);
    cairo_move_to(cr, x, bottom);
    cairo_line_to(cr, x, bottom + 4);
    cairo_stroke(cr);
    text(cr, x, bottom + 6, tick_label(v, xstep), kInk, 0.5, 0);
  }
  source(cr, kInk);
  cairo_rectangle(cr, std::round(left) + 0.5, std::round(top) + 0.5,
                  std::round(right) - std::round(left), std::round(bottom) - std::round(top));
  cairo_stroke(cr);

  // Title and axis labels.
  font(cr, title_size, true);
  text(cr, width / 2.0, margin, title_, kInk, 0.5, 0);
  font(cr, label_size);
  text(cr, (left + right) / 2, height - margin, x_label_, kInk, 0.5, 1);
  text(cr, margin, (top + bottom) / 2, y_label_, kInk, 0.5, 0, -std::numbers::pi / 2);

  // The curves: lines with gaps at non-finite values, and dots when there are few points.
  cairo_save(cr);
  cairo_rectangle(cr, left - 4, top - 4, right - left + 8, bottom - top + 8);
  cairo_clip(cr);
  cairo_set_line_width(cr, 2);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  for (std::size_t k = 0; k < series_.size(); ++k) {
    const Series& s = series_[k];
    source(cr, kPalette[k % std::size(kPalette)]);
    std::size_t finite = 0;
    bool pen_down = false;
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      bool ok = std::isfinite(s.x[i]) && std::isfinite(s.y[i]);
      finite += ok;
      if (ok && pen_down)
        cairo_line_to(cr, px(s.x[i]), py(s.y[i]));
      else if (ok)
        cairo_move_to(cr, px(s.x[i]), py(s.y[i]));
      pen_down = ok;
    }
    cairo_stroke(cr);
    if (finite > 40) continue;
    for (std::size_t i = 0; i < s.x.size(); ++i)
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) {
        cairo_new_sub_path(cr);
        cairo_arc(cr, px(s.x[i]), py(s.y[i]), 3, 0, 2 * std::numbers::pi);
      }
    cairo_fill(cr);
  }
  cairo_restore(cr);

  // The legend.
  if (!series_.empty()) {
    font(cr, legend_size);
    const double pad = 8, sample = 24, row = legend_size * 1.5;
    double names_w = 0;
    for (const Series& s : series_) names_w = std::max(names_w, text_width(cr, s.name));
    double w = pad + sample + 6 + names_w + pad, h = 2 * pad + row * double(series_.size());
    // In the corner of the plot area that hides the least of the curves (points every 2
    // pixels along each line), top right first on a tie.
    auto hidden = [&](double bx, double by) {
      int count = 0;
      auto inside = [&](double x, double y) {
        return x >= bx - 4 && x <= bx + w + 4 && y >= by - 4 && y <= by + h + 4;
      };
      for (const Series& s : series_)
        for (std::size_t i = 0; i < s.x.size(); ++i) {
          if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
          const double xa = px(s.x[i]), ya = py(s.y[i]);
          count += inside(xa, ya);
          if (i + 1 == s.x.size() || !std::isfinite(s.x[i + 1]) || !std::isfinite(s.y[i + 1]))
            continue;
          const double xb = px(s.x[i + 1]), yb = py(s.y[i + 1]);
          const int parts = std::max(1, static_cast<int>(std::hypot(xb - xa, yb - ya) / 2));
          for (int k = 1; k < parts; ++k) {
            const double t = double(k) / parts;
            count += inside(xa + t * (xb - xa), ya + t * (yb - ya));
          }
        }
      return count;
    };
    const double corners[4][2] = {{right - 8 - w, top + 8},
                                  {left + 8, top + 8},
                                  {right - 8 - w, bottom - 8 - h},
                                  {left + 8, bottom - 8 - h}};
    double lx = corners[0][0], ly = corners[0][1];
    int least = hidden(lx, ly);
    for (const auto& c : corners)
      if (int n = hidden(c[0], c[1]); n < least) least = n, lx = c[0], ly = c[1];
    cairo_rectangle(cr, std::round(lx) + 0.5, std::round(ly) + 0.5, std::round(w), std::round(h));
    source(cr, {255, 255, 255}, 0.85);
    cairo_fill_preserve(cr);
    source(cr, {180, 180, 180});
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    for (std::size_t k = 0; k < series_.size(); ++k) {
      double y = ly + pad + row * (double(k) + 0.5);
      source(cr, kPalette[k % std::size(kPalette)]);
      cairo_set_line_width(cr, 2);
      cairo_move_to(cr, lx + pad, y);
      cairo_line_to(cr, lx + pad + sample, y);
      cairo_stroke(cr);
      text(cr, lx + pad + sample + 6, y, series_[k].name, kInk, 0, 0.5);
    }
  }
  return canvas;
}

void LinePlot::save_png(const std::string& path, int width, int height) const {
  render(width, height).save_png(path);
}

LinePlot history_plot(const tapeflow::training::History& history, std::string title,
                      std::string y_label,
                      const std::vector<std::pair<std::string, std::string>>& series) {
  std::vector<double> epochs;
  for (int e : history.epoch) epochs.push_back(e + 1.0);
  LinePlot plot(std::move(title), "epoch", std::move(y_label));
  for (const auto& [key, name] : series) plot.add_series(name, epochs, history.at(key));
  return plot;
}

std::vector<double> moving_average(const std::vector<double>& values, std::size_t window) {
  window = std::max<std::size_t>(window, 1);
  std::vector<double> out(values.size());
  double sum = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    sum += values[i];
    if (i >= window) sum -= values[i - window];
    out[i] = sum / double(std::min(i + 1, window));
  }
  return out;
}

}  // namespace examples
