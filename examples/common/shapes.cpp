#include "shapes.hpp"

#include <algorithm>
#include <cmath>

#include "image.hpp"

namespace examples {

tapeflow::Tensor make_shapes(std::size_t batch, std::size_t n, std::mt19937& rng) {
  tapeflow::Tensor v = xt::zeros<float>({batch, n, n, n, std::size_t{1}});
  const float N = static_cast<float>(n);
  auto uni = [&](float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng); };
  float* data = v.data();
  for (std::size_t b = 0; b < batch; ++b) {
    int kind = std::uniform_int_distribution<int>(0, 2)(rng);
    // Sizes relative to the grid, so a 16^3 smoke test sees the same shapes as 32^3.
    float cz = uni(0.35f, 0.65f) * N, cy = uni(0.35f, 0.65f) * N, cx = uni(0.35f, 0.65f) * N;
    float r = uni(0.15f, 0.3f) * N;
    float hz = uni(0.1f, 0.3f) * N, hy = uni(0.1f, 0.3f) * N, hx = uni(0.1f, 0.3f) * N;
    float major = uni(0.18f, 0.28f) * N, minor = uni(0.07f, 0.12f) * N;
    int axis = std::uniform_int_distribution<int>(0, 2)(rng);
    for (std::size_t z = 0; z < n; ++z)
      for (std::size_t y = 0; y < n; ++y)
        for (std::size_t x = 0; x < n; ++x) {
          float dz = static_cast<float>(z) + 0.5f - cz, dy = static_cast<float>(y) + 0.5f - cy,
                dx = static_cast<float>(x) + 0.5f - cx;
          bool in = false;
          if (kind == 0) {
            in = dz * dz + dy * dy + dx * dx <= r * r;
          } else if (kind == 1) {
            in = std::fabs(dz) <= hz && std::fabs(dy) <= hy && std::fabs(dx) <= hx;
          } else {
            // The torus' symmetry axis is one of the grid axes: `h` along it, `q` in its plane.
            float h = axis == 0 ? dz : axis == 1 ? dy : dx;
            float q = std::sqrt(dz * dz + dy * dy + dx * dx - h * h) - major;
            in = q * q + h * h <= minor * minor;
          }
          if (in) data[((b * n + z) * n + y) * n + x] = 1.f;
        }
  }
  return v;
}

double mean_iou(const tapeflow::Tensor& target, const tapeflow::Tensor& pred, float threshold) {
  std::size_t batch = target.shape()[0], per = target.size() / std::max<std::size_t>(batch, 1);
  double total = 0;
  for (std::size_t b = 0; b < batch; ++b) {
    std::size_t inter = 0, uni = 0;
    for (std::size_t i = b * per; i < (b + 1) * per; ++i) {
      bool t = target.data()[i] > 0.5f, p = pred.data()[i] > threshold;
      inter += t && p;
      uni += t || p;
    }
    total += uni ? double(inter) / double(uni) : 1.0;
  }
  return batch ? total / double(batch) : 0.0;
}

Rgb gray(float v) {
  auto g = static_cast<std::uint8_t>(255.f - 235.f * std::clamp(v, 0.f, 1.f));
  return Rgb{g, g, g};
}

Rgb error_color(bool target, bool predicted) {
  if (target == predicted) return target ? Rgb{30, 30, 30} : Rgb{255, 255, 255};
  return predicted ? Rgb{220, 40, 40} : Rgb{40, 80, 220};
}

Canvas slice_columns(const tapeflow::Tensor& guide, const std::vector<SliceColumn>& columns,
                     std::size_t rows) {
  const std::size_t n = guide.shape()[1];
  const int cell = std::max(2, 128 / static_cast<int>(n)), side = cell * static_cast<int>(n);
  const int pad = 8, cols = static_cast<int>(columns.size());
  rows = std::min(rows, guide.shape()[0]);
  Canvas c(cols * side + (cols + 1) * pad, static_cast<int>(rows) * (side + pad) + pad + 16,
           {255, 255, 255});
  for (int k = 0; k < cols; ++k)
    c.text(k * side + (k + 1) * pad, 2, columns[static_cast<std::size_t>(k)].title, {40, 40, 40},
           12);
  for (std::size_t r = 0; r < rows; ++r) {
    // The fullest plane shows the most of the shape (a central one can miss a small one).
    std::size_t best = n / 2, most = 0;
    for (std::size_t z = 0; z < n; ++z) {
      std::size_t count = 0;
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j) count += guide(r, z, i, j, 0) > 0.5f;
      if (count > most) most = count, best = z;
    }
    int top = 16 + pad + static_cast<int>(r) * (side + pad);
    for (int k = 0; k < cols; ++k) {
      int left = k * side + (k + 1) * pad;
      const SliceColumn& col = columns[static_cast<std::size_t>(k)];
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j) {
          int x0 = left + static_cast<int>(j) * cell, y0 = top + static_cast<int>(i) * cell;
          c.fill_rect(x0, y0, x0 + cell - 1, y0 + cell - 1, col.color(r, best, i, j));
        }
      c.rect(left - 1, top - 1, left + side, top + side, {150, 150, 150});
    }
  }
  return c;
}

Canvas slice_grid(const tapeflow::Tensor& x, const tapeflow::Tensor& y, std::size_t rows) {
  using I = std::size_t;
  return slice_columns(x,
                       {{"INPUT", [&](I b, I z, I i, I j) { return gray(x(b, z, i, j, 0)); }},
                        {"OUTPUT", [&](I b, I z, I i, I j) { return gray(y(b, z, i, j, 0)); }},
                        {"ERROR",
                         [&](I b, I z, I i, I j) {
                           return error_color(x(b, z, i, j, 0) > 0.5f, y(b, z, i, j, 0) > 0.5f);
                         }}},
                       rows);
}

}  // namespace examples
