#include "tapeflow/framework/kernels/direct_conv.hpp"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <vector>

#include "tapeflow/framework/kernels/workspace.hpp"
#include "tapeflow/framework/runtime/gemm.hpp"
#include "tapeflow/framework/runtime/parallel.hpp"

namespace tapeflow::kernels {

namespace {

std::atomic<bool> direct_enabled{true};

// A register tile: up to kTileRows output positions (forward) or kernel rows (gradient) by
// kTileCols output channels, two 8-float AVX2 vectors per row: 12 accumulators, 2 kernel (or
// gradient) vectors and 1 broadcast, 15 of the 16 vector registers.
constexpr std::size_t kTileRows = 6;
constexpr std::size_t kTileCols = 16;
constexpr std::size_t kVector = 8;
// The loops over a tile's rows and vectors carry `#pragma GCC unroll` (clang reads it too):
// unrolled before scalar replacement, the accumulators live in registers; without it GCC 12
// stores all 12 back to the stack on every step, which halves the tile's speed.

// The zero-padded input of the output planes being computed: `extent[a] = grid[a] +
// dilated_kernel(a) - 1` positions on axis a, padded position u holding image position
// `u - pad_before` (zero outside the image; a negative trailing pad crops the image instead).
struct Padded {
  std::array<std::size_t, 3> extent;
  std::size_t channels;
  std::size_t row_floats() const { return extent[2] * channels; }
  std::size_t plane_floats() const { return extent[1] * row_floats(); }
};

Padded padded_extent(const ConvGeometry& g) {
  Padded p{};
  for (std::size_t a = 0; a < 3; ++a) p.extent[a] = g.grid[a] + g.dilated_kernel(a) - 1;
  p.channels = g.image_channels;
  return p;
}

// Output depth planes per slab: the slab holds them plus the kernel's depth halo, within the
// workspace limit (at least one plane; direct_conv_applies checks that one fits).
std::size_t slab_planes(const ConvGeometry& g, const Padded& p) {
  const std::size_t fit = conv_workspace_limit() / sizeof(float) / p.plane_floats();
  const std::size_t halo = g.dilated_kernel(0) - 1;
  return std::clamp<std::size_t>(fit > halo ? fit - halo : 1, 1, g.grid[0]);
}

// Copies the padded planes [u0, u1) of sample n into `slab` (rows split over the threads).
void fill_padded(const ConvGeometry& g, const Padded& p, const float* image, std::size_t n,
                 std::size_t u0, std::size_t u1, float* slab) {
  const std::size_t C = p.channels, E1 = p.extent[1], E2 = p.extent[2];
  const long I0 = long(g.image[0]), I1 = long(g.image[1]), I2 = long(g.image[2]);
  const long P0 = g.pad_before[0], P1 = g.pad_before[1], P2 = g.pad_before[2];
  // Padded x positions w with 0 <= w - P2 < I2.
  const std::size_t w_lo = std::size_t(std::clamp<long>(P2, 0, long(E2)));
  const std::size_t w_hi = std::size_t(std::clamp<long>(I2 + P2, long(w_lo), long(E2)));
  const std::size_t grain = std::max<std::size_t>(1, (std::size_t(16) << 10) / p.row_floats());
  parallel_for((u1 - u0) * E1, grain, [&](std::size_t begin, std::size_t end) {
    for (std::size_t r = begin; r < end; ++r) {
      float* dst = slab + r * p.row_floats();
      const long iz = long(u0 + r / E1) - P0, iy = long(r % E1) - P1;
      if (iz < 0 || iz >= I0 || iy < 0 || iy >= I1 || w_hi == w_lo) {
        std::memset(dst, 0, p.row_floats() * sizeof(float));
        continue;
      }
      const long ix = long(w_lo) - P2;
      const float* src = image + std::size_t(((long(n) * I0 + iz) * I1 + iy) * I2 + ix) * C;
      std::memset(dst, 0, w_lo * C * sizeof(float));
      std::memcpy(dst + w_lo * C, src, (w_hi - w_lo) * C * sizeof(float));
      std::memset(dst + w_hi * C, 0, (E2 - w_hi) * C * sizeof(float));
    }
  });
}

// `rows` consecutive kernel rows (flattened (tap, input channel)) whose input lies at
// `offset` floats from an output position's padded base. With unit dilation along x, the taps
// of one kernel row (tz, ty) are one contiguous stretch of K2 * channels floats.
struct Segment {
  std::size_t offset;
  std::size_t rows;
};

std::vector<Segment> segments(const ConvGeometry& g, const Padded& p) {
  const std::size_t C = p.channels, E1 = p.extent[1];
  const std::size_t D0 = g.dilation[0], D1 = g.dilation[1], D2 = g.dilation[2];
  std::vector<Segment> s;
  for (std::size_t tz = 0; tz < g.kernel[0]; ++tz)
    for (std::size_t ty = 0; ty < g.kernel[1]; ++ty) {
      const std::size_t row = (tz * D0 * E1 + ty * D1) * p.row_floats();
      if (D2 == 1) {
        s.push_back({row, g.kernel[2] * C});
      } else {
        for (std::size_t tx = 0; tx < g.kernel[2]; ++tx) s.push_back({row + tx * D2 * C, C});
      }
    }
  return s;
}

// Lanes [0, valid) of an 8-float vector.
__attribute__((target("avx2,fma"))) inline __m256i lane_mask(std::size_t valid) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(std::min<std::size_t>(valid, kVector))),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// out[r, c] = bias[c] + sum over segments s, rows k of rows[r][s.offset + k] * w[(row of k), c]
// for MR output positions r (whose padded bases are `rows[r]`: a tile may span output rows) and
// NV * 8 channels c (the first `cols` stored when Partial). `w` is one 16-wide block of the
// packed kernel; output position r is at `out + r * out_step`.
template <std::size_t MR, std::size_t NV, bool Partial>
__attribute__((target("avx2,fma"))) void forward_tile(const float* const* rows, const Segment* seg,
                                                      std::size_t segs, const float* w,
                                                      const float* bias, float* out,
                                                      std::size_t out_step, std::size_t cols) {
  __m256 acc[MR][NV];
#pragma GCC unroll 8
  for (std::size_t v = 0; v < NV; ++v) {
    const __m256 b = _mm256_loadu_ps(bias + v * kVector);
#pragma GCC unroll 8
    for (std::size_t r = 0; r < MR; ++r) acc[r][v] = b;
  }
  for (std::size_t s = 0; s < segs; ++s) {
    const float* a[MR];
#pragma GCC unroll 8
    for (std::size_t r = 0; r < MR; ++r) a[r] = rows[r] + seg[s].offset;
    for (std::size_t k = 0; k < seg[s].rows; ++k, w += kTileCols) {
      __m256 wv[NV];
#pragma GCC unroll 8
      for (std::size_t v = 0; v < NV; ++v) wv[v] = _mm256_loadu_ps(w + v * kVector);
#pragma GCC unroll 8
      for (std::size_t r = 0; r < MR; ++r) {
        const __m256 x = _mm256_broadcast_ss(a[r] + k);
#pragma GCC unroll 8
        for (std::size_t v = 0; v < NV; ++v) acc[r][v] = _mm256_fmadd_ps(x, wv[v], acc[r][v]);
      }
    }
  }
#pragma GCC unroll 8
  for (std::size_t v = 0; v < NV; ++v) {
    const __m256i m = lane_mask(cols - std::min(cols, v * kVector));
#pragma GCC unroll 8
    for (std::size_t r = 0; r < MR; ++r) {
      float* o = out + r * out_step + v * kVector;
      if constexpr (Partial)
        _mm256_maskstore_ps(o, m, acc[r][v]);
      else
        _mm256_storeu_ps(o, acc[r][v]);
    }
  }
}

// gk[r, c] += sum over `lines` lines l and `positions` positions x of
// in[l * in_line + x * in_pos + r] * gy[l * gy_line + x * gy_pos + c] for MR kernel rows r and
// NV * 8 channels c (the first `cols` read and written when Partial).
template <std::size_t MR, std::size_t NV, bool Partial>
__attribute__((target("avx2,fma"))) void kernel_grad_tile(const float* in, std::size_t in_pos,
                                                          std::size_t in_line, const float* gy,
                                                          std::size_t gy_pos, std::size_t gy_line,
                                                          std::size_t lines, std::size_t positions,
                                                          float* gk, std::size_t gk_step,
                                                          std::size_t cols) {
  __m256 acc[MR][NV];
  __m256i mask[NV];
#pragma GCC unroll 8
  for (std::size_t v = 0; v < NV; ++v) {
    mask[v] = lane_mask(cols - std::min(cols, v * kVector));
#pragma GCC unroll 8
    for (std::size_t r = 0; r < MR; ++r) acc[r][v] = _mm256_setzero_ps();
  }
  for (std::size_t l = 0; l < lines; ++l) {
    const float* a = in + l * in_line;
    const float* d = gy + l * gy_line;
    for (std::size_t x = 0; x < positions; ++x, a += in_pos, d += gy_pos) {
      __m256 dv[NV];
#pragma GCC unroll 8
      for (std::size_t v = 0; v < NV; ++v)
        dv[v] = Partial ? _mm256_maskload_ps(d + v * kVector, mask[v])
                        : _mm256_loadu_ps(d + v * kVector);
#pragma GCC unroll 8
      for (std::size_t r = 0; r < MR; ++r) {
        const __m256 xv = _mm256_broadcast_ss(a + r);
#pragma GCC unroll 8
        for (std::size_t v = 0; v < NV; ++v) acc[r][v] = _mm256_fmadd_ps(xv, dv[v], acc[r][v]);
      }
    }
  }
#pragma GCC unroll 8
  for (std::size_t r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (std::size_t v = 0; v < NV; ++v) {
      float* o = gk + r * gk_step + v * kVector;
      if constexpr (Partial)
        _mm256_maskstore_ps(o, mask[v], _mm256_add_ps(_mm256_maskload_ps(o, mask[v]), acc[r][v]));
      else
        _mm256_storeu_ps(o, _mm256_add_ps(_mm256_loadu_ps(o), acc[r][v]));
    }
}

// Tile tables indexed [rows - 1][variant]: variant = (vectors - 1) * 2 + partial.
using ForwardTile = void (*)(const float* const*, const Segment*, std::size_t, const float*,
                             const float*, float*, std::size_t, std::size_t);
using KernelGradTile = void (*)(const float*, std::size_t, std::size_t, const float*, std::size_t,
                                std::size_t, std::size_t, std::size_t, float*, std::size_t,
                                std::size_t);

template <std::size_t MR>
constexpr std::array<ForwardTile, 4> forward_variants() {
  return {&forward_tile<MR, 1, false>, &forward_tile<MR, 1, true>, &forward_tile<MR, 2, false>,
          &forward_tile<MR, 2, true>};
}
template <std::size_t MR>
constexpr std::array<KernelGradTile, 4> kernel_grad_variants() {
  return {&kernel_grad_tile<MR, 1, false>, &kernel_grad_tile<MR, 1, true>,
          &kernel_grad_tile<MR, 2, false>, &kernel_grad_tile<MR, 2, true>};
}
constexpr std::array<std::array<ForwardTile, 4>, kTileRows> kForwardTiles{
    forward_variants<1>(), forward_variants<2>(), forward_variants<3>(),
    forward_variants<4>(), forward_variants<5>(), forward_variants<6>()};
constexpr std::array<std::array<KernelGradTile, 4>, kTileRows> kKernelGradTiles{
    kernel_grad_variants<1>(), kernel_grad_variants<2>(), kernel_grad_variants<3>(),
    kernel_grad_variants<4>(), kernel_grad_variants<5>(), kernel_grad_variants<6>()};

std::size_t variant(std::size_t cols) {
  const std::size_t vectors = cols > kVector ? 2 : 1;
  return (vectors - 1) * 2 + (cols != vectors * kVector ? 1 : 0);
}

// n items as ceil(n / kTileRows) near-equal tiles (a 32-wide row as 6,6,5,5,5,5 rather than
// 6,6,6,6,6,2): tile i is [begin(i), begin(i + 1)).
struct Tiles {
  std::size_t n, count;
  explicit Tiles(std::size_t items) : n(items), count((items + kTileRows - 1) / kTileRows) {}
  std::size_t begin(std::size_t i) const { return i * n / count; }
};

// The kernel as 16-wide column blocks `[block][taps * in][16]` (zero columns past the last
// output channel), then the bias as `[block][16]` (zeros without one).
void pack_kernel(const ConvGeometry& g, const float* kernel, const float* bias, float* packed) {
  const std::size_t K = g.taps() * g.image_channels, Co = g.grid_channels;
  const std::size_t blocks = (Co + kTileCols - 1) / kTileCols;
  for (std::size_t b = 0; b < blocks; ++b)
    for (std::size_t k = 0; k < K; ++k)
      for (std::size_t j = 0; j < kTileCols; ++j) {
        const std::size_t co = b * kTileCols + j;
        packed[(b * K + k) * kTileCols + j] = co < Co ? kernel[k * Co + co] : 0.f;
      }
  float* packed_bias = packed + blocks * K * kTileCols;
  for (std::size_t co = 0; co < blocks * kTileCols; ++co)
    packed_bias[co] = bias && co < Co ? bias[co] : 0.f;
}

}  // namespace

bool direct_conv_applies(const ConvGeometry& g) {
  if (!direct_enabled.load() || g.groups != 1 || g.identity_cols() || !gemm::has_avx2())
    return false;
  for (std::size_t a = 0; a < 3; ++a)
    if (g.stride[a] != 1) return false;
  if (g.image_channels == 0 || g.grid_channels == 0 || g.grid_positions() == 0) return false;
  const Padded p = padded_extent(g);
  return g.dilated_kernel(0) * p.plane_floats() * sizeof(float) <= conv_workspace_limit();
}

void direct_conv_forward(const ConvGeometry& g, const float* image, const float* kernel,
                         float* grid, const float* bias) {
  const Padded p = padded_extent(g);
  const std::size_t Ci = g.image_channels, Co = g.grid_channels, K = g.taps() * Ci;
  const std::size_t blocks = (Co + kTileCols - 1) / kTileCols;
  Workspace packed(blocks * (K + 1) * kTileCols);
  pack_kernel(g, kernel, bias, packed.get());
  const float* packed_bias = packed.get() + blocks * K * kTileCols;
  const std::vector<Segment> segs = segments(g, p);
  const std::size_t G0 = g.grid[0], G1 = g.grid[1], G2 = g.grid[2];
  const std::size_t planes = slab_planes(g, p), halo = g.dilated_kernel(0) - 1;
  Workspace slab((planes + halo) * p.plane_floats());
  for (std::size_t n = 0; n < g.batch; ++n)
    for (std::size_t z0 = 0; z0 < G0; z0 += planes) {
      const std::size_t z1 = std::min(G0, z0 + planes);
      fill_padded(g, p, image, n, z0, z1 + halo, slab.get());
      // Tiles of kTileRows consecutive output positions (across output rows: an 8-wide row
      // would otherwise leave tiles of 4), each computing all output channels.
      const std::size_t positions = (z1 - z0) * G1 * G2;
      const std::size_t tiles = (positions + kTileRows - 1) / kTileRows;
      float* out_slab = grid + (n * G0 + z0) * G1 * G2 * Co;
      parallel_for(tiles, 1, [&](std::size_t begin, std::size_t end) {
        const float* rows[kTileRows];
        // The padded base of output position (line, x) of the slab, stepped along.
        std::size_t x = begin * kTileRows % G2, line = begin * kTileRows / G2;
        for (std::size_t t = begin; t < end; ++t) {
          const std::size_t p0 = t * kTileRows, count = std::min(kTileRows, positions - p0);
          for (std::size_t r = 0; r < count; ++r) {
            rows[r] =
                slab.get() + ((line / G1) * p.extent[1] + line % G1) * p.row_floats() + x * Ci;
            if (++x == G2) {
              x = 0;
              ++line;
            }
          }
          for (std::size_t b = 0; b < blocks; ++b) {
            const std::size_t cols = std::min(kTileCols, Co - b * kTileCols);
            kForwardTiles[count - 1][variant(cols)](
                rows, segs.data(), segs.size(), packed.get() + b * K * kTileCols,
                packed_bias + b * kTileCols, out_slab + p0 * Co + b * kTileCols, Co, cols);
          }
        }
      });
    }
}

void direct_conv_kernel_grad(const ConvGeometry& g, const float* image, const float* grid,
                             float* gkernel, bool accumulate) {
  const Padded p = padded_extent(g);
  const std::size_t Ci = g.image_channels, Co = g.grid_channels, K = g.taps() * Ci;
  const std::size_t blocks = (Co + kTileCols - 1) / kTileCols;
  const std::vector<Segment> segs = segments(g, p);
  const std::size_t G0 = g.grid[0], G1 = g.grid[1], G2 = g.grid[2];
  const std::size_t planes = slab_planes(g, p), halo = g.dilated_kernel(0) - 1;
  // Part 0 sums into gkernel itself, part i > 0 into its own copy; the copies are added in part
  // order at the end.
  const std::size_t parts = std::size_t(get_num_threads());
  Workspace copies(std::max<std::size_t>(1, (parts - 1) * K * Co));
  if (!accumulate) std::memset(gkernel, 0, K * Co * sizeof(float));
  std::memset(copies.get(), 0, (parts - 1) * K * Co * sizeof(float));
  auto sum_of = [&](std::size_t part) {
    return part == 0 ? gkernel : copies.get() + (part - 1) * K * Co;
  };
  Workspace slab((planes + halo) * p.plane_floats());
  for (std::size_t n = 0; n < g.batch; ++n)
    for (std::size_t z0 = 0; z0 < G0; z0 += planes) {
      const std::size_t z1 = std::min(G0, z0 + planes);
      fill_padded(g, p, image, n, z0, z1 + halo, slab.get());
      const std::size_t lines = (z1 - z0) * G1;
      parallel_parts(parts, [&](std::size_t part) {
        float* sum = sum_of(part);
        const std::size_t l1 = lines * (part + 1) / parts;
        // Runs of consecutive output rows within one plane: one tile call each.
        for (std::size_t l = lines * part / parts; l < l1;) {
          const std::size_t zl = l / G1, y0 = l % G1, run = std::min(l1 - l, G1 - y0);
          const float* in = slab.get() + (zl * p.extent[1] + y0) * p.row_floats();
          const float* gy = grid + ((n * G0 + z0 + zl) * G1 + y0) * G2 * Co;
          std::size_t row0 = 0;
          for (const Segment& s : segs) {
            const Tiles k_tiles(s.rows);
            for (std::size_t kt = 0; kt < k_tiles.count; ++kt) {
              const std::size_t k0 = k_tiles.begin(kt), k1 = k_tiles.begin(kt + 1);
              for (std::size_t b = 0; b < blocks; ++b) {
                const std::size_t cols = std::min(kTileCols, Co - b * kTileCols);
                kKernelGradTiles[k1 - k0 - 1][variant(cols)](
                    in + s.offset + k0, Ci, p.row_floats(), gy + b * kTileCols, Co, G2 * Co, run,
                    G2, sum + (row0 + k0) * Co + b * kTileCols, Co, cols);
              }
            }
            row0 += s.rows;
          }
          l += run;
        }
      });
    }
  for (std::size_t part = 1; part < parts; ++part) {
    const float* copy = sum_of(part);
    for (std::size_t i = 0; i < K * Co; ++i) gkernel[i] += copy[i];
  }
}

void set_direct_conv(bool enabled) { direct_enabled = enabled; }
bool direct_conv_enabled() { return direct_enabled.load(); }

}  // namespace tapeflow::kernels
