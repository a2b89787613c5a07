#pragma once
// Shape arithmetic the op implementations share (internal: not part of the public API).
#include <cstddef>
#include <vector>

#include "tapeflow/framework/core/tensor.hpp"

namespace tapeflow::detail {

/// A row-major shape seen as (outer, n, inner) around `axis`: element (o, k, i) sits at
/// `(o * n + k) * inner + i`.
struct AxisView {
  std::size_t outer = 1, n = 1, inner = 1;
  AxisView(const Shape& s, std::size_t axis) {
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (i < axis) outer *= s[i];
      if (i > axis) inner *= s[i];
    }
    n = s[axis];
  }
};

/// A shape as the signed dims `reshape` takes.
inline std::vector<long> as_long(const Shape& s) { return std::vector<long>(s.begin(), s.end()); }

}  // namespace tapeflow::detail
