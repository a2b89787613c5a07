#include "image.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace examples {

namespace {

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}

void put_chunk(std::vector<std::uint8_t>& out, const char* type,
               const std::vector<std::uint8_t>& data) {
  put_u32(out, static_cast<std::uint32_t>(data.size()));
  std::size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  // The CRC covers the chunk type and data, not the length.
  put_u32(out, crc32(out.data() + start, out.size() - start));
}

}  // namespace

std::uint32_t crc32(const std::uint8_t* data, std::size_t n, std::uint32_t crc) {
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (std::size_t i = 0; i < n; ++i) crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

std::uint32_t adler32(const std::uint8_t* data, std::size_t n) {
  std::uint32_t a = 1, b = 0;
  for (std::size_t i = 0; i < n; ++i) {
    a = (a + data[i]) % 65521;
    b = (b + a) % 65521;
  }
  return (b << 16) | a;
}

std::vector<std::uint8_t> encode_png(int width, int height, const std::vector<std::uint8_t>& rgb) {
  if (width <= 0 || height <= 0 ||
      rgb.size() != static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3)
    throw std::runtime_error("encode_png: " + std::to_string(width) + "x" + std::to_string(height) +
                             " image needs " +
                             std::to_string(std::size_t(width) * std::size_t(height) * 3) +
                             " bytes, got " + std::to_string(rgb.size()));
  std::vector<std::uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<std::uint8_t> ihdr;
  put_u32(ihdr, static_cast<std::uint32_t>(width));
  put_u32(ihdr, static_cast<std::uint32_t>(height));
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // 8-bit RGB, deflate, no filter, no interlace
  put_chunk(out, "IHDR", ihdr);

  // Raw scanlines, each prefixed by filter type 0.
  std::size_t row = static_cast<std::size_t>(width) * 3;
  std::vector<std::uint8_t> raw;
  raw.reserve((row + 1) * static_cast<std::size_t>(height));
  for (int y = 0; y < height; ++y) {
    raw.push_back(0);
    auto begin = rgb.begin() + static_cast<std::ptrdiff_t>(row * static_cast<std::size_t>(y));
    raw.insert(raw.end(), begin, begin + static_cast<std::ptrdiff_t>(row));
  }
  // zlib stream of uncompressed ("stored") deflate blocks of at most 65535 bytes: no compression
  // library needed, and the pictures are small.
  std::vector<std::uint8_t> z = {0x78, 0x01};
  std::size_t pos = 0;
  do {
    std::size_t len = std::min<std::size_t>(65535, raw.size() - pos);
    bool last = pos + len == raw.size();
    z.push_back(last ? 1 : 0);
    z.push_back(static_cast<std::uint8_t>(len & 0xFF));
    z.push_back(static_cast<std::uint8_t>(len >> 8));
    z.push_back(static_cast<std::uint8_t>(~len & 0xFF));
    z.push_back(static_cast<std::uint8_t>((~len >> 8) & 0xFF));
    z.insert(z.end(), raw.begin() + static_cast<std::ptrdiff_t>(pos),
             raw.begin() + static_cast<std::ptrdiff_t>(pos + len));
    pos += len;
  } while (pos < raw.size());
  put_u32(z, adler32(raw.data(), raw.size()));
  put_chunk(out, "IDAT", z);
  put_chunk(out, "IEND", {});
  return out;
}

Canvas::Canvas(int width, int height, Rgb background)
    : width_(width),
      height_(height),
      rgb_(static_cast<std::size_t>(std::max(width, 0)) *
           static_cast<std::size_t>(std::max(height, 0)) * 3) {
  fill_rect(0, 0, width - 1, height - 1, background);
}

void Canvas::set(int x, int y, Rgb c) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  std::size_t i = (static_cast<std::size_t>(y) * static_cast<std::size_t>(width_) +
                   static_cast<std::size_t>(x)) *
                  3;
  rgb_[i] = c.r;
  rgb_[i + 1] = c.g;
  rgb_[i + 2] = c.b;
}

Rgb Canvas::get(int x, int y) const {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return {};
  std::size_t i = (static_cast<std::size_t>(y) * static_cast<std::size_t>(width_) +
                   static_cast<std::size_t>(x)) *
                  3;
  return {rgb_[i], rgb_[i + 1], rgb_[i + 2]};
}

void Canvas::fill_rect(int x0, int y0, int x1, int y1, Rgb c) {
  for (int y = std::max(0, std::min(y0, y1)); y <= std::min(height_ - 1, std::max(y0, y1)); ++y)
    for (int x = std::max(0, std::min(x0, x1)); x <= std::min(width_ - 1, std::max(x0, x1)); ++x)
      set(x, y, c);
}

void Canvas::rect(int x0, int y0, int x1, int y1, Rgb c) {
  line(x0, y0, x1, y0, c);
  line(x1, y0, x1, y1, c);
  line(x1, y1, x0, y1, c);
  line(x0, y1, x0, y0, c);
}

void Canvas::line(int x0, int y0, int x1, int y1, Rgb c, int thickness) {
  int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
  int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
  int err = dx + dy, lo = -(thickness - 1) / 2, hi = thickness / 2;
  for (;;) {
    for (int oy = lo; oy <= hi; ++oy)
      for (int ox = lo; ox <= hi; ++ox) set(x0 + ox, y0 + oy, c);
    if (x0 == x1 && y0 == y1) break;
    int e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x0 += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y0 += sy;
    }
  }
}

