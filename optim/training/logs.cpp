#include "tapeflow/optim/training/logs.hpp"

#include <algorithm>

#include "tapeflow/framework/core/errors.hpp"

namespace tapeflow::training {

namespace {
template <class Items>
auto find_item(Items& items, const std::string& name) {
  return std::find_if(items.begin(), items.end(), [&](const auto& i) { return i.first == name; });
}
}  // namespace

void Logs::set(const std::string& name, double value) {
  auto it = find_item(items_, name);
  if (it != items_.end())
    it->second = value;
  else
    items_.emplace_back(name, value);
}

bool Logs::contains(const std::string& name) const {
  return find_item(items_, name) != items_.end();
}

std::optional<double> Logs::get(const std::string& name) const {
  auto it = find_item(items_, name);
  if (it == items_.end()) return std::nullopt;
  return it->second;
}

double Logs::at(const std::string& name, const std::string& where) const {
  auto it = find_item(items_, name);
  if (it == items_.end())
    fail(where, "no log named '" + name +
                    "'; the logs have: " + (items_.empty() ? std::string("(none)") : names()));
  return it->second;
}

std::string Logs::names() const {
  std::string out;
  for (const auto& [name, value] : items_) out += (out.empty() ? "" : ", ") + name;
  return out;
}

void Logs::update(const Logs& other) {
  for (const auto& [name, value] : other.items_) set(name, value);
}

Logs Logs::prefixed(const std::string& prefix) const {
  Logs out;
  for (const auto& [name, value] : items_) out.set(prefix + name, value);
  return out;
}

}  // namespace tapeflow::training
