#pragma once
/// What `Model::compile` stores and what each step computes from it: the total loss of a
/// batch, and the running loss means and metrics that become the logs.
#include <memory>
#include <string>
#include <vector>

#include "tapeflow/framework/core/variable.hpp"
#include "tapeflow/framework/metrics/metric.hpp"
#include "tapeflow/optim/training/compile_args.hpp"
#include "tapeflow/optim/training/logs.hpp"

namespace tapeflow::training::detail {

class Compiled {
 public:
  /// `output_names`: the model's output layers (one entry for a Sequential). Errors: a loss list
  /// or loss weights whose length is not the number of outputs; an unknown metric name.
  Compiled(std::shared_ptr<optim::Optimizer> optimizer, std::vector<Loss> losses,
           std::vector<MetricArg> metrics, std::vector<float> loss_weights,
           std::vector<std::string> output_names);

  optim::Optimizer& optimizer() { return *optimizer_; }
  std::size_t outputs() const { return output_names_.size(); }

  /// The total loss of a batch, recorded on the active tape: each output's loss times its
  /// weight (no factor without loss weights), summed in output order, then plus each of
  /// `regularization` in order. `per_output` receives the unweighted output losses.
  Variable total_loss(const std::vector<Variable>& y_true, const std::vector<Variable>& y_pred,
                      const std::vector<Variable>& regularization,
                      std::vector<Variable>* per_output) const;
  /// Adds a batch of `batch_size` samples to the running means and metrics (the metrics are
  /// made at the first batch: "accuracy" depends on the shapes).
  void update(const Variable& total, const std::vector<Variable>& per_output,
              const std::vector<Tensor>& y_true, const std::vector<Tensor>& y_pred,
              std::size_t batch_size);
  /// "loss" (the mean over the samples so far), "<output>_loss" with several outputs, then the
  /// metrics.
  Logs results() const;
  /// The samples the running means hold (since `reset`).
  double samples() const { return count_; }
  void reset();

 private:
  void build_metrics(const std::vector<Tensor>& y_true, const std::vector<Tensor>& y_pred);

  std::shared_ptr<optim::Optimizer> optimizer_;
  std::vector<Loss> losses_;  // one per output
  std::vector<MetricArg> metric_args_;
  std::vector<float> loss_weights_;
  std::vector<std::string> output_names_;
  // Running sums: the loss weighted by batch size (Keras' loss tracker is a Mean with
  // sample_weight = batch size), per output too.
  double loss_sum_ = 0, count_ = 0;
  std::vector<double> output_loss_sums_;
  bool metrics_built_ = false;
  std::vector<std::vector<std::unique_ptr<metrics::Metric>>> metrics_;  // per output
};

}  // namespace tapeflow::training::detail
