#include "tapeflow/optim/clipping.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace tapeflow::optim {
namespace {

void check_clip_norm(const char* where, float clip_norm) {
  if (!std::isfinite(clip_norm) || clip_norm <= 0.f) {
    std::ostringstream os;
    os << "clip_norm must be finite and > 0, got " << clip_norm;
    fail(where, os.str());
  }
}

double sum_squares(const Tensor& t) {
  double s = 0;
  for (float v : t) s += static_cast<double>(v) * v;
  return s;
}

}  // namespace

Tensor clip_by_norm(const Tensor& t, float clip_norm) {
  check_clip_norm("clip_by_norm", clip_norm);
  double norm = std::sqrt(sum_squares(t));
  // A NaN norm (a NaN element): TF divides by maximum(NaN, clip_norm), which is NaN, so every
  // element is NaN. `!(norm > clip_norm)` alone passed the tensor through, its other elements
  // unclipped.
  if (std::isnan(norm)) return Tensor(xt::full_like(t, std::numeric_limits<float>::quiet_NaN()));
  if (!(norm > clip_norm)) return t;
  return Tensor(t * static_cast<float>(clip_norm / norm));
}

double global_norm(const std::vector<Tensor>& ts) {
  double s = 0;
  for (const auto& t : ts) s += sum_squares(t);
  return std::sqrt(s);
}

std::vector<Tensor> clip_by_global_norm(const std::vector<Tensor>& ts, float clip_norm,
                                        double* norm_out) {
  check_clip_norm("clip_by_global_norm", clip_norm);
  double norm = global_norm(ts);
  if (norm_out) *norm_out = norm;
  // TF returns NaNs rather than silently passing through an overflowed gradient.
  double scale = std::isfinite(norm) ? clip_norm / std::max(norm, static_cast<double>(clip_norm))
                                     : std::numeric_limits<double>::quiet_NaN();
  std::vector<Tensor> out;
  out.reserve(ts.size());
  for (const auto& t : ts)
    out.emplace_back(scale == 1.0 ? t : Tensor(t * static_cast<float>(scale)));
  return out;
}

}  // namespace tapeflow::optim
