#include "segmentation.hpp"

#include <algorithm>
#include <cmath>

#include "shapes.hpp"

namespace examples {

SegmentationBatch make_segmentation_batch(std::size_t batch, std::size_t n, std::mt19937& rng,
                                          const SegmentationNoise& noise) {
  SegmentationBatch out;
  out.label = make_shapes(batch, n, rng);
  out.volume = xt::zeros_like(out.label);
  auto uni = [&](float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng); };
  std::normal_distribution<float> gauss(0.f, noise.sigma > 0 ? noise.sigma : 1.f);
  const long N = static_cast<long>(n);
  const std::size_t per = n * n * n;
  for (std::size_t b = 0; b < batch; ++b) {
    const float* label = out.label.data() + b * per;
    float* v = out.volume.data() + b * per;
    auto at = [&](long z, long y, long x) { return static_cast<std::size_t>((z * N + y) * N + x); };
    // Brightness varies per volume and per blob, over one range for both: intensity alone does
    // not tell clutter from shape.
    const float shape_level = uni(0.6f, 1.f);
    for (std::size_t i = 0; i < per; ++i) v[i] = label[i] * shape_level;
    for (int k = 0; k < noise.clutter; ++k) {
      const float r = uni(0.6f, 1.6f), level = uni(0.6f, 1.f);
      // A few tries to find a spot clear of the shape (a full grid may have none).
      for (int attempt = 0; attempt < 20; ++attempt) {
        float cz = uni(0.f, float(N)), cy = uni(0.f, float(N)), cx = uni(0.f, float(N));
        // Voxels within r of the centre form the blob; within r + 1.5 none may be the shape's,
        // so a gap of at least one voxel keeps the blob from touching it.
        const float reach = r + 1.5f;
        auto lo = [&](float c) { return std::max(0L, static_cast<long>(std::floor(c - reach))); };
        auto hi = [&](float c) { return std::min(N - 1, static_cast<long>(std::ceil(c + reach))); };
        auto dist2 = [&](long z, long y, long x) {
          float dz = float(z) + 0.5f - cz, dy = float(y) + 0.5f - cy, dx = float(x) + 0.5f - cx;
          return dz * dz + dy * dy + dx * dx;
        };
        bool clear = true;
        for (long z = lo(cz); z <= hi(cz) && clear; ++z)
          for (long y = lo(cy); y <= hi(cy) && clear; ++y)
            for (long x = lo(cx); x <= hi(cx) && clear; ++x)
              if (label[at(z, y, x)] > 0.5f && dist2(z, y, x) <= reach * reach) clear = false;
        if (!clear) continue;
        bool drawn = false;
        for (long z = lo(cz); z <= hi(cz); ++z)
          for (long y = lo(cy); y <= hi(cy); ++y)
            for (long x = lo(cx); x <= hi(cx); ++x)
              if (dist2(z, y, x) <= r * r) {
                v[at(z, y, x)] = std::max(v[at(z, y, x)], level);
                drawn = true;
              }
        // A centre between voxels with a small radius can cover none: then mark the nearest
        // one, so every blob is seen.
        if (!drawn) {
          auto clamp_idx = [&](float c) { return std::clamp(static_cast<long>(c), 0L, N - 1); };
          float& cell = v[at(clamp_idx(cz), clamp_idx(cy), clamp_idx(cx))];
          cell = std::max(cell, level);
        }
        break;
      }
    }
    if (noise.sigma > 0)  // (a normal distribution needs a positive deviation)
      for (std::size_t i = 0; i < per; ++i) v[i] += gauss(rng);
  }
  return out;
}

double mean_dice(const tapeflow::Tensor& target, const tapeflow::Tensor& pred, float threshold) {
  std::size_t batch = target.shape()[0], per = target.size() / std::max<std::size_t>(batch, 1);
  double total = 0;
  for (std::size_t b = 0; b < batch; ++b) {
    std::size_t inter = 0, sizes = 0;
    for (std::size_t i = b * per; i < (b + 1) * per; ++i) {
      bool t = target.data()[i] > 0.5f, p = pred.data()[i] > threshold;
      inter += t && p;
      sizes += std::size_t(t) + std::size_t(p);
    }
    total += sizes ? 2.0 * double(inter) / double(sizes) : 1.0;
  }
  return batch ? total / double(batch) : 0.0;
}

Canvas segmentation_slices(const SegmentationBatch& data, const tapeflow::Tensor& pred,
                           std::size_t rows) {
  using I = std::size_t;
  const tapeflow::Tensor &x = data.volume, &t = data.label;
  return slice_columns(
      t,
      {{"INPUT", [&](I b, I z, I i, I j) { return gray(x(b, z, i, j, 0)); }},
       {"LABEL", [&](I b, I z, I i, I j) { return gray(t(b, z, i, j, 0)); }},
       {"PREDICTED", [&](I b, I z, I i, I j) { return gray(pred(b, z, i, j, 0)); }},
       {"ERROR",
        [&](I b, I z, I i, I j) {
          return error_color(t(b, z, i, j, 0) > 0.5f, pred(b, z, i, j, 0) > 0.5f);
        }}},
      rows);
}

}  // namespace examples
