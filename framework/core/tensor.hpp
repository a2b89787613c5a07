#pragma once
/// Basic types shared by the whole library: `Tensor`, `Shape` and the `Error` exception.
#include <cstddef>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

#include "tapeflow/framework/core/memory.hpp"

namespace tapeflow {

/// Dense row-major float tensor. Example: `tapeflow::Tensor t = xt::ones<float>({2, 3});`
/// Its buffers come from `tapeflow::memory` (big ones cached and reused, see memory.hpp).
using Tensor = xt::xarray<float, xt::layout_type::row_major, memory::Allocator<float>>;
/// A tensor shape.
using Shape = std::vector<std::size_t>;

/// Every error tapeflow reports about bad input or misuse. The message starts with the op or
/// layer name, then the argument and the values involved.
/// Example: `try { reshape(x, {7}); } catch (const tapeflow::Error& e) { puts(e.what()); }`
class Error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

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

/// Throws `Error("<where>: <what>")`.
[[noreturn]] void fail(const std::string& where, const std::string& what);

/// Shape of a tensor as a `Shape`.
inline Shape shape_of(const Tensor& t) { return Shape(t.shape().begin(), t.shape().end()); }

}  // namespace tapeflow
