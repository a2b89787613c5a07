#pragma once
#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::optim {

/// Options of `Adamax` (Keras defaults: learning_rate 0.001, beta_1 0.9, beta_2 0.999,
/// epsilon 1e-7).
/// Example: `AdamaxOptions().learning_rate(2e-3)`.
struct AdamaxOptions : OptimizerOptions<AdamaxOptions> {
  AdamaxOptions() : OptimizerOptions(0.001f) {}
  TAPEFLOW_OPTIM_ARG(double, beta_1) = 0.9;
  TAPEFLOW_OPTIM_ARG(double, beta_2) = 0.999;
  TAPEFLOW_OPTIM_ARG(double, epsilon) = 1e-7;
};

/// Adamax (Kingma & Ba, section 7.1), Keras' formula. Slots `m` and `v` (the exponentially
/// weighted infinity norm), starting at 0; with `t = iterations + 1`:
/// ```
/// m = beta_1 * m + (1 - beta_1) * g
/// v = max(beta_2 * v, |g|)
/// w -= lr * m / ((1 - beta_1^t) * (v + epsilon))
/// ```
/// Errors: learning_rate negative or not finite, beta_1/beta_2 outside [0, 1), epsilon <= 0.
///
/// Example: `tapeflow::optim::Adamax opt;`
class Adamax : public Optimizer {
 public:
  explicit Adamax(AdamaxOptions options = {});
  const AdamaxOptions& options() const { return options_; }
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
  AdamaxOptions options_;
};

}  // namespace tapeflow::optim
