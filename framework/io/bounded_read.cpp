#include "tapeflow/framework/io/bounded_read.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/io/detail/file_descriptor.hpp"

namespace tapeflow::serialization {

using detail::FileDescriptor;

namespace {

// Closes the descriptor however the read ends.
std::string too_large(std::size_t max_bytes) {
  return "the file is larger than the " + std::to_string(max_bytes) + " bytes a read accepts";
}

}  // namespace

std::string read_file_bounded(const std::string& path, std::size_t max_bytes,
                              const std::string& where) {
  FileDescriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) fail_file(where, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(file.fd, &st) != 0)
    fail_file(where, std::string("cannot stat: ") + std::strerror(errno));
  std::string bytes;
  if (S_ISREG(st.st_mode)) {
    if (static_cast<unsigned long long>(st.st_size) > max_bytes)
      fail_file(where, too_large(max_bytes));
    bytes.reserve(static_cast<std::size_t>(st.st_size));
  }
  // Read in chunks until the end of the file: the size from fstat is only a hint (the file may
  // change, and devices and pipes have none), so the bound is checked on what was read.
  char chunk[1 << 16];
  for (;;) {
    ssize_t n = ::read(file.fd, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_file(where, std::string("cannot read: ") + std::strerror(errno));
    }
    if (n == 0) break;
    if (bytes.size() + static_cast<std::size_t>(n) > max_bytes)
      fail_file(where, too_large(max_bytes));
    bytes.append(chunk, static_cast<std::size_t>(n));
  }
  return bytes;
}

}  // namespace tapeflow::serialization
