#pragma once
#include "tapeflow/optim/optimizer.hpp"

/// The options of `Adagrad` after the shared ones (Keras defaults).
#define TAPEFLOW_ADAGRAD_FIELDS(F)          \
  F(double, initial_accumulator_value, 0.1) \
  F(double, epsilon, 1e-7)

namespace tapeflow::optim {

/// Options of `Adagrad` (Keras defaults: learning_rate 0.001, initial_accumulator_value 0.1,
/// epsilon 1e-7).
/// Example: `AdagradOptions().learning_rate(0.1).initial_accumulator_value(0.0)`.
struct AdagradOptions : OptimizerOptions<AdagradOptions> {
  TAPEFLOW_DERIVED_FIELDS(AdagradOptions, OptimizerOptions, TAPEFLOW_ADAGRAD_FIELDS)
};

/// Adagrad (Duchi et al.), Keras 3's update rule (`keras.optimizers.Adagrad`). Slot
/// `accumulator`, starting at `initial_accumulator_value`; epsilon is added under the square
/// root:
/// ```
/// accumulator += g^2
/// w -= lr * g / sqrt(accumulator + epsilon)
/// ```
/// Errors: learning_rate negative or not finite, initial_accumulator_value < 0, epsilon <= 0.
///
/// Example: `tapeflow::optim::Adagrad opt(tapeflow::optim::AdagradOptions().learning_rate(0.1));`
class Adagrad : public OptimizerWithOptions<AdagradOptions> {
 public:
  explicit Adagrad(AdagradOptions options = {});
  std::vector<std::string> slot_names() const override;

 protected:
  float slot_initial_value(const std::string& slot) const override;
  void update_step(const Tensor& grad, Tensor& value, SlotMap& slots,
                   const StepContext& ctx) override;
  void validate() const override;
};

}  // namespace tapeflow::optim
