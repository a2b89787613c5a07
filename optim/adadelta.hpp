#pragma once
#include "tapeflow/optim/optimizer.hpp"

/// The options of `Adadelta` after the shared ones (Keras defaults).
#define TAPEFLOW_ADADELTA_FIELDS(F) \
  F(double, rho, 0.95)              \
  F(double, epsilon, 1e-7)

namespace tapeflow::optim {

/// Options of `Adadelta` (Keras defaults: learning_rate 0.001, rho 0.95, epsilon 1e-7).
/// Example: `AdadeltaOptions().learning_rate(1.0).rho(0.9)`.
struct AdadeltaOptions : OptimizerOptions<AdadeltaOptions> {
  TAPEFLOW_DERIVED_FIELDS(AdadeltaOptions, OptimizerOptions, TAPEFLOW_ADADELTA_FIELDS)
};

/// Adadelta (Zeiler), Keras 3's update rule (`keras.optimizers.Adadelta`). Slots `accum_grad`
/// and `accum_var`, starting at 0:
/// ```
/// accum_grad = rho * accum_grad + (1 - rho) * g^2
/// delta = -sqrt(accum_var + epsilon) / sqrt(accum_grad + epsilon) * g
/// accum_var = rho * accum_var + (1 - rho) * delta^2
/// w += lr * delta
/// ```
/// Use learning_rate 1.0 for the paper's exact form.
/// Errors: learning_rate negative or not finite, rho outside [0, 1), epsilon <= 0.
///
/// Example: `tapeflow::optim::Adadelta opt(tapeflow::optim::AdadeltaOptions().learning_rate(1.0));`
class Adadelta : public OptimizerWithOptions<AdadeltaOptions> {
 public:
  explicit Adadelta(AdadeltaOptions options = {});
  std::vector<std::string> slot_names() const override;

 protected:
  void update_step(const Tensor& grad, Tensor& value, SlotMap& slots,
                   const StepContext& ctx) override;
  void validate() const override;
};

}  // namespace tapeflow::optim
