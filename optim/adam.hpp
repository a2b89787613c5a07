#pragma once
#include "tapeflow/optim/optimizer.hpp"

/// The options of `Adam` and `AdamW` after the shared ones (Keras defaults).
#define TAPEFLOW_ADAM_FIELDS(F) \
  F(double, beta_1, 0.9)        \
  F(double, beta_2, 0.999)      \
  F(double, epsilon, 1e-7)      \
  F(bool, amsgrad, false)

namespace tapeflow::optim {

/// Options of `Adam` (Keras defaults: learning_rate 0.001, beta_1 0.9, beta_2 0.999,
/// epsilon 1e-7, amsgrad false).
/// Example: `AdamOptions().learning_rate(1e-3).amsgrad(true)`.
struct AdamOptions : OptimizerOptions<AdamOptions> {
  TAPEFLOW_DERIVED_FIELDS(AdamOptions, OptimizerOptions, TAPEFLOW_ADAM_FIELDS)
};

/// Options of `AdamW`: `AdamOptions`' arguments and defaults plus `weight_decay` 0.004 (Keras 3).
/// Example: `AdamWOptions().learning_rate(1e-3).weight_decay(1e-2)`.
struct AdamWOptions : OptimizerOptions<AdamWOptions> {
  AdamWOptions() { weight_decay(0.004f); }
  TAPEFLOW_DERIVED_FIELDS(AdamWOptions, OptimizerOptions, TAPEFLOW_ADAM_FIELDS)
};

namespace detail {
/// What Adam and AdamW share: slots, update rule and checks (AdamW's decay is the base's; its
/// check that weight_decay is set is here too).
template <class Options>
class AdamBase : public OptimizerWithOptions<Options> {
 public:
  std::vector<std::string> slot_names() const override;

 protected:
  using typename Optimizer::SlotMap;
  using typename Optimizer::StepContext;
  using OptimizerWithOptions<Options>::OptimizerWithOptions;
  void update_step(const Tensor& grad, Tensor& value, SlotMap& slots,
                   const StepContext& ctx) override;
  void validate() const override;
};
// Defined and instantiated in adam.cpp.
extern template class AdamBase<AdamOptions>;
extern template class AdamBase<AdamWOptions>;
}  // namespace detail

/// Adam (Kingma & Ba), Keras 3's update rule (`keras.optimizers.Adam`). Slots `m`, `v` (and
/// `vhat` with amsgrad), all starting at 0; with `t = iterations + 1`:
/// ```
/// m = beta_1 * m + (1 - beta_1) * g
/// v = beta_2 * v + (1 - beta_2) * g^2
/// vhat = max(vhat, v)                       (amsgrad only; then used in place of v)
/// alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
/// w -= alpha * m / (sqrt(v) + epsilon)
/// ```
/// The bias corrections are folded into the rate (as in Keras 3 and TF1's `AdamOptimizer`):
/// `epsilon` is the paper's "epsilon hat". The paper's Algorithm 1 (and TF.js) add epsilon to
/// the corrected root instead, `lr * m_hat / (sqrt(v_hat) + eps)`; that is this rule with
/// `epsilon = eps * sqrt(1 - beta_2^t)`, a step-dependent value, so the two differ wherever
/// `sqrt(v)` is not large against epsilon (small gradients, early steps, a large epsilon).
/// Errors: learning_rate negative or not finite, beta_1/beta_2 outside [0, 1), epsilon <= 0.
///
/// Example: `tapeflow::optim::Adam opt(tapeflow::optim::AdamOptions().learning_rate(1e-3));`
class Adam : public detail::AdamBase<AdamOptions> {
 public:
  explicit Adam(AdamOptions options = {});
};

/// Adam with decoupled weight decay (Loshchilov & Hutter), Keras 3's `AdamW`: the base
/// optimizer first decays the weights, `w -= w * weight_decay * lr`, then the Adam update above
/// (Keras' rule, epsilon added to `sqrt(v)`) follows. Same slots and errors as `Adam`, plus
/// weight_decay unset, negative or not finite.
///
/// Example: `tapeflow::optim::AdamW opt(tapeflow::optim::AdamWOptions().weight_decay(0.01f));`
class AdamW : public detail::AdamBase<AdamWOptions> {
 public:
  explicit AdamW(AdamWOptions options = {});
};

}  // namespace tapeflow::optim
