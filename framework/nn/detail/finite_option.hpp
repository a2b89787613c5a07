#pragma once
// The check each number option of an initializer or a constraint gets (internal to
// framework/nn): Keras accepts any float there, but a NaN or infinite one would only show up as
// NaN weights later.
#include <cmath>
#include <string>

#include "tapeflow/framework/core/errors.hpp"

namespace tapeflow::detail {

/// A ValueError "<where>: <arg> must be finite, got <v>" unless `v` is finite.
inline void check_finite_option(const char* where, const char* arg, float v) {
  if (!std::isfinite(v))
    fail(where, std::string(arg) + " must be finite, got " + std::to_string(v));
}

}  // namespace tapeflow::detail
