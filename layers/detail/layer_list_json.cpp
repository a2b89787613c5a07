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

std::vector<std::pair<std::string, std::shared_ptr<Layer>>> layers_from_json(
    const std::string& where, const std::string& text) {
  Json list;
  try {
    list = Json::parse(text);
  } catch (const Json::exception& e) {
    fail(where, std::string("'layers' is not valid JSON: ") + e.what());
  }
  if (!list.is_array()) fail(where, "'layers' must be a JSON list");
  std::vector<std::pair<std::string, std::shared_ptr<Layer>>> made;
  std::set<std::string> names;
  for (const Json& entry : list) {
    if (!entry.is_object() || !entry.contains("class_name") || !entry["class_name"].is_string() ||
        !entry.contains("config") || !entry["config"].is_object())
      fail(where, "a layer entry must be {\"class_name\": \"...\", \"config\": {...}}, got " +
                      entry.dump());
    Config c;
    for (const auto& [k, v] : entry["config"].items()) {
      if (!v.is_string()) fail(where, "config value '" + k + "' must be a string");
      c[k] = v.get<std::string>();
    }
    // A config without a name gives the layer its default name (the nodes of a functional
    // model cannot name it, though).
    auto n = c.find("name");
    const std::string saved = n == c.end() ? std::string() : n->second;
    if (!saved.empty() && !names.insert(saved).second)
      fail(where, "two layers are named '" + saved + "'");
    made.emplace_back(saved, create_layer(entry["class_name"].get<std::string>(), c));
  }
  return made;
}

}  // namespace tapeflow::layers::detail
