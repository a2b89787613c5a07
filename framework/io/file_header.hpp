#pragma once
/// The header line every tapeflow file starts with, written and checked:
///
///     tapeflow-model <format version> <archive> <payload bytes> <checksum, 16 hex digits>\n
///
/// followed by the payload (a Boost archive, see layers/saving.hpp for what it holds). The
/// header is checked before anything else is read (magic first, then version), and the
/// payload's size and checksum before it is parsed, so that a truncated, corrupted, foreign or
/// newer file is a clear `FileError` rather than whatever the archive parser makes of it.
///
/// Example:
/// ```
/// namespace S = tapeflow::serialization;
/// std::string image = S::make_file_image(S::Archive::text, payload);
/// S::FileHeader h = S::read_file_header(image, /*verify_checksum=*/true, "load: 'm.txt'");
/// // h.archive == S::Archive::text, image.substr(h.payload_offset) == payload
/// ```
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tapeflow/framework/io/archive_kind.hpp"

namespace tapeflow::serialization {

/// The file format version this build writes and the newest it reads.
inline constexpr int kFormatVersion = 1;
/// The first bytes of every file.
inline constexpr const char* kMagic = "tapeflow-model ";

/// What a checked header line says about the bytes after it.
/// Example: `std::string payload = image.substr(header.payload_offset, header.payload_size);`
struct FileHeader {
  int format_version = 0;
  Archive archive = Archive::binary;
  std::size_t payload_offset = 0;  ///< where the payload starts: just after the header's '\n'
  std::size_t payload_size = 0;
};

/// The checksum in the header: the standard 64-bit FNV-1a of the payload (offset basis
/// 14695981039346656037 = 0xcbf29ce484222325, prime 1099511628211), so that any FNV-1a tool
/// can check a file. Files written before this carry `legacy_payload_checksum` instead; both
/// are accepted on reading.
/// Example: `payload_checksum("a") == 0xaf63dc4c8601ec8c`
std::uint64_t payload_checksum(std::string_view payload);

/// `payload_checksum` as the header writes it: 16 lower-case hex digits.
/// Example: `payload_checksum_hex("a") == "af63dc4c8601ec8c"`
std::string payload_checksum_hex(std::string_view payload);

/// The checksum that earlier builds wrote: FNV-1a 64 with the offset basis mistyped a digit
/// short (1469598103934665603). Read only: files carrying it still load.
/// Example: `legacy_payload_checksum("") == 0x14650fb0739d0383`
std::uint64_t legacy_payload_checksum(std::string_view payload);

/// The whole file: the header line for `payload` (this build's `kFormatVersion`, `archive`,
/// size, checksum), then `payload`. `archive` must not be `automatic`.
/// Example: `make_file_image(Archive::xml, payload)` starts with "tapeflow-model 1 xml ".
std::string make_file_image(Archive archive, const std::string& payload);

/// Checks the header of the file image `image` and returns it. The checks, in order: not
/// empty, the magic, an end of line in the first 200 bytes, a format version from 1 to
/// `kFormatVersion`, the archive, size and checksum fields, the payload size against the
/// bytes that follow (fewer: truncated; more: corrupted), then the checksum (the standard
/// `payload_checksum`, or the `legacy_payload_checksum` of older files) unless
/// `verify_checksum` is false (a fuzzer's way to reach the payload parser). The first failing
/// check throws `FileError("<where>: ...")`; `where` names the operation and the file.
/// Example: `read_file_header(bytes, true, "load: 'model.bin'").payload_size`
FileHeader read_file_header(std::string_view image, bool verify_checksum, const std::string& where);

}  // namespace tapeflow::serialization
