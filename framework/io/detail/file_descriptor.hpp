#pragma once
// An open POSIX file descriptor, closed when it goes out of scope (internal to framework/io).
#include <unistd.h>

namespace tapeflow::serialization::detail {

/// Owns `fd` (closed on destruction unless negative).
struct FileDescriptor {
  int fd;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace tapeflow::serialization::detail
