#pragma once
/// Reading a whole file into memory, bounded in size: a path that names something huge (a
/// wrong file, a device such as /dev/zero, a pipe that never ends) is an error after at most
/// `max_bytes`, not an exhausted memory.
///
/// Example:
/// ```
/// std::string bytes = tapeflow::serialization::read_file_bounded(
///     "model.bin", std::size_t(1) << 30, "load: 'model.bin'");
/// ```
#include <cstddef>
#include <string>

namespace tapeflow::serialization {

/// The content of `path`. Throws `FileError("<where>: ...")` when it cannot be opened or read
/// (with the system's reason), or when it holds more than `max_bytes` bytes: a regular file is
/// refused by its size before any read, anything else once `max_bytes` have been read.
/// Example: `read_file_bounded(path, 16 << 20, "inspect: '" + path + "'")`
std::string read_file_bounded(const std::string& path, std::size_t max_bytes,
                              const std::string& where);

}  // namespace tapeflow::serialization
