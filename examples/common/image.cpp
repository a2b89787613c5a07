#include "image.hpp"

#include <cairo.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <numbers>
#include <stdexcept>

namespace examples {

void Canvas::Free::operator()(cairo_t* p) const { cairo_destroy(p); }
void Canvas::Free::operator()(cairo_surface_t* p) const { cairo_surface_destroy(p); }

namespace {

void set_source(cairo_t* cr, Rgb c) {
  cairo_set_source_rgb(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0);
}

}  // namespace

Canvas::Canvas(int width, int height, Rgb background)
    : surface_(cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height)),
      width_(width),
      height_(height) {
  cr_.reset(cairo_create(surface_.get()));  // never null: an error state at worst
  if (cairo_status(cr_.get()) != CAIRO_STATUS_SUCCESS || width <= 0 || height <= 0)
    throw std::runtime_error("cannot make a " + std::to_string(width) + "x" +
                             std::to_string(height) +
                             " picture: " + cairo_status_to_string(cairo_status(cr_.get())));
  set_source(cr_.get(), background);
  cairo_paint(cr_.get());
}

Canvas::Canvas(Canvas&&) noexcept = default;
Canvas& Canvas::operator=(Canvas&&) noexcept = default;
Canvas::~Canvas() = default;

void Canvas::set(int x, int y, Rgb c) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  cairo_surface_t* s = surface_.get();
  cairo_surface_flush(s);  // finish Cairo's drawing before touching the pixels
  std::uint32_t px = std::uint32_t{c.r} << 16 | std::uint32_t{c.g} << 8 | c.b;  // RGB24: 0x00RRGGBB
  std::memcpy(cairo_image_surface_get_data(s) +
                  static_cast<std::ptrdiff_t>(y) * cairo_image_surface_get_stride(s) + 4 * x,
              &px, 4);
  cairo_surface_mark_dirty_rectangle(s, x, y, 1, 1);
}

Rgb Canvas::get(int x, int y) const {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return {};
  cairo_surface_t* s = surface_.get();
  cairo_surface_flush(s);
  std::uint32_t px = 0;
  std::memcpy(&px,
              cairo_image_surface_get_data(s) +
                  static_cast<std::ptrdiff_t>(y) * cairo_image_surface_get_stride(s) + 4 * x,
              4);
  return {static_cast<std::uint8_t>(px >> 16), static_cast<std::uint8_t>(px >> 8),
          static_cast<std::uint8_t>(px)};
}

void Canvas::fill_rect(int x0, int y0, int x1, int y1, Rgb c) {
  cairo_t* cr = cr_.get();
  set_source(cr, c);
  cairo_rectangle(cr, std::min(x0, x1), std::min(y0, y1), std::abs(x1 - x0) + 1,
                  std::abs(y1 - y0) + 1);
  cairo_fill(cr);
}

void Canvas::rect(int x0, int y0, int x1, int y1, Rgb c) {
  cairo_t* cr = cr_.get();
  set_source(cr, c);
  cairo_set_line_width(cr, 1);
  // Through the pixel centers: exactly the pixels of the outline.
  cairo_rectangle(cr, std::min(x0, x1) + 0.5, std::min(y0, y1) + 0.5, std::abs(x1 - x0),
                  std::abs(y1 - y0));
  cairo_stroke(cr);
}

void Canvas::line(double x0, double y0, double x1, double y1, Rgb c, double width) {
  cairo_t* cr = cr_.get();
  set_source(cr, c);
  cairo_set_line_width(cr, width);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  cairo_move_to(cr, x0 + 0.5, y0 + 0.5);
  cairo_line_to(cr, x1 + 0.5, y1 + 0.5);
  cairo_stroke(cr);
}

void Canvas::disc(double cx, double cy, double radius, Rgb c) {
  cairo_t* cr = cr_.get();
  set_source(cr, c);
  cairo_new_sub_path(cr);
  cairo_arc(cr, cx + 0.5, cy + 0.5, radius, 0, 2 * std::numbers::pi);
  cairo_fill(cr);
}

double Canvas::text(double x, double y, const std::string& s, Rgb c, double size, bool bold) {
  cairo_t* cr = cr_.get();
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
  cairo_font_extents_t fe;
  cairo_font_extents(cr, &fe);
  cairo_text_extents_t te;
  cairo_text_extents(cr, s.c_str(), &te);
  set_source(cr, c);
  cairo_move_to(cr, x, y + fe.ascent);
  cairo_show_text(cr, s.c_str());
  cairo_new_path(cr);
  return x + te.x_advance;
}

void Canvas::save_png(const std::string& path) const {
  namespace fs = std::filesystem;
  static std::atomic<unsigned> count{0};
  // Beside the target, so that the rename is atomic: a reader sees the old or the new picture.
  fs::path tmp =
      fs::path(path).concat(".tmp-" + std::to_string(getpid()) + "-" + std::to_string(count++));
  cairo_surface_flush(surface_.get());
  errno = 0;
  cairo_status_t st = cairo_surface_write_to_png(surface_.get(), tmp.c_str());
  std::string why;
  if (st != CAIRO_STATUS_SUCCESS)
    why =
        cairo_status_to_string(st) + (errno ? std::string(" (") + std::strerror(errno) + ")" : "");
  std::error_code ec;
  if (why.empty()) {
    fs::rename(tmp, path, ec);
    if (ec) why = ec.message();
  }
  if (!why.empty()) {
    fs::remove(tmp, ec);
    throw std::runtime_error("cannot write " + path + ": " + why);
  }
}

}  // namespace examples
