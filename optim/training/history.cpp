#include "tapeflow/optim/training/history.hpp"

#include <algorithm>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/optim/training/detail/csv_table.hpp"

namespace tapeflow::training {

void History::on_train_begin(Logs&) {
  // Keras keeps a History's lists across fits of one model; each fit here returns its own.
  epoch.clear();
  history.clear();
  keys_.clear();
}

void History::on_epoch_end(int e, Logs& logs) {
  epoch.push_back(e);
  for (const auto& [name, value] : logs.items()) {
    if (!history.count(name)) keys_.push_back(name);
    history[name].push_back(value);
  }
}

const std::vector<double>& History::at(const std::string& name) const {
  auto it = history.find(name);
  if (it == history.end()) {
    std::string names;
    for (const auto& k : keys_) names += (names.empty() ? "" : ", ") + k;
    fail("History", "no log named '" + name + "'; it has: " + (names.empty() ? "(none)" : names));
  }
  return it->second;
}

void History::to_csv(const std::string& path) const {
  std::vector<std::string> header{"epoch"};
  header.insert(header.end(), keys_.begin(), keys_.end());
  detail::CsvTable table(header);
  // A name first logged at a later epoch has fewer values: its values belong to the last epochs.
  for (std::size_t row = 0; row < epoch.size(); ++row) {
    detail::CsvTable::Row cells{static_cast<double>(epoch[row])};
    for (const auto& k : keys_) {
      const auto& v = history.at(k);
      std::size_t missing = epoch.size() - v.size();
      cells.push_back(row >= missing ? std::optional<double>(v[row - missing]) : std::nullopt);
    }
    table.add_row(std::move(cells));
  }
  table.write(path, ',', "History.to_csv");
}

}  // namespace tapeflow::training
