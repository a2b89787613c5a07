#pragma once
/// Keras activations as differentiable free functions, and `NamedActivation`, the named-or-custom
/// activation that layers take (`Conv3DTransposeOptions(...).activation("relu")`).
///
/// Every function with parameters has a one-argument overload using the Keras defaults, so that
/// any of them converts to a `NamedActivation`: `NamedActivation a = tapeflow::activations::elu;`.
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tapeflow/framework/core/variable.hpp"

namespace tapeflow::activations {

/// Identity (Keras `linear`): returns `x` itself.
/// Example: `auto y = tapeflow::activations::linear(x);`
Variable linear(const Variable& x);

/// `max(x, 0)`; the gradient at 0 is 0 (as TF). NaN stays NaN, as in TF.
/// The four-argument form is Keras `activations.relu(x, negative_slope, max_value, threshold)`,
/// in Keras' order: `x` above `threshold` and 0 at or below it, that clipped to
/// `[0, max_value]`, then `negative_slope * max(threshold - x, 0)` subtracted. The threshold wins
/// over `max_value` (x = 5, threshold 5, max_value 5 gives 0, as Keras). NaN stays NaN.
/// Example: `relu(x)`, `relu(x, 0.1f)`, `relu(x, 0.f, 6.f)`, `relu(x, 0.f, std::nullopt, 1.f)`.
Variable relu(const Variable& x);
Variable relu(const Variable& x, float negative_slope,
              std::optional<float> max_value = std::nullopt, float threshold = 0.f);
/// `min(max(x, 0), 6)`. Example: `relu6(x)`.
Variable relu6(const Variable& x);

/// Default slope of `leaky_relu`: 0.2, as Keras 3 `keras.activations.leaky_relu` and
/// `tf.nn.leaky_relu`. (The Keras *layer* `LeakyReLU` defaults to 0.3; that layer passes its own.)
inline constexpr float kLeakyReluSlope = 0.2f;
/// `x` for `x > 0`, `negative_slope * x` otherwise. Example: `leaky_relu(x, 0.3f)`.
Variable leaky_relu(const Variable& x);
Variable leaky_relu(const Variable& x, float negative_slope);

/// `x` for `x > 0`, `alpha * (exp(x) - 1)` otherwise; alpha defaults to 1 (Keras).
/// Example: `elu(x)`, `elu(x, 0.5f)`.
Variable elu(const Variable& x);
Variable elu(const Variable& x, float alpha);

/// Keras SELU constants.
inline constexpr float kSeluAlpha = 1.67326324f;
inline constexpr float kSeluScale = 1.05070098f;
/// `scale * elu(x, alpha)` with the Keras constants. Example: `selu(x)`.
Variable selu(const Variable& x);

/// GELU, `0.5 * x * (1 + erf(x / sqrt(2)))` (Keras default `approximate=false`); with
/// `approximate=true`, `0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))`.
/// Example: `gelu(x)`, `gelu(x, /*approximate=*/true)`.
Variable gelu(const Variable& x);
Variable gelu(const Variable& x, bool approximate);

/// `x * sigmoid(x)`; `swish` and `silu` are the same function (Keras exports both names).
/// Example: `silu(x)`.
Variable swish(const Variable& x);
Variable silu(const Variable& x);

/// `1 / (1 + exp(-x))`, computed without overflow for any x; the gradient reuses the output.
/// Example: `sigmoid(x)`.
Variable sigmoid(const Variable& x);

/// TF 2 / tf.keras hard sigmoid: `clip(0.2 * x + 0.5, 0, 1)` (0 below -2.5, 1 above 2.5); NaN
/// stays NaN. Keras 3 changed this to `clip(x / 6 + 0.5, 0, 1)` (= `relu6(x + 3) / 6`); tapeflow
/// deliberately keeps TF 2's definition: its API is TF 2.0's (the seed `Conv3DTranspose`), and a
/// model saved by TF 2 / tf.keras with `activation="hard_sigmoid"` must compute what it computed
/// there. A Keras 3 user who wants the new curve writes `relu6(x + 3) / 6`.
/// Example: `hard_sigmoid(x)`.
Variable hard_sigmoid(const Variable& x);

/// Hyperbolic tangent; the gradient reuses the output. Example: `tanh(x)`.
Variable tanh(const Variable& x);

/// `log(exp(x) + 1)`, computed as `max(x, 0) + log1p(exp(-|x|))` (no overflow, exact for
/// large |x|); its gradient is `sigmoid(x)`. Example: `softplus(x)`.
Variable softplus(const Variable& x);

/// `x / (|x| + 1)`. Example: `softsign(x)`.
Variable softsign(const Variable& x);

/// `exp(x - max) / sum(exp(x - max))` along `axis` (default -1): finite for any finite input.
/// Example: `softmax(logits)`, `softmax(x, 1)`.
Variable softmax(const Variable& x);
Variable softmax(const Variable& x, int axis);

/// `x - max - log(sum(exp(x - max)))` along `axis` (default -1): finite for any finite input.
/// Example: `log_softmax(logits)`.
Variable log_softmax(const Variable& x);
Variable log_softmax(const Variable& x, int axis);

/// `exp(x)`. Example: `exponential(x)`.
Variable exponential(const Variable& x);

/// A function usable as an activation.
using ActivationFn = std::function<Variable(const Variable&)>;
/// A plain activation function pointer, e.g. `&tapeflow::activations::relu`'s one-argument form.
using ActivationPtr = Variable (*)(const Variable&);

class NamedActivation;
namespace detail {
template <class F>
inline constexpr bool is_custom_activation_v =
    !std::is_same_v<std::remove_cvref_t<F>, NamedActivation> &&
    !std::is_same_v<std::remove_cvref_t<F>, ActivationFn> &&
    !std::is_convertible_v<F, std::string> &&
    std::is_invocable_r_v<Variable, const std::remove_cvref_t<F>&, const Variable&>;
}  // namespace detail

/// A named or custom activation, as Keras accepts: a name (case-sensitive, like Keras: "relu",
/// "softmax", ...; an unknown name is an Error naming "activation" and listing the known names),
/// a function (a built-in one keeps its name), or any callable (named "custom" unless told).
/// Default-constructed it is `linear`.
///
/// Example:
/// ```
/// namespace act = tapeflow::activations;
/// act::NamedActivation a = "relu";            // by name
/// act::NamedActivation b = act::gelu;         // a built-in function: b.name() == "gelu"
/// act::NamedActivation c = [](const tapeflow::Variable& x) { return act::relu(x, 0.1f); };
/// tapeflow::Variable y = a(x);
/// ```
class NamedActivation {
 public:
  /// `linear`.
  NamedActivation();
  /// A built-in activation by its Keras name.
  NamedActivation(const char* name);         // NOLINT(google-explicit-constructor)
  NamedActivation(const std::string& name);  // NOLINT(google-explicit-constructor)
  /// A function: a built-in one (`relu`, `sigmoid`, ...) keeps its name, others are "custom".
  NamedActivation(ActivationPtr fn);  // NOLINT(google-explicit-constructor)
  /// Any callable, with a name for printing and configs.
  NamedActivation(ActivationFn fn, std::string name = "custom");  // NOLINT
  /// Lambdas and other callables (function names that are not overloaded land here too).
  template <class F, std::enable_if_t<detail::is_custom_activation_v<F>, int> = 0>
  NamedActivation(F&& fn)  // NOLINT(google-explicit-constructor)
      : NamedActivation(from_callable(std::forward<F>(fn))) {}

