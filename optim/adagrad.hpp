#pragma once
#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::optim {

/// Options of `Adagrad` (Keras defaults: learning_rate 0.001, initial_accumulator_value 0.1,
/// epsilon 1e-7).
/// Example: `AdagradOptions().learning_rate(0.1).initial_accumulator_value(0.0)`.
struct AdagradOptions : OptimizerOptions<AdagradOptions> {
  AdagradOptions() : OptimizerOptions(0.001f) {}
  TAPEFLOW_OPTIM_ARG(double, initial_accumulator_value) = 0.1;
  TAPEFLOW_OPTIM_ARG(double, epsilon) = 1e-7;
};

/// Adagrad (Duchi et al.), Keras 3's formula. Slot `accumulator`, starting at
/// `initial_accumulator_value`:
/// ```
/// accumulator += g^2
/// w -= lr * g / sqrt(accumulator + epsilon)
/// ```
/// Errors: learning_rate negative or not finite, initial_accumulator_value < 0, epsilon <= 0.
///
/// Example: `tapeflow::optim::Adagrad opt(tapeflow::optim::AdagradOptions().learning_rate(0.1));`
class Adagrad : public Optimizer {
 public:
  explicit Adagrad(AdagradOptions options = {});
  const AdagradOptions& options() const { return options_; }
  std::vector<std::string> slot_names() const override;

 protected:
  CommonOptions& common() override { return options_.common(); }
  const CommonOptions& common() const override { return options_.common(); }
  void update_step(const Tensor& grad, Tensor& value, SlotMap& slots,
                   const StepContext& ctx) override;
  float slot_initial_value(const std::string& slot) const override;
  void add_hyperparameters(std::map<std::string, double>& out) const override;
  bool set_hyperparameter(const std::string& name, double value) override;
  void validate() const override;

 private:
  AdagradOptions options_;
};

}  // namespace tapeflow::optim
