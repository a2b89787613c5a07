#pragma once
#include "tapeflow/optim/optimizer.hpp"

/// The options of `RMSprop` after the shared ones (Keras defaults).
#define TAPEFLOW_RMSPROP_FIELDS(F) \
  F(double, rho, 0.9)              \
  F(double, momentum, 0.0)         \
  F(double, epsilon, 1e-7)         \
  F(bool, centered, false)

namespace tapeflow::optim {

/// Options of `RMSprop` (Keras defaults: learning_rate 0.001, rho 0.9, momentum 0,
/// epsilon 1e-7, centered false).
/// Example: `RMSpropOptions().rho(0.95).momentum(0.9).centered(true)`.
struct RMSpropOptions : OptimizerOptions<RMSpropOptions> {
  TAPEFLOW_DERIVED_FIELDS(RMSpropOptions, OptimizerOptions, TAPEFLOW_RMSPROP_FIELDS)
};

/// RMSprop (Hinton), Keras 3's update rule (`keras.optimizers.RMSprop`; its `velocity` and
/// `average_gradient` are the slots `rms` and `mg` here, tf.keras' names). Slots `rms`, plus `mg`
/// when centered and `momentum` when momentum > 0, all starting at 0; epsilon is added under the
/// square root:
/// ```
/// rms = rho * rms + (1 - rho) * g^2
/// mg  = rho * mg + (1 - rho) * g                      (centered)
/// d   = centered ? rms - mg^2 + epsilon : rms + epsilon
/// inc = lr * g / sqrt(d)
/// momentum > 0: mom = momentum * mom + inc; w -= mom   else: w -= inc
/// ```
/// Errors: learning_rate negative or not finite, rho outside [0, 1), momentum outside [0, 1],
/// epsilon <= 0.
///
/// Example: `tapeflow::optim::RMSprop opt(tapeflow::optim::RMSpropOptions().learning_rate(1e-2));`
class RMSprop : public OptimizerWithOptions<RMSpropOptions> {
 public:
  explicit RMSprop(RMSpropOptions options = {});
  std::vector<std::string> slot_names() const override;

 protected:
  void update_step(const Tensor& grad, Tensor& value, SlotMap& slots,
                   const StepContext& ctx) override;
  void validate() const override;
};

}  // namespace tapeflow::optim
