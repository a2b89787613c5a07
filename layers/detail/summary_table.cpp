#include "tapeflow/layers/detail/summary_table.hpp"

#include <algorithm>

namespace tapeflow::layers::detail {

std::string with_commas(std::size_t n) {
  // Appended digit by digit, not inserted into the digits: GCC 12 at -O3 warns falsely
  // (-Wstringop-overflow) on std::string::insert inlined here.
  const std::string digits = std::to_string(n);
  std::string grouped;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) grouped += ',';
    grouped += digits[i];
  }
  return grouped;
}

void print_summary(std::ostream& os, const std::string& model_name,
                   const std::vector<std::string>& header, std::vector<std::size_t> widths,
                   const std::vector<std::vector<std::string>>& rows, std::size_t trainable,
                   std::size_t non_trainable) {
  // A cell's lines ('\n'-separated: a layer's several inbound tensors) go one under the other.
  auto lines_of = [](const std::string& cell) {
    std::vector<std::string> lines;
    std::size_t from = 0;
    for (std::size_t nl; (nl = cell.find('\n', from)) != std::string::npos; from = nl + 1)
      lines.push_back(cell.substr(from, nl - from));
    lines.push_back(cell.substr(from));
    return lines;
  };
  for (const auto& r : rows)
    for (std::size_t c = 0; c < r.size() && c < widths.size(); ++c)
      for (const std::string& line : lines_of(r[c]))
        widths[c] = std::max(widths[c], line.size() + 1);
  std::size_t width = 0;
  for (std::size_t w : widths) width += w;
  auto row = [&](const std::vector<std::string>& cells) {
    std::vector<std::vector<std::string>> split;
    std::size_t height = 1;
    for (std::size_t c = 0; c < widths.size(); ++c) {
      split.push_back(lines_of(c < cells.size() ? cells[c] : std::string()));
      height = std::max(height, split.back().size());
    }
    for (std::size_t i = 0; i < height; ++i) {
      std::string line;
      for (std::size_t c = 0; c < widths.size(); ++c) {
        const std::string cell = i < split[c].size() ? split[c][i] : std::string();
        line += cell + std::string(widths[c] - std::min(widths[c], cell.size()), ' ');
      }
      os << line << '\n';
    }
  };
  os << "Model: \"" << model_name << "\"\n";
  os << std::string(width, '_') << '\n';
  row(header);
  os << std::string(width, '=') << '\n';
  for (std::size_t i = 0; i < rows.size(); ++i) {
    row(rows[i]);
    os << std::string(width, i + 1 == rows.size() ? '=' : '_') << '\n';
  }
  os << "Total params: " << with_commas(trainable + non_trainable) << '\n';
  os << "Trainable params: " << with_commas(trainable) << '\n';
  os << "Non-trainable params: " << with_commas(non_trainable) << '\n';
  os << std::string(width, '_') << '\n';
}

}  // namespace tapeflow::layers::detail
