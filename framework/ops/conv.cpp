#include "tapeflow/framework/ops/conv.hpp"

#include <algorithm>
#include <cctype>
#include <xtensor/xbuilder.hpp>

#include "tapeflow/framework/core/strings.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/framework/runtime/parallel.hpp"

namespace tapeflow {

using kernels::ConvGeometry;

namespace {

Shape spatial_shape(const ConvGeometry& g, const std::array<std::size_t, 3>& sizes,
                    std::size_t channels) {
  Shape s{g.batch};
  for (std::size_t a = 3 - g.rank; a < 3; ++a) s.push_back(sizes[a]);
  s.push_back(channels);
  return s;
}
Shape image_shape(const ConvGeometry& g) { return spatial_shape(g, g.image, g.image_channels); }
Shape grid_shape(const ConvGeometry& g) { return spatial_shape(g, g.grid, g.grid_channels); }
Shape kernel_shape(const ConvGeometry& g) {
  Shape s;
  for (std::size_t a = 3 - g.rank; a < 3; ++a) s.push_back(g.kernel[a]);
  s.push_back(g.group_image_channels());
  s.push_back(g.grid_channels);
  return s;
}

void expect_shape(const char* op, const char* what, const Variable& v, const Shape& expected,
                  const ConvGeometry& g) {
  if (v.shape() != expected)
    fail_shape(op, std::string(what) + " has shape " + shape_str(v.shape()) +
                       " but the geometry (" + g.str() + ") needs " + shape_str(expected));
}

// Recording helpers. Each backward captures only the operands it needs, decided by which
// inputs some tape follows at record time: the transposed conv of a network's first layer, for
// instance, never computes the gradient of its (constant) input.
void record_conv(const Variable& image, const Variable& kernel, const Variable& bias,
                 const Variable& y, const ConvGeometry& g);
void record_conv_transpose(const Variable& grid, const Variable& kernel, const Variable& bias,
                           const Variable& y, const ConvGeometry& g);
void record_kernel_grad(const Variable& image, const Variable& grid, const Variable& y,
                        const ConvGeometry& g);

// conv(image, kernel) and kernel_grad(image, grid_in) from one vol2col(image) pass: the backward
// of a transposed conv. Each result is recorded as its own op, so higher orders still work.
std::pair<Variable, Variable> conv_and_kernel_grad(const Variable& image, const Variable& kernel,
                                                   const Variable& grid_in, const ConvGeometry& g,
                                                   bool want_out, bool want_gk) {
  Tensor out, gk;
  if (want_out) out = Tensor::from_shape(grid_shape(g));
  if (want_gk) gk = Tensor::from_shape(kernel_shape(g));
  kernels::conv_forward_and_kernel_grad(
      g, image.value().data(), want_out ? kernel.value().data() : nullptr,
      want_out ? out.data() : nullptr, want_gk ? grid_in.value().data() : nullptr,
      want_gk ? gk.data() : nullptr);
  Variable vo, vk;
  if (want_out) {
    vo = detail::result(std::move(out));
    record_conv(image, kernel, Variable(), vo, g);
  }
  if (want_gk) {
    vk = detail::result(std::move(gk));
    record_kernel_grad(image, grid_in, vk, g);
  }
  return {vo, vk};
}

// The operands of a conv op: the bias (optional) is a third input whose gradient is the
// channel sum of the output gradient.
std::vector<Variable> conv_inputs(const Variable& x, const Variable& kernel, const Variable& bias) {
  std::vector<Variable> v{x, kernel};
  if (bias.defined()) v.push_back(bias);
  return v;
}

void record_conv(const Variable& image, const Variable& kernel, const Variable& bias,
                 const Variable& y, const ConvGeometry& g) {
  const bool ni = detail::recording({&image}), nk = detail::recording({&kernel});
  const bool has_bias = bias.defined(), nb = has_bias && detail::recording({&bias});
  if (!ni && !nk && !nb) return;
  detail::record("conv", conv_inputs(image, kernel, bias), y,
                 [ic = nk ? image : Variable(), kc = ni ? kernel : Variable(), g, ni, nk, has_bias,
                  nb](const Variable& gy) {
                   std::vector<Variable> r{
                       ni ? detail::conv_transpose_nd(gy, kc, g) : Variable(),
                       nk ? detail::conv_kernel_grad_nd(ic, gy, g) : Variable()};
                   if (has_bias) r.push_back(nb ? detail::channel_sum(gy) : Variable());
                   return r;
                 });
}

void record_conv_transpose(const Variable& grid, const Variable& kernel, const Variable& bias,
                           const Variable& y, const ConvGeometry& g) {
  const bool ng = detail::recording({&grid}), nk = detail::recording({&kernel});
  const bool has_bias = bias.defined(), nb = has_bias && detail::recording({&bias});
  if (!ng && !nk && !nb) return;
  detail::record("conv_transpose", conv_inputs(grid, kernel, bias), y,
                 [gc = nk ? grid : Variable(), kc = ng ? kernel : Variable(), g, ng, nk, has_bias,
                  nb](const Variable& gy) {
                   std::vector<Variable> r{Variable(), Variable()};
                   if (ng || nk) {
                     auto [gx, gk] = conv_and_kernel_grad(gy, kc, gc, g, ng, nk);
                     r = {gx, gk};
                   }
                   if (has_bias) r.push_back(nb ? detail::channel_sum(gy) : Variable());
                   return r;
                 });
}

void record_kernel_grad(const Variable& image, const Variable& grid, const Variable& y,
                        const ConvGeometry& g) {
  const bool ni = detail::recording({&image}), ng = detail::recording({&grid});
  if (!ni && !ng) return;
  // <H, kgrad(I, G)> = <G, conv(I, H)> = <I, conv_transpose(G, H)>.
  detail::record(
      "conv_kernel_grad", {image, grid}, y,
      [ic = ng ? image : Variable(), gc = ni ? grid : Variable(), g, ni, ng](const Variable& h) {
        return std::vector<Variable>{ni ? detail::conv_transpose_nd(gc, h, g) : Variable(),
                                     ng ? detail::conv_nd(ic, h, g) : Variable()};
      });
}

std::string values_str(const std::vector<long>& v) { return shape_str(v); }

// One value for every axis, or one per axis; each at least `min_value`.
std::vector<long> per_axis(const char* where, const char* what, const std::vector<long>& v,
                           std::size_t rank, long min_value) {
  if (v.size() != 1 && v.size() != rank)
    fail(where, std::string(what) + " " + values_str(v) + " has " + std::to_string(v.size()) +
                    " values, expected 1 or " + std::to_string(rank) + " (one per spatial axis)");
  for (long e : v)
    if (e < min_value)
      fail(where, std::string(what) + " " + values_str(v) + " must be " +
                      (min_value == 0 ? "non-negative" : ">= " + std::to_string(min_value)) +
                      " on every axis");
  return v.size() == rank ? v : std::vector<long>(rank, v[0]);
}

struct Frame {
  std::size_t rank;
  bool channels_first;
  Variable x;  // channels_last
  Shape xs;
  Shape ks;
  std::vector<long> kernel, strides, dilation;
};

Frame frame(const char* where, const Variable& x, const Variable& kernel, const ConvOptions& o,
            bool transpose) {
  Frame f;
  const std::size_t xr = x.dim();
  if (xr < 3 || xr > 5)
    fail_shape(where, "x must have rank 3 to 5 (batch, spatial axes, channels), got shape " +
                          shape_str(x.shape()));
  f.rank = xr - 2;
  if (kernel.dim() != xr)
    fail(where,
         "kernel has shape " + shape_str(kernel.shape()) + " but x has shape " +
             shape_str(x.shape()) + ": expected a kernel of rank " + std::to_string(xr) +
             (transpose ? " (k..., filters, in_channels)" : " (k..., in_channels, filters)"));
  f.channels_first = detail::normalize_data_format(where, o.data_format()) == "channels_first";
  f.x = f.channels_first ? detail::to_channels_last(x) : x;
  f.xs = f.x.shape();
  f.ks = kernel.shape();
  const std::size_t cin = f.xs.back();
  const std::size_t kin = transpose ? f.ks[xr - 1] : f.ks[xr - 2];
  if (transpose && o.groups() != 1)
    fail(where, "groups " + std::to_string(o.groups()) + " applies to conv only");
  const long groups = o.groups();
  if (groups < 1 || cin % std::size_t(groups) != 0 || f.ks[xr - 1] % std::size_t(groups) != 0)
    fail(where, "groups " + std::to_string(groups) + " must be positive and divide both the " +
                    std::to_string(cin) + " input channels and the " +
                    std::to_string(f.ks[xr - 1]) + " filters (kernel " + shape_str(f.ks) + ")");
  if (kin * std::size_t(groups) != cin)
    fail_shape(where, "kernel has shape " + shape_str(f.ks) + " whose in_channels axis (" +
                          (transpose ? "last" : "second to last") + ") is " + std::to_string(kin) +
                          " but x has " + std::to_string(cin) + " channels (shape " +
                          shape_str(x.shape()) + ", " + detail::to_lower(o.data_format()) + ")" +
                          (groups > 1 ? ": with groups " + std::to_string(groups) + " it must be " +
                                            std::to_string(cin / std::size_t(groups))
                                      : std::string()));
  for (std::size_t a = 0; a < f.rank; ++a) {
    if (f.ks[a] == 0)
      fail_shape(where,
                 "kernel has shape " + shape_str(f.ks) + ": its spatial sizes must be positive");
    f.kernel.push_back(long(f.ks[a]));
  }
  f.strides = per_axis(where, "strides", o.strides(), f.rank, 1);
  f.dilation = per_axis(where, "dilation", o.dilation(), f.rank, 1);
  if (o.pads() && o.pads()->size() != 1 && o.pads()->size() != f.rank)
    fail(where, "pads has " + std::to_string(o.pads()->size()) +
                    " (before, after) pairs, expected 1 or " + std::to_string(f.rank));
  if (o.pads())
    for (auto [b, a] : *o.pads())
      if (b < 0 || a < 0)
        fail(where, "pads must be non-negative, got (" + std::to_string(b) + ", " +
                        std::to_string(a) + ")");
  return f;
}

std::pair<long, long> pads_at(const ConvOptions& o, std::size_t a) {
  const auto& p = *o.pads();
  return p.size() == 1 ? p[0] : p[a];
}

std::vector<std::size_t> to_sizes(const std::vector<long>& v) {
  return std::vector<std::size_t>(v.begin(), v.end());
}

void permute_channels(const float* in, float* out, std::size_t n, std::size_t c, std::size_t s,
                      bool to_last) {
  // Blocked over the spatial axis so both sides stream through cache lines.
  constexpr std::size_t B = 64;
  for (std::size_t b = 0; b < n; ++b) {
    const float* ib = in + b * c * s;
    float* ob = out + b * c * s;
    for (std::size_t i0 = 0; i0 < s; i0 += B) {
      const std::size_t i1 = std::min(s, i0 + B);
      for (std::size_t ch = 0; ch < c; ++ch)
        for (std::size_t i = i0; i < i1; ++i) {
          if (to_last)
            ob[i * c + ch] = ib[ch * s + i];
          else
            ob[ch * s + i] = ib[i * c + ch];
        }
    }
  }
}

}  // namespace

namespace detail {

std::string normalize_data_format(const std::string& where, const std::string& data_format) {
  std::string f = detail::to_lower(data_format);
  if (f != "channels_last" && f != "channels_first")
    fail(where, "unknown data_format '" + data_format +
                    "' (expected 'channels_last' or 'channels_first')");
  return f;
}

std::string normalize_padding(const std::string& where, const std::string& padding) {
  std::string p = detail::to_lower(padding);
  if (p != "valid" && p != "same")
    fail(where, "unknown padding '" + padding + "' (expected 'valid' or 'same')");
  return p;
}

Variable conv_nd(const Variable& image, const Variable& kernel, const ConvGeometry& g,
                 const Variable& bias) {
  expect_shape("conv", "image", image, image_shape(g), g);
  expect_shape("conv", "kernel", kernel, kernel_shape(g), g);
  if (bias.defined() && bias.shape() != Shape{g.grid_channels})
    fail_shape("conv", "bias has shape " + shape_str(bias.shape()) + ", expected (" +
                           std::to_string(g.grid_channels) + ",): one value per output channel");
  Tensor y = Tensor::from_shape(grid_shape(g));
  kernels::conv_forward(g, image.value().data(), kernel.value().data(), y.data(),
                        bias.defined() ? bias.value().data() : nullptr);
  Variable out = result(std::move(y));
  record_conv(image, kernel, bias, out, g);
  return out;
}

Variable conv_transpose_nd(const Variable& grid, const Variable& kernel, const ConvGeometry& g,
                           const Variable& bias) {
  expect_shape("conv_transpose", "x", grid, grid_shape(g), g);
  expect_shape("conv_transpose", "kernel", kernel, kernel_shape(g), g);
  if (bias.defined() && bias.shape() != Shape{g.image_channels})
    fail_shape("conv_transpose", "bias has shape " + shape_str(bias.shape()) + ", expected (" +
                                     std::to_string(g.image_channels) +
                                     ",): one value per output channel");
  Tensor y = Tensor::from_shape(image_shape(g));
  kernels::conv_transpose_forward(g, grid.value().data(), kernel.value().data(), y.data(),
                                  bias.defined() ? bias.value().data() : nullptr);
  Variable out = result(std::move(y));
  record_conv_transpose(grid, kernel, bias, out, g);
  return out;
}

Variable conv_kernel_grad_nd(const Variable& image, const Variable& grid, const ConvGeometry& g) {
  expect_shape("conv_kernel_grad", "image", image, image_shape(g), g);
  expect_shape("conv_kernel_grad", "grid", grid, grid_shape(g), g);
  Tensor y = Tensor::from_shape(kernel_shape(g));
  kernels::conv_kernel_grad(g, image.value().data(), grid.value().data(), y.data());
  Variable out = result(std::move(y));
  record_kernel_grad(image, grid, out, g);
  return out;
}

Variable to_channels_last(const Variable& x) {
  Shape s = x.shape();
  if (s.size() < 3)
    fail_shape("to_channels_last",
               "x must have rank >= 3 (batch, channels, spatial...), got shape " + shape_str(s));
  Shape o{s[0]};
  std::size_t sp = 1;
  for (std::size_t i = 2; i < s.size(); ++i) {
    o.push_back(s[i]);
    sp *= s[i];
  }
  o.push_back(s[1]);
  Tensor y = Tensor::from_shape(o);
  permute_channels(x.value().data(), y.data(), s[0], s[1], sp, true);
  Variable out = result(std::move(y));
  if (recording({&x}))
    record("to_channels_last", {x}, out,
           [](const Variable& g) { return std::vector<Variable>{to_channels_first(g)}; });
  return out;
}

Variable to_channels_first(const Variable& x) {
  Shape s = x.shape();
  if (s.size() < 3)
    fail_shape("to_channels_first",
               "x must have rank >= 3 (batch, spatial..., channels), got shape " + shape_str(s));
  Shape o{s[0], s.back()};
  std::size_t sp = 1;
  for (std::size_t i = 1; i + 1 < s.size(); ++i) {
    o.push_back(s[i]);
    sp *= s[i];
  }
  Tensor y = Tensor::from_shape(o);
  permute_channels(x.value().data(), y.data(), s[0], s.back(), sp, false);
  Variable out = result(std::move(y));
  if (recording({&x}))
    record("to_channels_first", {x}, out,
           [](const Variable& g) { return std::vector<Variable>{to_channels_last(g)}; });
  return out;
}

}  // namespace detail

namespace {
bool channels_first_format(const char* where, const std::string& data_format) {
  return detail::normalize_data_format(where, data_format) == "channels_first";
}
// (outer, channels, inner) view of x for its channel axis.
void channel_view(const Shape& s, bool first, std::size_t& outer, std::size_t& c,
                  std::size_t& inner) {
  outer = s[0];
  inner = 1;
  if (first) {
    c = s[1];
    for (std::size_t i = 2; i < s.size(); ++i) inner *= s[i];
  } else {
    c = s.back();
    for (std::size_t i = 1; i + 1 < s.size(); ++i) outer *= s[i];
  }
}
}  // namespace

Variable bias_add(const Variable& x, const Variable& bias, const std::string& data_format) {
  const char* where = "bias_add";
  const bool first = channels_first_format(where, data_format);
  const Shape s = x.shape();
  if (s.size() < 2)
    fail_shape(where, "x must have rank >= 2 (batch, ..., channels), got shape " + shape_str(s));
  if (bias.dim() != 1 || bias.shape()[0] != (first ? s[1] : s.back()))
    fail_shape(where, "bias has shape " + shape_str(bias.shape()) + " but x has shape " +
                          shape_str(s) + ": expected (" + std::to_string(first ? s[1] : s.back()) +
                          ",) (" + (first ? "channels_first" : "channels_last") + ")");
  std::size_t outer, c, inner;
  channel_view(s, first, outer, c, inner);
  // One pass, split over threads: y = x + bias (channels are the last axis or axis 1).
  Tensor y = Tensor::from_shape(s);
  float* py = y.data();
  const float* px = x.value().data();
  const float* pb = bias.value().data();
  if (first) {
    parallel_for(outer * c, std::max<std::size_t>(1, 16384 / std::max<std::size_t>(1, inner)),
                 [&](std::size_t a, std::size_t b) {
                   for (std::size_t r = a; r < b; ++r) {
                     const float bv = pb[r % c];
                     const float* __restrict src = px + r * inner;
                     float* __restrict dst = py + r * inner;
                     for (std::size_t i = 0; i < inner; ++i) dst[i] = src[i] + bv;
                   }
                 });
  } else {
    parallel_for(outer, std::max<std::size_t>(1, 16384 / std::max<std::size_t>(1, c)),
                 [&](std::size_t a, std::size_t b) {
                   for (std::size_t o = a; o < b; ++o) {
                     const float* __restrict src = px + o * c;
                     float* __restrict dst = py + o * c;
                     for (std::size_t ch = 0; ch < c; ++ch) dst[ch] = src[ch] + pb[ch];
                   }
                 });
  }
  Variable out = detail::result(std::move(y));
  if (detail::recording({&x, &bias}))
    detail::record("bias_add", {x, bias}, out, [fmt = data_format](const Variable& g) {
      return std::vector<Variable>{g, detail::channel_sum(g, fmt)};
    });
  return out;
}

namespace detail {
Variable channel_sum(const Variable& g, const std::string& data_format) {
  const bool first = channels_first_format("channel_sum", data_format);
  const Shape s = g.shape();
  if (s.size() < 2)
    fail_shape("channel_sum",
               "g must have rank >= 2 (batch, ..., channels), got shape " + shape_str(s));
  std::size_t outer, c, inner;
  channel_view(s, first, outer, c, inner);
  // Double accumulators: a bias gradient sums over batch and volume (millions of terms).
  // Threads sum fixed chunks of the outer axis; the chunk sums are added in chunk order.
  const float* pg = g.value().data();
  const std::size_t parts = std::max<std::size_t>(
      1, std::min<std::size_t>(std::size_t(get_num_threads()), outer * c * inner / 65536));
  std::vector<std::vector<double>> partial(parts, std::vector<double>(c, 0.0));
  parallel_parts(parts, [&](std::size_t part) {
    std::vector<double>& acc = partial[part];
    const std::size_t o0 = outer * part / parts, o1 = outer * (part + 1) / parts;
    if (first) {
      for (std::size_t o = o0; o < o1; ++o)
        for (std::size_t ch = 0; ch < c; ++ch) {
          const float* row = pg + (o * c + ch) * inner;
          double t = 0;
          for (std::size_t i = 0; i < inner; ++i) t += row[i];
          acc[ch] += t;
        }
    } else {
      for (std::size_t o = o0; o < o1; ++o) {
        const float* row = pg + o * c;
        for (std::size_t ch = 0; ch < c; ++ch) acc[ch] += row[ch];
      }
    }
  });
  std::vector<double> acc(c, 0.0);
  for (const auto& p : partial)
    for (std::size_t ch = 0; ch < c; ++ch) acc[ch] += p[ch];
  Tensor y = Tensor::from_shape({c});
  for (std::size_t ch = 0; ch < c; ++ch) y.data()[ch] = float(acc[ch]);
  Variable out = result(std::move(y));
  if (recording({&g}))
    record("channel_sum", {g}, out, [s, fmt = data_format](const Variable& h) {
      return std::vector<Variable>{bias_add(Variable(Tensor(xt::zeros<float>(s))), h, fmt)};
    });
  return out;
}
}  // namespace detail

long conv_transpose_output_length(long in, long kernel, long stride, long dilation,
                                  const std::string& padding, long output_padding,
                                  const std::string& where) {
  const std::string p = detail::normalize_padding(where, padding);
  const long dk = dilation * (kernel - 1) + 1;
  if (output_padding < 0)
    return p == "same" ? in * stride : in * stride + std::max(dk - stride, 0L);
  const long pad = p == "same" ? dk / 2 : 0;
  return (in - 1) * stride + dk - 2 * pad + output_padding;
}

Variable conv(const Variable& x, const Variable& kernel, const ConvOptions& o) {
  return conv(x, kernel, Variable(), o);
}

Variable conv(const Variable& x, const Variable& kernel, const Variable& bias,
              const ConvOptions& o) {
  const char* where = "conv";
  Frame f = frame(where, x, kernel, o, false);
  if (o.output_padding() || o.output_shape())
    fail(where, "output_padding and output_shape apply to conv_transpose only");
  const std::string padding = o.pads() ? "" : detail::normalize_padding(where, o.padding());
  std::vector<std::size_t> image;
  std::vector<long> before, after;
  for (std::size_t a = 0; a < f.rank; ++a) {
    const long in = long(f.xs[1 + a]), s = f.strides[a];
    const long dk = f.dilation[a] * (f.kernel[a] - 1) + 1;
    image.push_back(std::size_t(in));
    if (o.pads()) {
      auto [b, e] = pads_at(o, a);
      before.push_back(b);
      after.push_back(e);
    } else if (padding == "same") {
      const long out = (in + s - 1) / s;
      const long total = std::max((out - 1) * s + dk - in, 0L);
      before.push_back(total / 2);
      after.push_back(total - total / 2);
    } else {
      before.push_back(0);
      after.push_back(0);
    }
  }
  ConvGeometry g =
      ConvGeometry::forward(f.rank, f.xs[0], image, f.xs.back(), f.ks.back(), to_sizes(f.kernel),
                            to_sizes(f.strides), to_sizes(f.dilation), before, after, where);
  if (o.groups() != 1) g = g.with_groups(std::size_t(o.groups()), where);
  Variable y = detail::conv_nd(f.x, kernel, g, bias);
  return f.channels_first ? detail::to_channels_first(y) : y;
}

Variable conv_transpose(const Variable& x, const Variable& kernel, const ConvOptions& o) {
  return conv_transpose(x, kernel, Variable(), o);
}

Variable conv_transpose(const Variable& x, const Variable& kernel, const Variable& bias,
                        const ConvOptions& o) {
  const char* where = "conv_transpose";
  Frame f = frame(where, x, kernel, o, true);
  const std::string padding = detail::normalize_padding(where, o.padding());
  std::vector<long> op;
  if (o.output_padding()) {
    op = per_axis(where, "output_padding", *o.output_padding(), f.rank, 0);
    for (std::size_t a = 0; a < f.rank; ++a)
      if (op[a] >= f.strides[a])
        fail(where, "output_padding " + values_str(op) + " must be smaller than the strides " +
                        values_str(f.strides) + " on every axis");
  }
  std::vector<long> oshape;
  if (o.output_shape()) {
    if (o.output_padding()) fail(where, "give output_shape or output_padding, not both");
    oshape = *o.output_shape();
    if (oshape.size() != f.rank)
      fail(where, "output_shape " + values_str(oshape) + " has " + std::to_string(oshape.size()) +
                      " values, expected " + std::to_string(f.rank) + " (the spatial sizes)");
  }
  std::vector<std::size_t> image, grid;
  std::vector<long> before;
  for (std::size_t a = 0; a < f.rank; ++a) {
    const long in = long(f.xs[1 + a]), s = f.strides[a];
    const long dk = f.dilation[a] * (f.kernel[a] - 1) + 1;
    long out = 0, pb = 0;
    if (o.output_shape()) {
      out = oshape[a];
      long back = 0;  // the grid length the forward conv of `out` would give
      if (o.pads()) {
        auto [b, e] = pads_at(o, a);
        pb = b;
        back = out + b + e >= dk ? (out + b + e - dk) / s + 1 : 0;
      } else if (padding == "same") {
        pb = std::max(0L, (in - 1) * s + dk - out) / 2;
        back = (out + s - 1) / s;
      } else {
        back = out >= dk ? (out - dk + s) / s : 0;
      }
      if (out < 1 || back != in)
        fail(where, "output_shape " + values_str(oshape) +
                        " does not match the input: along "
                        "spatial axis " +
                        std::to_string(a) + " a " + padding + " convolution of " +
                        std::to_string(out) + " (kernel " + std::to_string(f.kernel[a]) +
                        ", stride " + std::to_string(s) + ") gives " + std::to_string(back) +
                        ", not " + std::to_string(in));
    } else if (o.pads()) {
      auto [b, e] = pads_at(o, a);
      pb = b;
      out = (in - 1) * s + dk - b - e + (op.empty() ? 0 : op[a]);
    } else {
      out = conv_transpose_output_length(in, f.kernel[a], s, f.dilation[a], padding,
                                         op.empty() ? -1 : op[a], where);
      // TF's SAME rule on the actual output length, with or without output_padding (Keras 2
      // through tf.nn.conv*_transpose, Keras 3 on every backend but torch; its JAX padding
      // helper crops the same `dk - 1 - left_pad`). PyTorch would crop dk / 2: with
      // output_padding the two differ, and tapeflow follows Keras.
      pb = padding == "same" ? std::max(0L, (in - 1) * s + dk - out) / 2 : 0;
    }
    if (out < 1)
      fail(where, "the output length along spatial axis " + std::to_string(a) + " would be " +
                      std::to_string(out) + " (input " + std::to_string(in) + ", kernel " +
                      std::to_string(f.kernel[a]) + ", stride " + std::to_string(s) +
                      ", dilation " + std::to_string(f.dilation[a]) + ")");
    image.push_back(std::size_t(out));
    grid.push_back(std::size_t(in));
    before.push_back(pb);
  }
  ConvGeometry g = ConvGeometry::explicit_sizes(
      f.rank, f.xs[0], image, f.ks[f.rank], grid, f.xs.back(), to_sizes(f.kernel),
      to_sizes(f.strides), to_sizes(f.dilation), before, where);
  Variable y = detail::conv_transpose_nd(f.x, kernel, g, bias);
  return f.channels_first ? detail::to_channels_first(y) : y;
}

}  // namespace tapeflow
