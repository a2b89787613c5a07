#pragma once
#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::optim {

/// Options of `Adadelta` (Keras defaults: learning_rate 0.001, rho 0.95, epsilon 1e-7).
/// Example: `AdadeltaOptions().learning_rate(1.0).rho(0.9)`.
struct AdadeltaOptions : OptimizerOptions<AdadeltaOptions> {
  AdadeltaOptions() : OptimizerOptions(0.001f) {}
  TAPEFLOW_OPTIM_ARG(double, rho) = 0.95;
  TAPEFLOW_OPTIM_ARG(double, epsilon) = 1e-7;
};

/// Adadelta (Zeiler), Keras' formula. Slots `accum_grad` and `accum_var`, starting at 0:
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
class Adadelta : public Optimizer {
 public:
  explicit Adadelta(AdadeltaOptions options = {});
  const AdadeltaOptions& options() const { return options_; }
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
  AdadeltaOptions options_;
};

}  // namespace tapeflow::optim
