#pragma once
/// Weight initializers with Keras' names, defaults and fan rules.
#include <functional>
#include <string>
#include <type_traits>
#include <utility>

#include "tapeflow/framework/core/tensor.hpp"
#include "tapeflow/framework/nn/config.hpp"
#include "tapeflow/framework/runtime/random.hpp"

namespace tapeflow {

/// Produces a tensor of the requested shape.
using InitFn = std::function<Tensor(const Shape&)>;

/// An initializer: a name, a config and the function. Built from a Keras name
/// (`"glorot_uniform"`, `"GlorotUniform"`, aliases `"zero"`, `"one"`, `"uniform"`, `"normal"`,
/// and Keras 3's `"IdentityInitializer"`, `"OrthogonalInitializer"`)
/// with default arguments, from a `tapeflow::initializers::` factory, or from any callable
/// `Tensor(const Shape&)` (named "custom"). An unknown name is an Error naming "initializer".
/// A default-constructed `Initializer` is undefined; calling it is an Error.
///
/// Example:
/// ```
/// tapeflow::Initializer a = "he_normal";
/// tapeflow::Initializer b = tapeflow::initializers::constant(0.5f);
/// tapeflow::Initializer c = [](const tapeflow::Shape& s) { return
/// tapeflow::Tensor(xt::ones<float>(s)); }; tapeflow::Tensor w = a({3, 3, 16, 32});
/// ```
class Initializer {
 public:
  Initializer() = default;
  Initializer(const char* name);         // NOLINT(google-explicit-constructor)
  Initializer(const std::string& name);  // NOLINT(google-explicit-constructor)
  /// Any callable `Tensor(const Shape&)`.
  template <class F, std::enable_if_t<std::is_invocable_r_v<Tensor, F&, const Shape&> &&
                                          !std::is_convertible_v<F, std::string> &&
                                          !std::is_same_v<std::decay_t<F>, Initializer>,
                                      int> = 0>
  Initializer(F fn)  // NOLINT(google-explicit-constructor)
      : name_("custom"), fn_(std::move(fn)) {}
  /// Full form, used by the factories: name, config (for `get_config` / `from_config`), fn.
  Initializer(std::string name, Config config, InitFn fn);

  /// Rebuilds from `name()` and `get_config()` ("custom" cannot be rebuilt: Error).
  static Initializer from_config(const std::string& name, const Config& config);

  /// A tensor of exactly `shape` (an Error if the callable returned another shape).
  Tensor operator()(const Shape& shape) const;

  bool defined() const { return static_cast<bool>(fn_); }
  /// Canonical snake_case name, e.g. "glorot_uniform"; "custom" for a callable.
  const std::string& name() const { return name_; }
  const Config& get_config() const { return config_; }
  /// "glorot_uniform(seed=None)".
  std::string repr() const { return config_repr(name_, config_); }

 private:
  std::string name_;
  Config config_;
  InitFn fn_;
};

/// An initializer as config text (framework/nn/fields.hpp): its repr,
/// "glorot_uniform(seed=None)"; "None" when undefined. A callable's is "custom()", which
/// `config_read` cannot rebuild.
std::string config_write(const Initializer& initializer);
/// The inverse of `config_write`: "None" is undefined, a repr is rebuilt with `from_config`. A
/// malformed text or an unknown name is a ValueError naming `where`, `key` and `text`.
/// Example: `config_read("Dense 'fc'", "kernel_initializer", "he_normal(seed=3)", init);`
void config_read(const std::string& where, const std::string& key, const std::string& text,
                 Initializer& out);

namespace initializers {

/// Keras' fans of a weight shape: 0-D: 1, 1; 1-D: n, n; 2-D: rows, cols; N-D:
/// `receptive = prod(shape[:-2])`, `fan_in = shape[-2] * receptive`,
/// `fan_out = shape[-1] * receptive`.
/// Example: `compute_fans({3, 3, 3, 8, 4})` -> fan_in 216, fan_out 108.
struct Fans {
  double fan_in = 0;
  double fan_out = 0;
};
Fans compute_fans(const Shape& shape);

Initializer zeros();
Initializer ones();
Initializer constant(float value = 0.f);
Initializer random_normal(float mean = 0.f, float stddev = 0.05f, const Seed& seed = {});
Initializer random_uniform(float minval = -0.05f, float maxval = 0.05f, const Seed& seed = {});
/// Normal redrawn beyond 2 standard deviations.
Initializer truncated_normal(float mean = 0.f, float stddev = 0.05f, const Seed& seed = {});
/// Keras `VarianceScaling`: `scale / max(1, n)` with n = fan_in, fan_out or their mean
/// (`mode` "fan_in" / "fan_out" / "fan_avg"); `distribution` "truncated_normal" (alias
/// "normal"; stddev `sqrt(scale/n) / .87962566103423978`), "untruncated_normal" or "uniform"
/// (limit `sqrt(3 scale/n)`).
Initializer variance_scaling(float scale = 1.f, const std::string& mode = "fan_in",
                             const std::string& distribution = "truncated_normal",
                             const Seed& seed = {});
/// Uniform in ±sqrt(6 / (fan_in + fan_out)).
Initializer glorot_uniform(const Seed& seed = {});
/// Truncated normal, stddev sqrt(2 / (fan_in + fan_out)).
Initializer glorot_normal(const Seed& seed = {});
Initializer he_uniform(const Seed& seed = {});
Initializer he_normal(const Seed& seed = {});
Initializer lecun_uniform(const Seed& seed = {});
Initializer lecun_normal(const Seed& seed = {});
/// Random orthogonal matrix (QR of a normal matrix), reshaped: rows = prod(shape[:-1]),
/// cols = shape[-1]; needs at least 2 dimensions.
Initializer orthogonal(float gain = 1.f, const Seed& seed = {});
/// `gain * eye(rows, cols)`; 2-D shapes only.
Initializer identity(float gain = 1.f);

/// Keras `initializers.get`: by name (with defaults); same as `Initializer(name)`.
Initializer get(const std::string& name);

}  // namespace initializers
}  // namespace tapeflow