  Variable operator()(const Variable& x) const;
  /// "relu", "linear", "custom", ...
  const std::string& name() const { return name_; }
  /// True for `linear` (layers may skip the call).
  bool is_linear() const { return name_ == "linear"; }

 private:
  template <class F>
  static NamedActivation from_callable(F&& fn) {
    using D = std::decay_t<F>;
    if constexpr (std::is_convertible_v<D, ActivationPtr> &&
                  (std::is_pointer_v<D> || std::is_function_v<std::remove_reference_t<F>>))
      return NamedActivation(static_cast<ActivationPtr>(fn));
    else
      return NamedActivation(ActivationFn(std::forward<F>(fn)), "custom");
  }
  ActivationFn fn_;
  std::string name_;
};

/// The built-in activation with this Keras name, or an Error listing the known names.
/// Example: `auto act = tapeflow::activations::get("tanh");`
NamedActivation get(const std::string& name);
/// The known names, in a fixed order: "linear", "relu", "relu6", ...
std::vector<std::string> names();

/// An activation as config text (framework/nn/fields.hpp, found by argument-dependent lookup):
/// its name, "relu"; a callable's is "custom" (or the name it was given), which `config_read`
/// cannot rebuild.
std::string config_write(const NamedActivation& activation);
/// The inverse of `config_write`: `out` becomes the built-in activation named `text`. An unknown
/// name is a ValueError naming `where`, `key` and `text` (and listing the known names); `out` is
/// then unchanged.
/// Example: `config_read("Dense 'fc'", "activation", "tanh", act);`
void config_read(const std::string& where, const std::string& key, const std::string& text,
                 NamedActivation& out);

}  // namespace tapeflow::activations
