#include "tapeflow/framework/kernels/winograd_conv.hpp"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <vector>

#include "tapeflow/framework/kernels/workspace.hpp"
#include "tapeflow/framework/runtime/gemm.hpp"
#include "tapeflow/framework/runtime/parallel.hpp"

namespace tapeflow::kernels {

namespace {

std::atomic<bool> winograd_enabled{true};

constexpr std::size_t kPoints = 64;  // the 4x4x4 transformed positions of a tile
constexpr std::size_t kLanes = 8;    // floats per AVX2 register
constexpr std::size_t kProductRows = 6, kProductCols = 16;  // the product's register tile
// V and M of one block of tiles together stay within this (a core's L2 cache, with room for
// U's rows).
constexpr std::size_t kBlockBytes = std::size_t(384) << 10;

// G of F(2, 3): the kernel transform, one axis.
constexpr float kG[4][3] = {{1.f, 0.f, 0.f}, {.5f, .5f, .5f}, {.5f, -.5f, .5f}, {0.f, 0.f, 1.f}};

// U[p][ci][co] = (G g G^T) along depth, height and width, p = (i * 4 + j) * 4 + k, from the
// kernel (kd, kh, kw, Ci, Co). Each step runs over the Ci * Co channel pairs of a position.
void transform_kernel(const float* kernel, std::size_t Ci, std::size_t Co, float* U) {
  const std::size_t cc = Ci * Co;
  std::vector<float> depth(4 * 9 * cc, 0.f), height(16 * 3 * cc, 0.f);
  auto axpy = [cc](float a, const float* x, float* y) {
    if (a != 0.f)
      for (std::size_t e = 0; e < cc; ++e) y[e] += a * x[e];
  };
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t hw = 0; hw < 9; ++hw)
      for (std::size_t a = 0; a < 3; ++a)
        axpy(kG[i][a], kernel + (a * 9 + hw) * cc, depth.data() + (i * 9 + hw) * cc);
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 4; ++j)
      for (std::size_t w = 0; w < 3; ++w)
        for (std::size_t b = 0; b < 3; ++b)
          axpy(kG[j][b], depth.data() + (i * 9 + b * 3 + w) * cc,
               height.data() + ((i * 4 + j) * 3 + w) * cc);
  std::fill(U, U + kPoints * cc, 0.f);
  for (std::size_t ij = 0; ij < 16; ++ij)
    for (std::size_t k = 0; k < 4; ++k)
      for (std::size_t c = 0; c < 3; ++c)
        axpy(kG[k][c], height.data() + (ij * 3 + c) * cc, U + (ij * 4 + k) * cc);
}

// Where a tile of the output lies: its sample and the first input position of its 4x4x4
// patch per axis (negative or past the image inside the padding).
struct OutputTile {
  std::size_t n;
  long at[3];
  std::size_t out[3];  // its first output position
};

OutputTile tile_at(const ConvGeometry& g, const std::size_t tiles[3], std::size_t t) {
  OutputTile tile{};
  for (std::size_t a = 3; a-- > 0;) {
    const std::size_t i = t % tiles[a];
    t /= tiles[a];
    tile.out[a] = 2 * i;
    tile.at[a] = long(2 * i) - g.pad_before[a];
  }
  tile.n = t;
  return tile;
}

// B^T of F(2, 3) on four values of one axis, in place.
__attribute__((target("avx2,fma"))) inline void input_1d(__m256& d0, __m256& d1, __m256& d2,
                                                         __m256& d3) {
  const __m256 t0 = _mm256_sub_ps(d0, d2), t1 = _mm256_add_ps(d1, d2), t2 = _mm256_sub_ps(d2, d1),
               t3 = _mm256_sub_ps(d1, d3);
  d0 = t0, d1 = t1, d2 = t2, d3 = t3;
}

