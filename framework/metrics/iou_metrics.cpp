#include "tapeflow/framework/metrics/iou_metrics.hpp"

#include <cmath>
#include <numeric>
#include <utility>

#include "tapeflow/framework/metrics/detail/inputs.hpp"
#include "tapeflow/framework/ops/losses.hpp"  // losses::kEpsilon

namespace tapeflow::metrics {

namespace {

std::vector<int> all_classes(int n) {
  std::vector<int> ids(n > 0 ? static_cast<std::size_t>(n) : 0);
  std::iota(ids.begin(), ids.end(), 0);
  return ids;
}

void require_same_id_shape(const std::string& where, Shape t, Shape p, const Tensor& y_true,
                           const Tensor& y_pred) {
  detail::squeeze_or_expand_to_same_rank(t, p);
  if (t != p)
    fail_shape(where, "y_true shape " + shape_str(y_true.shape()) + " and y_pred shape " +
                          shape_str(y_pred.shape()) +
                          " do not give class ids of the same shape (equal, or a trailing 1 "
                          "apart, after the arg-max of dense inputs)");
}

}  // namespace

// ---- IoU ----------------------------------------------------------------------------------

IoU::IoU(IoUOptions options, std::string name)
    : IoU(options.num_classes(), options.target_class_ids(), options.ignore_class(),
          options.sparse_y_true(), options.sparse_y_pred(), options.axis(), std::move(name)) {
  validate();
}

IoU::IoU(int num_classes, std::vector<int> target_class_ids, std::optional<int> ignore_class,
         bool sparse_y_true, bool sparse_y_pred, int axis, std::string name)
    : Metric(std::move(name)),
      num_classes_(num_classes),
      target_class_ids_(std::move(target_class_ids)),
      ignore_class_(ignore_class),
      sparse_y_true_(sparse_y_true),
      sparse_y_pred_(sparse_y_pred),
      axis_(axis) {
  if (num_classes_ >= 2) {
    const auto n = static_cast<std::size_t>(num_classes_);
    cm_.assign(n * n, 0.0);
    missed_.assign(n, 0.0);
  }
}

void IoU::validate() const {
  if (num_classes_ < 2)
    fail(where(), "num_classes must be >= 2, got " + std::to_string(num_classes_));
  if (target_class_ids_.empty()) fail(where(), "target_class_ids is empty");
  for (int id : target_class_ids_)
    if (id < 0 || id >= num_classes_)
      fail(where(), "target_class_ids: class id " + std::to_string(id) + " is out of range [0, " +
                        std::to_string(num_classes_) + ")");
}

std::vector<double> IoU::weights_for(const Tensor& sample_weight, const Shape& shape) const {
  if (is_unweighted(sample_weight)) return {};
  std::size_t n = 1;
  for (auto d : shape) n *= d;
  if (sample_weight.size() == n && shape_of(sample_weight) != shape) {
    // Keras flattens the weights: any shape with one weight per element.
    return std::vector<double>(sample_weight.data(), sample_weight.data() + n);
  }
  return detail::broadcast_weights(where(), sample_weight, shape);
}

void IoU::update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight) {
  const long n = num_classes_;
  std::vector<long> truth, pred;
  Shape ts = shape_of(y_true), ps = shape_of(y_pred);
  if (!sparse_y_true_) {
    truth = detail::argmax(where(), y_true, axis_, &ts);
    for (long t : truth)
      if (t < 0) fail(where(), "y_true holds a NaN (dense labels, sparse_y_true=false)");
  }
  if (!sparse_y_pred_) pred = detail::argmax(where(), y_pred, axis_, &ps);  // -1: a NaN score
  require_same_id_shape(where(), ts, ps, y_true, y_pred);
  std::optional<long> ignore;
  if (ignore_class_) ignore = *ignore_class_;
  const std::string at = where();  // once, not per element
  if (sparse_y_true_) {
    truth.resize(y_true.size());
    for (std::size_t i = 0; i < truth.size(); ++i)
      truth[i] = detail::class_id(at, "y_true", y_true.data()[i], n, ignore);
  }
  if (sparse_y_pred_) {
    pred.resize(y_pred.size());
    for (std::size_t i = 0; i < pred.size(); ++i)
      // Where y_true is ignored, y_pred does not count and is not checked.
      pred[i] =
          ignore && truth[i] == *ignore ? 0 : detail::class_id(at, "y_pred", y_pred.data()[i], n);
  }
  accumulate(truth, pred, weights_for(sample_weight, ts));
}

void IoU::accumulate(const std::vector<long>& truth, const std::vector<long>& pred,
                     const std::vector<double>& weights) {
  const long n = num_classes_;
  std::vector<double> cm(cm_.size(), 0.0), missed(missed_.size(), 0.0);
  for (std::size_t i = 0; i < truth.size(); ++i) {
    const long t = truth[i];
    if (ignore_class_ && t == *ignore_class_) continue;
    const double w = weights.empty() ? 1.0 : weights[i];
    if (pred[i] < 0)
      missed[t] += w;
    else
      cm[t * n + pred[i]] += w;
  }
  for (std::size_t i = 0; i < cm.size(); ++i) cm_[i] += cm[i];
  for (std::size_t i = 0; i < missed.size(); ++i) missed_[i] += missed[i];
}

