// The header line of tapeflow files: its exact text, the checks in their order, and that every
// problem is a FileError whose message names where it happened, once.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "framework/io/io_test_util.hpp"
#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/io/file_header.hpp"

namespace S = tapeflow::serialization;
using tapeflow::FileError;

namespace {

const std::string kWhere = "load: 'f.bin'";

// The message of the FileError that read_file_header throws for `image`, or a note saying that
// it threw something else or nothing.
std::string header_error(const std::string& image, bool verify_checksum = true) {
  try {
    S::read_file_header(image, verify_checksum, kWhere);
  } catch (const FileError& e) {
    return e.what();
  } catch (...) {
    return "(an exception other than FileError)";
  }
  return "(no error)";
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

TEST_CASE("file header: the checksum written is the standard FNV-1a 64") {
  // The published test vectors (offset basis 0xcbf29ce484222325).
  CHECK(S::payload_checksum("") == 0xcbf29ce484222325ull);
  CHECK(S::payload_checksum("a") == 0xaf63dc4c8601ec8cull);
  CHECK(S::payload_checksum("foobar") == 0x85944171f73967e8ull);
  CHECK(S::payload_checksum("some payload\nwith lines") == 0x94751cc00df31630ull);
}

TEST_CASE("file header: the legacy checksum of earlier builds, basis a digit short") {
  CHECK(S::legacy_payload_checksum("") == 0x14650fb0739d0383ull);
  CHECK(S::legacy_payload_checksum("a") == 0x44bd8ad473cd9906ull);
  CHECK(S::legacy_payload_checksum("some payload\nwith lines") == 0xab944131fb3c2cb6ull);
}

TEST_CASE("file header: an image with the legacy checksum loads, a corrupted one fails with both") {
  const std::string payload = "some payload\nwith lines";
  const std::string legacy = "tapeflow-model 1 text 23 ab944131fb3c2cb6\n" + payload;
  const std::string standard = S::make_file_image(S::Archive::text, payload);
  CHECK(standard == "tapeflow-model 1 text 23 94751cc00df31630\n" + payload);
  for (const std::string& image : {legacy, standard}) {
    CAPTURE(image);
    S::FileHeader h = S::read_file_header(image, true, kWhere);
    CHECK(image.substr(h.payload_offset) == payload);
    std::string flipped = image;
    flipped[image.size() - 1] ^= 0x01;
    CHECK(starts_with(header_error(flipped), kWhere +
                                                 ": corrupted file: checksum mismatch (header " +
                                                 image.substr(25, 16) + ", data "));
  }
}

TEST_CASE("file header: the exact line, then the payload") {
  const std::string payload = "some payload\nwith lines";
  const std::string image = S::make_file_image(S::Archive::text, payload);
  CHECK(image == "tapeflow-model 1 text 23 94751cc00df31630\n" + payload);
  S::FileHeader h = S::read_file_header(image, true, kWhere);
  CHECK(h.format_version == S::kFormatVersion);
  CHECK(h.archive == S::Archive::text);
  CHECK(h.payload_size == payload.size());
  CHECK(image.substr(h.payload_offset) == payload);
  for (S::Archive a : {S::Archive::binary, S::Archive::xml}) {
    CAPTURE(S::archive_name(a));
    CHECK(S::read_file_header(S::make_file_image(a, payload), true, kWhere).archive == a);
  }
  const std::string empty_payload = S::make_file_image(S::Archive::binary, "");
  CHECK(S::read_file_header(empty_payload, true, kWhere).payload_size == 0);
}

TEST_CASE("file header: the fixtures written by earlier builds pass") {
  const struct {
    const char* file;
    S::Archive archive;
    std::size_t payload;
  } fixtures[] = {{"checkpoint_v0.bin", S::Archive::binary, 2403},
                  {"checkpoint_v0.txt", S::Archive::text, 4849},
                  {"checkpoint_v0.xml", S::Archive::xml, 13262}};
  for (const auto& f : fixtures) {
    CAPTURE(f.file);
    const std::string image = tapeflow::test::read_bytes(std::string(TAPEFLOW_TEST_DATA_DIR) +
                                                         "/serialization/" + f.file);
    S::FileHeader h = S::read_file_header(image, true, kWhere);
    CHECK(h.format_version == 1);
    CHECK(h.archive == f.archive);
    CHECK(h.payload_size == f.payload);
    // They carry the legacy checksum: this is the test that such files keep loading.
    char legacy[17];
    std::snprintf(legacy, sizeof legacy, "%016llx",
                  static_cast<unsigned long long>(
                      S::legacy_payload_checksum(image.substr(h.payload_offset))));
    CHECK(image.substr(h.payload_offset - 17, 16) == legacy);
  }
}

TEST_CASE("file header: each problem is a FileError with its own message, in check order") {
  const std::string hex = "0000000000000000";
  CHECK(header_error("") == kWhere + ": the file is empty");
  CHECK(header_error("\x89PNG\r\n\x1a\n some other format") ==
        kWhere + ": not a tapeflow model file (no 'tapeflow-model' header)");
  CHECK(header_error("tapef") ==
        kWhere + ": not a tapeflow model file (no 'tapeflow-model' header)");
  const std::string no_end =
      kWhere + ": truncated or corrupted header (no end of line in the first 200 bytes)";
  CHECK(header_error("tapeflow-model 1 binary 0 " + hex) == no_end);
  CHECK(header_error("tapeflow-model " + std::string(250, ' ') + "\n") == no_end);
  CHECK(header_error("tapeflow-model x binary 0 " + hex + "\n") ==
        kWhere + ": corrupted header: bad format version");
  CHECK(header_error("tapeflow-model 0 binary 0 " + hex + "\n") ==
        kWhere + ": corrupted header: bad format version");
  CHECK(header_error("tapeflow-model 99 binary 0 " + hex + "\n") ==
        kWhere + ": file format version 99 is newer than this tapeflow reads (1)");
  CHECK(header_error("tapeflow-model 1 binary 0\n") ==
        kWhere + ": corrupted header: 'tapeflow-model 1 binary 0'");
  CHECK(header_error("tapeflow-model 1 binary -1 " + hex + "\n") ==
        kWhere + ": corrupted header: 'tapeflow-model 1 binary -1 " + hex + "'");
  CHECK(header_error("tapeflow-model 1 binary 0 123\n") ==
        kWhere + ": corrupted header: 'tapeflow-model 1 binary 0 123'");
  CHECK(header_error("tapeflow-model 1 zip 0 " + hex + "\n") ==
        kWhere + ": corrupted header: unknown archive kind 'zip'");

  const std::string payload = "some payload\nwith lines";
  const std::string good = S::make_file_image(S::Archive::binary, payload);
  CHECK(header_error(good.substr(0, good.size() - 3)) ==
        kWhere + ": truncated file: the header says 23 payload bytes but the file has 20");
  CHECK(header_error(good + "x") ==
        kWhere + ": corrupted file: the header says 23 payload bytes but the file has 24");
  std::string flipped = good;
  flipped[good.size() - 1] ^= 0x01;
  CHECK(
      starts_with(header_error(flipped),
                  kWhere + ": corrupted file: checksum mismatch (header 94751cc00df31630, data "));
  CHECK(header_error(flipped, /*verify_checksum=*/false) == "(no error)");
}

TEST_CASE("file header: a truncated or flipped image is a FileError at every offset") {
  const std::string good = S::make_file_image(S::Archive::xml, "<rec>payload</rec>\n");
  for (std::size_t n = 0; n < good.size(); ++n) {
    CAPTURE(n);
    CHECK_THROWS_AS(S::read_file_header(good.substr(0, n), true, kWhere), FileError);
  }
  for (std::size_t pos = 0; pos < good.size(); ++pos) {
    CAPTURE(pos);
    std::string bad = good;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x80);
    CHECK_THROWS_AS(S::read_file_header(bad, true, kWhere), FileError);
  }
}
