#pragma once
/// Keras `Activation` layer: applies a named or custom activation function.
#include <string>

#include "tapeflow/framework/ops/activations.hpp"
#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// Options of the `Activation` layer: the required `activation` (a Keras name such as "relu",
/// a built-in function, or any callable; see `activations::Activation`).
///
/// Example: `ActivationOptions("softmax").name("probs")`
struct ActivationOptions : LayerOptionsBase<ActivationOptions> {
  explicit ActivationOptions(activations::Activation activation)
      : activation_(std::move(activation)) {}
  TAPEFLOW_ARG(activations::Activation, activation);
};

/// Keras `Activation`, default name "activation": `y = activation(x)`, same shape as `x`.
/// An unknown activation name is an Error (from `activations::Activation`).
///
/// Example:
/// ```
/// tapeflow::layers::Activation act(tapeflow::layers::ActivationOptions("relu"));
/// tapeflow::Variable y = act(x);
/// ```
class Activation : public Layer {
 public:
  explicit Activation(const ActivationOptions& options);
  std::string class_name() const override { return "Activation"; }
  const ActivationOptions& options() const { return options_; }
  /// Base keys plus `activation` (its name).
  Config get_config() const override;

 protected:
  Variable call(const Variable& x, bool training) override;
  /// `activation=relu`.
  std::string extra_repr() const override;

 private:
  ActivationOptions options_;
};

}  // namespace tapeflow::layers
