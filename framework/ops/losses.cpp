// Keras losses, built from differentiable ops (softplus and log_softmax are the stable fused
// activations), so their gradients of any order come from the tape. The mean squared error is
// one fused op (a training step's usual loss over whole volumes), whose backward runs as ops
// when another tape records it.
#include "tapeflow/framework/ops/losses.hpp"

#include <cmath>
#include <map>
#include <sstream>

#include "tapeflow/framework/core/strings.hpp"
#include "tapeflow/framework/ops/activations.hpp"
#include "tapeflow/framework/ops/detail/axis_view.hpp"
#include "tapeflow/framework/runtime/parallel.hpp"

namespace tapeflow::losses {

using detail::as_long;

namespace {

Shape with_trailing_one(Shape s) {
  s.push_back(1);
  return s;
}

// Keras' squeeze_or_expand_to_same_rank: equal shapes, or equal up to one trailing 1 (then
// y_true takes y_pred's shape). Broadcasting anything else would silently change the loss.
Variable align(const char* loss, const Variable& y_true, const Variable& y_pred) {
  if (!y_true.defined() || !y_pred.defined())
    fail(loss, std::string(y_true.defined() ? "y_pred" : "y_true") + " is undefined");
  Shape st = y_true.shape(), sp = y_pred.shape();
  if (st == sp) return y_true;
  if (with_trailing_one(st) == sp || with_trailing_one(sp) == st)
    return reshape(y_true, as_long(sp));
  fail_shape(loss, "y_true has shape " + shape_str(st) + " but y_pred has shape " + shape_str(sp) +
                       " (they must be equal, up to a trailing axis of length 1)");
}

void check_smoothing(const char* loss, float label_smoothing) {
  if (!(label_smoothing >= 0.f && label_smoothing <= 1.f))
    fail(loss, "label_smoothing " + std::to_string(label_smoothing) + " is outside [0, 1]");
}

std::string number_str(float v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

// -mean(sum(onehot(labels) * log_probs, -1)) for checked labels given as floats or integers.
template <class LabelTensor>
Variable sparse_cce(const LabelTensor& labels, const Variable& y_pred, bool from_logits) {
  const char* loss = "sparse_categorical_crossentropy";
  if (!y_pred.defined()) fail(loss, "y_pred is undefined");
  Shape sp = y_pred.shape();
  Shape sl(labels.shape().begin(), labels.shape().end());
  if (sp.empty())
    fail(loss,
         "y_pred has shape () but needs a class axis (labels have shape " + shape_str(sl) + ")");
  Shape lead(sp.begin(), sp.end() - 1);
  if (sl != lead && sl != with_trailing_one(lead))
    fail_shape(loss, "labels have shape " + shape_str(sl) + " but y_pred has shape " +
                         shape_str(sp) + " (labels must have shape " + shape_str(lead) + " or " +
                         shape_str(with_trailing_one(lead)) + ")");
  std::size_t classes = sp.back();
  Tensor onehot = xt::zeros<float>(sp);
  const auto* lab = labels.data();
  for (std::size_t i = 0, n = labels.size(); i < n; ++i) {
    double v = static_cast<double>(lab[i]);
    if (!(std::floor(v) == v))
      fail(loss, "label " + number_str(static_cast<float>(v)) + " (element " + std::to_string(i) +
                     ") is not an integer class index");
    if (v < 0 || v >= static_cast<double>(classes))
      fail(loss, "label " + number_str(static_cast<float>(v)) + " (element " + std::to_string(i) +
                     ") is out of range for " + std::to_string(classes) +
                     " classes (expected 0 <= label < " + std::to_string(classes) + ")");
    onehot.data()[i * classes + static_cast<std::size_t>(v)] = 1.f;
  }
  // Keras 3 takes log of the clipped probabilities then a softmax cross-entropy, which
  // renormalizes them; on logits that is log_softmax directly.
  Variable logp = from_logits ? activations::log_softmax(y_pred, -1)
                              : activations::log_softmax(
                                    log(clip_by_value(y_pred, kEpsilon, 1.f - kEpsilon)), -1);
  return mean(neg(sum(mul(Variable(std::move(onehot)), logp), {-1})));
}

}  // namespace

namespace {
// mean((p - t)^2) over every element, in one pass (chunks summed in double, in chunk order:
// the same value at any thread count); the backward is 2 (p - t) / n times the incoming
// gradient for p and its negation for t, in one pass, or as ops when another tape records it.
Variable fused_mean_squared_error(const Variable& t, const Variable& p) {
  const std::size_t n = p.value().size();
  const float* pt = t.value().data();
  const float* pp = p.value().data();
  constexpr std::size_t kChunk = std::size_t(1) << 14;
  const std::size_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> partial(chunks, 0.0);
  parallel_for(chunks, 1, [&](std::size_t a, std::size_t b) {
    for (std::size_t k = a; k < b; ++k) {
      float s = 0.f;
      for (std::size_t i = k * kChunk; i < std::min(n, (k + 1) * kChunk); ++i) {
        const float d = pp[i] - pt[i];
        s += d * d;
      }
      partial[k] = s;
    }
  });
  double total = 0;
  for (double s : partial) total += s;
  Tensor value = Tensor::from_shape({});
  value() = n ? float(total / double(n)) : NAN;
  Variable loss = detail::result(std::move(value), "mean_squared_error");
  // Whether a tape wants t's gradient (the targets usually are constants: no pass for them).
  const bool need_t = detail::recording({&t});
  if (detail::recording({&t, &p}))
    detail::record("mean_squared_error", {t, p}, loss, [t, p, n, need_t](const Variable& g) {
      if (detail::recording({&g, &t, &p})) {
        // Another tape records this backward: as ops (higher orders).
        Variable d = mul(sub(p, t), mul(g, scalar(2.f / float(n))));
        return std::vector<Variable>{neg(d), d};
      }
      const float k = 2.f * g.value()() / float(n);
      Tensor dp = Tensor::from_shape(p.shape());
      Tensor dt = need_t ? Tensor::from_shape(p.shape()) : Tensor();
      const float* a = p.value().data();
      const float* b = t.value().data();
      float* op = dp.data();
      float* ot = need_t ? dt.data() : nullptr;
      parallel_for(n, kChunk, [&](std::size_t lo, std::size_t hi) {
        for (std::size_t i = lo; i < hi; ++i) op[i] = k * (a[i] - b[i]);
        if (ot)
          for (std::size_t i = lo; i < hi; ++i) ot[i] = -op[i];
      });
      return std::vector<Variable>{need_t ? Variable(std::move(dt)) : Variable(),
                                   Variable(std::move(dp))};
    });
  return loss;
}
}  // namespace

Variable mean_squared_error(const Variable& y_true, const Variable& y_pred) {
  Variable t = align("mean_squared_error", y_true, y_pred);
  return fused_mean_squared_error(t, y_pred);
}

Variable mean_absolute_error(const Variable& y_true, const Variable& y_pred) {
  Variable t = align("mean_absolute_error", y_true, y_pred);
  return mean(abs(sub(y_pred, t)));
}

Variable huber(const Variable& y_true, const Variable& y_pred, float delta) {
  Variable t = align("huber", y_true, y_pred);
  if (!(delta >= 0.f)) fail("huber", "delta " + std::to_string(delta) + " must be >= 0");
  Variable e = sub(y_pred, t);
  Variable a = abs(e);
  Variable inside(Tensor(xt::cast<float>(a.value() <= delta)));
  Variable quadratic = mul(square(e), scalar(0.5f));
  Variable linear = sub(mul(a, scalar(delta)), scalar(0.5f * delta * delta));
  return mean(where(inside, quadratic, linear));
}

Variable binary_crossentropy(const Variable& y_true, const Variable& y_pred, bool from_logits,
                             float label_smoothing) {
  Variable t = align("binary_crossentropy", y_true, y_pred);
  check_smoothing("binary_crossentropy", label_smoothing);
  if (label_smoothing > 0.f)
    t = add(mul(t, scalar(1.f - label_smoothing)), scalar(0.5f * label_smoothing));
  if (from_logits)
    // max(x, 0) - x t + log(1 + exp(-|x|)) == softplus(x) - x t; softplus is the stable op.
    return mean(sub(activations::softplus(y_pred), mul(y_pred, t)));
  Variable p = clip_by_value(y_pred, kEpsilon, 1.f - kEpsilon);
  Variable ll = add(mul(t, log(p)), mul(sub(scalar(1.f), t), log(sub(scalar(1.f), p))));
  return mean(neg(ll));
}

Variable categorical_crossentropy(const Variable& y_true, const Variable& y_pred, bool from_logits,
                                  int axis, float label_smoothing) {
  const char* loss = "categorical_crossentropy";
  Variable t = align(loss, y_true, y_pred);
  std::size_t ax = tapeflow::detail::normalize_axis(loss, axis, y_pred.dim());
  check_smoothing(loss, label_smoothing);
  if (label_smoothing > 0.f) {
    float classes = static_cast<float>(y_pred.shape()[ax]);
    t = add(mul(t, scalar(1.f - label_smoothing)), scalar(label_smoothing / classes));
  }
  Variable logp;
  if (from_logits) {
    logp = activations::log_softmax(y_pred, axis);
  } else {
    Variable p = div(y_pred, sum(y_pred, {axis}, true));
    logp = log(clip_by_value(p, kEpsilon, 1.f - kEpsilon));
  }
  return mean(neg(sum(mul(t, logp), {axis})));
}

Variable sparse_categorical_crossentropy(const IndexTensor& labels, const Variable& y_pred,
                                         bool from_logits) {
  return sparse_cce(labels, y_pred, from_logits);
}

Variable sparse_categorical_crossentropy(const Variable& labels, const Variable& y_pred,
                                         bool from_logits) {
  if (!labels.defined()) fail("sparse_categorical_crossentropy", "labels are undefined");
  return sparse_cce(labels.value(), y_pred, from_logits);
}

Variable sparse_categorical_crossentropy(const Tensor& labels, const Variable& y_pred,
                                         bool from_logits) {
  return sparse_cce(labels, y_pred, from_logits);
}

namespace {
const std::map<std::string, LossFunction>& loss_table() {
  static const std::map<std::string, LossFunction> table{
      {"mean_squared_error",
       [](const Variable& t, const Variable& p) { return mean_squared_error(t, p); }},
      {"mse", [](const Variable& t, const Variable& p) { return mean_squared_error(t, p); }},
      {"mean_absolute_error",
       [](const Variable& t, const Variable& p) { return mean_absolute_error(t, p); }},
      {"mae", [](const Variable& t, const Variable& p) { return mean_absolute_error(t, p); }},
      {"huber", [](const Variable& t, const Variable& p) { return huber(t, p); }},
      {"binary_crossentropy",
       [](const Variable& t, const Variable& p) { return binary_crossentropy(t, p); }},
      {"categorical_crossentropy",
       [](const Variable& t, const Variable& p) { return categorical_crossentropy(t, p); }},
      {"sparse_categorical_crossentropy",
       [](const Variable& t, const Variable& p) { return sparse_categorical_crossentropy(t, p); }},
  };
  return table;
}
}  // namespace

std::vector<std::string> loss_names() {
  std::vector<std::string> names;
  for (const auto& [name, fn] : loss_table()) names.push_back(name);
  return names;
}

LossFunction get(const std::string& name) {
  // The class names (MeanSquaredError, Huber, ...) are the function names in CamelCase.
  const std::string key = name.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos
                              ? tapeflow::detail::camel_to_snake(name)
                              : name;
  auto it = loss_table().find(key);
  if (it == loss_table().end()) {
    std::string known;
    for (const auto& n : loss_names()) known += (known.empty() ? "" : ", ") + n;
    fail("loss", "unknown loss '" + name + "'; known: " + known);
  }
  return it->second;
}

}  // namespace tapeflow::losses
