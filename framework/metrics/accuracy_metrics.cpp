#include "tapeflow/framework/metrics/accuracy_metrics.hpp"

#include <cmath>
#include <utility>

#include "tapeflow/framework/metrics/detail/inputs.hpp"

namespace tapeflow::metrics {

namespace {

Tensor from_matches(const std::vector<long>& matches, const Shape& shape) {
  Tensor out = Tensor::from_shape(shape);
  for (std::size_t i = 0; i < out.size(); ++i) out.data()[i] = static_cast<float>(matches[i]);
  return out;
}

// The class axis is the last; rank 0 has none.
void require_class_axis(const std::string& where, const Tensor& y_pred) {
  if (y_pred.dimension() == 0 || y_pred.shape().back() == 0)
    fail_shape(where,
               "y_pred must have a class axis (the last), got shape " + shape_str(y_pred.shape()));
}

void require_one_hot_shape(const std::string& where, const Tensor& y_true, const Tensor& y_pred) {
  require_class_axis(where, y_pred);
  if (shape_of(y_true) != shape_of(y_pred))
    fail_shape(where, "y_true shape " + shape_str(y_true.shape()) + " must equal y_pred shape " +
                          shape_str(y_pred.shape()) +
                          " (one-hot labels; integer labels take the sparse metric)");
}

}  // namespace

// ---- Accuracy -----------------------------------------------------------------------------

Accuracy::Accuracy(std::string name) : MeanMetricWrapper(std::move(name)) {}
Tensor Accuracy::values(const Tensor& y_true, const Tensor& y_pred) const {
  Tensor t = y_true, p = y_pred;
  detail::require_same_shape(where(), t, p);
  Tensor out = Tensor::from_shape(t.shape());
  for (std::size_t i = 0; i < out.size(); ++i)
    out.data()[i] = t.data()[i] == p.data()[i] ? 1.f : 0.f;
  return out;
}
std::unique_ptr<Metric> Accuracy::clone() const { return std::make_unique<Accuracy>(name()); }

// ---- BinaryAccuracy -----------------------------------------------------------------------

BinaryAccuracy::BinaryAccuracy(float threshold, std::string name)
    : MeanMetricWrapper(std::move(name)), threshold_(threshold) {
  detail::check_finite(where(), "threshold", threshold);
}
Tensor BinaryAccuracy::values(const Tensor& y_true, const Tensor& y_pred) const {
  Tensor t = y_true, p = y_pred;
  detail::require_same_shape(where(), t, p);
  Tensor out = Tensor::from_shape(t.shape());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const float predicted = p.data()[i] > threshold_ ? 1.f : 0.f;  // NaN: 0, as Keras
    out.data()[i] = t.data()[i] == predicted ? 1.f : 0.f;
  }
  return out;
}
std::unique_ptr<Metric> BinaryAccuracy::clone() const {
  return std::make_unique<BinaryAccuracy>(threshold_, name());
}

// ---- CategoricalAccuracy ------------------------------------------------------------------

CategoricalAccuracy::CategoricalAccuracy(std::string name) : MeanMetricWrapper(std::move(name)) {}
Tensor CategoricalAccuracy::values(const Tensor& y_true, const Tensor& y_pred) const {
  require_one_hot_shape(where(), y_true, y_pred);
  Shape shape;
  const auto t = detail::argmax(where(), y_true, -1, &shape);
  const auto p = detail::argmax(where(), y_pred, -1);
  std::vector<long> m(t.size());
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = t[i] >= 0 && t[i] == p[i];
  return from_matches(m, shape);
}
std::unique_ptr<Metric> CategoricalAccuracy::clone() const {
  return std::make_unique<CategoricalAccuracy>(name());
}

// ---- SparseCategoricalAccuracy ------------------------------------------------------------

SparseCategoricalAccuracy::SparseCategoricalAccuracy(std::string name)
    : MeanMetricWrapper(std::move(name)) {}
Tensor SparseCategoricalAccuracy::values(const Tensor& y_true, const Tensor& y_pred) const {
  require_class_axis(where(), y_pred);
  Shape shape;
  const auto p = detail::argmax(where(), y_pred, -1, &shape);
  Shape ts = shape_of(y_true);
  // Keras squeezes a trailing 1 when the ranks are equal.
  if (ts.size() == y_pred.dimension() && !ts.empty() && ts.back() == 1) ts.pop_back();
  if (ts != shape)
    fail_shape(where(), "y_true shape " + shape_str(y_true.shape()) + " must be y_pred shape " +
                            shape_str(y_pred.shape()) +
                            " without its class axis (or with a trailing 1 in its place)");
  const long classes = static_cast<long>(y_pred.shape().back());
  std::vector<long> m(p.size());
  const std::string at = where();  // once, not per element
  for (std::size_t i = 0; i < m.size(); ++i)
    m[i] = detail::class_id(at, "y_true", y_true.data()[i], classes) == p[i];
  return from_matches(m, shape);
}
std::unique_ptr<Metric> SparseCategoricalAccuracy::clone() const {
  return std::make_unique<SparseCategoricalAccuracy>(name());
}

// ---- TopKCategoricalAccuracy --------------------------------------------------------------

TopKCategoricalAccuracy::TopKCategoricalAccuracy(int k, std::string name)
    : MeanMetricWrapper(std::move(name)), k_(k) {
  if (k < 1) fail(where(), "k must be >= 1, got " + std::to_string(k));
}
Tensor TopKCategoricalAccuracy::values(const Tensor& y_true, const Tensor& y_pred) const {
  require_one_hot_shape(where(), y_true, y_pred);
  Shape shape;
  const auto t = detail::argmax(where(), y_true, -1, &shape);
  const std::size_t classes = y_pred.shape().back();
  std::vector<long> m(t.size());
  for (std::size_t i = 0; i < m.size(); ++i) {
    const float* row = y_pred.data() + i * classes;
    bool in = t[i] >= 0;
    long larger = 0;
    for (std::size_t c = 0; in && c < classes; ++c) {
      if (!std::isfinite(row[c]))
        in = false;
      else if (row[c] > row[t[i]])
        ++larger;
    }
    m[i] = in && larger < k_;
  }
  return from_matches(m, shape);
}
std::unique_ptr<Metric> TopKCategoricalAccuracy::clone() const {
  return std::make_unique<TopKCategoricalAccuracy>(k_, name());
}

}  // namespace tapeflow::metrics
