#include "tapeflow/framework/metrics/confusion_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "tapeflow/framework/core/strings.hpp"
#include "tapeflow/framework/metrics/detail/inputs.hpp"
#include "tapeflow/framework/ops/losses.hpp"  // losses::kEpsilon

namespace tapeflow::metrics {

namespace {

// Keras' is_evenly_distributed_thresholds: at least 3 values, np.allclose to i / (n - 1) with
// atol = epsilon (and numpy's default rtol 1e-5), in the order given.
bool evenly_distributed(const std::vector<float>& t) {
  const std::size_t n = t.size();
  if (n < 3) return false;
  for (std::size_t i = 0; i < n; ++i) {
    const double even = static_cast<double>(static_cast<float>(i) / static_cast<float>(n - 1));
    if (!(std::abs(t[i] - even) <= 1e-7 + 1e-5 * std::abs(even))) return false;
  }
  return true;
}

struct Counts {
  std::vector<double>* tp = nullptr;
  std::vector<double>* fp = nullptr;
  std::vector<double>* tn = nullptr;
  std::vector<double>* fn = nullptr;
};

struct Filter {
  std::optional<int> top_k, class_id;
  bool clip = false, sigmoid = false;
};

// Keras' update_confusion_matrix_variables for non-multilabel data, computed in one pass: each
// score falls in the bucket of the number of thresholds below it; positive-at-threshold counts
// are then suffix sums of the buckets, negative-at-threshold counts prefix sums. Exactly
// `score > threshold`, for any threshold order. The counts change only after the whole batch
// is read, so a bad batch leaves the state as it was.
void update_counts(const std::string& where, const Tensor& y_true, const Tensor& y_pred,
                   const Tensor& sample_weight, const std::vector<float>& thresholds,
                   const Filter& filter, Counts counts) {
  Tensor t = y_true, p = y_pred;
  detail::require_same_shape(where, t, p);
  const Shape shape = shape_of(p);
  std::vector<double> w = detail::broadcast_weights(where, sample_weight, shape);
  const std::size_t last = shape.empty() ? 1 : shape.back();
  if ((filter.top_k || filter.class_id) && (shape.size() < 1 || last == 0))
    fail_shape(where, "top_k and class_id need y_pred with a class axis (the last), got shape " +
                          shape_str(shape));
  if (filter.sigmoid)
    for (auto& v : p) v = 1.f / (1.f + std::exp(-v));
  if (filter.top_k) {
    const std::size_t k = static_cast<std::size_t>(*filter.top_k);
    if (k > last)
      fail(where, "top_k=" + std::to_string(k) + " exceeds the size " + std::to_string(last) +
                      " of y_pred's last axis");
    std::vector<std::size_t> idx(last);
    std::vector<char> keep(last);
    for (std::size_t r = 0; r < p.size() / last; ++r) {
      float* row = p.data() + r * last;
      std::iota(idx.begin(), idx.end(), std::size_t{0});
      // A NaN ranks lowest (its comparisons are false anyway); ties: the lower index first.
      auto key = [&](std::size_t i) { return std::isnan(row[i]) ? -INFINITY : row[i]; };
      std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(),
                        [&](std::size_t a, std::size_t b) {
                          return key(a) > key(b) || (key(a) == key(b) && a < b);
                        });
      std::fill(keep.begin(), keep.end(), 0);
      for (std::size_t j = 0; j < k; ++j) keep[idx[j]] = 1;
      for (std::size_t c = 0; c < last; ++c)
        if (!keep[c]) row[c] = kNegInf;
    }
  }
  std::size_t stride = 1, offset = 0;  // which elements count: all, or one column
  if (filter.class_id) {
    if (shape.size() < 2)
      fail_shape(where, "class_id needs y_pred of shape (num_samples, num_classes), got " +
                            shape_str(shape));
    if (static_cast<std::size_t>(*filter.class_id) >= last)
      fail(where, "class_id=" + std::to_string(*filter.class_id) + " is out of range for the " +
                      std::to_string(last) + " classes of y_pred's last axis");
    stride = last;
    offset = static_cast<std::size_t>(*filter.class_id);
  }

