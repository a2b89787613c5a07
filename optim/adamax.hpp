#pragma once
#include "tapeflow/optim/optimizer.hpp"

/// The options of `Adamax` after the shared ones (Keras defaults).
#define TAPEFLOW_ADAMAX_FIELDS(F) \
  F(double, beta_1, 0.9)          \
  F(double, beta_2, 0.999)        \
  F(double, epsilon, 1e-7)

namespace tapeflow::optim {

/// Options of `Adamax` (Keras defaults: learning_rate 0.001, beta_1 0.9, beta_2 0.999,
/// epsilon 1e-7).
/// Example: `AdamaxOptions().learning_rate(2e-3)`.
struct AdamaxOptions : OptimizerOptions<AdamaxOptions> {
  TAPEFLOW_DERIVED_FIELDS(AdamaxOptions, OptimizerOptions, TAPEFLOW_ADAMAX_FIELDS)
};

/// Adamax (Kingma & Ba, section 7.1), Keras 3's update rule (`keras.optimizers.Adamax`). Slots
/// `m` and `v` (the exponentially weighted infinity norm, Keras' `u`), starting at 0; with
/// `t = iterations + 1`:
/// ```
/// m = beta_1 * m + (1 - beta_1) * g
/// v = max(beta_2 * v, |g|)
/// w -= lr * m / ((1 - beta_1^t) * (v + epsilon))
/// ```
/// Only `m` is bias-corrected (the infinity norm needs none), so there is no correction for
/// epsilon to interact with: unlike Adam, this is also the paper's Algorithm 2 plus epsilon.
/// Errors: learning_rate negative or not finite, beta_1/beta_2 outside [0, 1), epsilon <= 0.
///
/// Example: `tapeflow::optim::Adamax opt;`
class Adamax : public OptimizerWithOptions<AdamaxOptions> {
 public:
  explicit Adamax(AdamaxOptions options = {});
  std::vector<std::string> slot_names() const override;

 protected:
  void update_step(const Tensor& grad, Tensor& value, SlotMap& slots,
                   const StepContext& ctx) override;
  void validate() const override;
};

}  // namespace tapeflow::optim
