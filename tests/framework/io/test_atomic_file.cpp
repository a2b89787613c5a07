// Atomic writes: a failing write leaves the previous file and no temporary file behind, and
// every failure is a FileError naming where it happened.
#include <doctest/doctest.h>

#include <filesystem>
#include <optional>
#include <string>

#include "framework/io/io_test_util.hpp"
#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/io/atomic_file.hpp"

namespace fs = std::filesystem;
namespace S = tapeflow::serialization;
using tapeflow::FileError;
using tapeflow::test::read_bytes;
using tapeflow::test::temp_path;
using tapeflow::test::temporary_files_in;

namespace {

// The message of the FileError that `write_file_atomically` throws, or a note if none.
std::string write_error(const std::string& path, const std::string& bytes) {
  try {
    S::write_file_atomically(path, bytes, "save: 'x'");
  } catch (const FileError& e) {
    return e.what();
  } catch (...) {
    return "(an exception other than FileError)";
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("atomic file: creates, then replaces, the whole content") {
  const std::string path = temp_path("atomic_new.bin");
  fs::remove(path);
  const std::string first("first\0content", 13);
  S::write_file_atomically(path, first, "save: 'x'");
  CHECK(read_bytes(path) == first);
  S::write_file_atomically(path, "second", "save: 'x'");
  CHECK(read_bytes(path) == "second");
  S::write_file_atomically(path, "", "save: 'x'");
  CHECK(read_bytes(path).empty());
  CHECK(temporary_files_in(tapeflow::test::temp_dir()) == 0);
}

TEST_CASE("atomic file: a write failing midway leaves the previous file intact") {
  const std::string path = temp_path("atomic_keep.bin");
  const std::string before = "the previous content of the file";
  S::write_file_atomically(path, before, "save: 'x'");
  const std::string next(1000, 'n');
  for (std::size_t after : {0ul, 1ul, 20ul, next.size() / 2, next.size() - 1}) {
    CAPTURE(after);
    S::detail::set_write_failure_after(after);
    const std::string message = write_error(path, next);
    S::detail::set_write_failure_after(std::nullopt);
    CHECK(message.rfind("save: 'x': cannot write '" + path + ".tmp.", 0) == 0);
    CHECK(message.find("injected failure after " + std::to_string(after) + " bytes") !=
          std::string::npos);
    CHECK(read_bytes(path) == before);
    CHECK(temporary_files_in(tapeflow::test::temp_dir()) == 0);
  }
  // The hook off again: the same write succeeds.
  S::write_file_atomically(path, next, "save: 'x'");
  CHECK(read_bytes(path) == next);
}

TEST_CASE("atomic file: a folder that does not exist, or a folder in the way, is a FileError") {
  const std::string missing = temp_path("no/such/dir/m.bin");
  CHECK(write_error(missing, "x").rfind("save: 'x': cannot create '" + missing + ".tmp.", 0) == 0);
  // rename() cannot replace a folder with a file: the temporary file is removed again.
  const std::string folder = temp_path("a_folder");
  fs::create_directories(folder);
  CHECK(write_error(folder, "x").find("cannot rename") != std::string::npos);
  CHECK(fs::is_directory(folder));
  CHECK(temporary_files_in(tapeflow::test::temp_dir()) == 0);
  CHECK_THROWS_AS(S::write_file_atomically(missing, "x", "save: 'x'"), FileError);
}
