#pragma once
// How messages about a file name it (internal to the file readers and the Dataset's sources).
#include <string>

namespace tapeflow::serialization::detail {

/// `'<path>'`.
inline std::string quoted(const std::string& path) {
  std::string s = "'";
  s += path;
  s += "'";
  return s;
}

/// `<where>: '<path>'`, the start of an error about that file. Example:
/// `file_context("read_nifti", "a.nii")` is `read_nifti: 'a.nii'`.
inline std::string file_context(const char* where, const std::string& path) {
  std::string s = where;
  s += ": ";
  s += quoted(path);
  return s;
}

}  // namespace tapeflow::serialization::detail
