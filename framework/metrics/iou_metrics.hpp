#pragma once
/// Segmentation overlap metrics: Keras' `IoU`, `MeanIoU` and `BinaryIoU`, and `Dice` (not a Keras
/// metric).
///
/// The IoU metrics accumulate a weighted confusion matrix `cm[true][pred]` over every element
/// (Keras' `_IoUBase`) and report, as Keras' `IoU.result`, over the target classes `c`:
/// `denominator_c = sum(cm[c][:]) + sum(cm[:][c]) - cm[c][c]`; a class is valid when
/// `denominator_c > 1e-9`; `iou_c = cm[c][c] / (denominator_c + 1e-7)` for a valid class, else 0;
/// `result = sum(iou_c) / (valid classes + 1e-7)`. So a class absent from both `y_true` and
/// `y_pred` does not count, and with no valid class (no updates) the result is 0; the 1e-7 terms
/// make a perfect score 1 - about 1e-7, as in Keras.
///
/// Where tapeflow is stricter than Keras 3 (which casts to int and silently drops what is out of
/// range): a class id that is not an integer in `[0, num_classes)` (and is not `ignore_class`)
/// is a ValueError naming the argument; `y_true` and `y_pred` must have the same shape (or differ
/// by a trailing axis of 1) where Keras only needs the same element count; weights stay real
/// numbers (Keras' IoU defaults to an int dtype and truncates them). Weights: none, one per
/// element (any shape with `y_true`'s element count, as Keras' flattening), or aligned with the
/// leading axes of the class-id tensor (per sample, see metric.hpp).
/// NaN: with dense `y_pred` (`sparse_y_pred = false`), a position whose scores hold a NaN
/// predicts no class: it is a miss of its true class (it adds to that class's denominator only).
/// `BinaryIoU` and `Dice` threshold `y_pred >= threshold`, so a NaN score predicts class 0 there.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tapeflow/framework/metrics/metric.hpp"
#include "tapeflow/framework/nn/fields.hpp"

namespace tapeflow::metrics {

#define TAPEFLOW_IOU_FIELDS(F)                      \
  F(int, num_classes, 0)                            \
  F(std::vector<int>, target_class_ids, {})         \
  F(std::optional<int>, ignore_class, std::nullopt) \
  F(bool, sparse_y_true, true)                      \
  F(bool, sparse_y_pred, true)                      \
  F(int, axis, -1)

/// Options of `IoU` (Keras' arguments and defaults): `num_classes` (>= 2) and `target_class_ids`
/// (non-empty, each in `[0, num_classes)`) required; `ignore_class` (positions whose `y_true` is
/// this id do not count; commonly -1 or 255), `sparse_y_true`/`sparse_y_pred` (false: class
/// scores, reduced with arg-max over `axis`).
/// Example: `IoUOptions(3, {0}).ignore_class(255)`.
struct IoUOptions {
  TAPEFLOW_FIELDS(IoUOptions, TAPEFLOW_IOU_FIELDS)
  IoUOptions() = default;
  IoUOptions(int num_classes, std::vector<int> target_class_ids) {
    num_classes_ = num_classes;
    target_class_ids_ = std::move(target_class_ids);
  }
};

#define TAPEFLOW_MEAN_IOU_FIELDS(F)                 \
  F(int, num_classes, 0)                            \
  F(std::optional<int>, ignore_class, std::nullopt) \
  F(bool, sparse_y_true, true)                      \
  F(bool, sparse_y_pred, true)                      \
  F(int, axis, -1)

/// Options of `MeanIoU`: as `IoUOptions` with every class a target.
/// Example: `MeanIoUOptions(4).sparse_y_pred(false)` (class scores as `y_pred`).
struct MeanIoUOptions {
  TAPEFLOW_FIELDS(MeanIoUOptions, TAPEFLOW_MEAN_IOU_FIELDS)
  MeanIoUOptions() = default;
  explicit MeanIoUOptions(int num_classes) { num_classes_ = num_classes; }
};

#define TAPEFLOW_BINARY_IOU_FIELDS(F)           \
  F(std::vector<int>, target_class_ids, {0, 1}) \
  F(float, threshold, 0.5f)

/// Options of `BinaryIoU` (Keras' defaults): `target_class_ids` ({0, 1}: both classes, {1}: the
/// foreground), `threshold` (finite; `y_pred >= threshold` predicts 1).
/// Example: `BinaryIoUOptions().target_class_ids({1}).threshold(0.3f)`.
struct BinaryIoUOptions {
  TAPEFLOW_FIELDS(BinaryIoUOptions, TAPEFLOW_BINARY_IOU_FIELDS)
};

/// Keras' `IoU`: the mean IoU of the target classes (the formula at the top of this file).
/// Example: `IoU m(IoUOptions(2, {0})); m.update_state(Tensor{0.f, 0.f, 1.f, 1.f}, Tensor{0.f,
/// 1.f, 0.f, 1.f});  // 1/3`
class IoU : public Metric {
 public:
  explicit IoU(IoUOptions options, std::string name = "io_u");
  using Metric::update_state;
  void update_state(const Tensor& y_true, const Tensor& y_pred,
                    const Tensor& sample_weight = Tensor()) override;
  double result() const override;
  void reset_state() override;
  std::unique_ptr<Metric> clone() const override;
  std::string class_name() const override { return "IoU"; }

