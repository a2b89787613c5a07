#include "tapeflow/framework/ops/pooling.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <memory>

#include "tapeflow/framework/ops/conv.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/framework/runtime/parallel.hpp"

namespace tapeflow {

namespace {

// Channels_last geometry, right-aligned on three spatial axes like `kernels::ConvGeometry`:
// a 1-D pool uses axis 2 only, the unused leading axes have size 1.
struct PoolGeometry {
  std::size_t rank = 0;
  std::size_t batch = 0;
  std::size_t channels = 0;
  std::array<std::size_t, 3> in{1, 1, 1};
  std::array<std::size_t, 3> out{1, 1, 1};
  std::array<long, 3> k{1, 1, 1};
  std::array<long, 3> s{1, 1, 1};
  std::array<long, 3> pad{0, 0, 0};

  Shape shape(const std::array<std::size_t, 3>& sizes) const {
    Shape r{batch};
    for (std::size_t a = 3 - rank; a < 3; ++a) r.push_back(sizes[a]);
    r.push_back(channels);
    return r;
  }
  Shape in_shape() const { return shape(in); }
  Shape out_shape() const { return shape(out); }
};

using ArgMax = std::shared_ptr<const std::vector<std::int64_t>>;

// Calls f(o, b, lo, hi) for each output position o (flat, batch-major) of the output planes
// [plane_lo, plane_hi) (a plane: one sample's positions of one index on axis 0, batch * out[0]
// of them); [lo, hi) is its window clipped to the input, per axis.
template <class F>
void for_each_window(const PoolGeometry& g, std::size_t plane_lo, std::size_t plane_hi, F&& f) {
  const std::size_t plane = g.out[1] * g.out[2];
  std::size_t o = plane_lo * plane;
  std::array<long, 3> lo{}, hi{};
  auto bounds = [&](std::size_t a, std::size_t i) {
    const long start = long(i) * g.s[a] - g.pad[a];
    lo[a] = std::max(start, 0L);
    hi[a] = std::min(start + g.k[a], long(g.in[a]));
  };
  for (std::size_t p = plane_lo; p < plane_hi; ++p) {
    const std::size_t b = p / g.out[0];
    bounds(0, p % g.out[0]);
    for (std::size_t o1 = 0; o1 < g.out[1]; ++o1) {
      bounds(1, o1);
      for (std::size_t o2 = 0; o2 < g.out[2]; ++o2, ++o) {
        bounds(2, o2);
        f(o, b, lo, hi);
      }
    }
  }
}
template <class F>
void for_each_window(const PoolGeometry& g, F&& f) {
  for_each_window(g, 0, g.batch * g.out[0], std::forward<F>(f));
}

// Runs f(plane_lo, plane_hi) over the output planes, split over threads (each plane writes
// only its own outputs).
template <class F>
void for_plane_ranges(const PoolGeometry& g, F&& f) {
  const std::size_t per_plane = g.out[1] * g.out[2] * g.channels;
  parallel_for(g.batch * g.out[0],
               std::max<std::size_t>(1, 16384 / std::max<std::size_t>(1, per_plane)),
               [&](std::size_t lo, std::size_t hi) { f(lo, hi); });
}

// True when no two windows share an input position (pool size <= stride on every axis): then
// scattering gradients to the inputs can be split over outputs.
bool windows_disjoint(const PoolGeometry& g) {
  for (std::size_t a = 0; a < 3; ++a)
    if (g.k[a] > g.s[a]) return false;
  return true;
}

// Calls f(base) with the offset of the first channel of each input position of a window.
template <class F>
inline void for_each_in_window(const PoolGeometry& g, std::size_t b, const std::array<long, 3>& lo,
                               const std::array<long, 3>& hi, F&& f) {
  for (long i0 = lo[0]; i0 < hi[0]; ++i0)
    for (long i1 = lo[1]; i1 < hi[1]; ++i1) {
      const std::size_t row =
          ((b * g.in[0] + std::size_t(i0)) * g.in[1] + std::size_t(i1)) * g.in[2];
      for (long i2 = lo[2]; i2 < hi[2]; ++i2) f((row + std::size_t(i2)) * g.channels);
    }
}

std::size_t window_count(const std::array<long, 3>& lo, const std::array<long, 3>& hi) {
  std::size_t n = 1;
  for (std::size_t a = 0; a < 3; ++a) n *= std::size_t(std::max(hi[a] - lo[a], 0L));
  return n;
}

Variable avg_pool_nd(const Variable& x, const PoolGeometry& g);
Variable avg_pool_grad_nd(const Variable& gy, const PoolGeometry& g);
Variable pool_scatter(const Variable& gy, const ArgMax& arg, const Shape& x_shape, bool disjoint);
Variable pool_gather(const Variable& gx, const ArgMax& arg, const Shape& y_shape, bool disjoint);

Variable avg_pool_nd(const Variable& x, const PoolGeometry& g) {
  const std::size_t c = g.channels;
  Tensor y = xt::zeros<float>(g.out_shape());
  const float* xp = x.value().data();
  float* yp = y.data();
  for_plane_ranges(g, [&](std::size_t plane_lo, std::size_t plane_hi) {
    for_each_window(g, plane_lo, plane_hi,
                    [&](std::size_t o, std::size_t b, const auto& lo, const auto& hi) {
                      float* out = yp + o * c;
                      for_each_in_window(g, b, lo, hi, [&](std::size_t base) {
                        const float* in = xp + base;
                        for (std::size_t ch = 0; ch < c; ++ch) out[ch] += in[ch];
                      });
                      const std::size_t n = window_count(lo, hi);
                      const float scale = n ? 1.f / float(n) : 0.f;
                      for (std::size_t ch = 0; ch < c; ++ch) out[ch] *= scale;
                    });
  });
  Variable out = detail::result(std::move(y));
  if (detail::recording({&x}))
    detail::record("avg_pool", {x}, out, [g](const Variable& gy) {
      return std::vector<Variable>{avg_pool_grad_nd(gy, g)};
    });
  return out;
}

// The adjoint of avg_pool_nd: each output gradient spread evenly over its window.
Variable avg_pool_grad_nd(const Variable& gy, const PoolGeometry& g) {
  const std::size_t c = g.channels;
  Tensor gx = xt::zeros<float>(g.in_shape());
  const float* gyp = gy.value().data();
  float* gxp = gx.data();
  for_each_window(g, [&](std::size_t o, std::size_t b, const auto& lo, const auto& hi) {
    const std::size_t n = window_count(lo, hi);
    if (!n) return;
    const float scale = 1.f / float(n);
    const float* go = gyp + o * c;
    for_each_in_window(g, b, lo, hi, [&](std::size_t base) {
      float* gi = gxp + base;
      for (std::size_t ch = 0; ch < c; ++ch) gi[ch] += go[ch] * scale;
    });
  });
  Variable out = detail::result(std::move(gx));
  if (detail::recording({&gy}))
    detail::record("avg_pool_grad", {gy}, out,
                   [g](const Variable& h) { return std::vector<Variable>{avg_pool_nd(h, g)}; });
  return out;
}

// Strictly greater: ties keep the first element, which receives the gradient. A NaN wins over
// any number and then stays (TF's max pool propagates it), so the first NaN of the window is
// the output and receives the gradient.
inline bool replaces(float candidate, float current) {
  return candidate > current || (std::isnan(candidate) && !std::isnan(current));
}

Variable max_pool_nd(const Variable& x, const PoolGeometry& g) {
  const std::size_t c = g.channels;
  Tensor y = Tensor::from_shape(g.out_shape());
  // Where each output came from, for the backward: only when a tape will ask for it.
  std::shared_ptr<std::vector<std::int64_t>> arg;
  if (detail::recording({&x})) arg = std::make_shared<std::vector<std::int64_t>>(y.size());
  const float* xp = x.value().data();
  float* yp = y.data();
  std::int64_t* ap = arg ? arg->data() : nullptr;
  for_plane_ranges(g, [&](std::size_t plane_lo, std::size_t plane_hi) {
    for_each_window(g, plane_lo, plane_hi,
                    [&](std::size_t o, std::size_t b, const auto& lo, const auto& hi) {
                      float* out = yp + o * c;
                      std::int64_t* am = ap ? ap + o * c : nullptr;
                      bool first = true;
                      for_each_in_window(g, b, lo, hi, [&](std::size_t base) {
                        const float* in = xp + base;
                        if (first) {
                          std::copy(in, in + c, out);
                          if (am)
                            for (std::size_t ch = 0; ch < c; ++ch) am[ch] = std::int64_t(base + ch);
                          first = false;
                        } else if (am) {
                          for (std::size_t ch = 0; ch < c; ++ch)
                            if (replaces(in[ch], out[ch])) {
                              out[ch] = in[ch];
                              am[ch] = std::int64_t(base + ch);
                            }
                        } else {
                          for (std::size_t ch = 0; ch < c; ++ch)
                            out[ch] = replaces(in[ch], out[ch]) ? in[ch] : out[ch];
                        }
                      });
                      if (first) {  // an empty window (not produced by TF's rules): 0, no gradient
                        std::fill(out, out + c, 0.f);
                        if (am) std::fill(am, am + c, std::int64_t(-1));
                      }
                    });
  });
  Variable out = detail::result(std::move(y));
  // Asked again: check_numerics (detail::result) may now want the op recorded, to report it.
  if (detail::recording({&x}))
    detail::record("max_pool", {x}, out,
                   [a = ArgMax(std::move(arg)), xs = g.in_shape(),
                    disjoint = windows_disjoint(g)](const Variable& gy) {
                     if (!a) fail("max_pool", "the op was recorded without its argmax");
                     return std::vector<Variable>{pool_scatter(gy, a, xs, disjoint)};
                   });
  return out;
}

// gx[arg[o]] += gy[o]: the gradient of max pooling, linear in gy. `disjoint`: no two outputs
// came from one input (windows_disjoint), so the outputs split over threads.
Variable pool_scatter(const Variable& gy, const ArgMax& arg, const Shape& x_shape, bool disjoint) {
  Tensor gx = Tensor::from_shape(x_shape);
  float* gxp = gx.data();
  parallel_for(gx.size(), 1 << 16,
               [&](std::size_t lo, std::size_t hi) { std::fill(gxp + lo, gxp + hi, 0.f); });
  const float* gyp = gy.value().data();
  const std::vector<std::int64_t>& a = *arg;
  auto scatter = [&](std::size_t lo, std::size_t hi) {
    for (std::size_t o = lo; o < hi; ++o)
      if (a[o] >= 0) gxp[a[o]] += gyp[o];
  };
  if (disjoint)
    parallel_for(a.size(), 1 << 14, scatter);
  else
    scatter(0, a.size());
  Variable out = detail::result(std::move(gx));
  if (detail::recording({&gy}))
    detail::record("max_pool_grad", {gy}, out, [arg, ys = gy.shape(), disjoint](const Variable& h) {
      return std::vector<Variable>{pool_gather(h, arg, ys, disjoint)};
    });
  return out;
}

// y[o] = gx[arg[o]]: the adjoint of pool_scatter.
Variable pool_gather(const Variable& gx, const ArgMax& arg, const Shape& y_shape, bool disjoint) {
  Tensor y = Tensor::from_shape(y_shape);
  const float* gxp = gx.value().data();
  float* yp = y.data();
  const std::vector<std::int64_t>& a = *arg;
  parallel_for(a.size(), 1 << 14, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t o = lo; o < hi; ++o) yp[o] = a[o] >= 0 ? gxp[a[o]] : 0.f;
  });
  Variable out = detail::result(std::move(y));
  if (detail::recording({&gx}))
    detail::record("max_pool_gather", {gx}, out,
                   [arg, xs = gx.shape(), disjoint](const Variable& g) {
                     return std::vector<Variable>{pool_scatter(g, arg, xs, disjoint)};
                   });
  return out;
}

