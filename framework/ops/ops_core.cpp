// The ops the tape itself needs (arithmetic, sum, reshape, broadcast) and the helpers that
// every other op file uses.
#include <algorithm>
#include <numeric>
#include <xtensor/xbroadcast.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xreducer.hpp>

#include "tapeflow/framework/ops/ops.hpp"

namespace tapeflow {
namespace detail {

Shape broadcast_shape(const char* op, const Shape& a, const Shape& b) {
  std::size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t da = i + a.size() >= n ? a[i + a.size() - n] : 1;
    std::size_t db = i + b.size() >= n ? b[i + b.size() - n] : 1;
    if (da != db && da != 1 && db != 1)
      fail_shape(op, "shapes " + shape_str(a) + " and " + shape_str(b) +
                         " cannot be broadcast together (axis " + std::to_string(i) + ": " +
                         std::to_string(da) + " vs " + std::to_string(db) + ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Variable unbroadcast(const Variable& g, const Shape& shape) {
  Shape gs = g.shape();
  if (gs == shape) return g;
  std::size_t lead = gs.size() - shape.size();
  Axes axes;
  for (std::size_t i = 0; i < gs.size(); ++i)
    if (i < lead || (shape[i - lead] == 1 && gs[i] != 1)) axes.push_back(static_cast<int>(i));
  Variable s = axes.empty() ? g : sum(g, axes, false);
  return reshape(s, std::vector<long>(shape.begin(), shape.end()));
}

std::size_t normalize_axis(const char* op, int axis, std::size_t rank) {
  long r = static_cast<long>(rank);
  if (axis < -r || axis >= r)
    fail(op, "axis " + std::to_string(axis) + " is out of range for a tensor of rank " +
                 std::to_string(rank) + " (expected -" + std::to_string(rank) + " <= axis < " +
                 std::to_string(rank) + ")");
  return static_cast<std::size_t>(axis < 0 ? axis + r : axis);
}

std::vector<std::size_t> normalize_axes(const char* op, const Axes& axes, std::size_t rank) {
  std::vector<std::size_t> out;
  if (axes.empty()) {
    out.resize(rank);
    std::iota(out.begin(), out.end(), 0);
    return out;
  }
  for (int a : axes) out.push_back(normalize_axis(op, a, rank));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace detail

using detail::result;

Variable scalar(float v) { return Variable(Tensor(v)); }
Variable zeros_like(const Variable& x) { return Variable(Tensor(xt::zeros_like(x.value()))); }
Variable ones_like(const Variable& x) { return Variable(Tensor(xt::ones_like(x.value()))); }

namespace {
// Shared frame of the broadcasting binary ops: check shapes, compute, record.
template <class F, class B>
Variable binary(const char* op, const Variable& a, const Variable& b, F&& f, B&& backward) {
  detail::broadcast_shape(op, a.shape(), b.shape());
  Variable y = result(f(a.value(), b.value()));
  if (detail::recording({&a, &b})) detail::record(op, {a, b}, y, backward(y));
  return y;
}
}  // namespace

Variable add(const Variable& a, const Variable& b) {
  return binary(
      "add", a, b, [](const Tensor& x, const Tensor& z) { return Tensor(x + z); },
      [&](const Variable&) {
        return [sa = a.shape(), sb = b.shape()](const Variable& g) {
          return std::vector<Variable>{detail::unbroadcast(g, sa), detail::unbroadcast(g, sb)};
        };
      });
}

Variable sub(const Variable& a, const Variable& b) {
  return binary(
      "sub", a, b, [](const Tensor& x, const Tensor& z) { return Tensor(x - z); },
      [&](const Variable&) {
        return [sa = a.shape(), sb = b.shape()](const Variable& g) {
          return std::vector<Variable>{detail::unbroadcast(g, sa), detail::unbroadcast(neg(g), sb)};
        };
      });
}

Variable mul(const Variable& a, const Variable& b) {
  return binary(
      "mul", a, b, [](const Tensor& x, const Tensor& z) { return Tensor(x * z); },
      [&](const Variable&) {
        return [a, b](const Variable& g) {
          return std::vector<Variable>{detail::unbroadcast(mul(g, b), a.shape()),
                                       detail::unbroadcast(mul(g, a), b.shape())};
        };
      });
}

Variable div(const Variable& a, const Variable& b) {
  return binary(
      "div", a, b, [](const Tensor& x, const Tensor& z) { return Tensor(x / z); },
      [&](const Variable&) {
        return [a, b](const Variable& g) {
          return std::vector<Variable>{
              detail::unbroadcast(div(g, b), a.shape()),
              detail::unbroadcast(neg(div(mul(g, a), mul(b, b))), b.shape())};
        };
      });
}

Variable neg(const Variable& x) {
  Variable y = result(Tensor(-x.value()));
  if (detail::recording({&x}))
    detail::record("neg", {x}, y, [](const Variable& g) { return std::vector<Variable>{neg(g)}; });
  return y;
}

Variable sum(const Variable& x, const Axes& axes, bool keepdims) {
  auto ax = detail::normalize_axes("sum", axes, x.dim());
  Shape xs = x.shape();
  Shape kept = xs;
  for (auto a : ax) kept[a] = 1;
  Tensor v;
  if (x.value().size() == 0) {
    // The sum of no elements is 0; xtensor's reducers would step from an empty input's null
    // data (undefined behaviour).
    Shape out;
    for (std::size_t i = 0; i < xs.size(); ++i)
      if (std::find(ax.begin(), ax.end(), i) == ax.end()) out.push_back(xs[i]);
    v = Tensor(xt::zeros<float>(out));
  } else {
    v = ax.size() == xs.size() ? Tensor(xt::sum(x.value())) : Tensor(xt::sum(x.value(), ax));
  }
  if (keepdims) v.reshape(kept);
  Variable y = result(std::move(v));
  if (detail::recording({&x}))
    detail::record("sum", {x}, y, [xs, kept](const Variable& g) {
      return std::vector<Variable>{
          broadcast_to(reshape(g, std::vector<long>(kept.begin(), kept.end())), xs)};
    });
  return y;
}

Variable reshape(const Variable& x, const std::vector<long>& shape) {
  std::size_t n = x.size();
  long known = 1;
  int infer = -1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) fail("reshape", "shape " + shape_str(shape) + " has more than one -1");
      infer = static_cast<int>(i);
    } else if (shape[i] < 0) {
      fail("reshape", "shape " + shape_str(shape) + " has a negative size");
    } else {
      known *= shape[i];
    }
  }
  Shape out(shape.size());
  for (std::size_t i = 0; i < shape.size(); ++i) out[i] = static_cast<std::size_t>(shape[i]);
  if (infer >= 0) {
    if (known == 0 || n % static_cast<std::size_t>(known) != 0)
      fail_shape("reshape", "cannot reshape a tensor of shape " + shape_str(x.shape()) + " (" +
                                std::to_string(n) + " elements) to " + shape_str(shape));
    out[infer] = n / static_cast<std::size_t>(known);
  } else if (static_cast<std::size_t>(known) != n) {
    fail_shape("reshape", "cannot reshape a tensor of shape " + shape_str(x.shape()) + " (" +
                              std::to_string(n) + " elements) to " + shape_str(shape) + " (" +
                              std::to_string(known) + " elements)");
  }
  Tensor v = x.value();
  v.reshape(out);
  Variable y = result(std::move(v));
  if (detail::recording({&x}))
    detail::record("reshape", {x}, y, [xs = x.shape()](const Variable& g) {
      return std::vector<Variable>{reshape(g, std::vector<long>(xs.begin(), xs.end()))};
    });
  return y;
}

Variable broadcast_to(const Variable& x, const Shape& shape) {
  Shape xs = x.shape();
  if (detail::broadcast_shape("broadcast_to", xs, shape) != shape)
    fail_shape("broadcast_to",
               "cannot broadcast shape " + shape_str(xs) + " to " + shape_str(shape));
  if (xs == shape) {
    Variable y = result(x.value());
    if (detail::recording({&x}))
      detail::record("broadcast_to", {x}, y,
                     [](const Variable& g) { return std::vector<Variable>{g}; });
    return y;
  }
  Variable y = result(Tensor(xt::broadcast(x.value(), shape)));
  if (detail::recording({&x}))
    detail::record("broadcast_to", {x}, y, [xs](const Variable& g) {
      return std::vector<Variable>{detail::unbroadcast(g, xs)};
    });
  return y;
}

}  // namespace tapeflow
