#pragma once
#include "tapeflow/optim/optimizer.hpp"

/// The options of `Nadam` after the shared ones (Keras defaults).
#define TAPEFLOW_NADAM_FIELDS(F) \
  F(double, beta_1, 0.9)         \
  F(double, beta_2, 0.999)       \
  F(double, epsilon, 1e-7)

namespace tapeflow::optim {

/// Options of `Nadam` (Keras defaults: learning_rate 0.001, beta_1 0.9, beta_2 0.999,
/// epsilon 1e-7).
/// Example: `NadamOptions().learning_rate(2e-3)`.
struct NadamOptions : OptimizerOptions<NadamOptions> {
  TAPEFLOW_DERIVED_FIELDS(NadamOptions, OptimizerOptions, TAPEFLOW_NADAM_FIELDS)
};

/// Nadam (Dozat: Adam with Nesterov momentum), Keras 3's update rule (`keras.optimizers.Nadam`).
/// Slots `m` and `v`, starting at 0, and one optimizer-wide scalar `u_product` (starting at 1,
/// in `scalar_state()`); with `t = iterations + 1`, once per step `u_product *= u(t)` where
/// `u(s) = beta_1 * (1 - 0.5 * 0.96^s)`, then for each variable:
/// ```
/// m = beta_1 * m + (1 - beta_1) * g
/// v = beta_2 * v + (1 - beta_2) * g^2
/// m_hat = u(t+1) * m / (1 - u_product * u(t+1)) + (1 - u(t)) * g / (1 - u_product)
/// v_hat = v / (1 - beta_2^t)
/// w -= lr * m_hat / (sqrt(v_hat) + epsilon)
/// ```
/// Unlike Keras 3's Adam, Keras 3's Nadam adds epsilon to the bias-corrected `sqrt(v_hat)`
/// (nothing is folded into the rate), and so does this.
/// Errors: learning_rate negative or not finite, beta_1/beta_2 outside [0, 1), epsilon <= 0.
///
/// Example: `tapeflow::optim::Nadam opt(tapeflow::optim::NadamOptions().learning_rate(1e-2));`
class Nadam : public OptimizerWithOptions<NadamOptions> {
 public:
  explicit Nadam(NadamOptions options = {});
  std::vector<std::string> slot_names() const override;

 protected:
  void begin_step(const StepContext& ctx) override;
  void update_step(const Tensor& grad, Tensor& value, SlotMap& slots,
                   const StepContext& ctx) override;
  void validate() const override;
};

}  // namespace tapeflow::optim
