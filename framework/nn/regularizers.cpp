#include "tapeflow/framework/nn/regularizers.hpp"

#include <cctype>
#include <cmath>

#include "tapeflow/framework/core/strings.hpp"
#include "tapeflow/framework/nn/detail/repr.hpp"
#include "tapeflow/framework/ops/ops.hpp"

namespace tapeflow {

namespace {

// Keras rejects NaN/inf penalties (`_check_penalty_number`); negative ones are allowed there.
void check_penalty(const char* where, const char* arg, float v) {
  if (!std::isfinite(v))
    fail(where, std::string(arg) + " must be a finite number, got " + std::to_string(v));
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
  std::string n = detail::to_lower(name);
  const std::string w = "regularizer '" + n + "'";
  if (n == "l1") return regularizers::l1(config_get_float(w, c, "l1", 0.01f));
  if (n == "l2") return regularizers::l2(config_get_float(w, c, "l2", 0.01f));
  if (n == "l1_l2" || n == "l1l2")
    return regularizers::l1_l2(config_get_float(w, c, "l1", 0.01f),
                               config_get_float(w, c, "l2", 0.01f));
  if (n == "custom")
    fail("regularizer", "a custom (callable) regularizer cannot be rebuilt from its name");
  fail("regularizer", "unknown regularizer '" + name + "' (expected l1, l2 or l1_l2)");
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
Regularizer get(const std::string& name) { return Regularizer::from_config(name, {}); }
}  // namespace regularizers

std::string config_write(const Regularizer& v) { return detail::write_repr(v); }
void config_read(const std::string& where, const std::string& key, const std::string& text,
                 Regularizer& out) {
  detail::read_repr(where, key, text, out);
}

}  // namespace tapeflow