  std::vector<std::size_t> order(thresholds.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return thresholds[a] < thresholds[b]; });
  std::vector<float> sorted(thresholds.size());
  for (std::size_t i = 0; i < order.size(); ++i) sorted[i] = thresholds[order[i]];
  const std::size_t nt = sorted.size();
  std::vector<double> pos(nt + 1, 0.0), neg(nt + 1, 0.0);
  for (std::size_t i = offset; i < p.size(); i += stride) {
    float s = p.data()[i];
    if (filter.clip && !std::isnan(s)) s = std::min(1.f, std::max(0.f, s));
    // Thresholds strictly below s; a NaN is below none.
    const std::size_t b = static_cast<std::size_t>(
        std::lower_bound(sorted.begin(), sorted.end(), s) - sorted.begin());
    const double weight = w.empty() ? 1.0 : w[i];
    (t.data()[i] != 0.f ? pos : neg)[b] += weight;
  }
  std::vector<double> above_pos(nt), above_neg(nt), below_pos(nt), below_neg(nt);
  double acc_p = 0, acc_n = 0;
  for (std::size_t j = nt; j-- > 0;) {  // predicted positive at sorted threshold j: buckets > j
    acc_p += pos[j + 1];
    acc_n += neg[j + 1];
    above_pos[j] = acc_p;
    above_neg[j] = acc_n;
  }
  acc_p = acc_n = 0;
  for (std::size_t j = 0; j < nt; ++j) {  // predicted negative: buckets <= j
    acc_p += pos[j];
    acc_n += neg[j];
    below_pos[j] = acc_p;
    below_neg[j] = acc_n;
  }
  for (std::size_t j = 0; j < nt; ++j) {
    const std::size_t o = order[j];
    if (counts.tp) (*counts.tp)[o] += above_pos[j];
    if (counts.fp) (*counts.fp)[o] += above_neg[j];
    if (counts.tn) (*counts.tn)[o] += below_neg[j];
    if (counts.fn) (*counts.fn)[o] += below_pos[j];
  }
}

}  // namespace

// ---- Precision and Recall -----------------------------------------------------------------

namespace detail {

PrecisionRecallBase::PrecisionRecallBase(const std::vector<float>& thresholds,
                                         std::optional<int> top_k, std::optional<int> class_id,
                                         std::string name)
    : Metric(std::move(name)),
      thresholds_(thresholds.empty() ? std::vector<float>{top_k ? kNegInf : 0.5f} : thresholds),
      top_k_(top_k),
      class_id_(class_id),
      evenly_(evenly_distributed(thresholds_)),
      tp_(thresholds_.size(), 0.0),
      fp_(thresholds_.size(), 0.0),
      fn_(thresholds_.size(), 0.0) {}

void PrecisionRecallBase::validate(const std::vector<float>& given) const {
  for (float t : given) check_unit_interval(where(), "thresholds", t);
  if (top_k_ && *top_k_ < 1) fail(where(), "top_k must be >= 1, got " + std::to_string(*top_k_));
  if (class_id_ && *class_id_ < 0)
    fail(where(), "class_id must be >= 0, got " + std::to_string(*class_id_));
}

void PrecisionRecallBase::update_state(const Tensor& y_true, const Tensor& y_pred,
                                       const Tensor& sample_weight) {
  Filter f;
  f.top_k = top_k_;
  f.class_id = class_id_;
  f.clip = evenly_;
  std::vector<double> tp(tp_.size()), fp(fp_.size()), fn(fn_.size());
  update_counts(where(), y_true, y_pred, sample_weight, thresholds_, f, {&tp, &fp, nullptr, &fn});
  for (std::size_t i = 0; i < tp.size(); ++i) {
    tp_[i] += tp[i];
    fp_[i] += fp[i];
    fn_[i] += fn[i];
  }
}

void PrecisionRecallBase::reset_state() {
  std::fill(tp_.begin(), tp_.end(), 0.0);
  std::fill(fp_.begin(), fp_.end(), 0.0);
  std::fill(fn_.begin(), fn_.end(), 0.0);
}

double PrecisionRecallBase::result() const {
  if (thresholds_.size() != 1)
    fail(where(), "result() is one number but there are " + std::to_string(thresholds_.size()) +
                      " thresholds: use results() for the value at each");
  return results()[0];
}

}  // namespace detail

Precision::Precision(PrecisionOptions options, std::string name)
    : PrecisionRecallBase(options.thresholds(), options.top_k(), options.class_id(),
                          std::move(name)),
      options_(std::move(options)) {
  validate(options_.thresholds());
}
std::vector<double> Precision::results() const {
  std::vector<double> r(thresholds().size());
  for (std::size_t i = 0; i < r.size(); ++i)
    r[i] = metrics::detail::divide_no_nan(true_positives()[i],
                                          true_positives()[i] + false_positives()[i]);
  return r;
}
std::unique_ptr<Metric> Precision::clone() const {
  return std::make_unique<Precision>(options_, name());
}

Recall::Recall(RecallOptions options, std::string name)
    : PrecisionRecallBase(options.thresholds(), options.top_k(), options.class_id(),
                          std::move(name)),
      options_(std::move(options)) {
  validate(options_.thresholds());
}
std::vector<double> Recall::results() const {
  std::vector<double> r(thresholds().size());
  for (std::size_t i = 0; i < r.size(); ++i)
    r[i] = metrics::detail::divide_no_nan(true_positives()[i],
                                          true_positives()[i] + false_negatives()[i]);
  return r;
}
std::unique_ptr<Metric> Recall::clone() const { return std::make_unique<Recall>(options_, name()); }