// V[p][row][ci] = (B^T d B) of the tile's input patch, for every input channel.
__attribute__((target("avx2,fma"))) void transform_input(const ConvGeometry& g, const float* image,
                                                         const OutputTile& tile, float* V,
                                                         std::size_t row, std::size_t block) {
  const std::size_t Ci = g.image_channels;
  const float* in[kPoints];  // each patch position's channels, null outside the image
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 4; ++j)
      for (std::size_t k = 0; k < 4; ++k) {
        const long z = tile.at[0] + long(i), y = tile.at[1] + long(j), x = tile.at[2] + long(k);
        const bool inside = z >= 0 && y >= 0 && x >= 0 && z < long(g.image[0]) &&
                            y < long(g.image[1]) && x < long(g.image[2]);
        in[(i * 4 + j) * 4 + k] =
            inside
                ? image + (((tile.n * g.image[0] + std::size_t(z)) * g.image[1] + std::size_t(y)) *
                               g.image[2] +
                           std::size_t(x)) *
                              Ci
                : nullptr;
      }
  for (std::size_t c = 0; c < Ci; c += kLanes) {
    __m256 d[kPoints];
    for (std::size_t p = 0; p < kPoints; ++p)
      d[p] = in[p] ? _mm256_loadu_ps(in[p] + c) : _mm256_setzero_ps();
    for (std::size_t ij = 0; ij < 16; ++ij)  // along width
      input_1d(d[ij * 4], d[ij * 4 + 1], d[ij * 4 + 2], d[ij * 4 + 3]);
    for (std::size_t i = 0; i < 4; ++i)  // along height
      for (std::size_t k = 0; k < 4; ++k)
        input_1d(d[i * 16 + k], d[i * 16 + 4 + k], d[i * 16 + 8 + k], d[i * 16 + 12 + k]);
    for (std::size_t jk = 0; jk < 16; ++jk)  // along depth
      input_1d(d[jk], d[16 + jk], d[32 + jk], d[48 + jk]);
    for (std::size_t p = 0; p < kPoints; ++p)
      _mm256_storeu_ps(V + (p * block + row) * Ci + c, d[p]);
  }
}

// M[p] = V[p] U[p] for one position: rows [0, block) (a multiple of kProductRows) by Co (a
// multiple of kProductCols), in 6 x 16 register tiles over Ci.
__attribute__((target("avx2,fma"))) void multiply_point(const float* Vp, const float* Up, float* Mp,
                                                        std::size_t block, std::size_t Ci,
                                                        std::size_t Co) {
  for (std::size_t r0 = 0; r0 < block; r0 += kProductRows)
    for (std::size_t c0 = 0; c0 < Co; c0 += kProductCols) {
      __m256 acc[kProductRows][2];
#pragma GCC unroll 6
      for (std::size_t r = 0; r < kProductRows; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
      const float* a = Vp + r0 * Ci;
      const float* b = Up + c0;
      for (std::size_t k = 0; k < Ci; ++k) {
        const __m256 b0 = _mm256_loadu_ps(b + k * Co), b1 = _mm256_loadu_ps(b + k * Co + kLanes);
#pragma GCC unroll 6
        for (std::size_t r = 0; r < kProductRows; ++r) {
          const __m256 x = _mm256_broadcast_ss(a + r * Ci + k);
          acc[r][0] = _mm256_fmadd_ps(x, b0, acc[r][0]);
          acc[r][1] = _mm256_fmadd_ps(x, b1, acc[r][1]);
        }
      }
#pragma GCC unroll 6
      for (std::size_t r = 0; r < kProductRows; ++r) {
        float* o = Mp + (r0 + r) * Co + c0;
        _mm256_storeu_ps(o, acc[r][0]);
        _mm256_storeu_ps(o + kLanes, acc[r][1]);
      }
    }
}

// A^T of F(2, 3) on four values of one axis: two outputs.
__attribute__((target("avx2,fma"))) inline void output_1d(const __m256& m0, const __m256& m1,
                                                          const __m256& m2, const __m256& m3,
                                                          __m256& y0, __m256& y1) {
  y0 = _mm256_add_ps(_mm256_add_ps(m0, m1), m2);
  y1 = _mm256_sub_ps(_mm256_sub_ps(m1, m2), m3);
}

// The tile's 2x2x2 outputs = A^T M A (+ bias), those inside the grid written.
__attribute__((target("avx2,fma"))) void transform_output(const ConvGeometry& g, const float* M,
                                                          std::size_t row, std::size_t block,
                                                          const OutputTile& tile, const float* bias,
                                                          float* grid) {
  const std::size_t Co = g.grid_channels;
  float* out[8];  // each output position's channels, null outside the grid
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 2; ++j)
      for (std::size_t k = 0; k < 2; ++k) {
        const std::size_t z = tile.out[0] + i, y = tile.out[1] + j, x = tile.out[2] + k;
        const bool inside = z < g.grid[0] && y < g.grid[1] && x < g.grid[2];
        out[(i * 2 + j) * 2 + k] =
            inside ? grid + (((tile.n * g.grid[0] + z) * g.grid[1] + y) * g.grid[2] + x) * Co
                   : nullptr;
      }
  for (std::size_t c = 0; c < Co; c += kLanes) {
    __m256 m[kPoints];
    for (std::size_t p = 0; p < kPoints; ++p)
      m[p] = _mm256_loadu_ps(M + (p * block + row) * Co + c);
    __m256 w[32];  // after width: (i, j, x) with x in {0, 1}
    for (std::size_t ij = 0; ij < 16; ++ij)
      output_1d(m[ij * 4], m[ij * 4 + 1], m[ij * 4 + 2], m[ij * 4 + 3], w[ij * 2], w[ij * 2 + 1]);
    __m256 h[16];  // after height: (i, y, x)
    for (std::size_t i = 0; i < 4; ++i)
      for (std::size_t x = 0; x < 2; ++x)
        output_1d(w[i * 8 + x], w[i * 8 + 2 + x], w[i * 8 + 4 + x], w[i * 8 + 6 + x], h[i * 4 + x],
                  h[i * 4 + 2 + x]);
    __m256 y[8];  // after depth: (z, y, x)
    for (std::size_t yx = 0; yx < 4; ++yx)
      output_1d(h[yx], h[4 + yx], h[8 + yx], h[12 + yx], y[yx], y[4 + yx]);
    const __m256 b = bias ? _mm256_loadu_ps(bias + c) : _mm256_setzero_ps();
    for (std::size_t q = 0; q < 8; ++q)
      if (out[q]) _mm256_storeu_ps(out[q] + c, _mm256_add_ps(y[q], b));
  }
}

}  // namespace

