#include "framework/config.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace tapeflow {

std::string config_float(double v) {
  // Shortest text that reads back as the same float: configs carry float parameters.
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, static_cast<float>(v));
  return std::string(buf, r.ptr);
}

std::string config_bool(bool v) { return v ? "true" : "false"; }
std::string config_int(long long v) { return std::to_string(v); }
std::string config_ints(const std::vector<long long>& v) { return shape_str(v); }
std::string config_seed(const std::optional<std::uint64_t>& seed) {
  return seed ? std::to_string(*seed) : "None";
}

namespace {
[[noreturn]] void bad(const std::string& where, const std::string& key, const std::string& value,
                      const char* expected) {
  fail(where, "config key '" + key + "' has value '" + value + "', expected " + expected);
}
}  // namespace

float config_get_float(const std::string& where, const Config& c, const std::string& key,
                       float fallback) {
  auto it = c.find(key);
  if (it == c.end()) return fallback;
  const std::string& s = it->second;
  float v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) bad(where, key, s, "a number");
  return v;
}

bool config_get_bool(const std::string& where, const Config& c, const std::string& key,
                     bool fallback) {
  auto it = c.find(key);
  if (it == c.end()) return fallback;
  if (it->second == "true") return true;
  if (it->second == "false") return false;
  bad(where, key, it->second, "true or false");
}

long long config_get_int(const std::string& where, const Config& c, const std::string& key,
                         long long fallback) {
  auto it = c.find(key);
  if (it == c.end()) return fallback;
  const std::string& s = it->second;
  long long v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) bad(where, key, s, "an integer");
  return v;
}

std::vector<long long> config_get_ints(const std::string& where, const Config& c,
                                       const std::string& key,
                                       const std::vector<long long>& fallback) {
  auto it = c.find(key);
  if (it == c.end()) return fallback;
  const std::string& s = it->second;
  if (s.size() < 2 || s.front() != '(' || s.back() != ')') bad(where, key, s, "a list like (1, 2)");
  std::vector<long long> out;
  const char* p = s.data() + 1;
  const char* end = s.data() + s.size() - 1;
  while (p < end) {
    while (p < end && (*p == ' ' || *p == ',')) ++p;
    if (p == end) break;
    long long v = 0;
    auto r = std::from_chars(p, end, v);
    if (r.ec != std::errc()) bad(where, key, s, "a list like (1, 2)");
    out.push_back(v);
    p = r.ptr;
    if (p < end && *p != ',') bad(where, key, s, "a list like (1, 2)");
  }
  return out;
}

std::optional<std::uint64_t> config_get_seed(const std::string& where, const Config& c,
                                             const std::string& key) {
  auto it = c.find(key);
  if (it == c.end() || it->second == "None") return std::nullopt;
  const std::string& s = it->second;
  std::uint64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size())
    bad(where, key, s, "a non-negative integer or None");
  return v;
}

std::string config_get_string(const Config& c, const std::string& key,
                              const std::string& fallback) {
  auto it = c.find(key);
  return it == c.end() ? fallback : it->second;
}

std::string config_repr(const std::string& name, const Config& c) {
  std::string s = name + "(";
  bool first = true;
  for (const auto& [k, v] : c) {
    if (!first) s += ", ";
    first = false;
    s += k + "=" + v;
  }
  return s + ")";
}

}  // namespace tapeflow
