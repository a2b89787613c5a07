#include "tapeflow/framework/io/file_header.hpp"

#include <cstdio>
#include <cstring>
#include <sstream>

#include "tapeflow/framework/core/errors.hpp"

namespace tapeflow::serialization {

namespace {

// The longest header line read: a real one is about 60 bytes, so a file with no end of line
// this early is not a tapeflow file, or is cut inside its header.
constexpr std::size_t kMaxHeaderLine = 200;

std::string hex16(std::uint64_t v) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(v));
  return hex;
}

std::uint64_t fnv1a64(std::string_view payload, std::uint64_t basis) {
  std::uint64_t h = basis;
  for (char c : payload) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

std::uint64_t payload_checksum(std::string_view payload) {
  return fnv1a64(payload, 14695981039346656037ull);
}

std::string payload_checksum_hex(std::string_view payload) {
  return hex16(payload_checksum(payload));
}

std::uint64_t legacy_payload_checksum(std::string_view payload) {
  // Earlier builds' basis, a digit short of the standard one: every file they wrote has it.
  return fnv1a64(payload, 1469598103934665603ull);
}

std::string make_file_image(Archive archive, const std::string& payload) {
  return std::string(kMagic) + std::to_string(kFormatVersion) + " " + archive_name(archive) + " " +
         std::to_string(payload.size()) + " " + payload_checksum_hex(payload) + "\n" + payload;
}

FileHeader read_file_header(std::string_view image, bool verify_checksum,
                            const std::string& where) {
  const std::size_t magic_len = std::strlen(kMagic);
  if (image.empty()) fail_file(where, "the file is empty");
  if (image.compare(0, magic_len, kMagic) != 0)
    fail_file(where, "not a tapeflow model file (no 'tapeflow-model' header)");
  const std::size_t nl = image.find('\n');
  if (nl == std::string_view::npos || nl > kMaxHeaderLine)
    fail_file(where, "truncated or corrupted header (no end of line in the first 200 bytes)");
  const std::string line(image.substr(0, nl));
  std::istringstream fields(line.substr(magic_len));
  long long version = -1;
  if (!(fields >> version) || version < 1) fail_file(where, "corrupted header: bad format version");
  if (version > kFormatVersion)
    fail_file(where, "file format version " + std::to_string(version) +
                         " is newer than this tapeflow reads (" + std::to_string(kFormatVersion) +
                         ")");
  std::string archive, checksum;
  long long size = -1;
  if (!(fields >> archive >> size >> checksum) || size < 0 || checksum.size() != 16)
    fail_file(where, "corrupted header: '" + line + "'");
  FileHeader header;
  header.format_version = static_cast<int>(version);
  if (auto kind = archive_from_name(archive)) {
    header.archive = *kind;
  } else {
    fail_file(where, "corrupted header: unknown archive kind '" + archive + "'");
  }
  header.payload_offset = nl + 1;
  header.payload_size = image.size() - header.payload_offset;
  const auto expected = static_cast<unsigned long long>(size);
  if (expected != header.payload_size)
    fail_file(where, std::string(header.payload_size < expected ? "truncated" : "corrupted") +
                         " file: the header says " + std::to_string(size) +
                         " payload bytes but the file has " + std::to_string(header.payload_size));
  if (verify_checksum) {
    const std::string_view payload = image.substr(header.payload_offset);
    const std::string actual = payload_checksum_hex(payload);
    // The legacy sum is computed only for a file that does not carry the standard one.
    if (checksum != actual && checksum != hex16(legacy_payload_checksum(payload)))
      fail_file(where,
                "corrupted file: checksum mismatch (header " + checksum + ", data " + actual + ")");
  }
  return header;
}

}  // namespace tapeflow::serialization
