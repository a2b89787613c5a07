#include "tapeflow/layers/detail/keras_values.hpp"

#include <cctype>
#include <charconv>
#include <map>
#include <vector>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/nn/detail/repr.hpp"
#include "tapeflow/framework/nn/fields.hpp"

namespace tapeflow::layers::detail {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

enum class ObjectKind { none, initializer, regularizer, constraint };

ObjectKind object_kind(const std::string& key) {
  if (ends_with(key, "_initializer")) return ObjectKind::initializer;
  if (ends_with(key, "_regularizer")) return ObjectKind::regularizer;
  if (ends_with(key, "_constraint")) return ObjectKind::constraint;
  return ObjectKind::none;
}

// The items of "(a, (b, c), d)" split at the commas outside inner parentheses.
std::vector<std::string> split_tuple(const std::string& body) {
  std::vector<std::string> items;
  std::string item;
  int depth = 0;
  auto flush = [&] {
    std::string t = tapeflow::detail::trim_space(item);
    if (!t.empty()) items.push_back(std::move(t));
    item.clear();
  };
  for (char ch : body) {
    if (ch == '(') ++depth;
    if (ch == ')') --depth;
    if (ch == ',' && depth == 0)
      flush();
    else
      item += ch;
  }
  flush();
  return items;
}

bool balanced(const std::string& s) {
  int depth = 0;
  for (char ch : s) {
    depth += ch == '(' ? 1 : ch == ')' ? -1 : 0;
    if (depth < 0) return false;
  }
  return depth == 0;
}

Json plain_value(const std::string& raw) {
  const std::string text = tapeflow::detail::trim_space(raw);
  if (text == "None") return nullptr;
  if (text == "true") return true;
  if (text == "false") return false;
  if (text.size() >= 2 && text.front() == '(' && text.back() == ')' && balanced(text)) {
    Json list = Json::array();
    for (const std::string& item : split_tuple(text.substr(1, text.size() - 2)))
      list.push_back(plain_value(item));
    return list;
  }
  const char* b = text.data();
  const char* e = b + text.size();
  long long i = 0;
  if (auto r = std::from_chars(b, e, i); r.ec == std::errc() && r.ptr == e && !text.empty())
    return i;
  double d = 0;
  if (auto r = std::from_chars(b, e, d); r.ec == std::errc() && r.ptr == e && !text.empty())
    return d;
  return text;
}

// "glorot_uniform" -> "GlorotUniform", "max_norm" -> "MaxNorm".
std::string snake_to_camel(const std::string& s) {
  std::string out;
  bool upper = true;
  for (char ch : s) {
    if (ch == '_') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(ch))) : ch;
    upper = false;
  }
  return out;
}

Json keras_object(ObjectKind kind, const std::string& key, const std::string& text) {
  if (tapeflow::detail::trim_space(text) == "None") return nullptr;
  auto [name, config] = tapeflow::detail::parse_repr(key, text);
  Json cfg = Json::object();
  for (const auto& [k, v] : config) cfg[k] = plain_value(v);
  std::string class_name = snake_to_camel(name);
  // TF.js names the LeCun initializers "LeCunNormal", Keras "LecunNormal": the VarianceScaling
  // they stand for reads in both (and is what TF.js writes itself).
  if (kind == ObjectKind::initializer && (name == "lecun_normal" || name == "lecun_uniform")) {
    class_name = "VarianceScaling";
    cfg = {{"scale", 1.0},
           {"mode", "fan_in"},
           {"distribution", name == "lecun_normal" ? "truncated_normal" : "uniform"},
           {"seed", cfg.value("seed", Json(nullptr))}};
  }
  // TF.js has only L1L2 (Keras reads it too); l1 and l2 are L1L2 with the other factor 0.
  if (kind == ObjectKind::regularizer && (name == "l1" || name == "l2" || name == "l1_l2")) {
    class_name = "L1L2";
    cfg = {{"l1", cfg.value("l1", Json(0.0))}, {"l2", cfg.value("l2", Json(0.0))}};
  }
  return {{"class_name", class_name}, {"config", std::move(cfg)}};
}

}  // namespace

Json config_text_to_json(const std::string& key, const std::string& text) {
  if (key == "name") return text;
  // A wrapper's layer (Bidirectional's `layer`, `backward_layer`), config text
  // `LSTM(units=4, ...)`: Keras' nested {class_name, config} with each entry converted as the
  // layer's own would be (json_to_config_text reads it back into the same text).
  if (key == "layer" || key == "backward_layer") {
    if (tapeflow::detail::trim_space(text) == "None") return nullptr;
    auto [class_name, config] = tapeflow::detail::parse_repr(key, text);
    Json cfg = Json::object();
    for (const auto& [k, v] : config) cfg[k] = config_text_to_json(k, v);
    return {{"class_name", class_name}, {"config", std::move(cfg)}};
  }
  const ObjectKind kind = object_kind(key);
  if (kind != ObjectKind::none) return keras_object(kind, key, text);
  return plain_value(text);
}

std::string json_to_config_text(const std::string& where, const std::string& key,
                                const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "None";
    case Json::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case Json::value_t::number_integer:
      return std::to_string(value.get<long long>());
    case Json::value_t::number_unsigned:
      return std::to_string(value.get<unsigned long long>());
    case Json::value_t::number_float:
      return tapeflow::config_write(value.get<double>());
    case Json::value_t::string:
      return value.get<std::string>();
    case Json::value_t::array: {
      std::string s = "(";
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (i) s += ", ";
        s += json_to_config_text(where, key, value[i]);
      }
      if (value.size() == 1) s += ",";
      return s + ")";
    }
    case Json::value_t::object: {
      auto cls = value.find("class_name");
      if (cls == value.end() || !cls->is_string())
        fail_file(where,
                  "config field '" + key + "' is an object without a class_name: " + value.dump());
      static const std::map<std::string, std::string> aliases = {{"LeCunNormal", "lecun_normal"},
                                                                 {"LeCunUniform", "lecun_uniform"}};
      std::string name = cls->get<std::string>();
      if (auto a = aliases.find(name); a != aliases.end()) name = a->second;
      std::string s = name + "(";
      bool first = true;
      if (auto cfg = value.find("config"); cfg != value.end() && !cfg->is_null()) {
        if (!cfg->is_object())
          fail_file(where,
                    "config field '" + key + "' has a config that is no object: " + cfg->dump());
        for (const auto& [k, v] : cfg->items()) {
          if (!first) s += ", ";
          first = false;
          s += k;
          s += '=';
          s += json_to_config_text(where, key, v);
        }
      }
      return s + ")";
    }
    default:
      fail_file(where, "config field '" + key + "' has a value of no config type: " + value.dump());
  }
}

}  // namespace tapeflow::layers::detail
