// Shape ops. The slicing family (slice, strided_slice, split, pad) shares one pair of internal
// ops, a strided gather and its adjoint, a strided scatter into zeros (or a pad value); each is
// the other's gradient, so gradients of any order stay exact. gather and its scatter-add form a
// second such pair. tile and stack are compositions of differentiable ops.
#include <algorithm>
#include <numeric>
#include <string>
#include <xtensor/xmanipulation.hpp>

#include "tapeflow/framework/ops/detail/axis_view.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/framework/runtime/parallel.hpp"

namespace tapeflow {

using detail::as_long;
using detail::AxisView;
using detail::result;

namespace {

template <class T>
std::string list_str(const std::vector<T>& v) {
  return shape_str(v);
}

// A strided box inside a tensor: element idx of the box is element begin + idx * step.
struct Box {
  Shape out;
  std::vector<long> begin, step;
};

// Calls f(box_flat, full_flat) for every element of the box, box in row-major order.
template <class F>
void for_each_in_box(const Box& b, const Shape& full, F&& f) {
  std::size_t r = full.size();
  std::size_t total = 1;
  for (auto d : b.out) total *= d;
  if (total == 0) return;
  std::vector<long> stride(r, 1);
  for (std::size_t i = r; i-- > 1;) stride[i - 1] = stride[i] * static_cast<long>(full[i]);
  long off = 0;
  for (std::size_t i = 0; i < r; ++i) off += b.begin[i] * stride[i];
  if (r == 0) {
    f(std::size_t{0}, std::size_t{0});
    return;
  }
  std::vector<std::size_t> idx(r, 0);
  std::size_t last = b.out[r - 1];
  long inner_step = b.step[r - 1] * stride[r - 1];
  for (std::size_t flat = 0; flat < total; flat += last) {
    for (std::size_t j = 0; j < last; ++j)
      f(flat + j, static_cast<std::size_t>(off + static_cast<long>(j) * inner_step));
    // Advance the multi-index of the outer dims, carrying like an odometer.
    for (std::size_t i = r - 1; i-- > 0;) {
      off += b.step[i] * stride[i];
      if (++idx[i] < b.out[i]) break;
      off -= static_cast<long>(idx[i]) * b.step[i] * stride[i];
      idx[i] = 0;
    }
  }
}

Variable box_scatter(const Variable& g, const Box& b, const Shape& full, float fill);

// y = x[box].
Variable box_gather(const Variable& x, const Box& b, const char* op) {
  Tensor y = Tensor::from_shape(b.out);
  const float* src = x.value().data();
  float* dst = y.data();
  for_each_in_box(b, x.shape(), [&](std::size_t o, std::size_t i) { dst[o] = src[i]; });
  Variable out = result(std::move(y));
  if (detail::recording({&x}))
    detail::record(op, {x}, out, [b, xs = x.shape()](const Variable& g) {
      return std::vector<Variable>{box_scatter(g, b, xs, 0.f)};
    });
  return out;
}

// y = full tensor of `fill` with y[box] = g.
Variable box_scatter(const Variable& g, const Box& b, const Shape& full, float fill) {
  Tensor y = Tensor::from_shape(full);
  y.fill(fill);
  const float* src = g.value().data();
  float* dst = y.data();
  for_each_in_box(b, full, [&](std::size_t o, std::size_t i) { dst[i] = src[o]; });
  Variable out = result(std::move(y));
  if (detail::recording({&g}))
    detail::record(fill == 0.f ? "scatter" : "pad", {g}, out, [b](const Variable& gy) {
      return std::vector<Variable>{box_gather(gy, b, "slice")};
    });
  return out;
}

Box whole(const Shape& s) {
  return Box{s, std::vector<long>(s.size(), 0), std::vector<long>(s.size(), 1)};
}

// Copies `outer` blocks of `block` floats, block o from src + src_at + o * src_stride to
// dst + dst_at + o * dst_stride, split over threads: concat and split along one axis (channels
// last: many short blocks). Offsets are applied only to blocks that exist (an empty tensor's
// data may be null).
void copy_blocks(std::size_t outer, std::size_t block, const float* src, std::size_t src_at,
                 std::size_t src_stride, float* dst, std::size_t dst_at, std::size_t dst_stride) {
  if (outer == 0 || block == 0) return;
  parallel_for(outer, std::max<std::size_t>(1, 16384 / block), [&](std::size_t lo, std::size_t hi) {
    for (std::size_t o = lo; o < hi; ++o) {
      const float* from = src + src_at + o * src_stride;
      std::copy(from, from + block, dst + dst_at + o * dst_stride);
    }
  });
}

Variable scatter_add(const Variable& g, const IndexTensor& indices, std::size_t axis,
                     const Shape& xs);

// gather after the indices were checked.
Variable gather_checked(const Variable& x, const IndexTensor& indices, std::size_t axis) {
  Shape xs = x.shape();
  Shape out(xs.begin(), xs.begin() + static_cast<long>(axis));
  out.insert(out.end(), indices.shape().begin(), indices.shape().end());
  out.insert(out.end(), xs.begin() + static_cast<long>(axis) + 1, xs.end());
  AxisView v(xs, axis);
  std::size_t k = indices.size();
  Tensor y = Tensor::from_shape(out);
  const float* src = x.value().data();
  float* dst = y.data();
  for (std::size_t o = 0; o < v.outer; ++o)
    for (std::size_t j = 0; j < k; ++j) {
      const float* from = src + (o * v.n + static_cast<std::size_t>(indices.data()[j])) * v.inner;
      std::copy(from, from + v.inner, dst + (o * k + j) * v.inner);
    }
  Variable yv = result(std::move(y));
  if (detail::recording({&x}))
    detail::record("gather", {x}, yv, [indices, axis, xs](const Variable& g) {
      return std::vector<Variable>{scatter_add(g, indices, axis, xs)};
    });
  return yv;
}

// The adjoint of gather (TF's unsorted_segment_sum along an axis): repeated indices add up.
Variable scatter_add(const Variable& g, const IndexTensor& indices, std::size_t axis,
                     const Shape& xs) {
  AxisView v(xs, axis);
  std::size_t k = indices.size();
  Tensor y = xt::zeros<float>(xs);
  const float* src = g.value().data();
  float* dst = y.data();
  for (std::size_t o = 0; o < v.outer; ++o)
    for (std::size_t j = 0; j < k; ++j) {
      const float* from = src + (o * k + j) * v.inner;
      float* to = dst + (o * v.n + static_cast<std::size_t>(indices.data()[j])) * v.inner;
      for (std::size_t i = 0; i < v.inner; ++i) to[i] += from[i];
    }
  Variable yv = result(std::move(y));
  if (detail::recording({&g}))
    detail::record("scatter_add", {g}, yv, [indices, axis](const Variable& gy) {
      return std::vector<Variable>{gather_checked(gy, indices, axis)};
    });
  return yv;
}

}  // namespace

Variable transpose(const Variable& x, const std::vector<std::size_t>& perm_in) {
  std::size_t r = x.dim();
  std::vector<std::size_t> perm = perm_in;
  if (perm.empty()) {
    perm.resize(r);
    for (std::size_t i = 0; i < r; ++i) perm[i] = r - 1 - i;
  }
  std::vector<char> seen(r, 0);
  bool ok = perm.size() == r;
  for (auto p : perm) {
    if (!ok) break;
    ok = p < r && !seen[p];
    if (ok) seen[p] = 1;
  }
  if (!ok)
    fail("transpose", "perm " + list_str(perm) + " is not a permutation of the " +
                          std::to_string(r) + " axes of x, which has shape " +
                          shape_str(x.shape()));
  Variable y = result(Tensor(xt::transpose(x.value(), perm)));
  if (detail::recording({&x})) {
    std::vector<std::size_t> inverse(r);
    for (std::size_t i = 0; i < r; ++i) inverse[perm[i]] = i;
    detail::record("transpose", {x}, y, [inverse](const Variable& g) {
      return std::vector<Variable>{transpose(g, inverse)};
    });
  }
  return y;
}

Variable concat(const std::vector<Variable>& xs, int axis) {
  if (xs.empty()) fail("concat", "the list of tensors is empty");
  Shape s0 = xs[0].shape();
  if (s0.empty()) fail_shape("concat", "cannot concatenate scalars (tensor 0 has shape ())");
  std::size_t ax = detail::normalize_axis("concat", axis, s0.size());
  std::vector<std::size_t> sizes;
  std::size_t total = 0;
  for (std::size_t t = 0; t < xs.size(); ++t) {
    Shape s = xs[t].shape();
    bool ok = s.size() == s0.size();
    for (std::size_t i = 0; ok && i < s.size(); ++i) ok = i == ax || s[i] == s0[i];
    if (!ok)
      fail_shape("concat", "tensor " + std::to_string(t) + " has shape " + shape_str(s) +
                               " but tensor 0 has shape " + shape_str(s0) +
                               ": shapes must match except on axis " + std::to_string(ax));
    sizes.push_back(s[ax]);
    total += s[ax];
  }
  Shape out = s0;
  out[ax] = total;
  Tensor y = Tensor::from_shape(out);
  AxisView v(out, ax);
  std::size_t at = 0;
  for (std::size_t t = 0; t < xs.size(); ++t) {
    const std::size_t block = sizes[t] * v.inner;
    copy_blocks(v.outer, block, xs[t].value().data(), 0, block, y.data(), at * v.inner,
                v.n * v.inner);
    at += sizes[t];
  }
  Variable yv = result(std::move(y));
  if (detail::recording(xs))
    detail::record("concat", xs, yv,
                   [sizes, axis](const Variable& g) { return split(g, sizes, axis); });
  return yv;
}

Variable stack(const std::vector<Variable>& xs, int axis) {
  if (xs.empty()) fail("stack", "the list of tensors is empty");
  Shape s0 = xs[0].shape();
  detail::normalize_axis("stack", axis, s0.size() + 1);
  for (std::size_t t = 1; t < xs.size(); ++t)
    if (xs[t].shape() != s0)
      fail_shape("stack", "tensor " + std::to_string(t) + " has shape " + shape_str(xs[t].shape()) +
                              " but tensor 0 has shape " + shape_str(s0) +
                              ": all shapes must match");
  std::vector<Variable> parts;
  parts.reserve(xs.size());
  for (const auto& x : xs) parts.push_back(expand_dims(x, axis));
  return concat(parts, axis);
}

std::vector<Variable> split(const Variable& x, const std::vector<std::size_t>& sizes, int axis) {
  Shape xs = x.shape();
  std::size_t ax = detail::normalize_axis("split", axis, xs.size());
  std::size_t total = std::accumulate(sizes.begin(), sizes.end(), std::size_t{0});
  if (total != xs[ax])
    fail_shape("split", "sizes " + list_str(sizes) + " sum to " + std::to_string(total) +
                            " but axis " + std::to_string(ax) + " of x (shape " + shape_str(xs) +
                            ") has length " + std::to_string(xs[ax]));
  std::vector<Variable> out;
  Box b = whole(xs);
  AxisView v(xs, ax);
  long at = 0;
  for (auto s : sizes) {
    b.out[ax] = s;
    b.begin[ax] = at;
    // Each piece is a box of x (its backward a scatter into zeros), copied as blocks.
    Tensor y = Tensor::from_shape(b.out);
    const std::size_t block = s * v.inner;
    copy_blocks(v.outer, block, x.value().data(), std::size_t(at) * v.inner, v.n * v.inner,
                y.data(), 0, block);
    Variable piece = result(std::move(y));
    if (detail::recording({&x}))
      detail::record("split", {x}, piece, [b, xs](const Variable& g) {
        return std::vector<Variable>{box_scatter(g, b, xs, 0.f)};
      });
    out.push_back(std::move(piece));
    at += static_cast<long>(s);
  }
  return out;
}

std::vector<Variable> split(const Variable& x, std::size_t num, int axis) {
  Shape xs = x.shape();
  std::size_t ax = detail::normalize_axis("split", axis, xs.size());
  if (num == 0 || xs[ax] % num != 0)
    fail_shape("split", "axis " + std::to_string(ax) + " of x (shape " + shape_str(xs) +
                            ") has length " + std::to_string(xs[ax]) +
                            ", which cannot be split into " + std::to_string(num) + " equal parts");
  return split(x, std::vector<std::size_t>(num, xs[ax] / num), axis);
}

Variable slice(const Variable& x, const std::vector<long>& begin, const std::vector<long>& size) {
  Shape xs = x.shape();
  if (begin.size() != xs.size() || size.size() != xs.size())
    fail("slice", "begin " + list_str(begin) + " and size " + list_str(size) +
                      " must have one entry per axis of x, which has shape " + shape_str(xs));
  Box b = whole(xs);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    long d = static_cast<long>(xs[i]);
    long len = size[i] == -1 ? d - begin[i] : size[i];
    if (begin[i] < 0 || begin[i] > d || len < 0 || begin[i] + len > d)
      fail("slice", "begin " + list_str(begin) + " and size " + list_str(size) +
                        " are out of bounds for x of shape " + shape_str(xs) + " on axis " +
                        std::to_string(i));
    b.begin[i] = begin[i];
    b.out[i] = static_cast<std::size_t>(len);
  }
  return box_gather(x, b, "slice");
}

