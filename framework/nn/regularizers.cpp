#include "tapeflow/framework/nn/regularizers.hpp"

#include <cctype>
#include <cmath>

#include "tapeflow/framework/core/strings.hpp"
#include "tapeflow/framework/nn/detail/repr.hpp"
#include "tapeflow/framework/ops/ops.hpp"

namespace tapeflow {

namespace {

// Keras 3's `validate_float_arg`: a factor must be a finite number >= 0 (0 is allowed: no
// penalty). A negative factor would reward large weights; Keras rejects it, and so do we.
void check_penalty(const char* where, const char* arg, float v) {
  if (!std::isfinite(v) || v < 0.f)
    fail(where, "invalid value for argument " + std::string(arg) +
                    ": expected a non-negative float, got " + arg + "=" + config_float(v));
}

// Keras 3 OrthogonalRegularizer: the rows (or columns) of a rank-2 weight L2-normalized as
// `x * rsqrt(max(sum(x^2), eps^2))` (eps = 1e-7), then `factor * 0.5 * sum|P - diag(P)| /
// num_pairs` over their Gram matrix P, num_pairs = size * (size - 1) / 2.
Variable orthogonal_penalty(const Variable& x, float factor, bool rows) {
  if (x.dim() != 2)
    fail_shape("regularizers::orthogonal_regularizer",
               "inputs must have rank 2, got shape " + shape_str(x.shape()));
  const int axis = rows ? 1 : 0;
  constexpr float eps = 1e-7f;
  Variable norm2 = maximum(sum(square(x), {axis}, true), scalar(eps * eps));
  Variable u = mul(x, rsqrt(norm2));
  Variable p = rows ? matmul(u, transpose(u)) : matmul(transpose(u), u);
  const std::size_t size = x.shape()[rows ? 0 : 1];
  Tensor off = xt::ones<float>({size, size});
  for (std::size_t i = 0; i < size; ++i) off(i, i) = 0.f;
  const double pairs = static_cast<double>(size) * (static_cast<double>(size) - 1.0) / 2.0;
  // One row or column: no pairs, Keras divides 0 by 0 (NaN); so do we.
  return mul(sum(abs(mul(p, Variable(off)))), scalar(static_cast<float>(factor * 0.5 / pairs)));
}

Regularizer make(float a1, float a2, const char* name) {
  Config c;
  if (std::string(name) != "l2") c["l1"] = config_float(a1);
  if (std::string(name) != "l1") c["l2"] = config_float(a2);
  return Regularizer(name, std::move(c), [a1, a2](const Variable& x) {
    Variable r;
    if (a1 != 0.f) r = mul(scalar(a1), sum(abs(x)));
    if (a2 != 0.f) {
      Variable t = mul(scalar(a2), sum(square(x)));
      r = r.defined() ? add(r, t) : t;
    }
    // Both zero: a zero that still depends on x, so the gradient is zero rather than missing.
    return r.defined() ? r : mul(scalar(0.f), sum(x));
  });
}
}  // namespace

Regularizer::Regularizer(const char* name) : Regularizer(regularizers::get(name)) {}
Regularizer::Regularizer(const std::string& name) : Regularizer(regularizers::get(name)) {}
Regularizer::Regularizer(std::string name, Config config, RegularizerFn fn)
    : name_(std::move(name)), config_(std::move(config)), fn_(std::move(fn)) {}

Variable Regularizer::operator()(const Variable& x) const {
  if (!fn_) fail("regularizer", "the regularizer is undefined (default-constructed)");
  Variable r = fn_(x);
  if (!r.defined()) fail("regularizer", "'" + name_ + "' returned an undefined variable");
  if (r.size() != 1)
    fail_shape("regularizer",
               "'" + name_ + "' must return a scalar, got shape " + shape_str(r.shape()));
  return r;
}

Regularizer Regularizer::from_config(const std::string& name, const Config& c) {
  // Keras' names and class names (keras/src/regularizers/__init__.py): "l1", "L1", "l2", "L2",
  // "l1_l2", "l1l2", "L1L2", "orthogonal_regularizer", "OrthogonalRegularizer".
  // Case does not matter otherwise ("L1" is "l1", as before).
  std::string n = detail::to_lower(name);
  if (n == "l1l2") n = "l1_l2";
  if (n == "orthogonalregularizer") n = "orthogonal_regularizer";
  const std::string w = "regularizer '" + n + "'";
  if (n == "l1") return regularizers::l1(config_get_float(w, c, "l1", 0.01f));
  if (n == "l2") return regularizers::l2(config_get_float(w, c, "l2", 0.01f));
  if (n == "l1_l2")
    return regularizers::l1_l2(config_get_float(w, c, "l1", 0.01f),
                               config_get_float(w, c, "l2", 0.01f));
  if (n == "orthogonal_regularizer")
    return regularizers::orthogonal_regularizer(config_get_float(w, c, "factor", 0.01f),
                                                config_get_string(c, "mode", "rows"));
  if (n == "custom")
    fail("regularizer", "a custom (callable) regularizer cannot be rebuilt from its name");
  fail("regularizer", "unknown regularizer '" + name +
                          "' (expected l1, l2, l1_l2 or orthogonal_regularizer, or their Keras "
                          "class names L1, L2, L1L2, OrthogonalRegularizer)");
}

namespace regularizers {
Regularizer l1(float l1) {
  check_penalty("regularizers::l1", "l1", l1);
  return make(l1, 0.f, "l1");
}
Regularizer l2(float l2) {
  check_penalty("regularizers::l2", "l2", l2);
  return make(0.f, l2, "l2");
}
Regularizer l1_l2(float l1, float l2) {
  check_penalty("regularizers::l1_l2", "l1", l1);
  check_penalty("regularizers::l1_l2", "l2", l2);
  return make(l1, l2, "l1_l2");
}
Regularizer orthogonal_regularizer(float factor, const std::string& mode) {
  check_penalty("regularizers::orthogonal_regularizer", "factor", factor);
  if (mode != "rows" && mode != "columns")
    fail("regularizers::orthogonal_regularizer",
         "invalid value for argument mode: expected rows or columns, got mode=" + mode);
  Config c{{"factor", config_float(factor)}, {"mode", mode}};
  const bool rows = mode == "rows";
  return Regularizer("orthogonal_regularizer", std::move(c), [factor, rows](const Variable& x) {
    return orthogonal_penalty(x, factor, rows);
  });
}
Regularizer get(const std::string& name) { return Regularizer::from_config(name, {}); }
}  // namespace regularizers

std::string config_write(const Regularizer& v) { return detail::write_repr(v); }
void config_read(const std::string& where, const std::string& key, const std::string& text,
                 Regularizer& out) {
  detail::read_repr(where, key, text, out);
}

}  // namespace tapeflow
