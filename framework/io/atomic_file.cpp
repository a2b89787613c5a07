#include "tapeflow/framework/io/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "tapeflow/framework/core/errors.hpp"

namespace tapeflow::serialization {

namespace {

std::optional<std::size_t> g_fail_after;  // detail::set_write_failure_after

void write_all(int fd, const std::string& bytes, const std::string& tmp, const std::string& where) {
  const std::size_t limit = std::min(bytes.size(), g_fail_after.value_or(bytes.size()));
  std::size_t done = 0;
  while (done < limit) {
    ssize_t n = ::write(fd, bytes.data() + done, limit - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_file(where, "cannot write '" + tmp + "': " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  if (done < bytes.size())
    fail_file(where, "cannot write '" + tmp + "': injected failure after " + std::to_string(done) +
                         " bytes");
}

// The rename is an entry in the folder: until the folder itself is flushed, a crash may bring back
// the old entry (or none). Best effort: a folder that cannot be opened or flushed (some file
// systems refuse fsync on folders) leaves the file written, so it is not an error.
void sync_folder_of(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  const std::string folder = slash == std::string::npos ? "."
                             : slash == 0               ? "/"
                                                        : path.substr(0, slash);
  int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void write_file_atomically(const std::string& path, const std::string& bytes,
                           const std::string& where) {
  // The pid and a counter keep concurrent writers (threads or processes) off each other's file.
  static std::atomic<unsigned> counter{0};
  const std::string tmp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail_file(where, "cannot create '" + tmp + "': " + std::strerror(errno));
  try {
    write_all(fd, bytes, tmp, where);
    // Without fsync the rename could reach the disk before the data: a crash would then leave
    // `path` naming an empty or partial file.
    if (::fsync(fd) != 0) fail_file(where, "cannot flush '" + tmp + "': " + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    fail_file(where, "cannot close '" + tmp + "': " + std::strerror(e));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    fail_file(where, "cannot rename '" + tmp + "' to '" + path + "': " + std::strerror(e));
  }
  sync_folder_of(path);
}

namespace detail {
void set_write_failure_after(std::optional<std::size_t> bytes) { g_fail_after = bytes; }
}  // namespace detail

}  // namespace tapeflow::serialization
