#pragma once
/// Weight and activity regularizers with Keras' names and defaults.
#include <functional>
#include <string>
#include <type_traits>
#include <utility>

#include "tapeflow/framework/core/variable.hpp"
#include "tapeflow/framework/nn/config.hpp"

namespace tapeflow {

/// Maps a weight (or an activation) to a scalar penalty; built from differentiable ops.
using RegularizerFn = std::function<Variable(const Variable&)>;

/// A regularizer: name, config and function. Built from a Keras name ("l1", "l2", "l1_l2",
/// each with 0.01 coefficients, "orthogonal_regularizer" with factor 0.01, rows) or Keras 3
/// class name ("L1", "L2", "L1L2", "OrthogonalRegularizer"; any case), a
/// `tapeflow::regularizers::` factory, or any callable `Variable(const Variable&)` (named
/// "custom"). An unknown name is an Error naming "regularizer". Default-constructed: undefined
/// (no regularization); calling it is an Error.
///
/// Example:
/// ```
/// tapeflow::Regularizer r = tapeflow::regularizers::l2(1e-4);
/// tapeflow::Variable penalty = r(w);   // 1e-4 * sum(w^2)
/// tapeflow::Regularizer mine = [](const tapeflow::Variable& w) { return
/// tapeflow::sum(tapeflow::abs(w)); };
/// ```
class Regularizer {
 public:
  Regularizer() = default;
  Regularizer(const char* name);         // NOLINT(google-explicit-constructor)
  Regularizer(const std::string& name);  // NOLINT(google-explicit-constructor)
  template <class F, std::enable_if_t<std::is_invocable_r_v<Variable, F&, const Variable&> &&
                                          !std::is_convertible_v<F, std::string> &&
                                          !std::is_same_v<std::decay_t<F>, Regularizer>,
                                      int> = 0>
  Regularizer(F fn)  // NOLINT(google-explicit-constructor)
      : name_("custom"), fn_(std::move(fn)) {}
  Regularizer(std::string name, Config config, RegularizerFn fn);

  /// Rebuilds from `name()` and `get_config()` ("custom" cannot be rebuilt: Error).
  static Regularizer from_config(const std::string& name, const Config& config);

  /// The penalty, a scalar Variable (an Error if the callable returned a non-scalar).
  Variable operator()(const Variable& x) const;

  bool defined() const { return static_cast<bool>(fn_); }
  explicit operator bool() const { return defined(); }
  const std::string& name() const { return name_; }
  const Config& get_config() const { return config_; }
  /// "l2(l2=0.0001)".
  std::string repr() const { return config_repr(name_, config_); }

 private:
  std::string name_;
  Config config_;
  RegularizerFn fn_;
};

/// A regularizer as config text (framework/nn/fields.hpp): its repr, "l2(l2=0.01)"; "None" when
/// undefined. A callable's is "custom()", which `config_read` cannot rebuild.
std::string config_write(const Regularizer& regularizer);
/// The inverse of `config_write`: "None" is undefined, a repr is rebuilt with `from_config`. A
/// malformed text or an unknown name is a ValueError naming `where`, `key` and `text`.
/// Example: `config_read("Dense 'fc'", "kernel_regularizer", "l1(l1=0.5)", reg);`
void config_read(const std::string& where, const std::string& key, const std::string& text,
                 Regularizer& out);

namespace regularizers {
/// Every factor must be a finite number >= 0 (0: no penalty), as Keras 3's
/// `validate_float_arg`: `l1(-1)` is a ValueError naming "regularizers::l1" and "l1".
///
/// `l1 * sum(|x|)`.
Regularizer l1(float l1 = 0.01f);
/// `l2 * sum(x^2)` (Keras: no 1/2 factor).
Regularizer l2(float l2 = 0.01f);
/// `l1 * sum(|x|) + l2 * sum(x^2)`; name "l1_l2", config keys "l1" and "l2".
Regularizer l1_l2(float l1 = 0.01f, float l2 = 0.01f);
/// Keras 3 `OrthogonalRegularizer(factor, mode)` for a rank-2 weight: its rows (`mode` "rows")
/// or columns ("columns") L2-normalized, then `factor * 0.5 * sum(|u_i . u_j|, i != j) /
/// (size * (size - 1) / 2)`. A weight of another rank is a ShapeError; a mode other than "rows"
/// or "columns" a ValueError. Example: `orthogonal_regularizer(0.01f, "columns")`.
Regularizer orthogonal_regularizer(float factor = 0.01f, const std::string& mode = "rows");
/// Keras `regularizers.get`: by name; same as `Regularizer(name)`.
Regularizer get(const std::string& name);
}  // namespace regularizers

}  // namespace tapeflow
