#pragma once
// Checks of layer options shared by several layers (internal to layers/).
#include <cmath>
#include <string>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/nn/config.hpp"

namespace tapeflow::layers::detail {

/// A ValueError "<layer>: <option> must be a finite number >= 0, got <v>" unless `v` is finite
/// and >= 0 (Keras refuses a negative ReLU cap or regularization factor; a NaN would only show
/// up later, as NaN outputs).
inline void check_non_negative_option(const std::string& layer, const char* option, float v) {
  if (!(std::isfinite(v) && v >= 0.f))
    fail(layer, std::string(option) + " must be a finite number >= 0, got " + config_float(v));
}

}  // namespace tapeflow::layers::detail
