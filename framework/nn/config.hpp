#pragma once
/// Simple string configs of initializers, regularizers, constraints and layers (Keras'
/// `get_config()`), with helpers to write and read their values.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tapeflow/framework/core/tensor.hpp"

namespace tapeflow {

/// A flat `key -> value` config. Values are written with the `config_*` helpers, so they read
/// back exactly. Example: `Config c{{"l2", config_float(0.01)}};  // {"l2": "0.01"}`
using Config = std::map<std::string, std::string>;

/// Shortest text that reads back as the same float: 0.01f -> "0.01", 1e-7f -> "1e-07".
std::string config_float(double v);
/// "true" / "false".
std::string config_bool(bool v);
std::string config_int(long long v);
/// "(3, 3, 3)" (same as `shape_str`); a one-element list is "(3,)".
std::string config_ints(const std::vector<long long>& v);
/// A seed: the number, or "None".
std::string config_seed(const std::optional<std::uint64_t>& seed);

/// Readers: the value under `key`, or `fallback` when the key is absent. A malformed value is an
/// Error naming `where`, the key and the value.
float config_get_float(const std::string& where, const Config& c, const std::string& key,
                       float fallback);
bool config_get_bool(const std::string& where, const Config& c, const std::string& key,
                     bool fallback);
long long config_get_int(const std::string& where, const Config& c, const std::string& key,
                         long long fallback);
std::vector<long long> config_get_ints(const std::string& where, const Config& c,
                                       const std::string& key,
                                       const std::vector<long long>& fallback);
std::optional<std::uint64_t> config_get_seed(const std::string& where, const Config& c,
                                             const std::string& key = "seed");
std::string config_get_string(const Config& c, const std::string& key, const std::string& fallback);

/// `name(k1=v1, k2=v2)` with keys in map order; `name()` for an empty config.
std::string config_repr(const std::string& name, const Config& c);

}  // namespace tapeflow
