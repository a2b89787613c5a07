// Reading a whole file, bounded in size: exact bytes, and a FileError (naming where, once) for
// a missing, unreadable or too large file.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "framework/io/io_test_util.hpp"
#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/io/bounded_read.hpp"

namespace fs = std::filesystem;
namespace S = tapeflow::serialization;
using tapeflow::FileError;
using tapeflow::test::temp_path;
using tapeflow::test::write_bytes;

namespace {

// The message of the FileError that `read_file_bounded` throws, or a note if none.
std::string bounded_read_error(const std::string& path, std::size_t max_bytes) {
  try {
    S::read_file_bounded(path, max_bytes, "load: 'f'");
  } catch (const FileError& e) {
    return e.what();
  } catch (...) {
    return "(an exception other than FileError)";
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("bounded read: the exact bytes, up to and including the bound") {
  const std::string path = temp_path("read_exact.bin");
  std::string bytes;
  for (int i = 0; i < 200000; ++i) bytes.push_back(static_cast<char>(i * 7));  // several chunks
  write_bytes(path, bytes);
  CHECK(S::read_file_bounded(path, bytes.size(), "load: 'f'") == bytes);
  write_bytes(path, "");
  CHECK(S::read_file_bounded(path, 0, "load: 'f'").empty());
}

TEST_CASE("bounded read: missing, a folder, or over the bound is a FileError") {
  CHECK(bounded_read_error(temp_path("does_not_exist.bin"), 100) ==
        "load: 'f': cannot open: No such file or directory");
  CHECK_THROWS_AS(S::read_file_bounded(temp_path("does_not_exist.bin"), 100, "load: 'f'"),
                  FileError);
  const std::string folder = temp_path("read_folder");
  fs::create_directories(folder);
  CHECK(bounded_read_error(folder, 100).rfind("load: 'f': cannot read: ", 0) == 0);
  const std::string path = temp_path("read_large.bin");
  write_bytes(path, std::string(101, 'x'));
  CHECK(bounded_read_error(path, 100) ==
        "load: 'f': the file is larger than the 100 bytes a read accepts");
  // Something with no size (a device) is stopped once the bound is read.
  if (fs::exists("/dev/zero"))
    CHECK(bounded_read_error("/dev/zero", 1 << 20) ==
          "load: 'f': the file is larger than the 1048576 bytes a read accepts");
}
