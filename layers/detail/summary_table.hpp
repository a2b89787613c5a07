#pragma once
/// Keras' model summary table (Keras 2's text layout), shared by `Model` and `Sequential`.
#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

namespace tapeflow::layers::detail {

/// Keras' '{:,}': 1234567 -> "1,234,567".
std::string with_commas(std::size_t n);

/// The table: `Model: "<name>"`, a rule, the header row, a rule of '=', each row followed by a
/// rule of '_' ('=' after the last), then the three parameter counts. `min_widths` are Keras'
/// column widths; content wider than its column widens it instead of being cut. A cell with
/// several lines ('\n'-separated) continues on the lines below its row, as Keras 2 prints a
/// layer's several inbound tensors.
/// Example: `print_summary(os, "m", {"Layer (type)", "Output Shape", "Param #"}, {29, 26, 10},
/// rows, 10, 0);`
void print_summary(std::ostream& os, const std::string& model_name,
                   const std::vector<std::string>& header, std::vector<std::size_t> min_widths,
                   const std::vector<std::vector<std::string>>& rows, std::size_t trainable,
                   std::size_t non_trainable);

}  // namespace tapeflow::layers::detail
