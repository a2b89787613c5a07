// Reductions other than sum (which lives in ops_core.cpp because the tape needs it).
//
// prod's gradient is the product of all *other* elements of each group. Dividing the output by
// the element fails on zeros, so it is built from exclusive prefix and suffix products. Those
// come from a linear-recurrence scan `S_k = a_k + w S_(k-1)` whose gradient is the same scan run
// the other way, so the construction is closed under differentiation: gradients of any order
// stay exact with zeros in the input.
#include <algorithm>
#include <cmath>
#include <string>
#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>
#include <xtensor/xreducer.hpp>

#include "tapeflow/framework/ops/detail/axis_view.hpp"
#include "tapeflow/framework/ops/ops.hpp"

namespace tapeflow {

using detail::as_long;
using detail::AxisView;
using detail::result;

namespace {

// up: y_j = x_(j+1), last = 0. Down: y_j = x_(j-1), first = 0. Each is the other's adjoint.
Variable shift(const Variable& x, std::size_t axis, bool up) {
  AxisView v(x.shape(), axis);
  const Tensor& xv = x.value();
  Tensor y = xt::zeros<float>(xv.shape());
  const float* src = xv.data();
  float* dst = y.data();
  for (std::size_t o = 0; o < v.outer; ++o)
    for (std::size_t k = 0; k + 1 < v.n; ++k) {
      std::size_t to = (o * v.n + (up ? k : k + 1)) * v.inner;
      std::size_t from = (o * v.n + (up ? k + 1 : k)) * v.inner;
      for (std::size_t i = 0; i < v.inner; ++i) dst[to + i] = src[from + i];
    }
  Variable out = result(std::move(y));
  if (detail::recording({&x}))
    detail::record("shift", {x}, out, [axis, up](const Variable& g) {
      return std::vector<Variable>{shift(g, axis, !up)};
    });
  return out;
}

// Forward: S_0 = a_0, S_k = a_k + w_(k-1) S_(k-1). Reverse: S_(n-1) = a_(n-1),
// S_k = a_k + w_k S_(k+1). w's entry past the last link is unused (zero gradient).
Variable scan(const Variable& a, const Variable& w, std::size_t axis, bool reverse) {
  AxisView v(a.shape(), axis);
  Tensor s = a.value();
  const float* wp = w.value().data();
  float* sp = s.data();
  for (std::size_t o = 0; o < v.outer; ++o)
    for (std::size_t step = 1; step < v.n; ++step) {
      std::size_t k = reverse ? v.n - 1 - step : step;
      std::size_t prev = reverse ? k + 1 : k - 1;
      std::size_t link = reverse ? k : k - 1;
      std::size_t base = o * v.n * v.inner;
      for (std::size_t i = 0; i < v.inner; ++i)
        sp[base + k * v.inner + i] += wp[base + link * v.inner + i] * sp[base + prev * v.inner + i];
    }
  Variable y = result(std::move(s));
  if (detail::recording({&a, &w}))
    detail::record("scan", {a, w}, y, [w, y, axis, reverse](const Variable& g) {
      Variable t = scan(g, w, axis, !reverse);
      // Link j joins positions j and j+1: its gradient is adjoint(later) * state(earlier).
      Variable gw = reverse ? mul(t, shift(y, axis, true)) : mul(shift(t, axis, true), y);
      return std::vector<Variable>{t, gw};
    });
  return y;
}

// prod over one axis, keepdims.
Variable prod_axis(const Variable& x, std::size_t axis) {
  Shape xs = x.shape();
  Shape kept = xs;
  kept[axis] = 1;
  // A plain loop: xt::prod does pointer arithmetic on the null data of an empty tensor.
  AxisView av(xs, axis);
  Tensor v = xt::ones<float>(kept);
  const float* xp = x.value().data();
  float* vp = v.data();
  for (std::size_t o = 0; o < av.outer; ++o)
    for (std::size_t k = 0; k < av.n; ++k)
      for (std::size_t i = 0; i < av.inner; ++i)
        vp[o * av.inner + i] *= xp[(o * av.n + k) * av.inner + i];
  Variable y = result(std::move(v));
  if (detail::recording({&x}))
    detail::record("prod", {x}, y, [x, xs, kept, axis](const Variable& g) {
      AxisView av(xs, axis);
      Tensor first = xt::zeros<float>(xs), last = xt::zeros<float>(xs);
      for (std::size_t o = 0; o < av.outer; ++o)
        for (std::size_t i = 0; i < av.inner; ++i) {
          first.data()[o * av.n * av.inner + i] = 1.f;
          if (av.n) last.data()[(o * av.n + av.n - 1) * av.inner + i] = 1.f;
        }
      Variable before = scan(Variable(std::move(first)), x, axis, false);
      // Suffix products link k to k+1 through x_(k+1), prefix products through x_k.
      Variable after = scan(Variable(std::move(last)), shift(x, axis, true), axis, true);
      return std::vector<Variable>{mul(broadcast_to(g, xs), mul(before, after))};
    });
  return y;
}

Shape reduced_shape(const Shape& xs, const std::vector<std::size_t>& ax, bool keepdims) {
  Shape out;
  for (std::size_t i = 0, j = 0; i < xs.size(); ++i) {
    bool r = j < ax.size() && ax[j] == i;
    if (r) ++j;
    if (!r)
      out.push_back(xs[i]);
    else if (keepdims)
      out.push_back(1);
  }
  return out;
}

// max or min over one axis of a non-empty axis, keepdims. A NaN wins over any number and stays,
// as in TF's reduce_max/reduce_min; xt::amax's `acc > x ? acc : x` keeps the next number after
// a NaN accumulator, so a NaN survived only as the last element of its group.
template <bool IsMax>
Tensor extremum_axis(const Tensor& x, std::size_t axis) {
  Shape kept = shape_of(x);
  const AxisView v(kept, axis);
  kept[axis] = 1;
  Tensor y = Tensor::from_shape(kept);
  const float* xp = x.data();
  float* yp = y.data();
  for (std::size_t o = 0; o < v.outer; ++o) {
    const float* in = xp + o * v.n * v.inner;
    float* out = yp + o * v.inner;
    std::copy(in, in + v.inner, out);
    for (std::size_t k = 1; k < v.n; ++k) {
      const float* row = in + k * v.inner;
      for (std::size_t i = 0; i < v.inner; ++i) {
        const float c = row[i];
        // Once out[i] is NaN neither test holds again, so the NaN stays.
        if ((IsMax ? c > out[i] : c < out[i]) || std::isnan(c)) out[i] = c;
      }
    }
  }
  return y;
}

// max and min: the gradient is shared equally among the elements equal to the result (TF).
Variable extremum(const char* op, const Variable& x, const Axes& axes, bool keepdims, bool is_max) {
  auto ax = detail::normalize_axes(op, axes, x.dim());
  Shape xs = x.shape();
  for (auto a : ax)
    if (xs[a] == 0)
      fail_shape(op, "cannot reduce axis " + std::to_string(a) + " of length 0 (input shape " +
                         shape_str(xs) + "): the reduction has no identity");
  Shape kept = reduced_shape(xs, ax, true);
  Tensor v;
  if (ax.empty()) {
    v = x.value();
  } else {
    // One axis at a time (keepdims, so the other axes keep their numbers).
    auto reduce = is_max ? extremum_axis<true> : extremum_axis<false>;
    v = reduce(x.value(), ax[0]);
    for (std::size_t i = 1; i < ax.size(); ++i) v = reduce(v, ax[i]);
  }
  v.reshape(reduced_shape(xs, ax, keepdims));
  Variable y = result(std::move(v));
  if (detail::recording({&x})) {
    // Each element's share of the gradient: 1 / (number of ties) where it equals the result.
    Tensor top = y.value();
    top.reshape(kept);
    Tensor hit = xt::cast<float>(xt::equal(x.value(), top));
    Tensor count = ax.empty() ? hit : Tensor(xt::sum(hit, ax));
    count.reshape(kept);
    hit /= count;
    detail::record(op, {x}, y, [share = Variable(std::move(hit)), xs, kept](const Variable& g) {
      return std::vector<Variable>{mul(broadcast_to(reshape(g, as_long(kept)), xs), share)};
    });
  }
  return y;
}

}  // namespace

Variable mean(const Variable& x, const Axes& axes, bool keepdims) {
  auto ax = detail::normalize_axes("mean", axes, x.dim());
  Shape xs = x.shape();
  double count = 1;
  for (auto a : ax) count *= double(xs[a]);
  // An empty reduction divides 0 by 0, giving NaN like NumPy and TF.
  return mul(sum(x, axes, keepdims), scalar(float(1.0 / count)));
}

Variable max(const Variable& x, const Axes& axes, bool keepdims) {
  return extremum("max", x, axes, keepdims, true);
}

Variable min(const Variable& x, const Axes& axes, bool keepdims) {
  return extremum("min", x, axes, keepdims, false);
}

Variable prod(const Variable& x, const Axes& axes, bool keepdims) {
  auto ax = detail::normalize_axes("prod", axes, x.dim());
  // One axis at a time: each step's gradient is exact, and the chain rule composes them.
  Variable y = x;
  for (auto a : ax) y = prod_axis(y, a);
  if (!keepdims || ax.empty()) y = reshape(y, as_long(reduced_shape(x.shape(), ax, keepdims)));
  return y;
}

}  // namespace tapeflow
