#pragma once
/// Keras' accuracy metrics: `Accuracy`, `BinaryAccuracy`, `CategoricalAccuracy`,
/// `SparseCategoricalAccuracy`, `TopKCategoricalAccuracy`. Each is a `MeanMetricWrapper` of a 0/1
/// match per element or per sample (weights and reduction as mean_metrics.hpp says).
///
/// NaN in `y_pred`: a comparison with NaN is false, as in Keras, so `BinaryAccuracy` reads a NaN
/// score as class 0 (which matches a `y_true` of 0, as Keras' `binary_accuracy` does), and
/// `Accuracy` never matches it. For the arg-max metrics a sample whose scores hold a NaN never
/// matches (numpy's argmax would pick the NaN's class; TF's `in_top_k` calls any non-finite score
/// "not in the top k": we take the latter for both).
#include <memory>
#include <string>

#include "tapeflow/framework/metrics/mean_metrics.hpp"

namespace tapeflow::metrics {

/// Keras' `Accuracy`: how often `y_pred` equals `y_true` exactly, elementwise (shapes equal or
/// differing by a trailing 1, else a ShapeError).
/// Example: `Accuracy m; m.update_state(Tensor{1.f, 2.f, 3.f, 4.f}, Tensor{0.f, 2.f, 3.f, 4.f});
/// // 0.75`
class Accuracy : public MeanMetricWrapper {
 public:
  explicit Accuracy(std::string name = "accuracy");
  std::unique_ptr<Metric> clone() const override;
  std::string class_name() const override { return "Accuracy"; }

 protected:
  Tensor values(const Tensor& y_true, const Tensor& y_pred) const override;
};

/// Keras' `BinaryAccuracy(threshold=0.5)`: how often `(y_pred > threshold)` equals `y_true`,
/// elementwise (shapes as `Accuracy`). `threshold` must be finite (any value: 0 suits logits).
/// Example: `BinaryAccuracy m(0.5f); m.update_state(t, probabilities);`
class BinaryAccuracy : public MeanMetricWrapper {
 public:
  explicit BinaryAccuracy(float threshold = 0.5f, std::string name = "binary_accuracy");
  float threshold() const { return threshold_; }
  std::unique_ptr<Metric> clone() const override;
  std::string class_name() const override { return "BinaryAccuracy"; }

 protected:
  Tensor values(const Tensor& y_true, const Tensor& y_pred) const override;

 private:
  float threshold_;
};

/// Keras' `CategoricalAccuracy`: how often `argmax(y_pred, -1) == argmax(y_true, -1)` (one-hot
/// `y_true` of `y_pred`'s shape, rank >= 1; the first index on ties). One value per position of
/// the other axes. Example: `CategoricalAccuracy m; m.update_state(one_hot, probabilities);`
class CategoricalAccuracy : public MeanMetricWrapper {
 public:
  explicit CategoricalAccuracy(std::string name = "categorical_accuracy");
  std::unique_ptr<Metric> clone() const override;
  std::string class_name() const override { return "CategoricalAccuracy"; }

 protected:
  Tensor values(const Tensor& y_true, const Tensor& y_pred) const override;
};

/// Keras' `SparseCategoricalAccuracy`: how often `argmax(y_pred, -1)` equals the integer label
/// `y_true`, of shape `y_pred.shape[:-1]` (or that plus a trailing 1). A label that is not an
/// integer in `[0, num_classes)` is a ValueError (Keras would compare it and count a miss).
/// Example: `SparseCategoricalAccuracy m; m.update_state(Tensor{2.f, 1.f}, probabilities);`
class SparseCategoricalAccuracy : public MeanMetricWrapper {
 public:
  explicit SparseCategoricalAccuracy(std::string name = "sparse_categorical_accuracy");
  std::unique_ptr<Metric> clone() const override;
  std::string class_name() const override { return "SparseCategoricalAccuracy"; }

 protected:
  Tensor values(const Tensor& y_true, const Tensor& y_pred) const override;
};

/// Keras' `TopKCategoricalAccuracy(k=5)`: how often the class of one-hot `y_true` (its arg-max)
/// is among the `k` largest scores of `y_pred` (same shape, class axis last), with TF's
/// `in_top_k` rules: fewer than `k` scores strictly larger than the target's (ties at the
/// boundary are all in), and never when the sample has a non-finite score. `k` >= 1.
/// Example: `TopKCategoricalAccuracy m(2); m.update_state(one_hot, scores);`
class TopKCategoricalAccuracy : public MeanMetricWrapper {
 public:
  explicit TopKCategoricalAccuracy(int k = 5, std::string name = "top_k_categorical_accuracy");
  int k() const { return k_; }
  std::unique_ptr<Metric> clone() const override;
  std::string class_name() const override { return "TopKCategoricalAccuracy"; }

 protected:
  Tensor values(const Tensor& y_true, const Tensor& y_pred) const override;

 private:
  int k_;
};

}  // namespace tapeflow::metrics
