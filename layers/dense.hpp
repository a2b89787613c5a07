#pragma once
/// Keras `Dense`: `activation(x . kernel + bias)` on the last axis of an input of rank >= 2.
#include <string>

#include "tapeflow/framework/ops/activations.hpp"
#include "tapeflow/layers/layer.hpp"

namespace tapeflow::layers {

/// The options of `Dense` after the common ones (Keras names and defaults): `units` (required),
/// `activation` (linear), then those of every layer with a kernel and a bias
/// (`TAPEFLOW_KERNEL_BIAS_FIELDS`: `use_bias`, the initializers, regularizers, constraints).
#define TAPEFLOW_DENSE_FIELDS(F)                  \
  F(long, units, 0)                               \
  F(activations::NamedActivation, activation, {}) \
  TAPEFLOW_KERNEL_BIAS_FIELDS(F)

/// Options of `Dense`: `TAPEFLOW_DENSE_FIELDS` plus the common `name`, `trainable`,
/// `activity_regularizer`.
///
/// Example: `DenseOptions(64).activation("relu").kernel_regularizer(regularizers::l2(1e-4))`
struct DenseOptions : LayerOptionsBase<DenseOptions> {
  DenseOptions() = default;
  explicit DenseOptions(long n) { units(n); }
  TAPEFLOW_DERIVED_FIELDS(DenseOptions, LayerOptionsBase, TAPEFLOW_DENSE_FIELDS)
  static constexpr PrintedFields printed{"units, activation", "use_bias"};
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
class Dense : public LayerWith<DenseOptions> {
 public:
  explicit Dense(const DenseOptions& options);
  std::string class_name() const override { return "Dense"; }
  /// Passes a mask on (Keras): it keeps the leading axes.
  bool supports_masking() const override { return true; }
  /// The weights (undefined before the first call; `bias` also when `use_bias` is false).
  const Variable& kernel() const { return kernel_; }
  const Variable& bias() const { return bias_; }

 protected:
  void build(const Shape& input_shape) override;
  Variable call(const Variable& x, bool training) override;

 private:
  Variable kernel_;
  Variable bias_;
};

}  // namespace tapeflow::layers
