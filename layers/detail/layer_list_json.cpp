#include "tapeflow/layers/detail/layer_list_json.hpp"

#include <nlohmann/json.hpp>
#include <set>

#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers::detail {

using Json = nlohmann::json;

std::string layers_to_json(const std::vector<std::shared_ptr<Layer>>& layers) {
  Json list = Json::array();
  for (const auto& l : layers) {
    Json config = Json::object();
    for (const auto& [k, v] : l->get_config()) config[k] = v;
    list.push_back({{"class_name", l->class_name()}, {"config", std::move(config)}});
  }
  return list.dump();
}

namespace {

struct Entry {
  std::string class_name;
  Config config;
  std::string name;  // empty if the config has none
};

// The entries of the list, checked: each {"class_name", "config"} with string values, no two
// with one name.
std::vector<Entry> parse_entries(const std::string& where, const std::string& text) {
  Json list;
  try {
    list = Json::parse(text);
  } catch (const Json::exception& e) {
    fail(where, std::string("'layers' is not valid JSON: ") + e.what());
  }
  if (!list.is_array()) fail(where, "'layers' must be a JSON list");
  std::vector<Entry> entries;
  std::set<std::string> names;
  for (const Json& entry : list) {
    if (!entry.is_object() || !entry.contains("class_name") || !entry["class_name"].is_string() ||
        !entry.contains("config") || !entry["config"].is_object())
      fail(where, "a layer entry must be {\"class_name\": \"...\", \"config\": {...}}, got " +
                      entry.dump());
    Entry e{entry["class_name"].get<std::string>(), {}, {}};
    for (const auto& [k, v] : entry["config"].items()) {
      if (!v.is_string()) fail(where, "config value '" + k + "' must be a string");
      e.config[k] = v.get<std::string>();
    }
    // A config without a name gives the layer its default name (the nodes of a functional
    // model cannot name it, though).
    if (auto n = e.config.find("name"); n != e.config.end()) e.name = n->second;
    if (!e.name.empty() && !names.insert(e.name).second)
      fail(where, "two layers are named '" + e.name + "'");
    entries.push_back(std::move(e));
  }
  return entries;
}

}  // namespace

std::vector<std::pair<std::string, std::shared_ptr<Layer>>> layers_from_json(
    const std::string& where, const std::string& text) {
  std::vector<std::pair<std::string, std::shared_ptr<Layer>>> made;
  for (const Entry& e : parse_entries(where, text)) {
    KeepNames::next(e.name);
    try {
      made.emplace_back(e.name, create_layer(e.class_name, e.config));
    } catch (const Error& err) {
      err.rethrow_in(where);
    }
  }
  return made;
}

std::vector<std::string> layer_names_in_json(const std::string& where, const std::string& text) {
  std::vector<std::string> names;
  for (const Entry& e : parse_entries(where, text)) names.push_back(e.name);
  return names;
}

}  // namespace tapeflow::layers::detail
