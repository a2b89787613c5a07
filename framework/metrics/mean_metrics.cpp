#include "tapeflow/framework/metrics/mean_metrics.hpp"

#include <cmath>
#include <utility>

#include "tapeflow/framework/metrics/detail/inputs.hpp"

namespace tapeflow::metrics {

namespace {

std::size_t product(const Shape& s, std::size_t from, std::size_t to) {
  std::size_t p = 1;
  for (std::size_t i = from; i < to; ++i) p *= s[i];
  return p;
}

// Keras' reduce_to_samplewise_values (reduce_fn = mean) followed by Mean.update_state's sums.
void accumulate_mean(const std::string& where, const Tensor& values_in, const Tensor& weight_in,
                     double& total, double& count) {
  if (is_unweighted(weight_in)) {
    const Shape vs = shape_of(values_in);
    if (vs.empty()) {
      total += values_in();
      count += 1;
      return;
    }
    const std::size_t n = vs[0], per = product(vs, 1, vs.size());
    const float* v = values_in.data();
    for (std::size_t i = 0; i < n; ++i) {
      double s = 0;
      for (std::size_t j = 0; j < per; ++j) s += v[i * per + j];
      total += s / static_cast<double>(per);  // per == 0: NaN, as the mean of nothing in Keras
    }
    count += static_cast<double>(n);
    return;
  }
  Tensor values = values_in, weight = weight_in;
  detail::squeeze_or_expand_to_same_rank(values, weight);
  const Shape vs = shape_of(values), ws = shape_of(weight);
  if (ws.size() > vs.size())
    fail_shape(where, "sample_weight shape " + shape_str(weight_in.shape()) +
                          " has more axes than the values " + shape_str(values_in.shape()));
  const float* v = values.data();
  if (ws.empty()) {  // a (1,) weight against a rank-0 value, squeezed: the value times it
    double m = 0;
    for (std::size_t k = 0; k < values.size(); ++k) m += v[k];
    m /= static_cast<double>(values.size());
    total += m * weight();
    count += weight();
    return;
  }
  // The values averaged over the axes the weights lack, then weighted elementwise.
  const std::size_t wn = ws.size(), lead = product(vs, 0, wn), inner = product(vs, wn, vs.size());
  const Shape lead_shape(vs.begin(), vs.begin() + static_cast<std::ptrdiff_t>(wn));
  std::vector<double> w;
  try {
    w = detail::broadcast_weights(where, weight, lead_shape);
  } catch (const ShapeError&) {
    fail_shape(where, "sample_weight shape " + shape_str(weight_in.shape()) +
                          " does not fit the values " + shape_str(values_in.shape()) +
                          " (each axis must be 1 or equal, aligned with the leading axes)");
  }
  const std::size_t n = vs[0], per = n == 0 ? 0 : lead / n;
  for (std::size_t i = 0; i < n; ++i) {
    double s = 0, sw = 0;
    for (std::size_t j = 0; j < per; ++j) {
      const std::size_t k = i * per + j;
      double m = 0;
      for (std::size_t e = 0; e < inner; ++e) m += v[k * inner + e];
      m /= static_cast<double>(inner);
      s += m * w[k];
      sw += w[k];
    }
    total += s / static_cast<double>(per);
    count += sw / static_cast<double>(per);
  }
}

Tensor elementwise_error(const std::string& where, const Tensor& y_true, const Tensor& y_pred,
                         bool squared) {
  Tensor t = y_true, p = y_pred;
  detail::require_same_shape(where, t, p);
  Tensor e = Tensor::from_shape(t.shape());
  for (std::size_t i = 0; i < e.size(); ++i) {
    const float d = t.data()[i] - p.data()[i];
    e.data()[i] = squared ? d * d : std::abs(d);
  }
  return e;  // the per-sample mean over the remaining axes is the Mean's reduction
}

}  // namespace

// ---- Mean ---------------------------------------------------------------------------------

Mean::Mean(std::string name) : Metric(std::move(name)) {}

void Mean::update_state(const Tensor& values, const Tensor& sample_weight) {
  accumulate_mean(where(), values, sample_weight, total_, count_);
}

double Mean::operator()(const Tensor& values, const Tensor& sample_weight) {
  update_state(values, sample_weight);
  return result();
}

void Mean::update_state(double value, double weight) {
  total_ += value * weight;
  count_ += weight;
}

void Mean::update_state(const Tensor&, const Tensor&, const Tensor&) {
  fail(where(),
       "Mean takes values: call update_state(values[, sample_weight]), not (y_true, y_pred[, "
       "sample_weight]); MeanMetricWrapper averages a function of (y_true, y_pred)");
}

double Mean::result() const { return detail::divide_no_nan(total_, count_); }
void Mean::reset_state() { total_ = count_ = 0; }
std::unique_ptr<Metric> Mean::clone() const { return std::make_unique<Mean>(name()); }

// ---- MeanMetricWrapper --------------------------------------------------------------------

MeanMetricWrapper::MeanMetricWrapper(MetricFn fn, std::string name)
    : Metric(std::move(name)), fn_(std::move(fn)) {
  if (!fn_) fail(where(), "fn is an empty function");
}
MeanMetricWrapper::MeanMetricWrapper(std::string name) : Metric(std::move(name)) {}

Tensor MeanMetricWrapper::values(const Tensor& y_true, const Tensor& y_pred) const {
  Tensor out;
  try {
    out = fn_(y_true, y_pred);
  } catch (const Error& e) {
    e.rethrow_in(where());
  }
  return out;
}

void MeanMetricWrapper::update_state(const Tensor& y_true, const Tensor& y_pred,
                                     const Tensor& sample_weight) {
  // Both sums change only once the whole batch is read: a bad batch leaves the state as it was.
  double total = total_, count = count_;
  accumulate_mean(where(), values(y_true, y_pred), sample_weight, total, count);
  total_ = total;
  count_ = count;
}

double MeanMetricWrapper::result() const { return detail::divide_no_nan(total_, count_); }
void MeanMetricWrapper::reset_state() { total_ = count_ = 0; }
std::unique_ptr<Metric> MeanMetricWrapper::clone() const {
  return std::make_unique<MeanMetricWrapper>(fn_, name());
}

// ---- Regression ---------------------------------------------------------------------------

MeanSquaredError::MeanSquaredError(std::string name) : MeanMetricWrapper(std::move(name)) {}
Tensor MeanSquaredError::values(const Tensor& y_true, const Tensor& y_pred) const {
  return elementwise_error(where(), y_true, y_pred, true);
}
std::unique_ptr<Metric> MeanSquaredError::clone() const {
  return std::make_unique<MeanSquaredError>(name());
}

MeanAbsoluteError::MeanAbsoluteError(std::string name) : MeanMetricWrapper(std::move(name)) {}
Tensor MeanAbsoluteError::values(const Tensor& y_true, const Tensor& y_pred) const {
  return elementwise_error(where(), y_true, y_pred, false);
}
std::unique_ptr<Metric> MeanAbsoluteError::clone() const {
  return std::make_unique<MeanAbsoluteError>(name());
}

}  // namespace tapeflow::metrics
