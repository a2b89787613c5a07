#pragma once
// The merge layers of the zoo with the options their round-trip tests give them (test_saving.cpp,
// test_keras_json.cpp): each takes two inputs of one shape (batch, n) and gives (batch, n), or
// (batch, 1) for Dot.
#include <string>
#include <utility>
#include <vector>

#include "tapeflow/framework/nn/config.hpp"

namespace tapeflow::test {

inline std::vector<std::pair<std::string, Config>> merge_layer_configs() {
  return {{"Add", {}},
          {"Subtract", {}},
          {"Multiply", {}},
          {"Average", {}},
          {"Maximum", {}},
          {"Minimum", {}},
          {"Dot", {{"axes", "1"}, {"normalize", "true"}}}};
}

}  // namespace tapeflow::test
