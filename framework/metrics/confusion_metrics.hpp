#pragma once
/// Keras' confusion-matrix metrics over thresholds: `Precision`, `Recall` and `AUC`.
///
/// As Keras' `update_confusion_matrix_variables`: `y_true` and `y_pred` must have the same shape
/// (or differ by a trailing axis of 1; else a ShapeError) and are flattened; a label is positive
/// when it is not 0; a score is predicted positive at threshold `t` when `y_pred > t`, so a NaN
/// score is predicted negative at every threshold (a NaN positive is a false negative, never a
/// true positive). Where Keras takes its bucketed fast path (thresholds evenly spread over [0, 1],
/// which AUC's always are) it first clips the scores to [0, 1]; so do we. Each count is weighted
/// by `sample_weight` (aligned with `y_true`'s leading axes, see metric.hpp).
/// With `top_k`, only the `k` largest scores along the last axis stay (the lower index first on
/// ties, as TF's `top_k`); the others become -1e10, and the default threshold is -1e10 (Keras'
/// `NEG_INF`): the top k are the predicted positives. With `class_id`, only that index of the
/// last axis is counted (after `top_k`), for `y_pred` of rank >= 2.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tapeflow/framework/metrics/metric.hpp"
#include "tapeflow/framework/nn/fields.hpp"

namespace tapeflow::metrics {

/// Keras' `NEG_INF`: what `top_k` leaves outside the top k, and the default threshold then.
inline constexpr float kNegInf = -1e10f;

#define TAPEFLOW_PRECISION_RECALL_FIELDS(F)  \
  F(std::vector<float>, thresholds, {})      \
  F(std::optional<int>, top_k, std::nullopt) \
  F(std::optional<int>, class_id, std::nullopt)

/// Options of `Precision` (Keras' arguments and defaults): `thresholds` (empty: 0.5, or
/// `kNegInf` with `top_k`; each in [0, 1]), `top_k` (>= 1, at most the size of the last axis),
/// `class_id` (>= 0, below the size of the last axis).
/// Example: `PrecisionOptions().thresholds({0.3f, 0.7f}).class_id(1)`.
struct PrecisionOptions {
  TAPEFLOW_FIELDS(PrecisionOptions, TAPEFLOW_PRECISION_RECALL_FIELDS)
};
/// Options of `Recall`: as `PrecisionOptions`. Example: `RecallOptions().top_k(2)`.
struct RecallOptions {
  TAPEFLOW_FIELDS(RecallOptions, TAPEFLOW_PRECISION_RECALL_FIELDS)
};

namespace detail {
/// What Precision and Recall share: the thresholds, the checks, and the weighted counts of true
/// positives, false positives and false negatives per threshold (in the order given).
class PrecisionRecallBase : public Metric {
 public:
  using Metric::update_state;
  void update_state(const Tensor& y_true, const Tensor& y_pred,
                    const Tensor& sample_weight = Tensor()) override;
  void reset_state() override;
  /// The value at each threshold, in the order of `thresholds()`.
  virtual std::vector<double> results() const = 0;
  /// The one value; with several thresholds a ValueError (use `results()`), where Keras returns
  /// a vector.
  double result() const override;

  /// The thresholds in use (the defaults filled in), in the order given.
  const std::vector<float>& thresholds() const { return thresholds_; }
  std::optional<int> top_k() const { return top_k_; }
  std::optional<int> class_id() const { return class_id_; }
  const std::vector<double>& true_positives() const { return tp_; }
  const std::vector<double>& false_positives() const { return fp_; }
  const std::vector<double>& false_negatives() const { return fn_; }

 protected:
  PrecisionRecallBase(const std::vector<float>& thresholds, std::optional<int> top_k,
                      std::optional<int> class_id, std::string name);
  /// The checks; called by the most-derived constructor (error messages name its class).
  void validate(const std::vector<float>& given) const;

