#include "tapeflow/framework/nn/fields.hpp"

#include <charconv>

namespace tapeflow {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(' ');
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(' ') - b + 1);
}

template <class F>
void read_floating(const std::string& where, const std::string& key, const std::string& text,
                   F& out) {
  F v = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size())
    detail::bad_config_value(where, key, text, "a number");
  out = v;
}

}  // namespace

std::string config_write(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}
std::string config_write(float v) { return config_float(v); }
std::string config_write(bool v) { return config_bool(v); }
std::string config_write(const std::string& v) { return v; }
std::string config_write(const char* v) { return v; }

namespace detail {

void bad_config_value(const std::string& where, const std::string& key, const std::string& text,
                      const char* expected) {
  fail(where, "config key '" + key + "' has value '" + text + "', expected " + expected);
}

std::vector<std::string> split_config_list(const std::string& where, const std::string& key,
                                           const std::string& text) {
  const std::string t = trim(text);
  if (t.size() < 2 || t.front() != '(' || t.back() != ')')
    bad_config_value(where, key, text, "a list like (1, 2)");
  std::vector<std::string> items;
  const std::string body = t.substr(1, t.size() - 2);
  std::size_t start = 0;
  while (start <= body.size()) {
    std::size_t comma = body.find(',', start);
    if (comma == std::string::npos) comma = body.size();
    std::string item = trim(body.substr(start, comma - start));
    // Only the last item may be empty: "()" and the trailing comma of "(3,)".
    if (item.empty() && comma != body.size())
      bad_config_value(where, key, text, "a list like (1, 2)");
    if (!item.empty()) items.push_back(std::move(item));
    start = comma + 1;
  }
  return items;
}

void unknown_config_key(const std::string& where, const std::string& key,
                        const std::vector<std::string>& known) {
  std::string names;
  for (const auto& n : known) names += (names.empty() ? "" : ", ") + n;
  fail(where, "unknown config key '" + key + "' (known: " + names + ")");
}

}  // namespace detail

void config_read(const std::string& where, const std::string& key, const std::string& text,
                 double& out) {
  read_floating(where, key, text, out);
}
void config_read(const std::string& where, const std::string& key, const std::string& text,
                 float& out) {
  read_floating(where, key, text, out);
}
void config_read(const std::string& where, const std::string& key, const std::string& text,
                 bool& out) {
  if (text == "true")
    out = true;
  else if (text == "false")
    out = false;
  else
    detail::bad_config_value(where, key, text, "true or false");
}
void config_read(const std::string&, const std::string&, const std::string& text,
                 std::string& out) {
  out = text;
}

}  // namespace tapeflow
