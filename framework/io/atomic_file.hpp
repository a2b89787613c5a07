#pragma once
/// Writing a file atomically: a reader (or a crash) sees either the previous content of the
/// path or all of the new bytes, never a part of them.
///
/// Example:
/// ```
/// tapeflow::serialization::write_file_atomically("model.bin", bytes, "save: 'model.bin'");
/// ```
#include <cstddef>
#include <optional>
#include <string>

namespace tapeflow::serialization {

/// Writes `bytes` to `path` atomically: into a temporary file in the same folder
/// (`<path>.tmp.<pid>.<n>`: same file system, so the rename cannot degrade to a copy), flushed
/// with fsync, closed, renamed over `path`, then the folder flushed (so the rename survives a
/// crash too; best effort where a file system refuses it). Any failure throws
/// `FileError("<where>: ...")` naming the step and the system's reason, removes the temporary
/// file and leaves `path` as it was.
/// Example: `write_file_atomically("ckpt.xml", image, "save_checkpoint: 'ckpt.xml'");`
void write_file_atomically(const std::string& path, const std::string& bytes,
                           const std::string& where);

namespace detail {
/// Test hook: the following writes fail (`FileError`, "injected failure") after `bytes` bytes of
/// the temporary file are written; `std::nullopt` disables it. Not thread-safe: tests only.
/// Example: `set_write_failure_after(10);`, then `set_write_failure_after(std::nullopt);`
void set_write_failure_after(std::optional<std::size_t> bytes);
}  // namespace detail

}  // namespace tapeflow::serialization
