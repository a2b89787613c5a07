#include "tapeflow/framework/kernels/conv_kernels.hpp"

#include <algorithm>
#include <cstring>
#include <optional>
#include <sstream>

#include "tapeflow/framework/core/tensor.hpp"
#include "tapeflow/framework/kernels/direct_conv.hpp"
#include "tapeflow/framework/kernels/winograd_conv.hpp"
#include "tapeflow/framework/runtime/gemm.hpp"
#include "tapeflow/framework/runtime/parallel.hpp"

namespace tapeflow::kernels {

namespace {

// Grid positions per slab: as many as fit the budget, at least one.
std::size_t slab_rows(const ConvGeometry& g) {
  std::size_t row_bytes = std::max<std::size_t>(1, g.col_width() * sizeof(float));
  std::size_t rows = std::max<std::size_t>(1, conv_workspace_limit() / row_bytes);
  return std::min(rows, std::max<std::size_t>(1, g.grid_positions()));
}

// Taps t in [lo, hi) with 0 <= base + t * d < size.
inline void tap_range(long base, long size, long k, long d, long& lo, long& hi) {
  lo = base >= 0 ? 0 : (-base + d - 1) / d;
  long lim = size - base;
  hi = lim <= 0 ? 0 : std::min(k, (lim + d - 1) / d);
  if (hi < lo) hi = lo;
}

// The 3-D loop shared by vol2col and col2vol: for every grid position of [p0, p1) and every
// in-bounds tap row, calls `row(col_row, image_row, lx, hx)` where both point at tap x = 0 of
// that row (image_row at the image position of tap 0, possibly before the row start; only
// taps [lx, hx) are valid) and `skip(col, n)` for the column entries no image position
// backs.
template <class F, class Row, class Skip>
void for_each_row(const ConvGeometry& g, std::size_t p0, std::size_t p1, F* cols_base, Row&& row,
                  Skip&& skip) {
  const long I0 = long(g.image[0]), I1 = long(g.image[1]), I2 = long(g.image[2]);
  const long G0 = long(g.grid[0]), G1 = long(g.grid[1]), G2 = long(g.grid[2]);
  const long K0 = long(g.kernel[0]), K1 = long(g.kernel[1]), K2 = long(g.kernel[2]);
  const long S0 = long(g.stride[0]), S1 = long(g.stride[1]), S2 = long(g.stride[2]);
  const long D0 = long(g.dilation[0]), D1 = long(g.dilation[1]), D2 = long(g.dilation[2]);
  const long P0 = g.pad_before[0], P1 = g.pad_before[1], P2 = g.pad_before[2];
  const std::size_t C = g.image_channels;
  const std::size_t W = g.col_width();
  const std::size_t rowlen = std::size_t(K2) * C;
  const std::size_t plane = std::size_t(K1) * rowlen;

  long x = long(p0 % std::size_t(G2));
  std::size_t rest = p0 / std::size_t(G2);
  long y = long(rest % std::size_t(G1));
  rest /= std::size_t(G1);
  long z = long(rest % std::size_t(G0));
  long n = long(rest / std::size_t(G0));

  for (std::size_t p = p0; p < p1; ++p) {
    F* col = cols_base + (p - p0) * W;
    const long bz = z * S0 - P0, by = y * S1 - P1, bx = x * S2 - P2;
    long lz, hz, ly, hy, lx, hx;
    tap_range(bz, I0, K0, D0, lz, hz);
    tap_range(by, I1, K1, D1, ly, hy);
    tap_range(bx, I2, K2, D2, lx, hx);
    if (lz > 0) skip(col, std::size_t(lz) * plane);
    for (long tz = lz; tz < hz; ++tz) {
      F* cz = col + std::size_t(tz) * plane;
      const long iz = bz + tz * D0;
      if (ly > 0) skip(cz, std::size_t(ly) * rowlen);
      for (long ty = ly; ty < hy; ++ty) {
        const long iy = by + ty * D1;
        // Offset of tap x = 0 (may lie before the row; only [lx, hx) is dereferenced).
        const long img = ((n * I0 + iz) * I1 + iy) * I2 + bx;
        row(cz + std::size_t(ty) * rowlen, img, lx, hx);
      }
      if (hy < K1) skip(cz + std::size_t(hy) * rowlen, std::size_t(K1 - hy) * rowlen);
    }
    if (hz < K0) skip(col + std::size_t(hz) * plane, std::size_t(K0 - hz) * plane);
    if (++x == G2) {
      x = 0;
      if (++y == G1) {
        y = 0;
        if (++z == G0) {
          z = 0;
          ++n;
        }
      }
    }
  }
}

}  // namespace

// ---- geometry ---------------------------------------------------------------------------------

namespace {
template <class T>
void place(std::array<T, 3>& dst, const std::vector<T>& src, std::size_t rank, const char* what,
           const std::string& where) {
  if (src.size() != rank)
    fail(where, std::string(what) + " has " + std::to_string(src.size()) +
                    " values but the convolution has " + std::to_string(rank) + " spatial axes");
  for (std::size_t i = 0; i < rank; ++i) dst[3 - rank + i] = src[i];
}

// What both ways of making a geometry share: the rank, batch, channels and the kernel taps
// (sizes, strides, dilation, leading pads), each checked against the rank.
ConvGeometry with_taps(std::size_t rank, std::size_t batch, std::size_t image_channels,
                       std::size_t grid_channels, const std::vector<std::size_t>& kernel,
                       const std::vector<std::size_t>& stride,
                       const std::vector<std::size_t>& dilation,
                       const std::vector<long>& pad_before, const std::string& where) {
  if (rank < 1 || rank > 3)
    fail_shape(where, "expected 1 to 3 spatial axes, got " + std::to_string(rank));
  ConvGeometry g;
  g.rank = rank;
  g.batch = batch;
  g.image_channels = image_channels;
  g.grid_channels = grid_channels;
  place(g.kernel, kernel, rank, "kernel size", where);
  place(g.stride, stride, rank, "strides", where);
  place(g.dilation, dilation, rank, "dilation", where);
  place(g.pad_before, pad_before, rank, "pad_before", where);
  return g;
}
}  // namespace

ConvGeometry ConvGeometry::forward(std::size_t rank, std::size_t batch,
                                   const std::vector<std::size_t>& image,
                                   std::size_t image_channels, std::size_t grid_channels,
                                   const std::vector<std::size_t>& kernel,
                                   const std::vector<std::size_t>& stride,
                                   const std::vector<std::size_t>& dilation,
                                   const std::vector<long>& pad_before,
                                   const std::vector<long>& pad_after, const std::string& where) {
  ConvGeometry g = with_taps(rank, batch, image_channels, grid_channels, kernel, stride, dilation,
                             pad_before, where);
  place(g.image, image, rank, "image size", where);
  std::array<long, 3> after{0, 0, 0};
  place(after, pad_after, rank, "pad_after", where);
  g.validate(where);
  for (std::size_t a = 3 - rank; a < 3; ++a) {
    long span = long(g.image[a]) + g.pad_before[a] + after[a] - long(g.dilated_kernel(a));
    if (span < 0)
      fail_shape(where, "spatial axis " + std::to_string(a - (3 - rank)) + ": the padded input (" +
                            std::to_string(g.image[a]) + " + " + std::to_string(g.pad_before[a]) +
                            " + " + std::to_string(after[a]) +
                            ") is smaller than the dilated kernel (" +
                            std::to_string(g.dilated_kernel(a)) + ")");
    g.grid[a] = std::size_t(span) / g.stride[a] + 1;
  }
  return g;
}

ConvGeometry ConvGeometry::explicit_sizes(
    std::size_t rank, std::size_t batch, const std::vector<std::size_t>& image,
    std::size_t image_channels, const std::vector<std::size_t>& grid, std::size_t grid_channels,
    const std::vector<std::size_t>& kernel, const std::vector<std::size_t>& stride,
    const std::vector<std::size_t>& dilation, const std::vector<long>& pad_before,
    const std::string& where) {
  ConvGeometry g = with_taps(rank, batch, image_channels, grid_channels, kernel, stride, dilation,
                             pad_before, where);
  place(g.image, image, rank, "output size", where);
  place(g.grid, grid, rank, "input size", where);
  g.validate(where);
  return g;
}

long ConvGeometry::pad_after(std::size_t axis) const {
  return (long(grid[axis]) - 1) * long(stride[axis]) + long(dilated_kernel(axis)) -
         pad_before[axis] - long(image[axis]);
}

bool ConvGeometry::identity_cols() const {
  for (std::size_t a = 0; a < 3; ++a)
    if (kernel[a] != 1 || stride[a] != 1 || pad_before[a] != 0 || image[a] != grid[a]) return false;
  return true;
}

void ConvGeometry::validate(const std::string& where) const {
  if (rank < 1 || rank > 3)
    fail_shape(where, "expected 1 to 3 spatial axes, got " + std::to_string(rank));
  auto positive = [&](const std::array<std::size_t, 3>& v, const char* what) {
    for (std::size_t a = 0; a < 3; ++a)
      if (v[a] == 0)
        fail(where, std::string(what) + " must be positive on every axis, got " + shape_str(v) +
                        " (" + str() + ")");
  };
  positive(kernel, "kernel size");
  positive(stride, "strides");
  positive(dilation, "dilation");
  positive(image, "image size");
  positive(grid, "grid size");
}

ConvGeometry ConvGeometry::with_groups(std::size_t n, const std::string& where) const {
  if (n < 1 || image_channels % n != 0 || grid_channels % n != 0)
    fail(where, "groups " + std::to_string(n) + " must be positive and divide both the input (" +
                    std::to_string(image_channels) + ") and the output (" +
                    std::to_string(grid_channels) + ") channels");
  ConvGeometry g = *this;
  g.groups = n;
  return g;
}

std::string ConvGeometry::str() const {
  std::ostringstream os;
  auto tail = [&](const auto& v) {
    std::vector<long> out;
    for (std::size_t a = 3 - std::min<std::size_t>(rank, 3); a < 3; ++a) out.push_back(long(v[a]));
    return shape_str(out);
  };
  os << "rank=" << rank << " batch=" << batch << " image=" << tail(image) << "x" << image_channels
     << " grid=" << tail(grid) << "x" << grid_channels << " kernel=" << tail(kernel)
     << " strides=" << tail(stride) << " dilation=" << tail(dilation)
     << " pad_before=" << tail(pad_before);
  if (groups != 1) os << " groups=" << groups;
  return os.str();
}

// ---- vol2col / col2vol ------------------------------------------------------------------------

namespace {
void vol2col_serial(const ConvGeometry& g, const float* image, std::size_t p0, std::size_t p1,
                    float* cols) {
  const std::size_t C = g.image_channels;
  const long D2 = long(g.dilation[2]);
  const long K2 = long(g.kernel[2]);
  for_each_row(
      g, p0, p1, cols,
      [&](float* col, long img, long lx, long hx) {
        if (lx > 0) std::memset(col, 0, std::size_t(lx) * C * sizeof(float));
        if (D2 == 1) {
          // Unit dilation: the whole tap row is one contiguous stretch of the image row.
          if (hx > lx)
            std::memcpy(col + std::size_t(lx) * C, image + std::size_t(img + lx) * C,
                        std::size_t(hx - lx) * C * sizeof(float));
        } else {
          for (long tx = lx; tx < hx; ++tx)
            std::memcpy(col + std::size_t(tx) * C, image + std::size_t(img + tx * D2) * C,
                        C * sizeof(float));
        }
        if (hx < K2)
          std::memset(col + std::size_t(hx) * C, 0, std::size_t(K2 - hx) * C * sizeof(float));
      },
      [](float* col, std::size_t n) { std::memset(col, 0, n * sizeof(float)); });
}

// Rows per parallel chunk: enough work (~64 KB of columns) to pay for a wake-up.
std::size_t row_grain(const ConvGeometry& g) {
  return std::max<std::size_t>(1,
                               (std::size_t(16) << 10) / std::max<std::size_t>(1, g.col_width()));
}
}  // namespace

void vol2col(const ConvGeometry& g, const float* image, std::size_t p0, std::size_t p1,
             float* cols) {
  if (p1 <= p0) return;
  const std::size_t W = g.col_width();
  parallel_for(p1 - p0, row_grain(g), [&](std::size_t a, std::size_t b) {
    vol2col_serial(g, image, p0 + a, p0 + b, cols + a * W);
  });
}

namespace {
// kernel == stride, no dilation, no padding and no uncovered tail: every image position gets
// exactly one column entry, so col2vol is a permutation (copy, no zeroing, no adds).
bool tiles_exactly(const ConvGeometry& g) {
  for (std::size_t a = 0; a < 3; ++a)
    if (g.kernel[a] != g.stride[a] || g.dilation[a] != 1 || g.pad_before[a] != 0 ||
        g.image[a] != g.grid[a] * g.stride[a])
      return false;
  return true;
}

void col2vol_copy(const ConvGeometry& g, const float* cols, std::size_t p0, std::size_t p1,
                  float* image) {
  const std::size_t C = g.image_channels;
  for_each_row(
      g, p0, p1, cols,
      [&](const float* col, long img, long lx, long hx) {
        std::memcpy(image + std::size_t(img + lx) * C, col + std::size_t(lx) * C,
                    std::size_t(hx - lx) * C * sizeof(float));
      },
      [](const float*, std::size_t) {});
}
}  // namespace

namespace {
// For one axis: for each image coordinate i, the (tap, grid coordinate) pairs that read it,
// `i = grid * stride + tap * dilation - pad_before`, in increasing tap order.
struct AxisTaps {
  std::vector<std::size_t> begin;  // image coordinate i -> [begin[i], begin[i + 1]) in pairs
  std::vector<std::pair<long, long>> pairs;
  // Built from the (grid, tap) pairs (a counting sort by image coordinate): O(G * K + I), the
  // size of the answer, not O(I * K).
  AxisTaps(const ConvGeometry& g, std::size_t a) {
    const long I = long(g.image[a]), G = long(g.grid[a]), K = long(g.kernel[a]);
    const long S = long(g.stride[a]), D = long(g.dilation[a]), P = g.pad_before[a];
    std::vector<std::size_t> count(std::size_t(I) + 1, 0);
    auto for_each_pair = [&](auto&& f) {
      for (long q = 0; q < G; ++q)
        for (long t = 0; t < K; ++t) {
          const long i = q * S + t * D - P;
          if (i >= 0 && i < I) f(i, t, q);
        }
    };
    for_each_pair([&](long i, long, long) { ++count[std::size_t(i) + 1]; });
    for (std::size_t i = 1; i < count.size(); ++i) count[i] += count[i - 1];
    begin = count;
    pairs.resize(count.back());
    // Taps in increasing order for each i: t grows fastest for a fixed q, and for a fixed i a
    // larger t means a smaller q, so fill each bucket from its end while q increases.
    std::vector<std::size_t> fill(begin.begin() + 1, begin.end());
    for_each_pair([&](long i, long t, long q) { pairs[--fill[std::size_t(i)]] = {t, q}; });
  }
};

// Every column entry that reads each image position, for the three axes.
struct ImageTaps {
  AxisTaps z, y, x;
  explicit ImageTaps(const ConvGeometry& g) : z(g, 0), y(g, 1), x(g, 2) {}
};

// The flattened image index of grid position p's tap 0 (`last` = false) or last tap (`last` =
// true), clamped into the image so that it stays a lexicographic bound: once an axis is clamped,
// the axes after it take their extreme value.
std::size_t reach(const ConvGeometry& g, std::size_t p, bool last) {
  std::array<long, 3> q;
  std::size_t rest = p;
  for (int a = 2; a >= 0; --a) {
    q[std::size_t(a)] = long(rest % g.grid[std::size_t(a)]);
    rest /= g.grid[std::size_t(a)];
  }
  const std::size_t n = rest;
  std::array<long, 3> c;
  bool clamped = false;
  for (std::size_t a = 0; a < 3; ++a) {
    const long I = long(g.image[a]);
    if (clamped) {
      c[a] = last ? I - 1 : 0;
      continue;
    }
    long v =
        q[a] * long(g.stride[a]) - g.pad_before[a] + (last ? long(g.dilated_kernel(a)) - 1 : 0);
    if (v < 0) {
      v = 0;
      clamped = !last;  // below the image: a lower bound continues with 0s, an upper one with 0
    } else if (v > I - 1) {
      v = I - 1;
      clamped = last;
    }
    c[a] = v;
  }
  return ((n * g.image[0] + std::size_t(c[0])) * g.image[1] + std::size_t(c[1])) * g.image[2] +
         std::size_t(c[2]);
}

struct GatherCtx {
  const AxisTaps& az;
  const AxisTaps& ay;
  const AxisTaps& ax;
  const float* cols;
  float* image;
  std::size_t p0, p1, e_first, C, W, G1, G2, I0, I1, I2, K1, K2, grid_plane;
  bool partial;
};

// The gather of image positions [e_first + a, e_first + b). Compiled for AVX2 as well (picked
// at load time where the processor has it): the inner adds are short channel rows.
__attribute__((target_clones("avx2", "default"))) void gather_range(const GatherCtx& c,
                                                                    std::size_t a, std::size_t b) {
  const auto& [az, ay, ax, cols, image, p0, p1, e_first, C, W, G1, G2, I0, I1, I2, K1, K2,
               grid_plane, partial] = c;
  std::size_t e = e_first + a;
  std::size_t ix = e % I2, line = e / I2;
  std::size_t iy = line % I1, iz = (line / I1) % I0, n = line / (I0 * I1);
  float* out = image + e * C;
  for (; e < e_first + b; ++e, out += C) {
    const std::size_t grid_n = n * grid_plane;
    for (std::size_t jz = az.begin[iz]; jz < az.begin[iz + 1]; ++jz) {
      const auto [tz, gz] = az.pairs[jz];
      for (std::size_t jy = ay.begin[iy]; jy < ay.begin[iy + 1]; ++jy) {
        const auto [ty, gy] = ay.pairs[jy];
        const std::size_t row_base = grid_n + (std::size_t(gz) * G1 + std::size_t(gy)) * G2;
        const std::size_t tap_base = (std::size_t(tz) * K1 + std::size_t(ty)) * K2;
        for (std::size_t jx = ax.begin[ix]; jx < ax.begin[ix + 1]; ++jx) {
          const auto [tx, gx] = ax.pairs[jx];
          const std::size_t p = row_base + std::size_t(gx);
          if (partial && (p < p0 || p >= p1)) continue;
          const float* __restrict src = cols + (p - p0) * W + (tap_base + std::size_t(tx)) * C;
          float* __restrict dst = out;
          for (std::size_t i = 0; i < C; ++i) dst[i] += src[i];
        }
      }
    }
    if (++ix == I2) {
      ix = 0;
      if (++iy == I1) {
        iy = 0;
        if (++iz == I0) {
          iz = 0;
          ++n;
        }
      }
    }
  }
}

void col2vol_gather(const ConvGeometry& g, const ImageTaps& taps, const float* cols, std::size_t p0,
                    std::size_t p1, float* image) {
  if (p1 <= p0) return;
  // A gather over the image, not a scatter over the columns: each image position sums the
  // column entries that read it, so threads own disjoint image ranges (no races, and a sum
  // order that does not depend on the thread count). Only grid positions in [p0, p1) count,
  // and only the image positions between the slab's first and last reach are visited.
  const std::size_t C = g.image_channels, W = g.col_width();
  const std::size_t G0 = g.grid[0], G1 = g.grid[1], G2 = g.grid[2];
  const std::size_t I0 = g.image[0], I1 = g.image[1], I2 = g.image[2];
  const std::size_t K1 = g.kernel[1], K2 = g.kernel[2];
  const std::size_t grid_plane = G0 * G1 * G2;
  const std::size_t e_first = reach(g, p0, false), e_last = reach(g, p1 - 1, true);
  if (e_last < e_first) return;
  const auto& az = taps.z;
  const auto& ay = taps.y;
  const auto& ax = taps.x;
  // A slab holding every grid position (the common case) needs no range test per tap.
  const bool partial = !(p0 == 0 && p1 == g.grid_positions());
  const GatherCtx ctx{az, ay, ax, cols, image, p0, p1, e_first,    C,      W,
                      G1, G2, I0, I1,   I2,    K1, K2, grid_plane, partial};
  parallel_for(e_last - e_first + 1, std::max<std::size_t>(1, 2048 / std::max<std::size_t>(1, C)),
               [&](std::size_t a, std::size_t b) { gather_range(ctx, a, b); });
}
}  // namespace

void col2vol(const ConvGeometry& g, const float* cols, std::size_t p0, std::size_t p1,
             float* image) {
  col2vol_gather(g, ImageTaps(g), cols, p0, p1, image);
}

// ---- convolutions -----------------------------------------------------------------------------

namespace {
// out[p, :] += bias over `positions` rows of C channels, split over threads (nothing when
// `bias` is null).
void add_bias_rows(float* out, std::size_t positions, std::size_t C, const float* bias) {
  if (!bias || positions == 0 || C == 0) return;
  parallel_for(positions, std::max<std::size_t>(1, 16384 / C), [&](std::size_t a, std::size_t b) {
    for (std::size_t p = a; p < b; ++p)
      for (std::size_t i = 0; i < C; ++i) out[p * C + i] += bias[i];
  });
}
}  // namespace

namespace {
// ---- grouped convolutions ---------------------------------------------------------------------
// The column buffer of a slab holds one block per group, `[groups][rows][taps * Ci]` (Ci =
// image channels per group), so that each group's GEMM reads a contiguous matrix; the kernel
// `[taps * Ci, grid_channels]` gives group i its columns `[i * Co, (i + 1) * Co)` (ld =
// grid_channels), and the grid its channel block likewise. One pass over the image fills (or,
// transposed, drains) every block: the image side stays a contiguous run of all the channels.
// `slab_rows` counts every group's columns (`col_width()`), so all the blocks of a slab
// together stay within the workspace budget.

// The geometry of one group (what `for_each_row` lays the columns out by).
ConvGeometry grouped_part(const ConvGeometry& g) {
  ConvGeometry s = g;
  s.image_channels = g.group_image_channels();
  s.grid_channels = g.group_grid_channels();
  s.groups = 1;
  return s;
}

// vol2col of grid positions [p0, p1) into every group's block (`block` floats apart), the rows
// starting at `cols` in block 0.
void grouped_vol2col_serial(const ConvGeometry& g, const ConvGeometry& part, const float* image,
                            std::size_t p0, std::size_t p1, float* cols, std::size_t block) {
  const std::size_t C = g.image_channels, Ci = part.image_channels, G = g.groups;
  const long D2 = long(g.dilation[2]), K2 = long(g.kernel[2]);
  for_each_row(
      part, p0, p1, cols,
      [&](float* col, long img, long lx, long hx) {
        for (std::size_t gi = 0; gi < G; ++gi) {
          float* c = col + gi * block;
          if (lx > 0) std::memset(c, 0, std::size_t(lx) * Ci * sizeof(float));
          if (hx < K2)
            std::memset(c + std::size_t(hx) * Ci, 0, std::size_t(K2 - hx) * Ci * sizeof(float));
        }
        for (long tx = lx; tx < hx; ++tx) {
          const float* src = image + std::size_t(img + tx * D2) * C;
          float* dst = col + std::size_t(tx) * Ci;
          if (Ci == 1) {
            for (std::size_t gi = 0; gi < G; ++gi) dst[gi * block] = src[gi];
          } else {
            for (std::size_t gi = 0; gi < G; ++gi)
              std::memcpy(dst + gi * block, src + gi * Ci, Ci * sizeof(float));
          }
        }
      },
      [&](float* col, std::size_t n) {
        for (std::size_t gi = 0; gi < G; ++gi) std::memset(col + gi * block, 0, n * sizeof(float));
      });
}

void grouped_vol2col(const ConvGeometry& g, const ConvGeometry& part, const float* image,
                     std::size_t p0, std::size_t p1, float* cols, std::size_t block) {
  if (p1 <= p0) return;
  const std::size_t W = part.col_width();
  parallel_for(p1 - p0, row_grain(g), [&](std::size_t a, std::size_t b) {
    grouped_vol2col_serial(g, part, image, p0 + a, p0 + b, cols + a * W, block);
  });
}

// The adjoint: adds every group's column entries into the image positions they were read from.
// Serial: columns of different grid positions overlap in the image.
void grouped_col2vol_add(const ConvGeometry& g, const ConvGeometry& part, const float* cols,
                         std::size_t p0, std::size_t p1, float* image, std::size_t block) {
  const std::size_t C = g.image_channels, Ci = part.image_channels, G = g.groups;
  const long D2 = long(g.dilation[2]);
  for_each_row(
      part, p0, p1, cols,
      [&](const float* col, long img, long lx, long hx) {
        for (long tx = lx; tx < hx; ++tx) {
          float* dst = image + std::size_t(img + tx * D2) * C;
          const float* src = col + std::size_t(tx) * Ci;
          for (std::size_t gi = 0; gi < G; ++gi)
            for (std::size_t j = 0; j < Ci; ++j) dst[gi * Ci + j] += src[gi * block + j];
        }
      },
      [](const float*, std::size_t) {});
}

// One input channel per group (a depthwise convolution): the ungrouped column layout
// `[rows][taps][C]` already holds every group's columns side by side, and output channel
// f = c * M + m reads column c of each tap only. A multiply-add over contiguous rows then
// replaces C GEMMs of width M (each far too thin for BLAS), and the ungrouped vol2col / col2vol
// (parallel, contiguous copies) apply as they are.
bool depthwise_groups(const ConvGeometry& g) {
  return g.groups > 1 && g.group_image_channels() == 1;
}

// out[c * M + m] += col[c] * w[c * M + m] for each of the C channels and M multipliers: one
// tap of a depthwise product (the forward pass: w is the kernel's tap, out a grid row; the
// kernel gradient: w is the upstream gradient's row, out the kernel's tap).
inline void depthwise_multiply_add(float* __restrict out, const float* __restrict col,
                                   const float* __restrict w, std::size_t C, std::size_t M) {
  if (M == 1) {
    for (std::size_t f = 0; f < C; ++f) out[f] += col[f] * w[f];
    return;
  }
  for (std::size_t c = 0; c < C; ++c)
    for (std::size_t m = 0; m < M; ++m) out[c * M + m] += col[c] * w[c * M + m];
}

ConvGeometry ungrouped(const ConvGeometry& g) {
  ConvGeometry f = g;
  f.groups = 1;
  return f;
}

void depthwise_forward(const ConvGeometry& g, const float* image, const float* kernel, float* grid,
                       const float* bias) {
  const ConvGeometry flat = ungrouped(g);
  const std::size_t P = g.grid_positions(), C = g.image_channels, F = g.grid_channels;
  const std::size_t M = F / C, T = g.taps(), W = flat.col_width();
  if (P == 0 || F == 0) return;
  const std::size_t rows = slab_rows(flat);
  Workspace ws(rows * W);
  for (std::size_t p0 = 0; p0 < P; p0 += rows) {
    const std::size_t p1 = std::min(P, p0 + rows);
    vol2col(flat, image, p0, p1, ws.get());
    parallel_for(p1 - p0, std::max<std::size_t>(1, 4096 / W), [&](std::size_t a, std::size_t b) {
      for (std::size_t p = a; p < b; ++p) {
        float* __restrict y = grid + (p0 + p) * F;
        if (bias)
          std::memcpy(y, bias, F * sizeof(float));
        else
          std::memset(y, 0, F * sizeof(float));
        const float* col = ws.get() + p * W;
        for (std::size_t t = 0; t < T; ++t) {
          const float* __restrict ct = col + t * C;
          const float* __restrict kt = kernel + t * F;
          depthwise_multiply_add(y, ct, kt, C, M);
        }
      }
    });
  }
}

void depthwise_transpose(const ConvGeometry& g, const float* grid, const float* kernel,
                         float* image, const float* bias) {
  const ConvGeometry flat = ungrouped(g);
  const std::size_t P = g.grid_positions(), C = g.image_channels, F = g.grid_channels;
  const std::size_t M = F / C, T = g.taps(), W = flat.col_width();
  const std::size_t n = g.image_positions() * C;
  parallel_for(n, std::size_t(1) << 16, [&](std::size_t a, std::size_t b) {
    std::memset(image + a, 0, (b - a) * sizeof(float));
  });
  if (P > 0 && F > 0) {
    const std::size_t rows = slab_rows(flat);
    Workspace ws(rows * W);
    const ImageTaps taps(flat);
    for (std::size_t p0 = 0; p0 < P; p0 += rows) {
      const std::size_t p1 = std::min(P, p0 + rows);
      parallel_for(p1 - p0, std::max<std::size_t>(1, 4096 / W), [&](std::size_t a, std::size_t b) {
        for (std::size_t p = a; p < b; ++p) {
          const float* __restrict gp = grid + (p0 + p) * F;
          float* col = ws.get() + p * W;
          for (std::size_t t = 0; t < T; ++t) {
            float* __restrict ct = col + t * C;
            const float* __restrict kt = kernel + t * F;
            if (M == 1) {
              for (std::size_t c = 0; c < C; ++c) ct[c] = gp[c] * kt[c];
            } else {
              for (std::size_t c = 0; c < C; ++c) {
                float s = 0.f;
                for (std::size_t m = 0; m < M; ++m) s += gp[c * M + m] * kt[c * M + m];
                ct[c] = s;
              }
            }
          }
        }
      });
      col2vol_gather(flat, taps, ws.get(), p0, p1, image);
    }
  }
  add_bias_rows(image, g.image_positions(), C, bias);
}

void depthwise_kernel_grad(const ConvGeometry& g, const float* image, const float* grid,
                           float* gkernel, bool accumulate) {
  const ConvGeometry flat = ungrouped(g);
  const std::size_t P = g.grid_positions(), C = g.image_channels, F = g.grid_channels;
  const std::size_t M = F / C, T = g.taps(), W = flat.col_width();
  if (F == 0) return;
  if (!accumulate) std::memset(gkernel, 0, T * F * sizeof(float));
  if (P == 0) return;
  const std::size_t rows = slab_rows(flat);
  Workspace ws(rows * W);
  for (std::size_t p0 = 0; p0 < P; p0 += rows) {
    const std::size_t p1 = std::min(P, p0 + rows);
    vol2col(flat, image, p0, p1, ws.get());
    // Threads own taps (disjoint kernel rows); each sums its positions in order.
    parallel_for(T, 1, [&](std::size_t a, std::size_t b) {
      for (std::size_t t = a; t < b; ++t) {
        float* __restrict gt = gkernel + t * F;
        for (std::size_t p = 0; p < p1 - p0; ++p) {
          const float* __restrict ct = ws.get() + p * W + t * C;
          const float* __restrict gp = grid + (p0 + p) * F;
          depthwise_multiply_add(gt, ct, gp, C, M);
        }
      }
    });
  }
}

void grouped_conv_forward(const ConvGeometry& g, const float* image, const float* kernel,
                          float* grid, const float* bias) {
  if (depthwise_groups(g)) return depthwise_forward(g, image, kernel, grid, bias);
  const ConvGeometry part = grouped_part(g);
  const std::size_t P = g.grid_positions(), F = g.grid_channels, G = g.groups;
  const std::size_t Ci = part.image_channels, Co = part.grid_channels, W = part.col_width();
  if (P == 0 || F == 0) return;
  if (g.identity_cols()) {
    for (std::size_t gi = 0; gi < G; ++gi)
      gemm::sgemm(false, false, P, Co, Ci, 1.f, image + gi * Ci, g.image_channels, kernel + gi * Co,
                  F, 0.f, grid + gi * Co, F);
    add_bias_rows(grid, P, F, bias);
    return;
  }
  const std::size_t rows = slab_rows(g), block = rows * W;
  Workspace ws(G * block);
  for (std::size_t p0 = 0; p0 < P; p0 += rows) {
    const std::size_t p1 = std::min(P, p0 + rows);
    grouped_vol2col(g, part, image, p0, p1, ws.get(), block);
    for (std::size_t gi = 0; gi < G; ++gi)
      gemm::sgemm(false, false, p1 - p0, Co, W, 1.f, ws.get() + gi * block, W, kernel + gi * Co, F,
                  0.f, grid + p0 * F + gi * Co, F);
    add_bias_rows(grid + p0 * F, p1 - p0, F, bias);
  }
}

void grouped_conv_transpose_forward(const ConvGeometry& g, const float* grid, const float* kernel,
                                    float* image, const float* bias) {
  if (depthwise_groups(g)) return depthwise_transpose(g, grid, kernel, image, bias);
  const ConvGeometry part = grouped_part(g);
  const std::size_t P = g.grid_positions(), F = g.grid_channels, G = g.groups;
  const std::size_t C = g.image_channels, Ci = part.image_channels, Co = part.grid_channels;
  const std::size_t W = part.col_width();
  if (g.identity_cols() && P > 0 && F > 0) {
    for (std::size_t gi = 0; gi < G; ++gi)
      gemm::sgemm(false, true, P, Ci, Co, 1.f, grid + gi * Co, F, kernel + gi * Co, F, 0.f,
                  image + gi * Ci, C);
    add_bias_rows(image, g.image_positions(), C, bias);
    return;
  }
  const std::size_t n = g.image_positions() * C;
  parallel_for(n, std::size_t(1) << 16, [&](std::size_t a, std::size_t b) {
    std::memset(image + a, 0, (b - a) * sizeof(float));
  });
  if (P > 0 && F > 0 && W > 0) {
    const std::size_t rows = slab_rows(g), block = rows * W;
    Workspace ws(G * block);
    for (std::size_t p0 = 0; p0 < P; p0 += rows) {
      const std::size_t p1 = std::min(P, p0 + rows);
      for (std::size_t gi = 0; gi < G; ++gi)
        gemm::sgemm(false, true, p1 - p0, W, Co, 1.f, grid + p0 * F + gi * Co, F, kernel + gi * Co,
                    F, 0.f, ws.get() + gi * block, W);
      grouped_col2vol_add(g, part, ws.get(), p0, p1, image, block);
    }
  }
  add_bias_rows(image, g.image_positions(), C, bias);
}

void grouped_conv_kernel_grad(const ConvGeometry& g, const float* image, const float* grid,
                              float* gkernel, bool accumulate) {
  if (depthwise_groups(g)) return depthwise_kernel_grad(g, image, grid, gkernel, accumulate);
  const ConvGeometry part = grouped_part(g);
  const std::size_t P = g.grid_positions(), F = g.grid_channels, G = g.groups;
  const std::size_t Ci = part.image_channels, Co = part.grid_channels, W = part.col_width();
  if (W == 0 || F == 0) return;
  if (P == 0) {
    if (!accumulate) std::memset(gkernel, 0, W * F * sizeof(float));
    return;
  }
  if (g.identity_cols()) {
    for (std::size_t gi = 0; gi < G; ++gi)
      gemm::sgemm(true, false, Ci, Co, P, 1.f, image + gi * Ci, g.image_channels, grid + gi * Co, F,
                  accumulate ? 1.f : 0.f, gkernel + gi * Co, F);
    return;
  }
  const std::size_t rows = slab_rows(g), block = rows * W;
  Workspace ws(G * block);
  for (std::size_t p0 = 0; p0 < P; p0 += rows) {
    const std::size_t p1 = std::min(P, p0 + rows);
    grouped_vol2col(g, part, image, p0, p1, ws.get(), block);
    const float beta = (p0 == 0 && !accumulate) ? 0.f : 1.f;
    for (std::size_t gi = 0; gi < G; ++gi)
      gemm::sgemm(true, false, W, Co, p1 - p0, 1.f, ws.get() + gi * block, W,
                  grid + p0 * F + gi * Co, F, beta, gkernel + gi * Co, F);
  }
}
}  // namespace

void conv_forward(const ConvGeometry& g, const float* image, const float* kernel, float* grid,
                  const float* bias) {
  if (g.groups > 1) return grouped_conv_forward(g, image, kernel, grid, bias);
  const std::size_t P = g.grid_positions(), W = g.col_width(), Cg = g.grid_channels;
  if (P == 0 || Cg == 0) return;
  if (winograd_conv_applies(g)) return winograd_conv_forward(g, image, kernel, grid, bias);
  if (direct_conv_applies(g)) return direct_conv_forward(g, image, kernel, grid, bias);
  if (g.identity_cols()) {
    gemm::sgemm(false, false, P, Cg, W, 1.f, image, W, kernel, Cg, 0.f, grid, Cg);
    add_bias_rows(grid, P, Cg, bias);
    return;
  }
  const std::size_t rows = slab_rows(g);
  Workspace ws(rows * W);
  for (std::size_t p0 = 0; p0 < P; p0 += rows) {
    const std::size_t p1 = std::min(P, p0 + rows);
    vol2col(g, image, p0, p1, ws.get());
    gemm::sgemm(false, false, p1 - p0, Cg, W, 1.f, ws.get(), W, kernel, Cg, 0.f, grid + p0 * Cg,
                Cg);
    // While the slab's output is still in cache.
    add_bias_rows(grid + p0 * Cg, p1 - p0, Cg, bias);
  }
}

namespace {
// With unit strides a transposed convolution is an ordinary one over its input with the kernel
// flipped (tap t -> K-1-t) and its channel axes swapped, and padding (K-1)*dilation - pad: one
// vol2col copy and a GEMM with a long inner dimension (taps * channels) write the output
// directly, with no scatter or gather over a column buffer.
bool unit_strides(const ConvGeometry& g) {
  return g.stride[0] == 1 && g.stride[1] == 1 && g.stride[2] == 1;
}

void conv_transpose_as_conv(const ConvGeometry& g, const float* grid, const float* kernel,
                            float* image, const float* bias) {
  ConvGeometry f = g;
  std::swap(f.image, f.grid);
  std::swap(f.image_channels, f.grid_channels);
  for (std::size_t a = 0; a < 3; ++a)
    f.pad_before[a] = long(g.dilation[a]) * (long(g.kernel[a]) - 1) - g.pad_before[a];
  // kernel[(t, co), ci] -> flipped[(K-1-t, ci), co]
  const std::size_t T = g.taps(), Co = g.image_channels, Ci = g.grid_channels;
  std::vector<float> flipped(T * Ci * Co);
  for (std::size_t t = 0; t < T; ++t) {
    const float* src = kernel + t * Co * Ci;
    float* dst = flipped.data() + (T - 1 - t) * Ci * Co;
    for (std::size_t co = 0; co < Co; ++co)
      for (std::size_t ci = 0; ci < Ci; ++ci) dst[ci * Co + co] = src[co * Ci + ci];
  }
  conv_forward(f, grid, flipped.data(), image, bias);
}
}  // namespace

namespace {
// Per-thread tile of the fused transposed convolution: small enough to stay in a core's L2
// between the GEMM that writes it and the scatter that reads it.
constexpr std::size_t kTileFloats = std::size_t(128) << 10;  // 512 KiB
constexpr std::size_t kBlockCols = 1024;

// out[i] += src[i] over n floats.
__attribute__((target_clones("avx2", "default"))) void add_rows(float* __restrict out,
                                                                const float* __restrict src,
                                                                std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] += src[i];
}
// out[i] = src[i] + bias[i % C] (no bias: a copy) over n floats; n is a multiple of C.
__attribute__((target_clones("avx2", "default"))) void store_rows(float* __restrict out,
                                                                  const float* __restrict src,
                                                                  const float* __restrict bias,
                                                                  std::size_t n, std::size_t C) {
  if (!bias) {
    std::memcpy(out, src, n * sizeof(float));
    return;
  }
  for (std::size_t r = 0; r < n; r += C)
    for (std::size_t i = 0; i < C; ++i) out[r + i] = src[r + i] + bias[i];
}

void fill_bias(float* out, std::size_t positions, std::size_t C, const float* bias) {
  if (!bias) {
    std::memset(out, 0, positions * C * sizeof(float));
    return;
  }
  for (std::size_t p = 0; p < positions; ++p) std::memcpy(out + p * C, bias, C * sizeof(float));
}

// The transposed convolution of the image planes (n, z) in [plane0, plane1), by one thread:
// for every grid plane that reaches them, GEMMs over a few grid rows at a time into `tile`,
// then a scatter-add of the tile's taps that land in the range into the image (a copy when
// every image position has exactly one source). Each image position is owned by one thread and
// receives its terms in grid order, so the sums do not depend on the thread count.
void conv_transpose_planes(const ConvGeometry& g, const float* grid, const float* kernel,
                           const float* bias, float* image, std::size_t plane0, std::size_t plane1,
                           float* tile, bool exact) {
  const std::size_t Co = g.image_channels, Ci = g.grid_channels;
  const std::size_t I0 = g.image[0], I1 = g.image[1], I2 = g.image[2];
  const std::size_t G0 = g.grid[0], G1 = g.grid[1], G2 = g.grid[2];
  const std::size_t K0 = g.kernel[0], K1 = g.kernel[1], K2 = g.kernel[2];
  const long S0 = long(g.stride[0]), S1 = long(g.stride[1]), S2 = long(g.stride[2]);
  const long D0 = long(g.dilation[0]), D1 = long(g.dilation[1]), D2 = long(g.dilation[2]);
  const long P0 = g.pad_before[0], P1 = g.pad_before[1], P2 = g.pad_before[2];
  const std::size_t plane = I1 * I2 * Co, tap_plane = K1 * K2 * Co;
  // Depth taps per GEMM: about kBlockCols columns, so that a tile holds enough grid rows for
  // the GEMM's packing of the kernel block to pay off.
  const std::size_t block = std::max<std::size_t>(1, std::min(K0, kBlockCols / tap_plane));
  const std::size_t tile_floats = std::max(kTileFloats, block * tap_plane);
  // Sums start from the bias; a copy (exact) writes every position itself, unless there is
  // nothing to copy.
  if (!exact || Ci == 0) fill_bias(image + plane0 * plane, (plane1 - plane0) * I1 * I2, Co, bias);
  if (Ci == 0) return;
  for (std::size_t first = plane0; first < plane1;) {
    const std::size_t n = first / I0;
    const long zlo = long(first % I0);
    const long zhi = long(std::min(plane1 - n * I0, I0));
    first = n * I0 + std::size_t(zhi);
    // Grid planes q with q * S0 - P0 + t * D0 in [zlo, zhi) for some tap t.
    const long lowest = zlo + P0 - (long(K0) - 1) * D0;  // q * S0 >= lowest
    const long q_lo = lowest <= 0 ? 0 : (lowest + S0 - 1) / S0;
    const long q_hi = std::min(long(G0) - 1, (zhi - 1 + P0) / S0);
    for (long q = q_lo; q <= q_hi; ++q) {
      long t_lo, t_hi;
      tap_range(q * S0 - P0 - zlo, zhi - zlo, long(K0), D0, t_lo, t_hi);
      if (t_hi <= t_lo) continue;
      const std::size_t plane_rows = G1 * G2;
      const std::size_t grid_base = (n * G0 + std::size_t(q)) * plane_rows;
      // Depth taps in fixed blocks of `block` (the same GEMMs whatever the split, so the
      // results do not depend on the thread count).
      for (std::size_t b0 = std::size_t(t_lo) / block * block; b0 < std::size_t(t_hi);
           b0 += block) {
        const std::size_t b1 = std::min(K0, b0 + block);
        const std::size_t cols = (b1 - b0) * tap_plane;
        const std::size_t rows_per_tile = std::max<std::size_t>(1, tile_floats / cols);
        const long z_lo = std::max(t_lo, long(b0)), z_hi = std::min(t_hi, long(b1));
        for (std::size_t r0 = 0; r0 < plane_rows; r0 += rows_per_tile) {
          const std::size_t r1 = std::min(plane_rows, r0 + rows_per_tile);
          gemm::sgemm_serial(false, true, r1 - r0, cols, Ci, 1.f, grid + (grid_base + r0) * Ci, Ci,
                             kernel + b0 * tap_plane * Ci, Ci, 0.f, tile, cols);
          for (std::size_t r = r0; r < r1; ++r) {
            const long qy = long(r / G2), qx = long(r % G2);
            long y_lo, y_hi, x_lo, x_hi;
            tap_range(qy * S1 - P1, long(I1), long(K1), D1, y_lo, y_hi);
            tap_range(qx * S2 - P2, long(I2), long(K2), D2, x_lo, x_hi);
            if (x_hi <= x_lo) continue;
            const float* row = tile + (r - r0) * cols;
            for (long tz = z_lo; tz < z_hi; ++tz) {
              const std::size_t z = std::size_t(q * S0 - P0 + tz * D0);
              for (long ty = y_lo; ty < y_hi; ++ty) {
                const std::size_t y = std::size_t(qy * S1 - P1 + ty * D1);
                const float* src = row + ((std::size_t(tz) - b0) * K1 + std::size_t(ty)) * K2 * Co +
                                   std::size_t(x_lo) * Co;
                float* dst = image + ((n * I0 + z) * I1 + y) * I2 * Co +
                             std::size_t(qx * S2 - P2 + x_lo * D2) * Co;
                if (D2 == 1) {
                  const std::size_t len = std::size_t(x_hi - x_lo) * Co;
                  if (exact)
                    store_rows(dst, src, bias, len, Co);
                  else
                    add_rows(dst, src, len);
                } else {
                  for (long tx = x_lo; tx < x_hi; ++tx, src += Co, dst += std::size_t(D2) * Co) {
                    if (exact)
                      store_rows(dst, src, bias, Co, Co);
                    else
                      add_rows(dst, src, Co);
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}
}  // namespace

void conv_transpose_forward(const ConvGeometry& g, const float* grid, const float* kernel,
                            float* image, const float* bias) {
  if (g.groups > 1) return grouped_conv_transpose_forward(g, grid, kernel, image, bias);
  const std::size_t P = g.grid_positions(), W = g.col_width(), Cg = g.grid_channels;
  if (unit_strides(g) && !g.identity_cols() && P > 0 && Cg > 0 && W > 0) {
    conv_transpose_as_conv(g, grid, kernel, image, bias);
    return;
  }
  // Enough image planes to give every thread some: the fused per-thread form (GEMM tiles that
  // stay in cache, scattered straight into the image with the bias; no column buffer pass).
  const std::size_t planes = g.batch * g.image[0];
  const std::size_t threads = std::size_t(get_num_threads());
  if (!g.identity_cols() && W > 0 && planes >= threads) {
    const bool exact = tiles_exactly(g) && P > 0;
    const std::size_t parts = std::min(threads, planes);
    // At least one grid row of one depth tap's columns.
    const std::size_t tile = std::max(kTileFloats, g.kernel[1] * g.kernel[2] * g.image_channels);
    Workspace tiles(parts * tile);
    parallel_parts(parts, [&](std::size_t i) {
      conv_transpose_planes(g, grid, kernel, bias, image, planes * i / parts,
                            planes * (i + 1) / parts, tiles.get() + i * tile, exact);
    });
    return;
  }
  if (g.identity_cols()) {
    if (Cg == 0)
      std::memset(image, 0, g.image_positions() * g.image_channels * sizeof(float));
    else
      gemm::sgemm(false, true, P, W, Cg, 1.f, grid, Cg, kernel, Cg, 0.f, image, W);
    add_bias_rows(image, g.image_positions(), g.image_channels, bias);
    return;
  }
  const bool tiles = tiles_exactly(g) && P > 0;
  if (!tiles) {
    const std::size_t n = g.image_positions() * g.image_channels;
    parallel_for(n, std::size_t(1) << 16, [&](std::size_t a, std::size_t b) {
      std::memset(image + a, 0, (b - a) * sizeof(float));
    });
  }
  if (P == 0 || W == 0) {
    add_bias_rows(image, g.image_positions(), g.image_channels, bias);
    return;
  }
  const std::size_t rows = slab_rows(g);
  Workspace ws(rows * W);
  std::optional<ImageTaps> taps;
  if (!tiles) taps.emplace(g);
  for (std::size_t p0 = 0; p0 < P; p0 += rows) {
    const std::size_t p1 = std::min(P, p0 + rows);
    if (Cg == 0)
      std::memset(ws.get(), 0, (p1 - p0) * W * sizeof(float));
    else
      gemm::sgemm(false, true, p1 - p0, W, Cg, 1.f, grid + p0 * Cg, Cg, kernel, Cg, 0.f, ws.get(),
                  W);
    if (tiles)
      parallel_for(p1 - p0, row_grain(g), [&](std::size_t a, std::size_t b) {
        col2vol_copy(g, ws.get() + a * W, p0 + a, p0 + b, image);
      });
    else
      col2vol_gather(g, *taps, ws.get(), p0, p1, image);
  }
  add_bias_rows(image, g.image_positions(), g.image_channels, bias);
}

void conv_kernel_grad(const ConvGeometry& g, const float* image, const float* grid, float* gkernel,
                      bool accumulate) {
  if (g.groups > 1) return grouped_conv_kernel_grad(g, image, grid, gkernel, accumulate);
  const std::size_t P = g.grid_positions(), W = g.col_width(), Cg = g.grid_channels;
  if (W == 0 || Cg == 0) return;
  if (P == 0) {
    if (!accumulate) std::memset(gkernel, 0, W * Cg * sizeof(float));
    return;
  }
  if (g.identity_cols()) {
    gemm::sgemm(true, false, W, Cg, P, 1.f, image, W, grid, Cg, accumulate ? 1.f : 0.f, gkernel,
                Cg);
    return;
  }
  if (direct_conv_applies(g)) return direct_conv_kernel_grad(g, image, grid, gkernel, accumulate);
  const std::size_t rows = slab_rows(g);
  Workspace ws(rows * W);
  for (std::size_t p0 = 0; p0 < P; p0 += rows) {
    const std::size_t p1 = std::min(P, p0 + rows);
    vol2col(g, image, p0, p1, ws.get());
    const float beta = (p0 == 0 && !accumulate) ? 0.f : 1.f;
    gemm::sgemm(true, false, W, Cg, p1 - p0, 1.f, ws.get(), W, grid + p0 * Cg, Cg, beta, gkernel,
                Cg);
  }
}

void conv_forward_and_kernel_grad(const ConvGeometry& g, const float* image, const float* kernel,
                                  float* grid_out, const float* grid_in, float* gkernel) {
  if (!gkernel) {
    if (grid_out) conv_forward(g, image, kernel, grid_out);
    return;
  }
  // The direct kernels need no column buffer to share.
  if (!grid_out || g.identity_cols() || g.groups > 1 || direct_conv_applies(g)) {
    if (grid_out) conv_forward(g, image, kernel, grid_out);
    conv_kernel_grad(g, image, grid_in, gkernel, false);
    return;
  }
  const std::size_t P = g.grid_positions(), W = g.col_width(), Cg = g.grid_channels;
  if (W == 0 || Cg == 0) return;
  if (P == 0) {
    std::memset(gkernel, 0, W * Cg * sizeof(float));
    return;
  }
  const std::size_t rows = slab_rows(g);
  Workspace ws(rows * W);
  for (std::size_t p0 = 0; p0 < P; p0 += rows) {
    const std::size_t p1 = std::min(P, p0 + rows);
    vol2col(g, image, p0, p1, ws.get());
    gemm::sgemm(false, false, p1 - p0, Cg, W, 1.f, ws.get(), W, kernel, Cg, 0.f, grid_out + p0 * Cg,
                Cg);
    gemm::sgemm(true, false, W, Cg, p1 - p0, 1.f, ws.get(), W, grid_in + p0 * Cg, Cg,
                p0 == 0 ? 0.f : 1.f, gkernel, Cg);
  }
}

}  // namespace tapeflow::kernels
