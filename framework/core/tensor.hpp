#pragma once
/// Basic types shared by the whole library: `Tensor` and `Shape` (errors: errors.hpp).
#include <cstddef>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>
#include <xtensor/xarray.hpp>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/core/memory.hpp"

namespace tapeflow {

/// Dense row-major float tensor. Example: `tapeflow::Tensor t = xt::ones<float>({2, 3});`
/// Its buffers come from `tapeflow::memory` (big ones cached and reused, see memory.hpp).
using Tensor = xt::xarray<float, xt::layout_type::row_major, memory::Allocator<float>>;
/// A tensor shape.
using Shape = std::vector<std::size_t>;

/// "(2, 3, 4)" for a shape.
template <class S>
std::string shape_str(const S& shape) {
  std::ostringstream os;
  os << '(';
  std::size_t i = 0;
  for (auto d : shape) {
    if (i++) os << ", ";
    os << d;
  }
  if (i == 1) os << ',';
  os << ')';
  return os.str();
}

/// Shape of a tensor as a `Shape`.
inline Shape shape_of(const Tensor& t) { return Shape(t.shape().begin(), t.shape().end()); }

}  // namespace tapeflow
