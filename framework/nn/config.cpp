#include "tapeflow/framework/nn/config.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace tapeflow {

std::string config_float(double v) {
  // Shortest digits that read back as the same float, laid out like Python's repr: fixed
  // notation for exponents -4..15 ("0.0001", "2"), scientific otherwise ("1e-07").
  float f = static_cast<float>(v);
  if (!std::isfinite(f)) return std::isnan(f) ? "nan" : (f > 0 ? "inf" : "-inf");
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific);
  std::string sci(buf, r.ptr);  // "-1.2345e-05"
  std::string sign;
  if (sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  auto epos = sci.find('e');
  int exp = std::stoi(sci.substr(epos + 1));
  std::string digits = sci.substr(0, epos);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  if (digits == "0") return sign + "0";
  if (exp < -4 || exp >= 16) {
    std::string m = digits.substr(0, 1);
    if (digits.size() > 1) m += "." + digits.substr(1);
    char e[16];
    std::snprintf(e, sizeof e, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    return sign + m + e;
  }
  std::string out;
  if (exp < 0) {
    out = "0." + std::string(static_cast<std::size_t>(-exp - 1), '0') + digits;
  } else if (static_cast<std::size_t>(exp) + 1 >= digits.size()) {
    out = digits + std::string(static_cast<std::size_t>(exp) + 1 - digits.size(), '0');
  } else {
    out = digits.substr(0, static_cast<std::size_t>(exp) + 1) + "." +
          digits.substr(static_cast<std::size_t>(exp) + 1);
  }
  return sign + out;
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
