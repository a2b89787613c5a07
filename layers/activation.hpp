#pragma once
/// Keras `Activation` layer: applies a named or custom activation function.
#include <string>

#include "tapeflow/framework/ops/activations.hpp"
#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// The option of the `Activation` layer after the common ones: `activation` (a Keras name such
/// as "relu", a built-in function, or any callable; see `activations::NamedActivation`).
#define TAPEFLOW_ACTIVATION_FIELDS(F) F(activations::NamedActivation, activation, {})

/// Options of the `Activation` layer: the required `activation`, plus the common options.
///
/// Example: `ActivationOptions("softmax").name("probs")`
struct ActivationOptions : LayerOptionsBase<ActivationOptions> {
  ActivationOptions() = default;
  explicit ActivationOptions(activations::NamedActivation a) { activation(std::move(a)); }
  TAPEFLOW_DERIVED_FIELDS(ActivationOptions, LayerOptionsBase, TAPEFLOW_ACTIVATION_FIELDS)
  static constexpr PrintedFields printed{"activation"};
};

/// Keras `Activation`, default name "activation": `y = activation(x)`, same shape as `x`.
/// An unknown activation name is an Error (from `activations::NamedActivation`).
///
/// Example:
/// ```
/// tapeflow::layers::Activation act(tapeflow::layers::ActivationOptions("relu"));
/// tapeflow::Variable y = act(x);
/// ```
class Activation : public LayerWith<ActivationOptions> {
 public:
  explicit Activation(const ActivationOptions& options);
  std::string class_name() const override { return "Activation"; }
  /// Passes a mask on (Keras): the shape is kept.
  bool supports_masking() const override { return true; }

 protected:
  Variable call(const Variable& x, bool training) override;
};

}  // namespace tapeflow::layers
