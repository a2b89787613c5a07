#pragma once
/// Keras `Dense`: `activation(x . kernel + bias)` on the last axis of an input of rank >= 2.
#include <string>

#include "tapeflow/framework/ops/activations.hpp"
#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// Options of `Dense` (Keras names and defaults): the required `units`, `activation` (linear),
/// `use_bias` (true), `kernel_initializer` ("glorot_uniform"), `bias_initializer` ("zeros"),
/// `kernel_regularizer`, `bias_regularizer`, `kernel_constraint`, `bias_constraint`, plus the
/// common `name`, `trainable`, `activity_regularizer`.
///
/// Example: `DenseOptions(64).activation("relu").kernel_regularizer(regularizers::l2(1e-4))`
struct DenseOptions : LayerOptionsBase<DenseOptions> {
  explicit DenseOptions(long units) : units_(units) {}
  TAPEFLOW_ARG(long, units);
  TAPEFLOW_ARG(activations::Activation, activation);
  TAPEFLOW_ARG(bool, use_bias) = true;
  TAPEFLOW_ARG(Initializer, kernel_initializer) = "glorot_uniform";
  TAPEFLOW_ARG(Initializer, bias_initializer) = "zeros";
  TAPEFLOW_ARG(Regularizer, kernel_regularizer);
  TAPEFLOW_ARG(Regularizer, bias_regularizer);
  TAPEFLOW_ARG(Constraint, kernel_constraint);
  TAPEFLOW_ARG(Constraint, bias_constraint);
};

/// Keras `Dense`, default name "dense". Weights `kernel` `(in, units)` and `bias` `(units,)`,
/// where `in` is the last axis of the first input. An input of rank > 2 is multiplied on its
/// last axis: `(batch, d1, ..., in) -> (batch, d1, ..., units)` (Keras' tensordot).
/// Errors: `units <= 0`; an input of rank < 2, or whose last axis differs from the built one.
///
/// Example:
/// ```
/// tapeflow::layers::Dense fc(tapeflow::layers::DenseOptions(4).activation("relu"));
/// tapeflow::Variable y = fc(x);   // x (2, 3) -> y (2, 4); weights "dense/kernel", "dense/bias"
/// ```
class Dense : public Layer {
 public:
  explicit Dense(const DenseOptions& options);
  std::string class_name() const override { return "Dense"; }
  const DenseOptions& options() const { return options_; }
  /// The weights (undefined before the first call; `bias` also when `use_bias` is false).
  const Variable& kernel() const { return kernel_; }
  const Variable& bias() const { return bias_; }
  /// Base keys plus `units`, `activation`, `use_bias`, the initializers, regularizers and
  /// constraints ("None" when unset).
  Config get_config() const override;

 protected:
  void build(const Shape& input_shape) override;
  Variable call(const Variable& x, bool training) override;
  /// `units=4, activation=relu` (`use_bias=false` when so).
  std::string extra_repr() const override;

 private:
  DenseOptions options_;
  Variable kernel_;
  Variable bias_;
};

}  // namespace tapeflow::layers