// ---- AUC ----------------------------------------------------------------------------------

AUC::AUC(AUCOptions options, std::string name)
    : Metric(std::move(name)), options_(std::move(options)) {
  const std::string curve = tapeflow::detail::to_lower(options_.curve());
  if (curve != "roc" && curve != "pr")
    fail(where(), "curve must be \"ROC\" or \"PR\", got \"" + options_.curve() + "\"");
  pr_ = curve == "pr";
  const std::string sum = tapeflow::detail::to_lower(options_.summation_method());
  if (sum == "interpolation")
    summation_ = 0;
  else if (sum == "minoring")
    summation_ = 1;
  else if (sum == "majoring")
    summation_ = 2;
  else
    fail(where(),
         "summation_method must be \"interpolation\", \"minoring\" or \"majoring\", got \"" +
             options_.summation_method() + "\"");
  std::vector<float> inner;
  if (!options_.thresholds().empty()) {
    for (float t : options_.thresholds())
      metrics::detail::check_unit_interval(where(), "thresholds", t);
    inner = options_.thresholds();
    std::sort(inner.begin(), inner.end());
    std::vector<float> with_ends{0.f};
    with_ends.insert(with_ends.end(), inner.begin(), inner.end());
    with_ends.push_back(1.f);
    evenly_ = evenly_distributed(with_ends);
  } else {
    const int n = options_.num_thresholds();
    if (n <= 1) fail(where(), "num_thresholds must be > 1, got " + std::to_string(n));
    // Keras builds them in Python doubles, then the comparison casts them to float32.
    for (int i = 0; i < n - 2; ++i) inner.push_back(static_cast<float>((i + 1) * 1.0 / (n - 1)));
    evenly_ = true;
  }
  thresholds_.push_back(static_cast<float>(0.0 - losses::kEpsilon));
  thresholds_.insert(thresholds_.end(), inner.begin(), inner.end());
  thresholds_.push_back(static_cast<float>(1.0 + losses::kEpsilon));
  tp_.assign(thresholds_.size(), 0.0);
  fp_ = tn_ = fn_ = tp_;
}

void AUC::update_state(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight) {
  Filter f;
  f.clip = evenly_;
  f.sigmoid = options_.from_logits();
  std::vector<double> tp(tp_.size()), fp(tp_.size()), tn(tp_.size()), fn(tp_.size());
  update_counts(where(), y_true, y_pred, sample_weight, thresholds_, f, {&tp, &fp, &tn, &fn});
  for (std::size_t i = 0; i < tp.size(); ++i) {
    tp_[i] += tp[i];
    fp_[i] += fp[i];
    tn_[i] += tn[i];
    fn_[i] += fn[i];
  }
}

void AUC::reset_state() {
  for (auto* v : {&tp_, &fp_, &tn_, &fn_}) std::fill(v->begin(), v->end(), 0.0);
}

std::unique_ptr<Metric> AUC::clone() const { return std::make_unique<AUC>(options_, name()); }

double AUC::interpolate_pr_auc() const {
  using metrics::detail::divide_no_nan;
  const std::size_t n = thresholds_.size();
  double auc = 0;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    const double dtp = tp_[i] - tp_[i + 1];
    const double p0 = tp_[i] + fp_[i], p1 = tp_[i + 1] + fp_[i + 1];
    const double dp = p0 - p1;
    const double slope = divide_no_nan(dtp, std::max(dp, 0.0));
    const double intercept = tp_[i + 1] - slope * p1;
    const double ratio = p0 > 0 && p1 > 0 ? divide_no_nan(p0, std::max(p1, 0.0)) : 1.0;
    auc += divide_no_nan(slope * (dtp + intercept * std::log(ratio)),
                         std::max(tp_[i + 1] + fn_[i + 1], 0.0));
  }
  return auc;
}

double AUC::result() const {
  using metrics::detail::divide_no_nan;
  if (pr_ && summation_ == 0) return interpolate_pr_auc();
  const std::size_t n = thresholds_.size();
  std::vector<double> x(n), y(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double recall = divide_no_nan(tp_[i], tp_[i] + fn_[i]);
    if (pr_) {
      x[i] = recall;
      y[i] = divide_no_nan(tp_[i], tp_[i] + fp_[i]);
    } else {
      x[i] = divide_no_nan(fp_[i], fp_[i] + tn_[i]);
      y[i] = recall;
    }
  }
  double auc = 0;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    const double h = summation_ == 0   ? (y[i] + y[i + 1]) / 2
                     : summation_ == 1 ? std::min(y[i], y[i + 1])
                                       : std::max(y[i], y[i + 1]);
    auc += (x[i] - x[i + 1]) * h;
  }
  return auc;
}

}  // namespace tapeflow::metrics
