#pragma once
#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::optim {

/// Options of `Nadam` (Keras defaults: learning_rate 0.001, beta_1 0.9, beta_2 0.999,
/// epsilon 1e-7).
/// Example: `NadamOptions().learning_rate(2e-3)`.
struct NadamOptions : OptimizerOptions<NadamOptions> {
  NadamOptions() : OptimizerOptions(0.001f) {}
  TAPEFLOW_OPTIM_ARG(double, beta_1) = 0.9;
  TAPEFLOW_OPTIM_ARG(double, beta_2) = 0.999;
  TAPEFLOW_OPTIM_ARG(double, epsilon) = 1e-7;
};

/// Nadam (Dozat: Adam with Nesterov momentum), Keras 3's formula. Slots `m` and `v`, starting at
/// 0, and one optimizer-wide scalar `u_product` (starting at 1, in `scalar_state()`); with
/// `t = iterations + 1`, once per step `u_product *= u(t)` where
/// `u(s) = beta_1 * (1 - 0.5 * 0.96^s)`, then for each variable:
/// ```
/// m = beta_1 * m + (1 - beta_1) * g
/// v = beta_2 * v + (1 - beta_2) * g^2
/// m_hat = u(t+1) * m / (1 - u_product * u(t+1)) + (1 - u(t)) * g / (1 - u_product)
/// v_hat = v / (1 - beta_2^t)
/// w -= lr * m_hat / (sqrt(v_hat) + epsilon)
/// ```
/// Errors: learning_rate negative or not finite, beta_1/beta_2 outside [0, 1), epsilon <= 0.
///
/// Example: `tapeflow::optim::Nadam opt(tapeflow::optim::NadamOptions().learning_rate(1e-2));`
class Nadam : public Optimizer {
 public:
  explicit Nadam(NadamOptions options = {});
  const NadamOptions& options() const { return options_; }
  std::vector<std::string> slot_names() const override;

 protected:
  CommonOptions& common() override { return options_.common(); }
  const CommonOptions& common() const override { return options_.common(); }
  void begin_step(const StepContext& ctx) override;
  void update_step(const Tensor& grad, Tensor& value, SlotMap& slots,
                   const StepContext& ctx) override;
  void add_hyperparameters(std::map<std::string, double>& out) const override;
  bool set_hyperparameter(const std::string& name, double value) override;
  void validate() const override;

 private:
  NadamOptions options_;
};

}  // namespace tapeflow::optim
