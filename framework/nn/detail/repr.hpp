#pragma once
/// The text form `name(k1=v1, k2=v2)` of initializers, regularizers and constraints in configs
/// (written by their `repr()`, i.e. `config_repr`): the parser, and the `config_write` /
/// `config_read` bodies those three types share. Internal: the public overloads are declared in
/// each type's own header.
///
/// Example:
/// ```
/// auto [name, cfg] = tapeflow::detail::parse_repr("where", "l2(l2=0.01)");  // "l2", {l2: 0.01}
/// ```
#include <cctype>
#include <string>
#include <utility>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/nn/config.hpp"

namespace tapeflow::detail {

inline std::string trim_space(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

/// Parses `name(k1=v1, k2=v2)` into a name and a config; values may hold parentheses and commas
/// (`shape=(3, 4)`). A bare `name` has an empty config. A malformed text is a ValueError naming
/// `where` and the text.
inline std::pair<std::string, Config> parse_repr(const std::string& where,
                                                 const std::string& text) {
  const std::string t = trim_space(text);
  const std::size_t open = t.find('(');
  if (open == std::string::npos) return {t, {}};
  if (open == 0 || t.back() != ')')
    fail(where, "malformed value '" + text + "': expected name(key=value, ...)");
  const std::string body = t.substr(open + 1, t.size() - open - 2);
  Config cfg;
  // Split on the commas at depth 0, so that "kernel_size=(3, 3)" stays one item.
  int depth = 0;
  std::string item;
  auto flush = [&] {
    const std::string it = trim_space(item);
    item.clear();
    if (it.empty()) return;
    const std::size_t eq = it.find('=');
    if (eq == std::string::npos || eq == 0)
      fail(where, "malformed value '" + text + "': item '" + it + "' is not key=value");
    cfg[trim_space(it.substr(0, eq))] = trim_space(it.substr(eq + 1));
  };
  for (char ch : body) {
    if (ch == '(' || ch == '[') ++depth;
    if (ch == ')' || ch == ']') --depth;
    if (depth < 0) fail(where, "malformed value '" + text + "': unbalanced parentheses");
    if (ch == ',' && depth == 0)
      flush();
    else
      item += ch;
  }
  if (depth != 0) fail(where, "malformed value '" + text + "': unbalanced parentheses");
  flush();
  return {t.substr(0, open), cfg};
}

/// `config_write` of a type with `defined()` and `repr()`: the repr, or "None" when undefined.
template <class T>
std::string write_repr(const T& value) {
  return value.defined() ? value.repr() : std::string("None");
}

/// `config_read` of a type with `static T from_config(name, config)`: "None" is a
/// default-constructed (undefined) `T`, anything else is parsed as a repr and rebuilt. Errors
/// (a malformed text, an unknown name or argument) are ValueErrors naming `where`, `key` and
/// `text`; `out` is then unchanged.
template <class T>
void read_repr(const std::string& where, const std::string& key, const std::string& text, T& out) {
  const std::string context = where + ": config key '" + key + "'";
  if (trim_space(text) == "None") {
    out = T();
    return;
  }
  auto [name, config] = parse_repr(context, text);
  try {
    out = T::from_config(name, config);
  } catch (const Error& e) {
    e.rethrow_in(context + " has value '" + text + "'");
  }
}

}  // namespace tapeflow::detail
