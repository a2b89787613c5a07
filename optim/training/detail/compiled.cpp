#include "tapeflow/optim/training/detail/compiled.hpp"

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/core/strings.hpp"
#include "tapeflow/framework/core/tape.hpp"
#include "tapeflow/framework/ops/ops.hpp"

namespace tapeflow::training::detail {

namespace {

bool is_accuracy_alias(const std::string& name) {
  const std::string lower = tapeflow::detail::to_lower(name);
  return lower == "accuracy" || lower == "acc";
}

// Keras 2's choice for "accuracy" (compile_utils `_get_metric_object`): binary when the output
// has one value per sample, sparse categorical when the labels have a lower rank or one value
// against several classes, else categorical.
std::string accuracy_kind(const Tensor& y_true, const Tensor& y_pred) {
  const std::size_t t_rank = y_true.dimension(), p_rank = y_pred.dimension();
  const std::size_t t_last = t_rank ? y_true.shape()[t_rank - 1] : 1;
  const std::size_t p_last = p_rank ? y_pred.shape()[p_rank - 1] : 1;
  if (p_last == 1) return "binary_accuracy";
  if (t_rank < p_rank || (t_last == 1 && p_last > 1)) return "sparse_categorical_accuracy";
  return "categorical_accuracy";
}

}  // namespace

Compiled::Compiled(std::shared_ptr<optim::Optimizer> optimizer, std::vector<Loss> losses,
                   std::vector<MetricArg> metrics, std::vector<float> loss_weights,
                   std::vector<std::string> output_names)
    : optimizer_(std::move(optimizer)),
      losses_(std::move(losses)),
      metric_args_(std::move(metrics)),
      loss_weights_(std::move(loss_weights)),
      output_names_(std::move(output_names)) {
  const std::size_t n = output_names_.size();
  if (losses_.empty()) fail("compile: loss", "no loss given");
  if (losses_.size() == 1 && n > 1) losses_.assign(n, losses_[0]);
  if (losses_.size() != n)
    fail("compile: loss", "a list of " + std::to_string(losses_.size()) +
                              " losses for a model with " + std::to_string(n) +
                              " outputs; give one loss, or one per output");
  if (!loss_weights_.empty() && loss_weights_.size() != n)
    fail("compile: loss_weights", std::to_string(loss_weights_.size()) +
                                      " weights for a model with " + std::to_string(n) +
                                      " outputs; give one per output");
  for (const auto& m : metric_args_) {
    if (m.metric()) continue;
    if (m.name().empty()) fail("compile: metrics", "an empty metric name (or a null metric)");
    // An unknown name fails now, not at the first batch.
    if (!is_accuracy_alias(m.name())) metrics::get(m.name());
  }
  output_loss_sums_.assign(n, 0.0);
}

Variable Compiled::total_loss(const std::vector<Variable>& y_true,
                              const std::vector<Variable>& y_pred,
                              const std::vector<Variable>& regularization,
                              std::vector<Variable>* per_output) const {
  if (y_pred.size() != losses_.size())
    fail("fit", "the model gave " + std::to_string(y_pred.size()) + " outputs for " +
                    std::to_string(losses_.size()) + " compiled losses");
  if (y_true.size() != y_pred.size())
    fail("fit: y", std::to_string(y_true.size()) + " target tensors for a model with " +
                       std::to_string(y_pred.size()) + " outputs");
  Variable total;
  for (std::size_t i = 0; i < losses_.size(); ++i) {
    Variable l;
    try {
      l = losses_[i](y_true[i], y_pred[i]);
    } catch (const Error& e) {
      e.rethrow_in("loss '" + losses_[i].name() + "'" +
                   (losses_.size() > 1 ? " of output '" + output_names_[i] + "'" : ""));
    }
    if (l.value().size() != 1)
      fail("loss '" + losses_[i].name() + "'", "returned a tensor of shape " +
                                                   shape_str(l.value().shape()) +
                                                   "; a loss returns a scalar");
    if (per_output) per_output->push_back(l);
    Variable term = loss_weights_.empty() ? l : l * loss_weights_[i];
    total = i == 0 ? term : total + term;
  }
  for (const auto& r : regularization) total = total + r;
  return total;
}

void Compiled::build_metrics(const std::vector<Tensor>& y_true, const std::vector<Tensor>& y_pred) {
  metrics_.clear();
  metrics_.resize(outputs());
  for (std::size_t o = 0; o < outputs(); ++o) {
    for (const auto& arg : metric_args_) {
      std::unique_ptr<metrics::Metric> m;
      if (arg.metric()) {
        // One object for one output is used as given (its state is the caller's to read);
        // several outputs each get a fresh copy.
        m = outputs() == 1 ? nullptr : arg.metric()->clone();
      } else if (is_accuracy_alias(arg.name())) {
        m = metrics::get(accuracy_kind(y_true[o], y_pred[o]));
        m->set_name(arg.name());
      } else {
        m = metrics::get(arg.name());
      }
      const std::string base = m ? m->name() : arg.metric()->name();
      if (m && outputs() > 1) m->set_name(output_names_[o] + "_" + base);
      metrics_[o].push_back(std::move(m));
    }
  }
  metrics_built_ = true;
}

void Compiled::update(const Variable& total, const std::vector<Variable>& per_output,
                      const std::vector<Tensor>& y_true, const std::vector<Tensor>& y_pred,
                      std::size_t batch_size) {
  if (!metrics_built_) build_metrics(y_true, y_pred);
  const double n = static_cast<double>(batch_size);
  loss_sum_ += static_cast<double>(total.item()) * n;
  count_ += n;
  for (std::size_t o = 0; o < per_output.size() && o < output_loss_sums_.size(); ++o)
    output_loss_sums_[o] += static_cast<double>(per_output[o].item()) * n;
  for (std::size_t o = 0; o < outputs(); ++o)
    for (std::size_t k = 0; k < metrics_[o].size(); ++k) {
      metrics::Metric& m = metrics_[o][k] ? *metrics_[o][k] : *metric_args_[k].metric();
      try {
        m.update_state(y_true[o], y_pred[o]);
      } catch (const Error& e) {
        e.rethrow_in("metric '" + m.name() + "'");
      }
    }
}

Logs Compiled::results() const {
  Logs logs;
  logs.set("loss", count_ > 0 ? loss_sum_ / count_ : 0.0);
  if (outputs() > 1)
    for (std::size_t o = 0; o < outputs(); ++o)
      logs.set(output_names_[o] + "_loss", count_ > 0 ? output_loss_sums_[o] / count_ : 0.0);
  if (!metrics_built_) return logs;
  for (std::size_t o = 0; o < outputs(); ++o)
    for (std::size_t k = 0; k < metrics_[o].size(); ++k) {
      const metrics::Metric& m = metrics_[o][k] ? *metrics_[o][k] : *metric_args_[k].metric();
      logs.set(m.name(), m.result());
    }
  return logs;
}

void Compiled::reset() {
  loss_sum_ = count_ = 0;
  output_loss_sums_.assign(outputs(), 0.0);
  for (auto& per_output : metrics_)
    for (std::size_t k = 0; k < per_output.size(); ++k) {
      metrics::Metric& m = per_output[k] ? *per_output[k] : *metric_args_[k].metric();
      m.reset_state();
    }
}

}  // namespace tapeflow::training::detail