void Canvas::disc(int cx, int cy, int radius, Rgb c) {
  for (int y = -radius; y <= radius; ++y)
    for (int x = -radius; x <= radius; ++x)
      if (x * x + y * y <= radius * radius) set(cx + x, cy + y, c);
}

int Canvas::text(int x, int y, const std::string& s, Rgb c, int scale) {
  // 3x5 glyphs, one row per 3-bit group (bit 2 = left column).
  auto glyph = [](char ch) -> std::array<int, 5> {
    switch (ch) {
      case '0':
        return {7, 5, 5, 5, 7};
      case '1':
        return {2, 6, 2, 2, 7};
      case '2':
        return {7, 1, 7, 4, 7};
      case '3':
        return {7, 1, 7, 1, 7};
      case '4':
        return {5, 5, 7, 1, 1};
      case '5':
        return {7, 4, 7, 1, 7};
      case '6':
        return {7, 4, 7, 5, 7};
      case '7':
        return {7, 1, 1, 1, 1};
      case '8':
        return {7, 5, 7, 5, 7};
      case '9':
        return {7, 5, 7, 1, 7};
      case '.':
        return {0, 0, 0, 0, 2};
      case '-':
        return {0, 0, 7, 0, 0};
      case '+':
        return {0, 2, 7, 2, 0};
      case 'e':
        return {0, 7, 7, 4, 7};
      case ':':
        return {0, 2, 0, 2, 0};
      case 'I':
        return {7, 2, 2, 2, 7};
      case 'N':
        return {5, 7, 7, 7, 5};
      case 'O':
        return {7, 5, 5, 5, 7};
      case 'U':
        return {5, 5, 5, 5, 7};
      case 'T':
        return {7, 2, 2, 2, 2};
      case 'P':
        return {7, 5, 7, 4, 4};
      case 'S':
        return {7, 4, 7, 1, 7};
      case 'L':
        return {4, 4, 4, 4, 7};
      case 'E':
        return {7, 4, 7, 4, 7};
      case 'R':
        return {7, 5, 6, 5, 5};
      case 'C':
        return {7, 4, 4, 4, 7};
      case 'A':
        return {2, 5, 7, 5, 5};
      case 'B':
        return {6, 5, 6, 5, 6};
      case 'D':
        return {6, 5, 5, 5, 6};
      default:
        return {0, 0, 0, 0, 0};
    }
  };
  for (char ch : s) {
    auto g = glyph(ch);
    for (int row = 0; row < 5; ++row)
      for (int col = 0; col < 3; ++col)
        if (g[static_cast<std::size_t>(row)] & (4 >> col))
          fill_rect(x + col * scale, y + row * scale, x + col * scale + scale - 1,
                    y + row * scale + scale - 1, c);
    x += 4 * scale;
  }
  return x;
}

void Canvas::save_png(const std::string& path) const {
  std::vector<std::uint8_t> png = encode_png(width_, height_, rgb_);
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
  if (!f) throw std::runtime_error("cannot write " + path);
}

namespace {

std::string short_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

}  // namespace

Canvas plot_curve(const std::vector<float>& values, int width, int height, int smooth) {
  Canvas c(width, height);
  const int left = 70, right = 15, top = 15, bottom = 30;
  const Rgb axis{40, 40, 40}, raw{160, 190, 230}, avg{20, 70, 160}, grid{225, 225, 225};
  int pw = width - left - right, ph = height - top - bottom;
  if (values.empty() || pw < 10 || ph < 10) return c;
  float lo = *std::min_element(values.begin(), values.end());
  float hi = *std::max_element(values.begin(), values.end());
  if (!(hi > lo)) hi = lo + 1.f;
  lo = std::min(lo, 0.f);  // losses here are >= 0: start the axis at zero
  auto px = [&](std::size_t i) {
    return left + (values.size() == 1
                       ? 0
                       : static_cast<int>(std::lround(double(i) * pw / double(values.size() - 1))));
  };
  auto py = [&](double v) {
    return top + ph - static_cast<int>(std::lround((v - lo) / (hi - lo) * ph));
  };
  for (int k = 0; k <= 4; ++k) {
    double v = lo + (hi - lo) * k / 4.0;
    c.line(left, py(v), left + pw, py(v), grid);
    c.text(4, py(v) - 5, short_number(v), axis, 2);
  }
  c.line(left, top, left, top + ph, axis);
  c.line(left, top + ph, left + pw, top + ph, axis);
  c.text(left, top + ph + 8, "0", axis, 2);
  std::string last = std::to_string(values.size());
  c.text(left + pw - 8 * static_cast<int>(last.size()), top + ph + 8, last, axis, 2);
  for (std::size_t i = 1; i < values.size(); ++i)
    c.line(px(i - 1), py(values[i - 1]), px(i), py(values[i]), raw);
  if (smooth > 1 && values.size() > 1) {
    std::vector<double> m(values.size());
    double sum = 0;
    for (std::size_t i = 0; i < values.size(); ++i) {
      sum += values[i];
      if (i >= static_cast<std::size_t>(smooth))
        sum -= values[i - static_cast<std::size_t>(smooth)];
      m[i] = sum / double(std::min<std::size_t>(i + 1, static_cast<std::size_t>(smooth)));
    }
    for (std::size_t i = 1; i < m.size(); ++i)
      c.line(px(i - 1), py(m[i - 1]), px(i), py(m[i]), avg, 2);
  }
  return c;
}

}  // namespace examples
