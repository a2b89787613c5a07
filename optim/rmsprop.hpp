#pragma once
#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::optim {

/// Options of `RMSprop` (Keras defaults: learning_rate 0.001, rho 0.9, momentum 0,
/// epsilon 1e-7, centered false).
/// Example: `RMSpropOptions().rho(0.95).momentum(0.9).centered(true)`.
struct RMSpropOptions : OptimizerOptions<RMSpropOptions> {
  RMSpropOptions() : OptimizerOptions(0.001f) {}
  TAPEFLOW_OPTIM_ARG(double, rho) = 0.9;
  TAPEFLOW_OPTIM_ARG(double, momentum) = 0.0;
  TAPEFLOW_OPTIM_ARG(double, epsilon) = 1e-7;
  TAPEFLOW_OPTIM_ARG(bool, centered) = false;
};

/// RMSprop (Hinton), Keras' formula. Slots `rms`, plus `mg` when centered and `momentum` when
/// momentum > 0, all starting at 0:
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
class RMSprop : public Optimizer {
 public:
  explicit RMSprop(RMSpropOptions options = {});
  const RMSpropOptions& options() const { return options_; }
  std::vector<std::string> slot_names() const override;

 protected:
  CommonOptions& common() override { return options_.common(); }
  const CommonOptions& common() const override { return options_.common(); }
  void update_step(const Tensor& grad, Tensor& value, SlotMap& slots,
                   const StepContext& ctx) override;
  void add_hyperparameters(std::map<std::string, double>& out) const override;
  bool set_hyperparameter(const std::string& name, double value) override;
  void validate() const override;

 private:
  RMSpropOptions options_;
};

}  // namespace tapeflow::optim
