#pragma once
/// Small string helpers the whole library shares (argument names are matched case-insensitively
/// where Keras does, and Keras class names map to snake_case config names).
#include <string>

namespace tapeflow::detail {

/// ASCII lower case: "SAME" -> "same".
std::string to_lower(std::string s);

/// Keras' class-name-to-identifier rule: "GlorotUniform" -> "glorot_uniform", "MaxNorm" ->
/// "max_norm" (an existing underscore is kept, no double underscores).
std::string camel_to_snake(const std::string& s);

}  // namespace tapeflow::detail
