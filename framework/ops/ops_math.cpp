// Elementwise math ops. Every backward is written with differentiable ops so that gradients of
// gradients work; masks that select a branch (maximum, clip, where) are recorded as constants,
// as TF does, since the selection itself has no gradient.
#include <cmath>
#include <string>
#include <xtensor/xbroadcast.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>

#include "tapeflow/framework/ops/ops.hpp"

namespace tapeflow {

using detail::result;

namespace {

// A constant 0/1 mask as a Variable, so backward closures can select with `where`.
Variable mask(Tensor m) { return Variable(std::move(m)); }

// where(m, g, 0) without materializing zeros of the full shape.
Variable select(const Variable& m, const Variable& g) { return where(m, g, scalar(0.f)); }

Tensor to_mask(const auto& boolean_expr) { return Tensor(xt::cast<float>(boolean_expr)); }

}  // namespace

Variable exp(const Variable& x) {
  Variable y = result(Tensor(xt::exp(x.value())));
  if (detail::recording({&x}))
    // d exp(x) = exp(x): reuse the output instead of recomputing it.
    detail::record("exp", {x}, y,
                   [y](const Variable& g) { return std::vector<Variable>{mul(g, y)}; });
  return y;
}

Variable log(const Variable& x) {
  Variable y = result(Tensor(xt::log(x.value())));
  if (detail::recording({&x}))
    detail::record("log", {x}, y,
                   [x](const Variable& g) { return std::vector<Variable>{div(g, x)}; });
  return y;
}

Variable sqrt(const Variable& x) {
  Variable y = result(Tensor(xt::sqrt(x.value())));
  if (detail::recording({&x}))
    detail::record("sqrt", {x}, y, [y](const Variable& g) {
      return std::vector<Variable>{div(mul(g, scalar(0.5f)), y)};
    });
  return y;
}

Variable rsqrt(const Variable& x) {
  Variable y = result(Tensor(1.f / xt::sqrt(x.value())));
  if (detail::recording({&x}))
    // d x^-1/2 = -1/2 x^-3/2 = -1/2 y^3.
    detail::record("rsqrt", {x}, y, [y](const Variable& g) {
      return std::vector<Variable>{mul(mul(g, scalar(-0.5f)), mul(square(y), y))};
    });
  return y;
}

Variable square(const Variable& x) {
  Variable y = result(Tensor(x.value() * x.value()));
  if (detail::recording({&x}))
    detail::record("square", {x}, y, [x](const Variable& g) {
      return std::vector<Variable>{mul(g, mul(x, scalar(2.f)))};
    });
  return y;
}

Variable abs(const Variable& x) {
  Variable y = result(Tensor(xt::abs(x.value())));
  if (detail::recording({&x}))
    detail::record("abs", {x}, y,
                   [x](const Variable& g) { return std::vector<Variable>{mul(g, sign(x))}; });
  return y;
}

Variable sign(const Variable& x) {
  Variable y = result(Tensor(xt::sign(x.value())));
  if (detail::recording({&x}))
    // TF's SignGrad: a defined zero gradient, not "no gradient".
    detail::record("sign", {x}, y,
                   [](const Variable& g) { return std::vector<Variable>{mul(g, scalar(0.f))}; });
  return y;
}

Variable pow(const Variable& a, const Variable& b) {
  detail::broadcast_shape("pow", a.shape(), b.shape());
  Variable y = result(Tensor(xt::pow(a.value(), b.value())));
  if (detail::recording({&a, &b}))
    detail::record("pow", {a, b}, y, [a, b, y](const Variable& g) {
      Variable ga = mul(mul(g, b), pow(a, sub(b, scalar(1.f))));
      // TF: d/db = a^b log(a) where a > 0, else 0 (log is taken of 1 there to stay finite).
      Variable pos = mask(to_mask(a.value() > 0.f));
      Variable safe_log = log(where(pos, a, scalar(1.f)));
      Variable gb = mul(mul(g, y), select(pos, safe_log));
      return std::vector<Variable>{detail::unbroadcast(ga, a.shape()),
                                   detail::unbroadcast(gb, b.shape())};
    });
  return y;
}

namespace {
// maximum/minimum: `first` marks where a wins (ties included, as in TF). A NaN on either side
// gives NaN, as TF's Maximum/Minimum do; xt::maximum (`a > b ? a : b`) would return b for a NaN
// a. The gradient follows TF's mask (a >= b), so at a NaN it goes to b.
Variable extremum(const char* op, const Variable& a, const Variable& b, bool is_max) {
  Shape out = detail::broadcast_shape(op, a.shape(), b.shape());
  const Tensor& av = a.value();
  const Tensor& bv = b.value();
  Tensor v = is_max ? Tensor(xt::where(av > bv || xt::isnan(av), av, bv))
                    : Tensor(xt::where(av < bv || xt::isnan(av), av, bv));
  Variable y = result(std::move(v));
  if (detail::recording({&a, &b})) {
    Tensor first = is_max ? to_mask(xt::broadcast(a.value() >= b.value(), out))
                          : to_mask(xt::broadcast(a.value() <= b.value(), out));
    detail::record(
        op, {a, b}, y,
        [m = mask(std::move(first)), sa = a.shape(), sb = b.shape()](const Variable& g) {
          Variable ga = where(m, g, scalar(0.f));
          Variable gb = where(m, scalar(0.f), g);
          return std::vector<Variable>{detail::unbroadcast(ga, sa), detail::unbroadcast(gb, sb)};
        });
  }
  return y;
}
}  // namespace

Variable maximum(const Variable& a, const Variable& b) { return extremum("maximum", a, b, true); }
Variable minimum(const Variable& a, const Variable& b) { return extremum("minimum", a, b, false); }

Variable where(const Variable& cond, const Variable& a, const Variable& b) {
  Shape ab = detail::broadcast_shape("where", a.shape(), b.shape());
  Shape out = detail::broadcast_shape("where", cond.shape(), ab);
  Tensor c = to_mask(xt::broadcast(xt::not_equal(cond.value(), 0.f), out));
  Tensor v = xt::where(c, xt::broadcast(a.value(), out), xt::broadcast(b.value(), out));
  Variable y = result(std::move(v));
  if (detail::recording({&a, &b}))
    detail::record("where", {cond, a, b}, y,
                   [m = mask(std::move(c)), sa = a.shape(), sb = b.shape()](const Variable& g) {
                     Variable ga = where(m, g, scalar(0.f));
                     Variable gb = where(m, scalar(0.f), g);
                     return std::vector<Variable>{Variable(), detail::unbroadcast(ga, sa),
                                                  detail::unbroadcast(gb, sb)};
                   });
  return y;
}

Variable clip_by_value(const Variable& x, float clip_min, float clip_max) {
  if (!(clip_min <= clip_max))
    fail("clip_by_value", "clip_value_min " + std::to_string(clip_min) +
                              " is greater than clip_value_max " + std::to_string(clip_max));
  // NaN stays NaN (TF): neither comparison holds for it. Written out rather than xt::clip so
  // that this does not depend on how an xtensor version orders its min and max.
  const Tensor& xv = x.value();
  Variable y =
      result(Tensor(xt::where(xv < clip_min, clip_min, xt::where(xv > clip_max, clip_max, xv))));
  if (detail::recording({&x})) {
    // TF's ClipByValueGrad zeroes the gradient where x < min or x > max: it passes at a NaN.
    Tensor inside = to_mask(!(xv < clip_min || xv > clip_max));
    detail::record("clip_by_value", {x}, y, [m = mask(std::move(inside))](const Variable& g) {
      return std::vector<Variable>{select(m, g)};
    });
  }
  return y;
}

}  // namespace tapeflow