Variable strided_slice(const Variable& x, const std::vector<long>& begin,
                       const std::vector<long>& end, const std::vector<long>& strides) {
  Shape xs = x.shape();
  if (begin.size() != end.size() || begin.size() != strides.size() || begin.size() > xs.size())
    fail("strided_slice", "begin " + list_str(begin) + ", end " + list_str(end) + " and strides " +
                              list_str(strides) +
                              " must have the same length, at most the rank of x (shape " +
                              shape_str(xs) + ")");
  Box b = whole(xs);
  for (std::size_t i = 0; i < begin.size(); ++i) {
    long d = static_cast<long>(xs[i]), s = strides[i];
    if (s == 0)
      fail("strided_slice",
           "strides " + list_str(strides) + " has a 0 on axis " + std::to_string(i));
    // Python's slice.indices: negative indices count from the end, then clamp.
    auto norm = [&](long v) {
      if (v < 0) v += d;
      return s > 0 ? std::clamp(v, 0L, d) : std::clamp(v, -1L, d - 1);
    };
    long lo = norm(begin[i]), hi = norm(end[i]);
    long len = s > 0 ? (hi - lo + s - 1) / s : (lo - hi + (-s) - 1) / (-s);
    b.begin[i] = lo;
    b.step[i] = s;
    b.out[i] = static_cast<std::size_t>(std::max(0L, len));
  }
  return box_gather(x, b, "strided_slice");
}