double IoU::result() const {
  const std::size_t n = static_cast<std::size_t>(num_classes_);
  double sum = 0, valid = 0;
  for (int c : target_class_ids_) {
    const auto k = static_cast<std::size_t>(c);
    double row = missed_[k], col = 0;
    for (std::size_t j = 0; j < n; ++j) {
      row += cm_[k * n + j];
      col += cm_[j * n + k];
    }
    const double tp = cm_[k * n + k], denominator = row + col - tp;
    if (denominator > 1e-9) {
      valid += 1;
      sum += tp / (denominator + losses::kEpsilon);
    }
  }
  return sum / (valid + losses::kEpsilon);
}

void IoU::reset_state() {
  std::fill(cm_.begin(), cm_.end(), 0.0);
  std::fill(missed_.begin(), missed_.end(), 0.0);
}

std::unique_ptr<Metric> IoU::clone() const {
  return std::make_unique<IoU>(IoUOptions(num_classes_, target_class_ids_)
                                   .ignore_class(ignore_class_)
                                   .sparse_y_true(sparse_y_true_)
                                   .sparse_y_pred(sparse_y_pred_)
                                   .axis(axis_),
                               name());
}

double IoU::confusion(int t, int p) const {
  if (t < 0 || t >= num_classes_ || p < 0 || p >= num_classes_)
    fail(where(), "confusion(" + std::to_string(t) + ", " + std::to_string(p) +
                      "): class ids must be in [0, " + std::to_string(num_classes_) + ")");
  return cm_[static_cast<std::size_t>(t * num_classes_ + p)];
}

double IoU::no_prediction(int t) const {
  if (t < 0 || t >= num_classes_)
    fail(where(), "no_prediction(" + std::to_string(t) + "): class id must be in [0, " +
                      std::to_string(num_classes_) + ")");
  return missed_[static_cast<std::size_t>(t)];
}

// ---- MeanIoU ------------------------------------------------------------------------------

MeanIoU::MeanIoU(MeanIoUOptions options, std::string name)
    : IoU(options.num_classes(), all_classes(options.num_classes()), options.ignore_class(),
          options.sparse_y_true(), options.sparse_y_pred(), options.axis(), std::move(name)),
      options_(std::move(options)) {
  validate();
}
MeanIoU::MeanIoU(int num_classes, std::string name)
    : MeanIoU(MeanIoUOptions(num_classes), std::move(name)) {}
std::unique_ptr<Metric> MeanIoU::clone() const {
  return std::make_unique<MeanIoU>(options_, name());
}

// ---- BinaryIoU ----------------------------------------------------------------------------

BinaryIoU::BinaryIoU(BinaryIoUOptions options, std::string name)
    : IoU(2, options.target_class_ids(), std::nullopt, true, true, -1, std::move(name)),
      options_(std::move(options)) {
  validate();
  detail::check_finite(where(), "threshold", options_.threshold());
}

void BinaryIoU::update_state(const Tensor& y_true, const Tensor& y_pred,
                             const Tensor& sample_weight) {
  Tensor t = y_true, p = y_pred;
  detail::require_same_shape(where(), t, p);
  std::vector<long> truth(t.size()), pred(p.size());
  const std::string at = where();  // once, not per element
  for (std::size_t i = 0; i < truth.size(); ++i) {
    truth[i] = detail::class_id(at, "y_true", t.data()[i], 2);
    pred[i] = p.data()[i] >= options_.threshold() ? 1 : 0;  // NaN: 0, as Keras
  }
  accumulate(truth, pred, weights_for(sample_weight, shape_of(t)));
}

std::unique_ptr<Metric> BinaryIoU::clone() const {
  return std::make_unique<BinaryIoU>(options_, name());
}

// ---- Dice ---------------------------------------------------------------------------------

Dice::Dice(float threshold, std::string name) : Metric(std::move(name)), threshold_(threshold) {
  detail::check_finite(where(), "threshold", threshold);
}

void Dice::update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight) {
  Tensor t = y_true, p = y_pred;
  detail::require_same_shape(where(), t, p);
  const std::vector<double> w = detail::broadcast_weights(where(), sample_weight, shape_of(t));
  double inter = 0, st = 0, sp = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const double wi = w.empty() ? 1.0 : w[i];
    const bool tv = t.data()[i] > 0.5f, pv = p.data()[i] >= threshold_;
    if (tv) st += wi;
    if (pv) sp += wi;
    if (tv && pv) inter += wi;
  }
  intersection_ += inter;
  true_sum_ += st;
  pred_sum_ += sp;
}

double Dice::result() const {
  return detail::divide_no_nan(2.0 * intersection_, true_sum_ + pred_sum_);
}
void Dice::reset_state() { intersection_ = true_sum_ = pred_sum_ = 0; }
std::unique_ptr<Metric> Dice::clone() const { return std::make_unique<Dice>(threshold_, name()); }

}  // namespace tapeflow::metrics