 private:
  std::vector<float> thresholds_;
  std::optional<int> top_k_, class_id_;
  bool evenly_;
  std::vector<double> tp_, fp_, fn_;
};
}  // namespace detail

/// Keras' `Precision`: `TP / (TP + FP)` accumulated over batches (0 with no predicted positives).
/// Example: `Precision p(PrecisionOptions().thresholds({0.5f})); p.update_state(t, probs);`
class Precision : public detail::PrecisionRecallBase {
 public:
  explicit Precision(PrecisionOptions options = {}, std::string name = "precision");
  const PrecisionOptions& options() const { return options_; }
  std::vector<double> results() const override;
  std::unique_ptr<Metric> clone() const override;
  std::string class_name() const override { return "Precision"; }

 private:
  PrecisionOptions options_;
};

/// Keras' `Recall`: `TP / (TP + FN)` accumulated over batches (0 with no positive labels).
/// Example: `Recall r; r.update_state(t, probs);`
class Recall : public detail::PrecisionRecallBase {
 public:
  explicit Recall(RecallOptions options = {}, std::string name = "recall");
  const RecallOptions& options() const { return options_; }
  std::vector<double> results() const override;
  std::unique_ptr<Metric> clone() const override;
  std::string class_name() const override { return "Recall"; }

 private:
  RecallOptions options_;
};

#define TAPEFLOW_AUC_FIELDS(F)                      \
  F(int, num_thresholds, 200)                       \
  F(std::string, curve, "ROC")                      \
  F(std::string, summation_method, "interpolation") \
  F(std::vector<float>, thresholds, {})             \
  F(bool, from_logits, false)

/// Options of `AUC` (Keras' arguments and defaults): `num_thresholds` (> 1), `curve` ("ROC" or
/// "PR"), `summation_method` ("interpolation", "minoring" or "majoring"; both names in any
/// case), `thresholds` (each in [0, 1]; when given, `num_thresholds` becomes their count + 2),
/// `from_logits` (a sigmoid first). Keras' `multi_label`, `num_labels` and `label_weights` are
/// not offered (the labels are flattened: Keras' default).
/// Example: `AUCOptions().curve("PR").num_thresholds(500)`.
struct AUCOptions {
  TAPEFLOW_FIELDS(AUCOptions, TAPEFLOW_AUC_FIELDS)
};

/// Keras' `AUC`: the area under the ROC or precision-recall curve, a Riemann sum over the
/// thresholds `[-eps, 1/(n-1), 2/(n-1), ..., (n-2)/(n-1), 1 + eps]` (eps = 1e-7; given thresholds
/// are sorted and put between the same two ends). ROC: x = FP / (FP + TN), y = TP / (TP + FN);
/// PR: x = recall, y = precision. Terms `(x[i] - x[i+1]) * h` with `h` the mean of `y[i]` and
/// `y[i+1]` (interpolation), their minimum (minoring) or maximum (majoring); PR with
/// interpolation is Keras' `interpolate_pr_auc` (Davis & Goadrich: TP and FP interpolated
/// linearly between thresholds). Every score equal: ROC 0.5 (interpolation), 0 (minoring),
/// 1 (majoring). Example: `AUC auc; auc.update_state(t, probs); auc.result();`
class AUC : public Metric {
 public:
  explicit AUC(AUCOptions options = {}, std::string name = "auc");
  using Metric::update_state;
  void update_state(const Tensor& y_true, const Tensor& y_pred,
                    const Tensor& sample_weight = Tensor()) override;
  double result() const override;
  void reset_state() override;
  std::unique_ptr<Metric> clone() const override;
  std::string class_name() const override { return "AUC"; }

  const AUCOptions& options() const { return options_; }
  /// Keras' `thresholds`: every threshold, the epsilon ends included, ascending.
  const std::vector<float>& thresholds() const { return thresholds_; }
  const std::vector<double>& true_positives() const { return tp_; }
  const std::vector<double>& false_positives() const { return fp_; }
  const std::vector<double>& true_negatives() const { return tn_; }
  const std::vector<double>& false_negatives() const { return fn_; }

 private:
  double interpolate_pr_auc() const;

  AUCOptions options_;
  bool pr_, evenly_;
  int summation_;  // 0 interpolation, 1 minoring, 2 majoring
  std::vector<float> thresholds_;
  std::vector<double> tp_, fp_, tn_, fn_;
};

}  // namespace tapeflow::metrics
