#pragma once
// Helpers shared by the tests that read and write files (tests/framework/io, test_saving,
// test_checkpoint); not a test file itself: no `test_` prefix.
#include <unistd.h>

#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>

namespace tapeflow::test {

/// This process's scratch folder (created on first use, removed when the process exits). Each
/// test case runs in its own process under ctest, so cases never share one.
inline const std::string& temp_dir() {
  struct TempDir {
    std::string path =
        (std::filesystem::temp_directory_path() / ("tapeflow_files_" + std::to_string(::getpid())))
            .string();
    TempDir() { std::filesystem::create_directories(path); }
    ~TempDir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static TempDir dir;
  return dir.path;
}

/// `name` in `temp_dir()`.
inline std::string temp_path(const std::string& name) { return temp_dir() + "/" + name; }

/// The whole content of `path` ("" if it cannot be read).
inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Replaces the content of `path` with `bytes`.
inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

/// True when `part` occurs in `text`.
inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// The message of the `E` that `f()` throws; a note when it throws something else or nothing.
/// Example: `CHECK(contains(error_of<FileError>([&] { read_npy(p); }), "truncated"));`
template <class E, class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    std::string note = "(another exception: ";
    note += e.what();
    return note + ")";
  }
  return "(no error)";
}

/// How many temporary files of atomic writes (`<name>.tmp.<pid>.<n>`) are left in `dir`.
inline int temporary_files_in(const std::string& dir) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) ++n;
  return n;
}

/// `name` in tests/data/numpy (the fixtures tests/data/numpy/make_fixtures.py writes).
inline std::string numpy_fixture(const std::string& name) {
  std::string path = TAPEFLOW_TEST_DATA_DIR;
  path += "/numpy/";
  path += name;
  return path;
}

}  // namespace tapeflow::test