bool winograd_conv_applies(const ConvGeometry& g) {
  if (!winograd_enabled.load() || g.rank != 3 || g.groups != 1 || !gemm::has_avx2()) return false;
  for (std::size_t a = 0; a < 3; ++a)
    if (g.kernel[a] != 3 || g.stride[a] != 1 || g.dilation[a] != 1) return false;
  const std::size_t Ci = g.image_channels, Co = g.grid_channels;
  if (Ci == 0 || Co == 0 || Ci % kLanes != 0 || Co % kProductCols != 0) return false;
  if (g.grid_positions() == 0) return false;
  return kPoints * Ci * Co * sizeof(float) <= conv_workspace_limit();
}

void winograd_conv_forward(const ConvGeometry& g, const float* image, const float* kernel,
                           float* grid, const float* bias) {
  const std::size_t Ci = g.image_channels, Co = g.grid_channels;
  Workspace U(kPoints * Ci * Co);
  transform_kernel(kernel, Ci, Co, U.get());
  std::size_t tiles[3];
  for (std::size_t a = 0; a < 3; ++a) tiles[a] = (g.grid[a] + 1) / 2;
  const std::size_t T = g.batch * tiles[0] * tiles[1] * tiles[2];
  // Tiles per block: a multiple of the register tile's rows, V and M within kBlockBytes.
  const std::size_t fit = kBlockBytes / (kPoints * (Ci + Co) * sizeof(float));
  const std::size_t block =
      std::max(kProductRows, std::min(fit, T + kProductRows - 1) / kProductRows * kProductRows);
  const std::size_t blocks = (T + block - 1) / block;
  parallel_for(blocks, 1, [&](std::size_t b0, std::size_t b1) {
    Workspace V(kPoints * block * Ci), M(kPoints * block * Co);
    for (std::size_t b = b0; b < b1; ++b) {
      const std::size_t t0 = b * block, count = std::min(block, T - t0);
      for (std::size_t r = 0; r < count; ++r)
        transform_input(g, image, tile_at(g, tiles, t0 + r), V.get(), r, block);
      // Rows past the last tile: zeros, whose products are never written out.
      for (std::size_t p = 0; p < kPoints; ++p)
        std::fill(V.get() + (p * block + count) * Ci, V.get() + (p + 1) * block * Ci, 0.f);
      for (std::size_t p = 0; p < kPoints; ++p)
        multiply_point(V.get() + p * block * Ci, U.get() + p * Ci * Co, M.get() + p * block * Co,
                       block, Ci, Co);
      for (std::size_t r = 0; r < count; ++r)
        transform_output(g, M.get(), r, block, tile_at(g, tiles, t0 + r), bias, grid);
    }
  });
}

void set_winograd_conv(bool enabled) { winograd_enabled = enabled; }
bool winograd_conv_enabled() { return winograd_enabled.load(); }

}  // namespace tapeflow::kernels
