#pragma once
/// Pictures for the examples, with no dependency: an RGB canvas with lines, rectangles and a
/// tiny digit font, written as PNG (zlib "stored" deflate blocks + CRC-32 + Adler-32).
///
/// Example:
/// ```
/// examples::Canvas c(64, 32, {255, 255, 255});
/// c.line(0, 0, 63, 31, {200, 0, 0});
/// c.save_png("out.png");   // throws std::runtime_error naming the path if it cannot write
/// ```
#include <cstdint>
#include <string>
#include <vector>

namespace examples {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
};

/// Encodes 8-bit RGB pixels (row-major, 3 bytes each) as a PNG file image.
std::vector<std::uint8_t> encode_png(int width, int height, const std::vector<std::uint8_t>& rgb);

/// CRC-32 (PNG/zlib polynomial) and Adler-32 of a byte range (exposed for tests).
std::uint32_t crc32(const std::uint8_t* data, std::size_t n, std::uint32_t crc = 0);
std::uint32_t adler32(const std::uint8_t* data, std::size_t n);

/// An RGB image; coordinates outside it are clipped silently.
class Canvas {
 public:
  Canvas(int width, int height, Rgb background = {255, 255, 255});
  int width() const { return width_; }
  int height() const { return height_; }
  void set(int x, int y, Rgb c);
  Rgb get(int x, int y) const;
  void fill_rect(int x0, int y0, int x1, int y1, Rgb c);  // inclusive corners
  void rect(int x0, int y0, int x1, int y1, Rgb c);       // outline
  /// A line `thickness` pixels wide (Bresenham, stamped).
  void line(int x0, int y0, int x1, int y1, Rgb c, int thickness = 1);
  void disc(int cx, int cy, int radius, Rgb c);
  /// Text in a 3x5 pixel font scaled by `scale`: digits, '.', '-', 'e', '+', ' ' and a few
  /// capitals; other characters draw as blanks. Returns the x after the text.
  int text(int x, int y, const std::string& s, Rgb c, int scale = 2);
  /// Writes the PNG; throws std::runtime_error naming `path` on failure.
  void save_png(const std::string& path) const;

 private:
  int width_, height_;
  std::vector<std::uint8_t> rgb_;
};

/// A line plot of `values` (e.g. a loss per step), with axes, tick labels and, if `smooth`
/// is > 1, a moving average over that many points drawn over the raw curve.
Canvas plot_curve(const std::vector<float>& values, int width, int height, int smooth = 1);

}  // namespace examples
