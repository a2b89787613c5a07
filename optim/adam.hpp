#pragma once
#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::optim {

/// Options of `Adam` (Keras defaults: learning_rate 0.001, beta_1 0.9, beta_2 0.999,
/// epsilon 1e-7, amsgrad false).
/// Example: `AdamOptions().learning_rate(1e-3).amsgrad(true)`.
struct AdamOptions : OptimizerOptions<AdamOptions> {
  AdamOptions() : OptimizerOptions(0.001f) {}
  TAPEFLOW_OPTIM_ARG(double, beta_1) = 0.9;
  TAPEFLOW_OPTIM_ARG(double, beta_2) = 0.999;
  TAPEFLOW_OPTIM_ARG(double, epsilon) = 1e-7;
  TAPEFLOW_OPTIM_ARG(bool, amsgrad) = false;
};

/// Options of `AdamW`: `AdamOptions`' arguments and defaults plus `weight_decay` 0.004 (Keras 3).
/// Example: `AdamWOptions().learning_rate(1e-3).weight_decay(1e-2)`.
struct AdamWOptions : OptimizerOptions<AdamWOptions> {
  AdamWOptions() : OptimizerOptions(0.001f) { weight_decay(0.004f); }
  TAPEFLOW_OPTIM_ARG(double, beta_1) = 0.9;
  TAPEFLOW_OPTIM_ARG(double, beta_2) = 0.999;
  TAPEFLOW_OPTIM_ARG(double, epsilon) = 1e-7;
  TAPEFLOW_OPTIM_ARG(bool, amsgrad) = false;
};

/// Adam (Kingma & Ba). Slots `m`, `v` (and `vhat` with amsgrad), all starting at 0; with
/// `t = iterations + 1`:
/// ```
/// m = beta_1 * m + (1 - beta_1) * g
/// v = beta_2 * v + (1 - beta_2) * g^2
/// vhat = max(vhat, v)                       (amsgrad only; then used in place of v)
/// w -= lr * (m / (1 - beta_1^t)) / (sqrt(v / (1 - beta_2^t)) + epsilon)
/// ```
/// This is the form of the paper's Algorithm 1, which TF.js and the golden trajectories use.
/// Keras' `optimizer_v2`/Keras 3 fold the corrections into the rate instead
/// (`lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)`), i.e. their epsilon is
/// scaled by `sqrt(1 - beta_2^t)`; the two agree up to that epsilon difference.
/// Errors: learning_rate negative or not finite, beta_1/beta_2 outside [0, 1), epsilon <= 0.
///
/// Example: `tapeflow::optim::Adam opt(tapeflow::optim::AdamOptions().learning_rate(1e-3));`
class Adam : public Optimizer {
 public:
  explicit Adam(AdamOptions options = {});
  const AdamOptions& options() const { return options_; }
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
  AdamOptions options_;
};

/// Adam with decoupled weight decay (Loshchilov & Hutter; Keras 3 `AdamW`): before the Adam
/// update above, `w -= lr * weight_decay * w`. Same slots and errors as `Adam`, plus
/// weight_decay negative or not finite.
///
/// Example: `tapeflow::optim::AdamW opt(tapeflow::optim::AdamWOptions().weight_decay(0.01f));`
class AdamW : public Optimizer {
 public:
  explicit AdamW(AdamWOptions options = {});
  const AdamWOptions& options() const { return options_; }
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
  AdamWOptions options_;
};

}  // namespace tapeflow::optim
