#include <doctest/doctest.h>

#include "tapeflow/framework/core/strings.hpp"

using tapeflow::detail::camel_to_snake;
using tapeflow::detail::to_lower;

TEST_CASE("to_lower: ASCII only, other bytes kept") {
  CHECK(to_lower("SAME") == "same");
  CHECK(to_lower("Channels_Last") == "channels_last");
  CHECK(to_lower("") == "");
  CHECK(to_lower("\xc3\x84x") == "\xc3\x84x");  // UTF-8 bytes are not characters to fold
}

TEST_CASE("camel_to_snake: Keras class names to identifiers") {
  CHECK(camel_to_snake("GlorotUniform") == "glorot_uniform");
  CHECK(camel_to_snake("MaxNorm") == "max_norm");
  CHECK(camel_to_snake("max_norm") == "max_norm");
  CHECK(camel_to_snake("L1L2") == "l1_l2");
  CHECK(camel_to_snake("Min_Max") == "min_max");
}
