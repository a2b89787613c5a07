#pragma once
// What the convolution kernels' tests share: random buffers and the relative difference they
// compare kernels by.
#include <algorithm>
#include <cmath>
#include <vector>

#include "test_util.hpp"

namespace tapeflow::test {

/// `n` floats uniform in [-1, 1) from `seed`.
inline std::vector<float> random_floats(std::size_t n, unsigned seed) {
  Tensor t = random_tensor({n}, seed);
  return std::vector<float>(t.begin(), t.end());
}

/// Largest |a - b| relative to 1 + |b| (infinite for buffers of different sizes).
inline double max_rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double worst = a.size() == b.size() ? 0.0 : INFINITY;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i)
    worst = std::max(worst, std::abs(double(a[i]) - double(b[i])) / (1 + std::abs(double(b[i]))));
  return worst;
}

}  // namespace tapeflow::test
