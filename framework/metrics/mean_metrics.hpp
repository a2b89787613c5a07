#pragma once
/// Keras' mean metrics: `Mean` (of given values), `MeanMetricWrapper` (the mean of a function of
/// `(y_true, y_pred)`), and the regression metrics `MeanSquaredError` and `MeanAbsoluteError`.
///
/// The weighted mean is Keras' `reduce_to_samplewise_values` followed by `Mean`'s update: without
/// weights, each sample's value is the mean over its elements (all axes after the first) and
/// each sample counts 1 (a rank-0 value counts as one sample). With weights, after
/// `squeeze_or_expand_to_same_rank(values, sample_weight)`, values of higher rank are first
/// averaged over the axes the weights lack; the weights (each axis 1 or equal) then multiply the
/// values, each sample's value is the mean of the products and each sample counts the mean of its
/// weights. `result() = total / count`, 0 before any update or while the weights sum to 0 (Keras'
/// `divide_no_nan`). A NaN value makes the result NaN (it is never averaged away).
#include <functional>
#include <memory>
#include <string>

#include "tapeflow/framework/metrics/metric.hpp"

namespace tapeflow::metrics {

/// Keras' `Mean`: the (weighted) mean of the values given to `update_state(values,
/// sample_weight)`. It takes values, not `(y_true, y_pred)`: that form (the one `Metric` declares)
/// throws a ValueError saying so; `MeanMetricWrapper` averages a function of `(y_true, y_pred)`.
/// Keras' loss tracker is `update_state(loss, batch_size)`: one value weighted by the batch size
/// (the `double` overload, or `Tensor(loss)` with the weight `Tensor{batch_size}`).
/// Example: `Mean m("loss"); m.update_state(Tensor{1.f, 3.f, 5.f, 7.f}); m.result();  // 4`
class Mean : public Metric {
 public:
  explicit Mean(std::string name = "mean");
  using Metric::update_state;
  /// Accumulates `values` (any shape) with optional weights (see the top of this file).
  void update_state(const Tensor& values, const Tensor& sample_weight = Tensor());
  /// One value with weight `weight`: `total += value * weight`, `count += weight`.
  void update_state(double value, double weight = 1.0);
  /// A number as the weight of a tensor is a mistake (it would be a rank-0 tensor: no weight).
  template <class V, class W>
  requires(!std::is_arithmetic_v<V> &&
           std::is_arithmetic_v<W>) void update_state(const V& values, W sample_weight) = delete;
  /// Keras' `__call__(values, sample_weight)`: `update_state` then `result`.
  double operator()(const Tensor& values, const Tensor& sample_weight = Tensor());
  /// Always a ValueError: Mean takes values.
  void update_state(const Tensor& y_true, const Tensor& y_pred,
                    const Tensor& sample_weight) override;
  double result() const override;
  void reset_state() override;
  std::unique_ptr<Metric> clone() const override;
  std::string class_name() const override { return "Mean"; }

  /// The weighted sum of the per-sample values, and the sum of the per-sample weights.
  double total() const { return total_; }
  double count() const { return count_; }

 private:
  double total_ = 0, count_ = 0;
};

/// A stateless metric function: per-sample (or per-element) values from `(y_true, y_pred)`.
using MetricFn = std::function<Tensor(const Tensor& y_true, const Tensor& y_pred)>;

/// Keras' `MeanMetricWrapper`: the weighted mean (as `Mean`) of `fn(y_true, y_pred)`. An error
/// the function throws is reported with the metric's name in front.
/// Example: `MeanMetricWrapper m([](const Tensor& t, const Tensor& p) { return Tensor(xt::abs(t -
/// p)); }, "my_mae");`
class MeanMetricWrapper : public Metric {
 public:
  MeanMetricWrapper(MetricFn fn, std::string name);
  using Metric::update_state;
  void update_state(const Tensor& y_true, const Tensor& y_pred,
                    const Tensor& sample_weight = Tensor()) override;
  double result() const override;
  void reset_state() override;
  std::unique_ptr<Metric> clone() const override;
  std::string class_name() const override { return "MeanMetricWrapper"; }

  double total() const { return total_; }
  double count() const { return count_; }

 protected:
  /// For subclasses that compute their values in `values` instead of a function.
  explicit MeanMetricWrapper(std::string name);
  /// The values to average for one batch: `fn(y_true, y_pred)` unless overridden.
  virtual Tensor values(const Tensor& y_true, const Tensor& y_pred) const;

 private:
  MetricFn fn_;
  double total_ = 0, count_ = 0;
};

/// Keras' `MeanSquaredError`: the mean of `(y_true - y_pred)^2` over all elements of each
/// sample, then over the samples. `y_true` and `y_pred` must have the same shape (or differ by a
/// trailing axis of 1, as Keras' `squeeze_or_expand_to_same_rank`): a ShapeError otherwise.
/// A rank-1 input `(N,)` is N samples of one element; Keras' `mean(..., axis=-1)` would make the
/// whole batch one sample (so the last, smaller batch would count as much as a full one, and
/// per-sample weights would not fit): we do not. Example: `MeanSquaredError m; m.update_state(t,
/// p);`
class MeanSquaredError : public MeanMetricWrapper {
 public:
  explicit MeanSquaredError(std::string name = "mean_squared_error");
  std::unique_ptr<Metric> clone() const override;
  std::string class_name() const override { return "MeanSquaredError"; }

 protected:
  Tensor values(const Tensor& y_true, const Tensor& y_pred) const override;
};

/// Keras' `MeanAbsoluteError`: as `MeanSquaredError` with `|y_true - y_pred|`.
/// Example: `MeanAbsoluteError m("mae"); m.update_state(t, p);`
class MeanAbsoluteError : public MeanMetricWrapper {
 public:
  explicit MeanAbsoluteError(std::string name = "mean_absolute_error");
  std::unique_ptr<Metric> clone() const override;
  std::string class_name() const override { return "MeanAbsoluteError"; }

 protected:
  Tensor values(const Tensor& y_true, const Tensor& y_pred) const override;
};

}  // namespace tapeflow::metrics
