// The bounded Boost archive helpers: records round-trip in every archive kind, and a corrupt
// count, flag, tag, signature or truncated payload is a FileError, never a crash or a huge
// allocation.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "framework/io/io_test_util.hpp"
#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/io/detail/bounded_archive.hpp"

namespace S = tapeflow::serialization;
namespace D = tapeflow::serialization::detail;
using tapeflow::FileError;

using tapeflow::test::contains;
namespace {

const S::Archive kKinds[] = {S::Archive::binary, S::Archive::text, S::Archive::xml};

struct Item {
  std::string label;
  template <class Ar>
  void save(Ar& ar, unsigned) const {
    D::save_string(ar, "label", label);
  }
  template <class Ar>
  void load(Ar& ar, unsigned) {
    D::load_string(ar, "label", label);
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};

struct Sample {
  std::string name;
  bool flag = false;
  std::vector<std::uint64_t> dims;
  std::vector<float> values;
  std::vector<Item> items;
  template <class Ar>
  void save(Ar& ar, unsigned) const {
    D::save_string(ar, "name", name);
    D::save_bool(ar, "flag", flag);
    D::save_vector(ar, "dim", dims);
    D::save_vector(ar, "v", values);
    D::save_vector(ar, "item", items);
  }
  template <class Ar>
  void load(Ar& ar, unsigned) {
    D::load_string(ar, "name", name);
    D::load_bool(ar, "flag", flag);
    D::load_vector(ar, "dim", dims);
    D::load_vector(ar, "v", values);
    D::load_vector(ar, "item", items);
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};

Sample sample() {
  Sample s;
  s.name = "weights of <layer> & co";
  s.flag = true;
  s.dims = {2, 3};
  s.values = {0.5f, -1.25f, 3.f, 1e-7f, 0.f, -0.f};
  s.items = {{"first"}, {""}, {"third"}};
  return s;
}

// Writes a flag as an unsigned that may be any value, read back by FlagReader's load_bool.
struct FlagWriter {
  unsigned value = 0;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar& boost::serialization::make_nvp(D::tag("flag"), value);
  }
};
struct FlagReader {
  bool flag = false;
  template <class Ar>
  void save(Ar&, unsigned) const {}
  template <class Ar>
  void load(Ar& ar, unsigned) {
    D::load_bool(ar, "flag", flag);
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};

// The message of the FileError that reading `payload` as a Sample throws, or a note if none.
std::string archive_read_error(const std::string& payload, S::Archive kind) {
  Sample s;
  try {
    D::read_payload(payload, kind, s, "load: 'f'");
  } catch (const FileError& e) {
    return e.what();
  } catch (...) {
    return "(an exception other than FileError)";
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("bounded archive: a record round-trips in every archive kind") {
  const Sample s = sample();
  for (S::Archive kind : kKinds) {
    CAPTURE(S::archive_name(kind));
    const std::string payload = D::write_payload(s, kind);
    Sample back;
    D::read_payload(payload, kind, back, "load: 'f'");
    CHECK(back.name == s.name);
    CHECK(back.flag == s.flag);
    CHECK(back.dims == s.dims);
    CHECK(back.values == s.values);
    REQUIRE(back.items.size() == 3);
    CHECK(back.items[2].label == "third");
    CHECK(std::memcmp(&back.values[5], &s.values[5], sizeof(float)) == 0);  // -0 stays -0
  }
  // XML payloads have no document header or archive root (see the header's comment).
  const std::string xml = D::write_payload(s, S::Archive::xml);
  CHECK(xml.rfind("<rec ", 0) == 0);
  CHECK_FALSE(contains(xml, "<?xml"));
  CHECK_FALSE(contains(xml, "boost_serialization"));
}

TEST_CASE("bounded archive: counts are bounded by the innermost payload scope") {
  // Outside any scope nothing is accepted, and errors start with "load".
  CHECK(D::payload_bound() == 0);
  CHECK_THROWS_WITH_AS(D::checked_count(1, "dim"),
                       "load: corrupted file: dim count 1 exceeds the payload size 0", FileError);
  {
    D::PayloadScope outer(10, "load: 'a'");
    CHECK(D::checked_count(10, "dim") == 10);
    CHECK_THROWS_WITH_AS(D::checked_count(11, "dim"),
                         "load: 'a': corrupted file: dim count 11 exceeds the payload size 10",
                         FileError);
    {
      D::PayloadScope inner(3, "load: 'b'");
      CHECK(D::payload_bound() == 3);
      CHECK_THROWS_WITH_AS(D::fail_corrupt_payload("x"), "load: 'b': corrupted file: x", FileError);
    }
    CHECK(D::payload_bound() == 10);
  }
  CHECK(D::payload_bound() == 0);
}

TEST_CASE("bounded archive: a huge string count is refused before any allocation") {
  Sample s = sample();
  s.name = "abc";
  const std::string payload = D::write_payload(s, S::Archive::binary);
  // The binary string: a 64-bit count 3, then the characters.
  const std::string count_and_name = std::string("\x03\0\0\0\0\0\0\0abc", 11);
  const std::size_t at = payload.find(count_and_name);
  REQUIRE(at != std::string::npos);
  std::string bad = payload;
  bad.replace(at, 8, std::string("\xff\xff\xff\xff\xff\xff\xff\x7f", 8));
  CHECK(archive_read_error(bad, S::Archive::binary) ==
        "load: 'f': corrupted file: name count 9223372036854775807 exceeds the payload size " +
            std::to_string(bad.size()));
}

TEST_CASE("bounded archive: a flag other than 0 or 1 is a FileError") {
  for (S::Archive kind : kKinds) {
    CAPTURE(S::archive_name(kind));
    FlagReader r;
    D::read_payload(D::write_payload(FlagWriter{1}, kind), kind, r, "load: 'f'");
    CHECK(r.flag);
    CHECK_THROWS_WITH_AS(
        D::read_payload(D::write_payload(FlagWriter{7}, kind), kind, r, "load: 'f'"),
        "load: 'f': corrupted file: flag 'flag' is 7", FileError);
  }
}

TEST_CASE("bounded archive: signatures and XML tag lengths are checked before Boost parses") {
  for (S::Archive kind : {S::Archive::binary, S::Archive::text}) {
    CAPTURE(S::archive_name(kind));
    std::string payload = D::write_payload(sample(), kind);
    payload[10] = static_cast<char>(payload[10] ^ 0x01);
    CHECK(archive_read_error(payload, kind) == std::string("load: 'f': corrupted file: the ") +
                                                   S::archive_name(kind) +
                                                   " archive signature is wrong");
  }
  const std::string xml = D::write_payload(sample(), S::Archive::xml);
  const std::string long_tag = "<" + std::string(60, 'a') + ">";
  CHECK(archive_read_error(long_tag + xml, S::Archive::xml) ==
        "load: 'f': corrupted file: an XML tag name is 60 characters long");
  // One character shorter passes the guard; Boost then refuses the payload.
  CHECK(archive_read_error("<" + std::string(47, 'a') + ">", S::Archive::xml)
            .rfind("load: 'f': corrupted file: cannot read the xml archive", 0) == 0);
  // Tags are zero-padded buffers that live on.
  const char* t = D::tag("flag");
  CHECK(t == D::tag("flag"));
  CHECK(std::string(t) == "flag");
  CHECK(std::strlen(D::tag(std::string(100, 'z').c_str())) == 63);
}

TEST_CASE("bounded archive: a truncated payload is a FileError (or, in text, a shorter value)") {
  for (S::Archive kind : kKinds) {
    CAPTURE(S::archive_name(kind));
    const std::string payload = D::write_payload(sample(), kind);
    int refused = 0;
    for (std::size_t n = 0; n < payload.size(); ++n) {
      CAPTURE(n);
      const std::string message = archive_read_error(payload.substr(0, n), kind);
      // Text can end inside a number and still parse ("0.5" cut to "0."): never anything but a
      // FileError, though.
      CHECK(message != "(an exception other than FileError)");
      if (message != "(no error)") {
        CHECK(message.rfind("load: 'f': corrupted file: ", 0) == 0);
        ++refused;
      }
    }
    CHECK(refused >= static_cast<int>(payload.size()) - 16);
  }
}