Variable pad(const Variable& x, const std::vector<std::pair<std::size_t, std::size_t>>& paddings,
             float constant_value) {
  Shape xs = x.shape();
  if (paddings.size() != xs.size())
    fail("pad", "paddings has " + std::to_string(paddings.size()) +
                    " (before, after) pairs but x has shape " + shape_str(xs) + " (rank " +
                    std::to_string(xs.size()) + ")");
  Box b = whole(xs);
  Shape full = xs;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    full[i] += paddings[i].first + paddings[i].second;
    b.begin[i] = static_cast<long>(paddings[i].first);
  }
  Variable y = box_scatter(x, b, full, constant_value);
  return y;
}

Variable tile(const Variable& x, const std::vector<std::size_t>& multiples) {
  Shape xs = x.shape();
  if (multiples.size() != xs.size())
    fail("tile", "multiples " + list_str(multiples) + " has " + std::to_string(multiples.size()) +
                     " entries but x has shape " + shape_str(xs) + " (rank " +
                     std::to_string(xs.size()) + ")");
  // (d0, d1) tiled by (m0, m1) = broadcast (1, d0, 1, d1) to (m0, d0, m1, d1), then merge pairs;
  // the gradient (sum over the m axes) comes from broadcast_to.
  std::vector<long> spread;
  Shape big;
  std::vector<long> out;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    spread.push_back(1);
    spread.push_back(static_cast<long>(xs[i]));
    big.push_back(multiples[i]);
    big.push_back(xs[i]);
    out.push_back(static_cast<long>(multiples[i] * xs[i]));
  }
  return reshape(broadcast_to(reshape(x, spread), big), out);
}

