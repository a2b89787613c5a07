#include "tapeflow/framework/core/strings.hpp"

#include <cctype>

namespace tapeflow::detail {

std::string to_lower(std::string s) {
  // Through unsigned char: std::tolower of a negative char (UTF-8 bytes) is undefined.
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string camel_to_snake(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (std::isupper(static_cast<unsigned char>(c))) {
      if (i > 0 && s[i - 1] != '_') out += '_';
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace tapeflow::detail
