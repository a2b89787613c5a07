#include "tapeflow/framework/nn/constraints.hpp"

#include <cctype>
#include <cmath>
#include <xtensor/xmath.hpp>
#include <xtensor/xreducer.hpp>

#include "tapeflow/framework/core/strings.hpp"
#include "tapeflow/framework/nn/detail/finite_option.hpp"
#include "tapeflow/framework/nn/detail/repr.hpp"
#include "tapeflow/framework/ops/ops.hpp"

namespace tapeflow {

namespace {
constexpr float kEpsilon = 1e-7f;  // Keras backend.epsilon()

std::string axes_config(const constraints::AxisList& axis) {
  return config_ints(std::vector<long long>(axis.begin(), axis.end()));
}

// sqrt(sum(w^2 over axes)), kept as size-1 dims so it broadcasts against w.
Tensor norms(const char* where, const Tensor& w, const constraints::AxisList& axis) {
  if (axis.empty()) fail(where, "axis is an empty list");
  auto ax = detail::normalize_axes(where, Axes(axis.begin(), axis.end()), w.dimension());
  Shape kept = shape_of(w);
  for (auto a : ax) kept[a] = 1;
  Tensor sq = w * w;
  Tensor n = xt::sqrt(xt::sum(sq, ax));
  n.reshape(kept);
  return n;
}

Constraint rescale_norm(const char* name, Config config, const constraints::AxisList& axis,
                        float min_value, float max_value, float rate) {
  std::string where = std::string("constraints::") + name;
  return Constraint(name, std::move(config), [=](const Tensor& w) {
    Tensor n = norms(where.c_str(), w, axis);
    Tensor desired = rate * xt::clip(n, min_value, max_value) + (1.f - rate) * n;
    return Tensor(w * (desired / (kEpsilon + n)));
  });
}

}  // namespace

Constraint::Constraint(const char* name) : Constraint(constraints::get(name)) {}
Constraint::Constraint(const std::string& name) : Constraint(constraints::get(name)) {}
Constraint::Constraint(std::string name, Config config, ConstraintFn fn)
    : name_(std::move(name)), config_(std::move(config)), fn_(std::move(fn)) {}

Tensor Constraint::operator()(const Tensor& w) const {
  if (!fn_) return w;
  Tensor r = fn_(w);
  if (shape_of(r) != shape_of(w))
    fail_shape("constraint", "'" + name_ + "' returned shape " + shape_str(r.shape()) +
                                 " for a weight of shape " + shape_str(w.shape()));
  return r;
}

Constraint Constraint::from_config(const std::string& name, const Config& c) {
  std::string n = detail::camel_to_snake(name);
  if (n == "maxnorm") n = "max_norm";
  if (n == "nonneg") n = "non_neg";
  if (n == "unitnorm") n = "unit_norm";
  if (n == "minmaxnorm") n = "min_max_norm";
  const std::string w = "constraint '" + n + "'";
  auto axis = [&] {
    // Keras writes one axis as a number ("axis": 0), several as a list.
    if (auto it = c.find("axis"); it != c.end() && it->second.find('(') == std::string::npos)
      return constraints::AxisList{static_cast<int>(config_get_int(w, c, "axis", 0))};
    auto v = config_get_ints(w, c, "axis", {0});
    return constraints::AxisList(v.begin(), v.end());
  };
  if (n == "max_norm")
    return constraints::max_norm(config_get_float(w, c, "max_value", 2.f), axis());
  if (n == "non_neg") return constraints::non_neg();
  if (n == "unit_norm") return constraints::unit_norm(axis());
  if (n == "min_max_norm")
    return constraints::min_max_norm(config_get_float(w, c, "min_value", 0.f),
                                     config_get_float(w, c, "max_value", 1.f),
                                     config_get_float(w, c, "rate", 1.f), axis());
  if (n == "custom")
    fail("constraint", "a custom (callable) constraint cannot be rebuilt from its name");
  fail("constraint",
       "unknown constraint '" + name + "' (expected max_norm, non_neg, unit_norm or min_max_norm)");
}

namespace constraints {

Constraint max_norm(float max_value, int axis) { return max_norm(max_value, AxisList{axis}); }
Constraint max_norm(float max_value, const AxisList& axis) {
  tapeflow::detail::check_finite_option("constraints::max_norm", "max_value", max_value);
  if (max_value < 0)
    fail("constraints::max_norm", "max_value must be >= 0, got " + config_float(max_value));
  if (axis.empty()) fail("constraints::max_norm", "axis is an empty list");
  return rescale_norm("max_norm",
                      {{"max_value", config_float(max_value)}, {"axis", axes_config(axis)}}, axis,
                      0.f, max_value, 1.f);
}

Constraint non_neg() {
  return Constraint("non_neg", {},
                    [](const Tensor& w) { return Tensor(w * xt::cast<float>(w >= 0.f)); });
}

Constraint unit_norm(int axis) { return unit_norm(AxisList{axis}); }
Constraint unit_norm(const AxisList& axis) {
  if (axis.empty()) fail("constraints::unit_norm", "axis is an empty list");
  return Constraint("unit_norm", {{"axis", axes_config(axis)}}, [axis](const Tensor& w) {
    Tensor n = norms("constraints::unit_norm", w, axis);
    return Tensor(w / (kEpsilon + n));
  });
}

Constraint min_max_norm(float min_value, float max_value, float rate, int axis) {
  return min_max_norm(min_value, max_value, rate, AxisList{axis});
}
Constraint min_max_norm(float min_value, float max_value, float rate, const AxisList& axis) {
  const char* w = "constraints::min_max_norm";
  tapeflow::detail::check_finite_option(w, "min_value", min_value);
  tapeflow::detail::check_finite_option(w, "max_value", max_value);
  tapeflow::detail::check_finite_option(w, "rate", rate);
  if (min_value < 0 || min_value > max_value)
    fail(w, "expected 0 <= min_value <= max_value, got min_value " + config_float(min_value) +
                " and max_value " + config_float(max_value));
  if (axis.empty()) fail(w, "axis is an empty list");
  return rescale_norm("min_max_norm",
                      {{"min_value", config_float(min_value)},
                       {"max_value", config_float(max_value)},
                       {"rate", config_float(rate)},
                       {"axis", axes_config(axis)}},
                      axis, min_value, max_value, rate);
}

Constraint get(const std::string& name) { return Constraint::from_config(name, {}); }

}  // namespace constraints

std::string config_write(const Constraint& v) { return detail::write_repr(v); }
void config_read(const std::string& where, const std::string& key, const std::string& text,
                 Constraint& out) {
  detail::read_repr(where, key, text, out);
}

}  // namespace tapeflow
