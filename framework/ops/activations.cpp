// Activations. The smooth ones with a cheap closed-form derivative (sigmoid, tanh, softplus,
// elu, gelu, softmax, log_softmax) are single recorded ops: one pass over the data, a value
// that cannot overflow, and a backward built from differentiable ops (often on the op's own
// output, as TF does), so that gradients of gradients work. Piecewise-linear ones record their
// constant local slope. The rest are compositions of other ops.
#include "tapeflow/framework/ops/activations.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/framework/runtime/parallel.hpp"

namespace tapeflow::activations {

using tapeflow::detail::record;
using tapeflow::detail::recording;
using tapeflow::detail::result;

namespace {

// Elements handed to one thread at least: below that a split costs more than it saves.
constexpr std::size_t kElementGrain = std::size_t(1) << 15;

// Applies f to every element (Tensor is dense row-major), split over threads.
template <class F>
Tensor map(const Tensor& x, F f) {
  Tensor y = Tensor::from_shape(x.shape());
  const float* in = x.data();
  float* out = y.data();
  parallel_for(x.size(), kElementGrain, [&](std::size_t lo, std::size_t hi) {
    // Restricted local pointers: the loop vectorizes (out could alias the captured pointers).
    const float* __restrict src = in;
    float* __restrict dst = out;
    for (std::size_t i = lo; i < hi; ++i) dst[i] = f(src[i]);
  });
  return y;
}

// g * slope(x) element by element, in one pass: the backward of a piecewise-linear activation
// of x. Linear in g (recorded so, for any order); x is a constant here, as the slope is
// constant between the kinks (second derivative 0 a.e.).
template <class S>
Variable times_slope(const char* op, const Variable& g, const Variable& x, S slope) {
  if (g.shape() != x.shape())
    fail_shape(op, "the gradient has shape " + shape_str(g.shape()) + " but the input has " +
                       shape_str(x.shape()));
  Tensor y = Tensor::from_shape(x.shape());
  const float* pg = g.value().data();
  const float* px = x.value().data();
  float* out = y.data();
  parallel_for(y.size(), kElementGrain, [&](std::size_t lo, std::size_t hi) {
    const float* __restrict gs = pg;
    const float* __restrict xs = px;
    float* __restrict dst = out;
    for (std::size_t i = lo; i < hi; ++i) dst[i] = gs[i] * slope(xs[i]);
  });
  Variable r = result(std::move(y));
  if (recording({&g}))
    record(op, {g}, r, [op, x, slope](const Variable& gg) {
      return std::vector<Variable>{times_slope(op, gg, x, slope)};
    });
  return r;
}

// A piecewise-linear activation: its derivative is a constant per element, computed from the
// saved input when the backward runs (no slope tensor is kept between the passes).
template <class F, class S>
Variable piecewise_linear(const char* op, const Variable& x, F value, S slope) {
  Variable y = result(map(x.value(), value));
  if (recording({&x}))
    record(op, {x}, y, [op, x, slope](const Variable& g) {
      return std::vector<Variable>{times_slope(op, g, x, slope)};
    });
  return y;
}

float sigmoid_value(float v) {
  // Split on the sign so exp never overflows.
  if (v >= 0.f) return 1.f / (1.f + std::exp(-v));
  float e = std::exp(v);
  return e / (1.f + e);
}

float softplus_value(float v) { return std::max(v, 0.f) + std::log1p(std::exp(-std::abs(v))); }

constexpr float kInvSqrt2 = static_cast<float>(1.0 / std::numbers::sqrt2);

// erf as a recorded op, only for the gelu backward (d erf(x) = 2/sqrt(pi) exp(-x^2)), so that
// second derivatives of gelu work too.
Variable erf(const Variable& x) {
  Variable y = result(map(x.value(), [](float v) { return std::erf(v); }));
  if (recording({&x}))
    record("erf", {x}, y, [x](const Variable& g) {
      constexpr float k = static_cast<float>(2.0 * std::numbers::inv_sqrtpi);
      return std::vector<Variable>{mul(g, mul(exp(neg(square(x))), scalar(k)))};
    });
  return y;
}

// softmax / log_softmax along `ax` of a row-major tensor seen as (outer, n, inner), with the
// max subtracted first so that exp never overflows.
Tensor softmax_value(const Tensor& x, std::size_t ax, bool log_space) {
  std::size_t outer = 1, n = x.shape()[ax], inner = 1;
  for (std::size_t i = 0; i < x.dimension(); ++i) {
    if (i < ax) outer *= x.shape()[i];
    if (i > ax) inner *= x.shape()[i];
  }
  Tensor y = Tensor::from_shape(x.shape());
  const float* in = x.data();
  float* out = y.data();
  for (std::size_t o = 0; o < outer; ++o)
    for (std::size_t j = 0; j < inner; ++j) {
      const float* row = in + o * n * inner + j;
      float* dst = out + o * n * inner + j;
      float m = -std::numeric_limits<float>::infinity();
      for (std::size_t k = 0; k < n; ++k) m = std::max(m, row[k * inner]);
      double s = 0;
      for (std::size_t k = 0; k < n; ++k) {
        float e = std::exp(row[k * inner] - m);
        dst[k * inner] = e;
        s += e;
      }
      if (log_space) {
        float lse = static_cast<float>(std::log(s));
        for (std::size_t k = 0; k < n; ++k) dst[k * inner] = (row[k * inner] - m) - lse;
      } else {
        float inv = static_cast<float>(1.0 / s);
        for (std::size_t k = 0; k < n; ++k) dst[k * inner] *= inv;
      }
    }
  return y;
}

}  // namespace

Variable linear(const Variable& x) { return x; }

Variable relu(const Variable& x) {
  // NaN stays NaN (TF's Relu); `v > 0 ? v : 0` alone turned it into 0. The slope at NaN is 0,
  // as TF's ReluGrad (computed on the output, `y > 0`).
  return piecewise_linear(
      "relu", x, [](float v) { return v > 0.f || std::isnan(v) ? v : 0.f; },
      [](float v) { return v > 0.f ? 1.f : 0.f; });
}

Variable relu(const Variable& x, float negative_slope, std::optional<float> max_value,
              float threshold) {
  if (max_value && std::isnan(*max_value)) fail("relu", "max_value is NaN");
  // Keras' own shortcuts, kept because their gradients at the kinks differ.
  if (negative_slope != 0.f && !max_value && threshold == 0.f) return leaky_relu(x, negative_slope);
  if (negative_slope == 0.f && threshold == 0.f && !max_value) return relu(x);
  if (negative_slope == 0.f && threshold == 0.f && *max_value == 6.f) return relu6(x);
  // Keras' order (keras.activations.relu): first `x` above the threshold and 0 at or below it,
  // then that clipped to [0, max_value], then `negative_slope * relu(threshold - x)` subtracted.
  // So the threshold wins over max_value: x = 5, threshold 5, max_value 5 gives 0. NaN stays NaN
  // (TF 2's `x * cast(x > threshold)`; Keras 3's `where` would give 0 there).
  const bool clip = max_value.has_value();
  const float hi = clip ? *max_value : 0.f;
  // With no threshold and max_value 6 Keras calls relu6, whose gradient is 0 at 6 too.
  const bool relu6_kink = clip && threshold == 0.f && hi == 6.f;
  return piecewise_linear(
      "relu", x,
      [=](float v) {
        if (std::isnan(v)) return v;
        float pos = threshold != 0.f ? (v > threshold ? v : 0.f) : std::max(v, 0.f);
        if (clip) pos = std::max(std::min(pos, hi), 0.f);  // tf.clip_by_value(pos, 0, hi)
        return pos - negative_slope * std::max(threshold - v, 0.f);
      },
      [=](float v) {
        // TF's gradients of each piece: relu's (y > 0), clip_by_value's (0 outside [0, hi]).
        float pos = v > threshold ? v : 0.f;
        float d = v > threshold ? 1.f : 0.f;
        if (clip && (pos > hi || pos < 0.f || (relu6_kink && pos >= hi))) d = 0.f;
        if (threshold - v > 0.f) d += negative_slope;
        return d;
      });
}

Variable relu6(const Variable& x) {
  return piecewise_linear(
      "relu6", x, [](float v) { return std::min(std::max(v, 0.f), 6.f); },
      [](float v) { return v > 0.f && v < 6.f ? 1.f : 0.f; });
}

Variable leaky_relu(const Variable& x) { return leaky_relu(x, kLeakyReluSlope); }

Variable leaky_relu(const Variable& x, float negative_slope) {
  return piecewise_linear(
      "leaky_relu", x, [=](float v) { return v > 0.f ? v : negative_slope * v; },
      [=](float v) { return v > 0.f ? 1.f : negative_slope; });
}

Variable elu(const Variable& x) { return elu(x, 1.f); }

Variable elu(const Variable& x, float alpha) {
  const Tensor& xv = x.value();
  Variable y = result(map(xv, [=](float v) { return v > 0.f ? v : alpha * std::expm1(v); }));
  if (recording({&x})) {
    // On the negative side the derivative alpha*exp(x) equals y + alpha: written on the output
    // so that it is itself differentiable.
    Variable pos(map(xv, [](float v) { return v > 0.f ? 1.f : 0.f; }));
    Variable neg_side(map(xv, [](float v) { return v > 0.f ? 0.f : 1.f; }));
    record("elu", {x}, y, [y, pos, neg_side, alpha](const Variable& g) {
      return std::vector<Variable>{mul(g, add(pos, mul(neg_side, add(y, scalar(alpha)))))};
    });
  }
  return y;
}

Variable selu(const Variable& x) { return mul(elu(x, kSeluAlpha), scalar(kSeluScale)); }

Variable gelu(const Variable& x) { return gelu(x, false); }

Variable gelu(const Variable& x, bool approximate) {
  if (approximate) {
    constexpr float c = static_cast<float>(std::numbers::sqrt2 * std::numbers::inv_sqrtpi);
    Variable inner = mul(add(x, mul(mul(square(x), x), scalar(0.044715f))), scalar(c));
    return mul(mul(x, scalar(0.5f)), add(tanh(inner), scalar(1.f)));
  }
  Variable y =
      result(map(x.value(), [](float v) { return 0.5f * v * (1.f + std::erf(v * kInvSqrt2)); }));
  if (recording({&x}))
    record("gelu", {x}, y, [x](const Variable& g) {
      // d/dx x*Phi(x) = Phi(x) + x*phi(x).
      constexpr float inv_sqrt_2pi =
          static_cast<float>(std::numbers::inv_sqrtpi / std::numbers::sqrt2);
      Variable cdf = mul(add(erf(mul(x, scalar(kInvSqrt2))), scalar(1.f)), scalar(0.5f));
      Variable pdf = mul(exp(mul(square(x), scalar(-0.5f))), scalar(inv_sqrt_2pi));
      return std::vector<Variable>{mul(g, add(cdf, mul(x, pdf)))};
    });
  return y;
}

Variable silu(const Variable& x) { return mul(x, sigmoid(x)); }
Variable swish(const Variable& x) { return silu(x); }

Variable sigmoid(const Variable& x) {
  Variable y = result(map(x.value(), sigmoid_value));
  if (recording({&x}))
    record("sigmoid", {x}, y, [y](const Variable& g) {
      return std::vector<Variable>{mul(g, mul(y, sub(scalar(1.f), y)))};
    });
  return y;
}

Variable hard_sigmoid(const Variable& x) {
  return piecewise_linear(
      "hard_sigmoid", x, [](float v) { return std::min(std::max(0.2f * v + 0.5f, 0.f), 1.f); },
      [](float v) { return v > -2.5f && v < 2.5f ? 0.2f : 0.f; });
}

Variable tanh(const Variable& x) {
  Variable y = result(map(x.value(), [](float v) { return std::tanh(v); }));
  if (recording({&x}))
    record("tanh", {x}, y, [y](const Variable& g) {
      return std::vector<Variable>{mul(g, sub(scalar(1.f), square(y)))};
    });
  return y;
}

Variable softplus(const Variable& x) {
  Variable y = result(map(x.value(), softplus_value));
  if (recording({&x}))
    record("softplus", {x}, y,
           [x](const Variable& g) { return std::vector<Variable>{mul(g, sigmoid(x))}; });
  return y;
}

Variable softsign(const Variable& x) { return div(x, add(abs(x), scalar(1.f))); }

Variable softmax(const Variable& x) { return softmax(x, -1); }

Variable softmax(const Variable& x, int axis) {
  std::size_t ax = tapeflow::detail::normalize_axis("softmax", axis, x.dim());
  Variable y = result(softmax_value(x.value(), ax, false));
  if (recording({&x}))
    record("softmax", {x}, y, [y, axis](const Variable& g) {
      // J^T g = y * (g - sum(g * y)) along the axis.
      return std::vector<Variable>{mul(y, sub(g, sum(mul(g, y), {axis}, true)))};
    });
  return y;
}

Variable log_softmax(const Variable& x) { return log_softmax(x, -1); }

Variable log_softmax(const Variable& x, int axis) {
  std::size_t ax = tapeflow::detail::normalize_axis("log_softmax", axis, x.dim());
  Variable y = result(softmax_value(x.value(), ax, true));
  if (recording({&x}))
    record("log_softmax", {x}, y, [y, axis](const Variable& g) {
      // J^T g = g - softmax(x) * sum(g), with softmax(x) = exp(y).
      return std::vector<Variable>{sub(g, mul(exp(y), sum(g, {axis}, true)))};
    });
  return y;
}

Variable exponential(const Variable& x) { return exp(x); }

// ---- NamedActivation ----------------------------------------------------------------------------

namespace {

struct Builtin {
  const char* name;
  ActivationPtr fn;
};

// The registry, in the order names() reports. Overloaded functions name their one-argument form.
const std::vector<Builtin>& builtins() {
  static const std::vector<Builtin> table = {
      {"linear", &linear},
      {"relu", static_cast<ActivationPtr>(&relu)},
      {"relu6", &relu6},
      {"leaky_relu", static_cast<ActivationPtr>(&leaky_relu)},
      {"elu", static_cast<ActivationPtr>(&elu)},
      {"selu", &selu},
      {"gelu", static_cast<ActivationPtr>(&gelu)},
      {"swish", &swish},
      {"silu", &silu},
      {"sigmoid", &sigmoid},
      {"hard_sigmoid", &hard_sigmoid},
      {"tanh", &tanh},
      {"softplus", &softplus},
      {"softsign", &softsign},
      {"softmax", static_cast<ActivationPtr>(&softmax)},
      {"log_softmax", static_cast<ActivationPtr>(&log_softmax)},
      {"exponential", &exponential},
  };
  return table;
}

}  // namespace

NamedActivation::NamedActivation() : fn_(&linear), name_("linear") {}

NamedActivation::NamedActivation(const char* name) {
  if (name == nullptr) fail("activation", "the name is a null pointer");
  *this = get(name);
}

NamedActivation::NamedActivation(const std::string& name) { *this = get(name); }

NamedActivation::NamedActivation(ActivationPtr fn) : fn_(fn), name_("custom") {
  if (fn == nullptr) fail("activation", "the function is a null pointer");
  for (const auto& b : builtins())
    if (b.fn == fn) {
      name_ = b.name;
      break;
    }
}

NamedActivation::NamedActivation(ActivationFn fn, std::string name)
    : fn_(std::move(fn)), name_(std::move(name)) {
  if (!fn_) fail("activation", "the function '" + name_ + "' is empty");
}

Variable NamedActivation::operator()(const Variable& x) const { return fn_(x); }

NamedActivation get(const std::string& name) {
  for (const auto& b : builtins())
    if (name == b.name) return NamedActivation(ActivationFn(b.fn), b.name);
  std::string known;
  for (const auto& b : builtins()) known += (known.empty() ? "" : ", ") + std::string(b.name);
  fail("activation", "unknown activation '" + name + "' (known, case-sensitive: " + known + ")");
}

std::vector<std::string> names() {
  std::vector<std::string> out;
  for (const auto& b : builtins()) out.emplace_back(b.name);
  return out;
}

std::string config_write(const NamedActivation& activation) { return activation.name(); }

void config_read(const std::string& where, const std::string& key, const std::string& text,
                 NamedActivation& out) {
  try {
    out = get(text);
  } catch (const Error& e) {
    e.rethrow_in(where + ": config key '" + key + "' has value '" + text + "'");
  }
}

}  // namespace tapeflow::activations
