#pragma once
/// A table of per-epoch numbers written as CSV (what `History::to_csv` and `CSVLogger` write):
/// a header row of column names, then rows whose cells are numbers written as the shortest text
/// that reads back to the same double (Python's `repr`, which Keras' CSVLogger writes), or "NA"
/// for a missing value (as Keras' CSVLogger; pandas reads it as NaN).
///
/// Example:
/// ```
/// tapeflow::training::detail::CsvTable t({"epoch", "loss"});
/// t.add_row({0, 0.5});
/// t.write("log.csv", ',', "CSVLogger");   // "epoch,loss\n0,0.5\n", atomically
/// ```
#include <optional>
#include <string>
#include <vector>

namespace tapeflow::training::detail {

class CsvTable {
 public:
  using Row = std::vector<std::optional<double>>;
  explicit CsvTable(std::vector<std::string> header) : header_(std::move(header)) {}
  const std::vector<std::string>& header() const { return header_; }
  /// A row with one cell per header column (nullopt: "NA").
  void add_row(Row row);
  /// The header line (unless `with_header` is false), then the rows.
  std::string to_string(char separator = ',', bool with_header = true) const;
  /// Writes `before` then `to_string(separator, with_header)` to `path` atomically; `where`
  /// starts any FileError.
  void write(const std::string& path, char separator, const std::string& where,
             const std::string& before = "", bool with_header = true) const;

 private:
  std::vector<std::string> header_;
  std::vector<Row> rows_;
};

/// The shortest text that reads back to `v` ("0.1", "3", "nan", "inf", "-inf").
std::string shortest_number(double v);

}  // namespace tapeflow::training::detail