  int num_classes() const { return num_classes_; }
  const std::vector<int>& target_class_ids() const { return target_class_ids_; }
  /// The accumulated weight of `y_true == t` and `y_pred == p`.
  double confusion(int t, int p) const;
  /// The accumulated weight of positions of true class `t` whose scores held a NaN.
  double no_prediction(int t) const;

 protected:
  IoU(int num_classes, std::vector<int> target_class_ids, std::optional<int> ignore_class,
      bool sparse_y_true, bool sparse_y_pred, int axis, std::string name);
  /// The checks, called by the most-derived constructor (its class names the errors).
  void validate() const;
  /// Adds one batch of class ids (-1 in `pred`: no prediction) with weights per element (empty:
  /// all 1) to the state, after the whole batch is checked.
  void accumulate(const std::vector<long>& truth, const std::vector<long>& pred,
                  const std::vector<double>& weights);
  /// The weights for `n` elements of class-id shape `shape`, as the top of this file says.
  std::vector<double> weights_for(const Tensor& sample_weight, const Shape& shape) const;

 private:
  int num_classes_;
  std::vector<int> target_class_ids_;
  std::optional<int> ignore_class_;
  bool sparse_y_true_, sparse_y_pred_;
  int axis_;
  std::vector<double> cm_, missed_;
};

/// Keras' `MeanIoU`: `IoU` over every class, `num_classes` >= 2.
/// Example: `MeanIoU m(3); m.update_state(labels, predicted_ids);`
class MeanIoU : public IoU {
 public:
  explicit MeanIoU(MeanIoUOptions options, std::string name = "mean_io_u");
  explicit MeanIoU(int num_classes, std::string name = "mean_io_u");
  const MeanIoUOptions& options() const { return options_; }
  std::unique_ptr<Metric> clone() const override;
  std::string class_name() const override { return "MeanIoU"; }

 private:
  MeanIoUOptions options_;
};

/// Keras' `BinaryIoU`: `IoU` of 2 classes with `y_pred >= threshold` as class 1; `y_true` must
/// hold 0 and 1 (a ValueError otherwise: Keras' int cast would make 0.9 a 0). `y_true` and
/// `y_pred` of the same shape (or a trailing 1 apart).
/// Example: `BinaryIoU m(BinaryIoUOptions().target_class_ids({1})); m.update_state(mask, probs);`
class BinaryIoU : public IoU {
 public:
  explicit BinaryIoU(BinaryIoUOptions options = {}, std::string name = "binary_io_u");
  using IoU::update_state;
  void update_state(const Tensor& y_true, const Tensor& y_pred,
                    const Tensor& sample_weight = Tensor()) override;
  const BinaryIoUOptions& options() const { return options_; }
  std::unique_ptr<Metric> clone() const override;
  std::string class_name() const override { return "BinaryIoU"; }

 private:
  BinaryIoUOptions options_;
};

/// The Dice coefficient of the foreground, global over all batches (not a Keras metric):
/// `2 * sum(w * t * p) / (sum(w * t) + sum(w * p))`, with `t = y_true > 0.5` and
/// `p = y_pred >= threshold` (0 or 1; a NaN score is 0, as `BinaryIoU`'s threshold), `w` the
/// weights (see metric.hpp). Summed over every element of every batch, not averaged per sample
/// or per batch. When both sums are 0 (no foreground in truth or prediction, or no updates) the
/// result is 0, as Keras' `divide_no_nan` and as `BinaryIoU({1})`, which reports 0 when class 1
/// is absent from both; with foreground, `dice = 2 * iou / (1 + iou)` for the IoU of class 1
/// (without the 1e-7 terms). `threshold` must be finite.
/// Example: `Dice d; d.update_state(mask, probabilities); double dice = d.result();`
class Dice : public Metric {
 public:
  explicit Dice(float threshold = 0.5f, std::string name = "dice");
  using Metric::update_state;
  void update_state(const Tensor& y_true, const Tensor& y_pred,
                    const Tensor& sample_weight = Tensor()) override;
  double result() const override;
  void reset_state() override;
  std::unique_ptr<Metric> clone() const override;
  std::string class_name() const override { return "Dice"; }

  float threshold() const { return threshold_; }
  /// The weighted sums `sum(w t p)`, `sum(w t)`, `sum(w p)`.
  double intersection() const { return intersection_; }
  double true_sum() const { return true_sum_; }
  double pred_sum() const { return pred_sum_; }

 private:
  float threshold_;
  double intersection_ = 0, true_sum_ = 0, pred_sum_ = 0;
};

}  // namespace tapeflow::metrics
