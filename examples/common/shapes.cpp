#include "shapes.hpp"

#include <cmath>

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

}  // namespace examples
