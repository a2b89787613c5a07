#include "tapeflow/optim/training/detail/csv_table.hpp"

#include <charconv>
#include <cmath>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/io/atomic_file.hpp"

namespace tapeflow::training::detail {

std::string shortest_number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

void CsvTable::add_row(Row row) {
  if (row.size() != header_.size())
    fail("CsvTable", "a row of " + std::to_string(row.size()) + " cells for " +
                         std::to_string(header_.size()) + " columns");
  rows_.push_back(std::move(row));
}

std::string CsvTable::to_string(char separator, bool with_header) const {
  std::string out;
  if (with_header) {
    for (std::size_t i = 0; i < header_.size(); ++i)
      out += (i ? std::string(1, separator) : "") + header_[i];
    out += '\n';
  }
  for (const auto& row : rows_) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (i) out += separator;
      out += row[i] ? shortest_number(*row[i]) : "NA";
    }
    out += '\n';
  }
  return out;
}

void CsvTable::write(const std::string& path, char separator, const std::string& where,
                     const std::string& before, bool with_header) const {
  serialization::write_file_atomically(path, before + to_string(separator, with_header),
                                       where + ": '" + path + "'");
}

}  // namespace tapeflow::training::detail
