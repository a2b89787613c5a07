#pragma once
#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::optim {

/// Options of `SGD` (Keras defaults: learning_rate 0.01, momentum 0, nesterov false).
/// Example: `SGDOptions().learning_rate(0.1).momentum(0.9).nesterov(true)`.
struct SGDOptions : OptimizerOptions<SGDOptions> {
  SGDOptions() : OptimizerOptions(0.01f) {}
  /// In [0, 1]; 0 is plain gradient descent (no slot).
  TAPEFLOW_OPTIM_ARG(double, momentum) = 0.0;
  TAPEFLOW_OPTIM_ARG(bool, nesterov) = false;
};

/// Gradient descent with optional (Nesterov) momentum, Keras' formulas:
/// - `momentum == 0`: `w -= lr * g`
/// - otherwise, slot `momentum` (v, starts at 0): `v = momentum * v - lr * g`, then
///   `w += v`, or with `nesterov`: `w += momentum * v - lr * g`.
///
/// For a constant learning rate this is the TF.js / TF1 `MomentumOptimizer` rule
/// `a = momentum * a + g; w -= lr * a` (with `v = -lr * a`), which the golden trajectories use.
/// Errors: learning_rate negative or not finite, momentum outside [0, 1].
///
/// Example: `tapeflow::optim::SGD opt(tapeflow::optim::SGDOptions().momentum(0.9));`
class SGD : public Optimizer {
 public:
  explicit SGD(SGDOptions options = {});
  const SGDOptions& options() const { return options_; }
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
  SGDOptions options_;
};

}  // namespace tapeflow::optim
