#pragma once
/// Pictures for the examples: an RGB canvas drawn with Cairo (lines, rectangles, discs, text in
/// a real font) and written as PNG by Cairo. Line plots with axes and a legend: plot.hpp.
///
/// Example:
/// ```
/// examples::Canvas c(64, 32, {255, 255, 255});
/// c.line(0, 0, 63, 31, {200, 0, 0});
/// c.text(2, 2, "hello", {0, 0, 0});
/// c.save_png("out.png");   // throws std::runtime_error naming the path if it cannot write
/// ```
#include <cstdint>
#include <memory>
#include <string>

typedef struct _cairo cairo_t;                  // <cairo.h>
typedef struct _cairo_surface cairo_surface_t;  // <cairo.h>

namespace examples {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
};

/// An RGB image (a Cairo image surface); what falls outside it is clipped silently. Movable, not
/// copyable; a moved-from canvas can only be destroyed or assigned to.
class Canvas {
 public:
  /// Throws std::runtime_error when Cairo cannot make a `width` x `height` image.
  Canvas(int width, int height, Rgb background = {255, 255, 255});
  Canvas(Canvas&&) noexcept;
  Canvas& operator=(Canvas&&) noexcept;
  ~Canvas();
  int width() const { return width_; }
  int height() const { return height_; }
  void set(int x, int y, Rgb c);
  Rgb get(int x, int y) const;
  void fill_rect(int x0, int y0, int x1, int y1, Rgb c);  // inclusive corners
  void rect(int x0, int y0, int x1, int y1, Rgb c);       // a 1-pixel outline on those pixels
  /// An anti-aliased line `width` pixels wide between pixel centers.
  void line(double x0, double y0, double x1, double y1, Rgb c, double width = 1);
  void disc(double cx, double cy, double radius, Rgb c);
  /// Text in the sans-serif font (fontconfig's choice: DejaVu Sans on Debian), `size` pixels
  /// to the em, its top-left corner at (x, y). Returns the x after the text.
  double text(double x, double y, const std::string& s, Rgb c, double size = 13, bool bold = false);
  /// The Cairo context, for anything more (include <cairo.h>); the surface is CAIRO_FORMAT_RGB24.
  cairo_t* cairo() { return cr_.get(); }
  /// Writes the PNG: to a temporary file in the same folder, renamed to `path` once complete.
  /// Throws std::runtime_error naming `path` on failure.
  void save_png(const std::string& path) const;

 private:
  struct Free {
    void operator()(cairo_t* p) const;
    void operator()(cairo_surface_t* p) const;
  };
  std::unique_ptr<cairo_surface_t, Free> surface_;
  std::unique_ptr<cairo_t, Free> cr_;
  int width_ = 0, height_ = 0;
};

}  // namespace examples