std::vector<long> per_axis(const char* where, const char* what, const std::vector<long>& v,
                           std::size_t rank) {
  if (v.size() != 1 && v.size() != rank)
    fail(where, std::string(what) + " " + shape_str(v) + " has " + std::to_string(v.size()) +
                    " values, expected 1 or " + std::to_string(rank) + " (one per spatial axis)");
  for (long e : v)
    if (e < 1) fail(where, std::string(what) + " " + shape_str(v) + " must be >= 1 on every axis");
  return v.size() == rank ? v : std::vector<long>(rank, v[0]);
}

Variable pool(const char* where, const Variable& x, const PoolOptions& o, bool is_max) {
  if (!x.defined()) fail(where, "x is undefined");
  const std::size_t xr = x.dim();
  if (xr < 3 || xr > 5)
    fail_shape(where, "x must have rank 3 to 5 (batch, spatial axes, channels), got shape " +
                          shape_str(x.shape()));
  const std::size_t rank = xr - 2;
  const bool channels_first =
      detail::normalize_data_format(where, o.data_format()) == "channels_first";
  const std::string padding = detail::normalize_padding(where, o.padding());
  const std::vector<long> k = per_axis(where, "pool_size", o.pool_size(), rank);
  const std::vector<long> s =
      o.strides().empty() ? k : per_axis(where, "strides", o.strides(), rank);
  const Variable xl = channels_first ? detail::to_channels_last(x) : x;
  const Shape xs = xl.shape();
  PoolGeometry g;
  g.rank = rank;
  g.batch = xs[0];
  g.channels = xs.back();
  for (std::size_t a = 0; a < rank; ++a) {
    const std::size_t ax = 3 - rank + a;
    const long in = long(xs[1 + a]);
    if (padding == "valid" && in < k[a])
      fail_shape(where, "x has shape " + shape_str(x.shape()) + ": spatial axis " +
                            std::to_string(a) + " has length " + std::to_string(in) +
                            ", shorter than the pool size " + std::to_string(k[a]) +
                            " (padding 'valid' gives no output)");
    const long out = pool_output_length(in, k[a], s[a], padding, where);
    g.in[ax] = std::size_t(in);
    g.out[ax] = std::size_t(out);
    g.k[ax] = k[a];
    g.s[ax] = s[a];
    g.pad[ax] = padding == "same" ? std::max((out - 1) * s[a] + k[a] - in, 0L) / 2 : 0;
  }
  Variable y = is_max ? max_pool_nd(xl, g) : avg_pool_nd(xl, g);
  return channels_first ? detail::to_channels_first(y) : y;
}

}  // namespace

long pool_output_length(long in, long pool_size, long stride, const std::string& padding,
                        const std::string& where) {
  const std::string p = detail::normalize_padding(where, padding);
  if (pool_size < 1 || stride < 1)
    fail(where, "pool_size " + std::to_string(pool_size) + " and stride " + std::to_string(stride) +
                    " must be >= 1");
  const long out = p == "same" ? (in + stride - 1) / stride
                               : (in >= pool_size ? (in - pool_size) / stride + 1 : 0);
  if (out < 1)
    fail(where, "the output length would be " + std::to_string(out) + " (input length " +
                    std::to_string(in) + ", pool size " + std::to_string(pool_size) + ", stride " +
                    std::to_string(stride) + ", padding '" + p + "')");
  return out;
}

Variable max_pool(const Variable& x, const PoolOptions& options) {
  return pool("max_pool", x, options, true);
}

Variable avg_pool(const Variable& x, const PoolOptions& options) {
  return pool("avg_pool", x, options, false);
}

}  // namespace tapeflow
