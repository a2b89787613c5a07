#include "tapeflow/framework/metrics/detail/inputs.hpp"

#include <cmath>
#include <sstream>

#include "tapeflow/framework/metrics/metric.hpp"

namespace tapeflow::metrics::detail {

void squeeze_or_expand_to_same_rank(Shape& s1, Shape& s2, bool expand_rank_1) {
  const std::size_t r1 = s1.size(), r2 = s2.size();
  if (r1 == r2 + 1 && s1.back() == 1) {
    if (r2 == 1 && expand_rank_1)
      s2.push_back(1);
    else
      s1.pop_back();
  }
  if (r2 == r1 + 1 && s2.back() == 1) {
    if (r1 == 1 && expand_rank_1)
      s1.push_back(1);
    else
      s2.pop_back();
  }
}

void squeeze_or_expand_to_same_rank(Tensor& x1, Tensor& x2, bool expand_rank_1) {
  Shape s1 = shape_of(x1), s2 = shape_of(x2);
  squeeze_or_expand_to_same_rank(s1, s2, expand_rank_1);
  if (s1.size() != x1.dimension()) x1.reshape(s1);
  if (s2.size() != x2.dimension()) x2.reshape(s2);
}

void require_same_shape(const std::string& where, Tensor& y_true, Tensor& y_pred) {
  const Shape t0 = shape_of(y_true), p0 = shape_of(y_pred);
  squeeze_or_expand_to_same_rank(y_true, y_pred);
  if (shape_of(y_true) != shape_of(y_pred))
    fail_shape(where, "y_true shape " + shape_str(t0) + " and y_pred shape " + shape_str(p0) +
                          " must be equal (or differ by a trailing axis of 1); nothing is "
                          "broadcast");
}

std::vector<double> broadcast_weights(const std::string& where, const Tensor& sample_weight,
                                      const Shape& shape) {
  if (is_unweighted(sample_weight)) return {};
  Shape ws = shape_of(sample_weight);
  while (ws.size() > shape.size() && ws.back() == 1) ws.pop_back();
  bool fits = ws.size() <= shape.size();
  for (std::size_t i = 0; fits && i < ws.size(); ++i) fits = ws[i] == 1 || ws[i] == shape[i];
  if (!fits)
    fail_shape(where, "sample_weight shape " + shape_str(sample_weight.shape()) +
                          " does not fit y_true shape " + shape_str(shape) +
                          ": the weights align with the leading axes (per sample " +
                          shape_str(Shape(shape.begin(), shape.begin() + (shape.empty() ? 0 : 1))) +
                          " or per element " + shape_str(shape) +
                          "), each axis 1 or equal to y_true's");
  // Walk the target in row-major order and map each position to the weight's flat index: an
  // axis of 1 in the weight contributes stride 0; axes beyond the weight's rank contribute none.
  std::size_t total = 1;
  for (auto d : shape) total *= d;
  std::vector<double> out(total);
  if (total == 0) return out;
  std::vector<std::size_t> wstride(ws.size(), 0);
  for (std::size_t i = ws.size(), s = 1; i-- > 0;) {
    wstride[i] = ws[i] == 1 ? 0 : s;
    s *= ws[i];
  }
  std::vector<std::size_t> index(shape.size(), 0);
  const float* w = sample_weight.data();
  for (std::size_t k = 0; k < total; ++k) {
    std::size_t off = 0;
    for (std::size_t i = 0; i < ws.size(); ++i) off += index[i] * wstride[i];
    out[k] = w[off];
    for (std::size_t i = shape.size(); i-- > 0;) {
      if (++index[i] < shape[i]) break;
      index[i] = 0;
    }
  }
  return out;
}

long class_id(const std::string& where, const char* arg, float v, long num_classes,
              std::optional<long> ignore) {
  if (ignore && v == static_cast<float>(*ignore)) return *ignore;
  if (!(v >= 0.f && v < static_cast<float>(num_classes) && v == std::floor(v))) {
    std::ostringstream os;
    os << arg << " must hold integer class ids in [0, " << num_classes << ")";
    if (ignore) os << " or the ignore_class " << *ignore;
    os << ", got " << v;
    fail(where, os.str());
  }
  return static_cast<long>(v);
}

std::vector<long> argmax(const std::string& where, const Tensor& x, int axis, Shape* out_shape) {
  const long rank = static_cast<long>(x.dimension());
  const long a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    fail_shape(where, "axis " + std::to_string(axis) + " is out of range for shape " +
                          shape_str(x.shape()));
  std::size_t outer = 1, inner = 1;
  const std::size_t n = x.shape()[a];
  for (long i = 0; i < a; ++i) outer *= x.shape()[i];
  for (long i = a + 1; i < rank; ++i) inner *= x.shape()[i];
  if (n == 0) fail_shape(where, "the class axis of shape " + shape_str(x.shape()) + " is empty");
  if (out_shape) {
    out_shape->clear();
    for (long i = 0; i < rank; ++i)
      if (i != a) out_shape->push_back(x.shape()[i]);
  }
  std::vector<long> out(outer * inner);
  const float* d = x.data();
  for (std::size_t o = 0; o < outer; ++o)
    for (std::size_t in = 0; in < inner; ++in) {
      const float* base = d + o * n * inner + in;
      long best = 0;
      for (std::size_t c = 0; c < n && best >= 0; ++c) {
        const float v = base[c * inner];
        if (std::isnan(v))
          best = -1;
        else if (v > base[best * inner])
          best = static_cast<long>(c);
      }
      out[o * inner + in] = best;
    }
  return out;
}

void check_unit_interval(const std::string& where, const char* arg, double v) {
  if (!(v >= 0.0 && v <= 1.0)) {
    std::ostringstream os;
    os << arg << " must be in [0, 1] (Keras' threshold range), got " << v;
    fail(where, os.str());
  }
}

void check_finite(const std::string& where, const char* arg, double v) {
  if (!std::isfinite(v)) {
    std::ostringstream os;
    os << arg << " must be a finite number, got " << v;
    fail(where, os.str());
  }
}

}  // namespace tapeflow::metrics::detail
