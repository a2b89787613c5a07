#pragma once
#include "tapeflow/optim/optimizer.hpp"

/// The options of `SGD` after the shared ones (Keras defaults). `momentum`: in [0, 1]; 0 is plain
/// gradient descent (no slot).
#define TAPEFLOW_SGD_FIELDS(F) \
  F(double, momentum, 0.0)     \
  F(bool, nesterov, false)

namespace tapeflow::optim {

/// Options of `SGD` (Keras defaults: learning_rate 0.01, momentum 0, nesterov false).
/// Example: `SGDOptions().learning_rate(0.1).momentum(0.9).nesterov(true)`.
struct SGDOptions : OptimizerOptions<SGDOptions> {
  SGDOptions() { learning_rate(0.01f); }
  TAPEFLOW_DERIVED_FIELDS(SGDOptions, OptimizerOptions, TAPEFLOW_SGD_FIELDS)
};

/// Gradient descent with optional (Nesterov) momentum, Keras 3's update rule
/// (`keras.optimizers.SGD`):
/// - `momentum == 0`: `w -= lr * g` (`nesterov` then changes nothing, as in Keras)
/// - otherwise, slot `momentum` (v, starts at 0): `v = momentum * v - lr * g`, then
///   `w += v`, or with `nesterov`: `w += momentum * v - lr * g`.
/// Weight decay, when set, is the base optimizer's and comes first (see `Optimizer`).
///
/// For a constant learning rate this is the TF.js / TF1 `MomentumOptimizer` rule
/// `a = momentum * a + g; w -= lr * a` (with `v = -lr * a`), which the golden trajectories use.
/// Errors: learning_rate negative or not finite, momentum outside [0, 1].
///
/// Example: `tapeflow::optim::SGD opt(tapeflow::optim::SGDOptions().momentum(0.9));`
class SGD : public OptimizerWithOptions<SGDOptions> {
 public:
  explicit SGD(SGDOptions options = {});
  std::vector<std::string> slot_names() const override;

 protected:
  void update_step(const Tensor& grad, Tensor& value, SlotMap& slots,
                   const StepContext& ctx) override;
  void validate() const override;
};

}  // namespace tapeflow::optim