Variable expand_dims(const Variable& x, int axis) {
  Shape xs = x.shape();
  std::size_t ax = detail::normalize_axis("expand_dims", axis, xs.size() + 1);
  xs.insert(xs.begin() + static_cast<long>(ax), 1);
  return reshape(x, as_long(xs));
}

Variable squeeze(const Variable& x, const Axes& axes) {
  Shape xs = x.shape();
  std::vector<char> drop(xs.size(), 0);
  if (axes.empty()) {
    for (std::size_t i = 0; i < xs.size(); ++i) drop[i] = xs[i] == 1;
  } else {
    for (int a : axes) {
      std::size_t i = detail::normalize_axis("squeeze", a, xs.size());
      if (xs[i] != 1)
        fail_shape("squeeze", "cannot squeeze axis " + std::to_string(a) + " of x with shape " +
                                  shape_str(xs) + ": its length is " + std::to_string(xs[i]) +
                                  ", not 1");
      drop[i] = 1;
    }
  }
  std::vector<long> out;
  for (std::size_t i = 0; i < xs.size(); ++i)
    if (!drop[i]) out.push_back(static_cast<long>(xs[i]));
  return reshape(x, out);
}

Variable gather(const Variable& x, const IndexTensor& indices, int axis) {
  Shape xs = x.shape();
  std::size_t ax = detail::normalize_axis("gather", axis, xs.size());
  long d = static_cast<long>(xs[ax]);
  for (std::size_t j = 0; j < indices.size(); ++j) {
    long i = static_cast<long>(indices.data()[j]);
    if (i < 0 || i >= d)
      fail("gather", "index " + std::to_string(i) + " (at flat position " + std::to_string(j) +
                         " of indices) is out of range for axis " + std::to_string(ax) +
                         " of size " + std::to_string(d) + " (x has shape " + shape_str(xs) + ")");
  }
  return gather_checked(x, indices, ax);
}

}  // namespace tapeflow
