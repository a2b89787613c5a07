#pragma once
/// Weight constraints with Keras' names, defaults and formulas (eps = 1e-7,
/// `n = sqrt(sum(w^2 over axes, keepdims))`). The optimizer applies them right after it updates
/// a variable; they are never applied at creation or in the forward pass.
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tapeflow/framework/core/variable.hpp"
#include "tapeflow/framework/nn/config.hpp"

namespace tapeflow {

/// A constraint: name, config and a projection `Tensor(const Tensor&)`. Built from a Keras name
/// ("max_norm", "non_neg", "unit_norm", "min_max_norm", also "MaxNorm", "NonNeg", ...), a
/// `tapeflow::constraints::` factory, or any callable `Tensor(const Tensor&)` (named "custom").
/// An unknown name is an Error naming "constraint". Default-constructed: undefined; applying it
/// returns the input unchanged. `fn()` gives the `ConstraintFn` a `Variable` stores (empty when
/// undefined); a defined `Constraint` also converts to `ConstraintFn` directly.
///
/// Example:
/// ```
/// tapeflow::Constraint c = tapeflow::constraints::max_norm(2.f, {0, 1, 2});
/// kernel.set_constraint(c.fn());
/// tapeflow::Tensor projected = c(kernel.value());
/// ```
class Constraint {
 public:
  Constraint() = default;
  Constraint(const char* name);         // NOLINT(google-explicit-constructor)
  Constraint(const std::string& name);  // NOLINT(google-explicit-constructor)
  template <class F, std::enable_if_t<std::is_invocable_r_v<Tensor, F&, const Tensor&> &&
                                          !std::is_convertible_v<F, std::string> &&
                                          !std::is_same_v<std::decay_t<F>, Constraint>,
                                      int> = 0>
  Constraint(F fn)  // NOLINT(google-explicit-constructor)
      : name_("custom"), fn_(std::move(fn)) {
    if (!fn_) name_.clear();  // an empty std::function stays undefined
  }
  Constraint(std::string name, Config config, ConstraintFn fn);

  /// Rebuilds from `name()` and `get_config()` ("custom" cannot be rebuilt: Error).
  static Constraint from_config(const std::string& name, const Config& config);

  /// The projected value (the input itself when undefined); same shape as the input.
  Tensor operator()(const Tensor& w) const;
  /// What `Variable::set_constraint` takes: the function, or an empty one when undefined.
  const ConstraintFn& fn() const { return fn_; }

  bool defined() const { return static_cast<bool>(fn_); }
  explicit operator bool() const { return defined(); }
  const std::string& name() const { return name_; }
  const Config& get_config() const { return config_; }
  /// "max_norm(axis=(0,), max_value=2)".
  std::string repr() const { return config_repr(name_, config_); }

 private:
  std::string name_;
  Config config_;
  ConstraintFn fn_;
};

/// A constraint as config text (framework/nn/fields.hpp): its repr,
/// "max_norm(axis=(0,), max_value=2)"; "None" when undefined. A callable's is "custom()", which
/// `config_read` cannot rebuild.
std::string config_write(const Constraint& constraint);
/// The inverse of `config_write`: "None" is undefined, a repr is rebuilt with `from_config`. A
/// malformed text or an unknown name is a ValueError naming `where`, `key` and `text`.
/// Example: `config_read("Dense 'fc'", "kernel_constraint", "non_neg()", con);`
void config_read(const std::string& where, const std::string& key, const std::string& text,
                 Constraint& out);

namespace constraints {
/// Axes a norm is taken over (negative counts from the end).
using AxisList = std::vector<int>;

/// `w * clip(n, 0, max_value) / (eps + n)`.
Constraint max_norm(float max_value = 2.f, int axis = 0);
Constraint max_norm(float max_value, const AxisList& axis);
/// `w * (w >= 0)`.
Constraint non_neg();
/// `w / (eps + n)`.
Constraint unit_norm(int axis = 0);
Constraint unit_norm(const AxisList& axis);
/// `w * (rate * clip(n, min_value, max_value) + (1 - rate) * n) / (eps + n)`.
Constraint min_max_norm(float min_value = 0.f, float max_value = 1.f, float rate = 1.f,
                        int axis = 0);
Constraint min_max_norm(float min_value, float max_value, float rate, const AxisList& axis);
/// Keras `constraints.get`: by name; same as `Constraint(name)`.
Constraint get(const std::string& name);
}  // namespace constraints

}  // namespace tapeflow
