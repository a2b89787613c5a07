#include "tapeflow/optim/training/detail/path_template.hpp"

#include <cctype>
#include <cstdio>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/optim/training/detail/csv_table.hpp"

namespace tapeflow::training::detail {

namespace {

struct Spec {
  bool zero = false;
  int width = -1, precision = -1;
  char type = 0;
};

Spec parse_spec(const std::string& spec, const std::string& where, const std::string& field) {
  Spec s;
  std::size_t i = 0;
  auto bad = [&] {
    fail(where, "the path field '{" + field + ":" + spec +
                    "}' has a format it cannot read; use [0][width][.precision][d|f|e|g]");
  };
  if (i < spec.size() && spec[i] == '0') s.zero = true, ++i;
  auto number = [&] {
    int v = 0, digits = 0;
    while (i < spec.size() && std::isdigit(static_cast<unsigned char>(spec[i])) && digits < 3)
      v = v * 10 + (spec[i++] - '0'), ++digits;
    return digits ? v : -1;
  };
  s.width = number();
  if (i < spec.size() && spec[i] == '.') {
    ++i;
    s.precision = number();
    if (s.precision < 0) bad();
  }
  if (i < spec.size()) {
    s.type = spec[i++];
    if (s.type != 'd' && s.type != 'f' && s.type != 'e' && s.type != 'g') bad();
  }
  if (i != spec.size()) bad();
  return s;
}

std::string printf_format(const Spec& s, const char* length, char type) {
  std::string f = "%";
  if (s.zero) f += '0';
  if (s.width >= 0) f += std::to_string(s.width);
  if (s.precision >= 0 && type != 'd') f += "." + std::to_string(s.precision);
  return f + length + type;
}

std::string format_field(const std::string& field, const std::string& spec_text,
                         const std::vector<std::pair<std::string, long long>>& integers,
                         const Logs& logs, const std::string& where) {
  const Spec spec = parse_spec(spec_text, where, field);
  char buf[128];
  for (const auto& [name, value] : integers)
    if (name == field) {
      if (spec.type == 0 || spec.type == 'd')
        std::snprintf(buf, sizeof buf, printf_format(spec, "ll", 'd').c_str(), value);
      else
        std::snprintf(buf, sizeof buf, printf_format(spec, "", spec.type).c_str(),
                      static_cast<double>(value));
      return buf;
    }
  if (auto v = logs.get(field)) {
    if (spec.type == 'd')
      fail(where, "the path field '{" + field + ":" + spec_text + "}' asks for an integer, but '" +
                      field + "' is a number; use f, e or g");
    if (spec.type == 0 && spec.width < 0 && spec.precision < 0) return shortest_number(*v);
    std::snprintf(buf, sizeof buf, printf_format(spec, "", spec.type ? spec.type : 'g').c_str(),
                  *v);
    return buf;
  }
  std::string known;
  for (const auto& [name, value] : integers) known += (known.empty() ? "" : ", ") + name;
  for (const auto& [name, value] : logs.items()) known += (known.empty() ? "" : ", ") + name;
  fail(where, "the path names '{" + field +
                  "}', which is neither the epoch nor a log; there are: " + known);
}

}  // namespace

std::string format_path(const std::string& tmpl,
                        const std::vector<std::pair<std::string, long long>>& integers,
                        const Logs& logs, const std::string& where) {
  std::string out;
  for (std::size_t i = 0; i < tmpl.size(); ++i) {
    const char c = tmpl[i];
    if (c == '}') {
      if (i + 1 < tmpl.size() && tmpl[i + 1] == '}') {
        out += '}';
        ++i;
        continue;
      }
      fail(where, "the path '" + tmpl + "' has a '}' without its '{' (write '}}' for a brace)");
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < tmpl.size() && tmpl[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    const std::size_t close = tmpl.find('}', i);
    if (close == std::string::npos)
      fail(where, "the path '" + tmpl + "' has a '{' without its '}' (write '{{' for a brace)");
    const std::string inside = tmpl.substr(i + 1, close - i - 1);
    const std::size_t colon = inside.find(':');
    out += format_field(inside.substr(0, colon),
                        colon == std::string::npos ? "" : inside.substr(colon + 1), integers, logs,
                        where);
    i = close;
  }
  return out;
}

}  // namespace tapeflow::training::detail
