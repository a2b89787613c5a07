// NumPy .npz files: the archives np.savez and np.savez_compressed write (with their ZIP64 extra
// fields; tests/data/numpy), round trips stored and deflated, and a FileError naming the file
// (and the member) for a bad CRC, a member that is no npy file, truncation, size claims beyond
// what the data can hold (zip bombs), too many members, and a failed write.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>
#include <xtensor/xarray.hpp>

#include "framework/io/io_test_util.hpp"
#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/io/atomic_file.hpp"
#include "tapeflow/framework/io/npz.hpp"

namespace S = tapeflow::serialization;
using S::DType;
using S::NpyArray;
using tapeflow::Shape;
using tapeflow::Tensor;
using tapeflow::test::contains;
using tapeflow::test::error_of;
using tapeflow::test::numpy_fixture;
using tapeflow::test::read_bytes;
using tapeflow::test::temp_path;
using tapeflow::test::write_bytes;

namespace {

std::string npz_read_error(const std::string& path,
                           std::uint64_t max_bytes = S::kNpzDefaultMaxBytes) {
  return error_of<tapeflow::FileError>([&] { S::read_npz(path, max_bytes); });
}

// "read_npz: '<path>': " and `rest`.
std::string where(const std::string& path, const std::string& rest) {
  std::string s = "read_npz: '";
  s += path;
  s += "': ";
  s += rest;
  return s;
}

// The four members make_fixtures.py writes to stored.npz and compressed.npz.
void check_fixture_members(const std::map<std::string, NpyArray>& d) {
  REQUIRE(d.size() == 4);
  CHECK(d.at("a").dtype() == DType::float32);
  CHECK(d.at("a").as<float>() == xt::xarray<float>{{1.f, 2.f}, {3.f, 4.5f}});
  CHECK(d.at("b").dtype() == DType::int64);
  CHECK(d.at("b").as<std::int64_t>() == xt::xarray<std::int64_t>{-1, 0, std::int64_t(1) << 40});
  CHECK(d.at("mask").as<bool>() == xt::xarray<bool>{true, false, false, true});
  CHECK(d.at("scalar").dtype() == DType::float64);
  CHECK(d.at("scalar").shape() == Shape{});
  CHECK(d.at("scalar").as<double>()() == -0.125);
}

void put16(std::string& s, unsigned v) {
  s += static_cast<char>(v & 0xff);
  s += static_cast<char>((v >> 8) & 0xff);
}
void put32(std::string& s, std::uint32_t v) {
  put16(s, v & 0xffff);
  put16(s, v >> 16);
}

std::uint32_t crc32(const std::string& data) {
  std::uint32_t c = 0xffffffffu;
  for (unsigned char b : data) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}

// One member of a hand-built zip archive: `data` stored as is, under `method`, with `size` as
// the uncompressed size the headers claim (default: the data's).
struct Member {
  Member() = default;
  Member(std::string name, std::string data, unsigned method = 0,
         std::optional<std::uint32_t> size = std::nullopt)
      : name(std::move(name)), data(std::move(data)), method(method), size(size) {}
  std::string name;
  std::string data;
  unsigned method = 0;
  std::optional<std::uint32_t> size;
};

// A zip archive of `members` (local headers, central directory, end record), for the cases
// NumPy and libzip would never write.
std::string zip_of(const std::vector<Member>& members) {
  std::string local, central;
  for (const Member& m : members) {
    std::string common;  // version needed .. extra length, shared by both headers
    put16(common, 20);
    put16(common, 0);
    put16(common, m.method);
    put16(common, 0);     // time
    put16(common, 0x21);  // date: 1980-01-01
    put32(common, crc32(m.data));
    put32(common, static_cast<std::uint32_t>(m.data.size()));
    put32(common, m.size.value_or(static_cast<std::uint32_t>(m.data.size())));
    put16(common, static_cast<unsigned>(m.name.size()));
    put16(common, 0);
    central += "PK\1\2";
    put16(central, 20);  // version made by
    central += common;
    put16(central, 0);  // comment length
    put16(central, 0);  // disk
    put16(central, 0);  // internal attributes
    put32(central, 0);  // external attributes
    put32(central, static_cast<std::uint32_t>(local.size()));
    central += m.name;
    local += "PK\3\4";
    local += common;
    local += m.name;
    local += m.data;
  }
  std::string out = local;
  out += central;
  out += "PK\5\6";
  put16(out, 0);
  put16(out, 0);
  put16(out, static_cast<unsigned>(members.size()));
  put16(out, static_cast<unsigned>(members.size()));
  put32(out, static_cast<std::uint32_t>(central.size()));
  put32(out, static_cast<std::uint32_t>(local.size()));
  put16(out, 0);
  return out;
}

// The compression method of the first member of the zip image `zip` (0 stored, 8 deflate).
unsigned first_method(const std::string& zip) {
  REQUIRE(zip.size() > 10);
  REQUIRE(zip.compare(0, 4, "PK\3\4") == 0);
  return static_cast<unsigned char>(zip[8]) | static_cast<unsigned char>(zip[9]) << 8;
}

}  // namespace

TEST_CASE("npz: reads what np.savez and np.savez_compressed write") {
  check_fixture_members(S::read_npz(numpy_fixture("stored.npz")));
  check_fixture_members(S::read_npz(numpy_fixture("compressed.npz")));
  CHECK(first_method(read_bytes(numpy_fixture("stored.npz"))) == 0);
  CHECK(first_method(read_bytes(numpy_fixture("compressed.npz"))) == 8);
}

TEST_CASE("npz: every dtype round-trips, stored and deflated") {
  std::map<std::string, NpyArray> arrays = {
      {"bool", xt::xarray<bool>{true, false}},
      {"int8", xt::xarray<std::int8_t>{-128, 127}},
      {"int16", xt::xarray<std::int16_t>{-32768, 32767}},
      {"int32", xt::xarray<std::int32_t>{{1, 2}, {3, 4}}},
      {"int64", xt::xarray<std::int64_t>{std::int64_t(-1) << 62}},
      {"uint8", xt::xarray<std::uint8_t>{0, 255}},
      {"uint16", xt::xarray<std::uint16_t>{65535}},
      {"uint32", xt::xarray<std::uint32_t>{4294967295u}},
      {"uint64", xt::xarray<std::uint64_t>{18446744073709551615ull}},
      {"float32", Tensor(xt::zeros<float>({64, 64}))},
      {"float64", xt::xarray<double>(xt::xarray<double>::from_shape({0, 2}))},
      {"sub/scalar", xt::xarray<double>(2.5)},
  };
  for (S::NpzCompression c : {S::NpzCompression::stored, S::NpzCompression::deflate}) {
    const bool deflate = c == S::NpzCompression::deflate;
    CAPTURE(deflate);
    const std::string path = temp_path(deflate ? "all_deflate.npz" : "all_stored.npz");
    S::write_npz(path, arrays, c);
    CHECK(first_method(read_bytes(path)) == (deflate ? 8u : 0u));
    const std::map<std::string, NpyArray> back = S::read_npz(path);
    REQUIRE(back.size() == arrays.size());
    for (const auto& entry : arrays) {
      const std::string& name = entry.first;
      const NpyArray& array = entry.second;
      CAPTURE(name);
      REQUIRE(back.count(name) == 1);
      CHECK(back.at(name).dtype() == array.dtype());
      CHECK(back.at(name).shape() == array.shape());
      CHECK(S::npy_image(back.at(name)) == S::npy_image(array));
    }
  }
  // 16 KiB of zeros deflate to almost nothing.
  CHECK(read_bytes(temp_path("all_deflate.npz")).size() * 5 <
        read_bytes(temp_path("all_stored.npz")).size());
  // No arrays: an empty archive, as np.savez writes it.
  const std::string empty = temp_path("empty.npz");
  S::write_npz(empty, {});
  CHECK(read_bytes(empty).size() == 22);
  CHECK(S::read_npz(empty).empty());
  CHECK(S::read_npz(numpy_fixture("stored.npz")).at("a").to_tensor() ==
        Tensor(xt::xarray<float>{{1.f, 2.f}, {3.f, 4.5f}}));
}

TEST_CASE("npz: a bad CRC, a member that is no npy file, or a foreign file is a FileError") {
  const std::string bad_crc = numpy_fixture("bad_crc.npz");
  CHECK(npz_read_error(bad_crc) == where(bad_crc, "member 'a.npy': CRC error"));
  const std::string not_npy = numpy_fixture("not_npy_member.npz");
  CHECK(npz_read_error(not_npy) ==
        where(not_npy, "member 'x.npy': not an npy file (it does not start with \\x93NUMPY)"));
  const std::string npy = numpy_fixture("f4.npy");
  CHECK(npz_read_error(npy) == where(npy, "not a readable zip archive: Not a zip archive"));
  const std::string missing = temp_path("missing.npz");
  CHECK(npz_read_error(missing) == where(missing, "cannot open: No such file or directory"));
  const std::string empty = temp_path("empty_file.npz");
  write_bytes(empty, "");
  CHECK(npz_read_error(empty) == where(empty, "not a readable zip archive: Not a zip archive"));
}

TEST_CASE("npz: an archive truncated or corrupted anywhere is a FileError naming the file") {
  for (const char* name : {"stored.npz", "compressed.npz"}) {
    CAPTURE(name);
    const std::string whole = read_bytes(numpy_fixture(name));
    const std::string path = temp_path("cut.npz");
    const std::string prefix = where(path, "");
    for (std::size_t n = 0; n < whole.size(); n += 7) {
      CAPTURE(n);
      write_bytes(path, whole.substr(0, n));
      const std::string msg = npz_read_error(path);
      CHECK(msg.rfind(prefix, 0) == 0);
      CHECK(msg.find(prefix, 1) == std::string::npos);
    }
    // One byte changed, anywhere: an error or (in an unchecked field such as a time) the same
    // arrays, never anything else.
    for (std::size_t at = 0; at < whole.size(); at += 3) {
      CAPTURE(at);
      std::string changed = whole;
      changed[at] = static_cast<char>(changed[at] ^ 0x5a);
      write_bytes(path, changed);
      std::string msg = "(no error)";
      std::map<std::string, NpyArray> got;
      try {
        got = S::read_npz(path);
      } catch (const tapeflow::FileError& e) {
        msg = e.what();
      }
      if (msg == "(no error)") {
        const auto want = S::read_npz(numpy_fixture(name));
        for (const auto& [key, array] : want)
          CHECK((got.count(key) == 0 || S::npy_image(got.at(key)) == S::npy_image(array)));
      } else {
        CHECK(msg.rfind(prefix, 0) == 0);
      }
    }
  }
}

TEST_CASE("npz: sizes beyond what the data can hold are refused before anything is allocated") {
  const std::string path = temp_path("claims.npz");
  const std::string npy = S::npy_image(NpyArray(xt::xarray<float>{1.f, 2.f, 3.f, 4.f}));
  // A deflated member claiming a gigabyte from a hundred bytes: no deflate stream does that.
  write_bytes(path, zip_of({{"x.npy", std::string(100, 'z'), 8, 1000000000u}}));
  CHECK(npz_read_error(path) == where(path,
                                      "member 'x.npy': its size, 1000000000 bytes, is more than "
                                      "100 compressed bytes can hold"));
  // Stored: the size is the compressed size.
  write_bytes(path, zip_of({{"x.npy", npy, 0, static_cast<std::uint32_t>(npy.size() + 1)}}));
  CHECK(contains(npz_read_error(path), "member 'x.npy': "));
  // The npy header inside claims more than the member holds.
  std::string short_member = npy.substr(0, npy.size() - 4);
  write_bytes(path, zip_of({{"x.npy", short_member}}));
  CHECK(npz_read_error(path) == where(path,
                                      "member 'x.npy': truncated: the header claims shape (4,) "
                                      "of float32 (16 bytes) but only 12 bytes follow it"));
  // All members together against max_bytes.
  write_bytes(path, zip_of({{"a.npy", npy}, {"b.npy", npy}}));
  CHECK(S::read_npz(path, 2 * npy.size()).size() == 2);
  CHECK(npz_read_error(path, 2 * npy.size() - 1) ==
        where(path,
              "member 'b.npy': the members' uncompressed sizes add up to more than the "
              "limit of " +
                  std::to_string(2 * npy.size() - 1) + " bytes"));
  // Another compression method (12: bzip2), and two members with one array name.
  write_bytes(path, zip_of({{"x.npy", npy, 12}}));
  CHECK(npz_read_error(path) == where(path,
                                      "member 'x.npy': compression method 12 is not supported "
                                      "(npz files are stored or deflated)"));
  write_bytes(path, zip_of({{"x.npy", npy}, {"x", npy}}));
  CHECK(npz_read_error(path) == where(path, "member 'x': a second array named 'x'"));
  // Members named otherwise keep their names; folder entries are skipped.
  write_bytes(path, zip_of({{"dir/", ""}, {"raw", npy}}));
  const auto d = S::read_npz(path);
  REQUIRE(d.size() == 1);
  CHECK(d.at("raw").as<float>() == xt::xarray<float>{1.f, 2.f, 3.f, 4.f});
}

TEST_CASE("npz: more members than kNpzMaxMembers is a FileError") {
  std::vector<Member> many(S::kNpzMaxMembers + 1);
  for (std::size_t i = 0; i < many.size(); ++i) many[i].name = std::to_string(i) + "/";
  const std::string path = temp_path("many.npz");
  write_bytes(path, zip_of(many));
  CHECK(npz_read_error(path) == where(path,
                                      "65537 members, more than the 65536 an npz file may have "
                                      "here"));
  many.pop_back();
  write_bytes(path, zip_of(many));
  CHECK(S::read_npz(path).empty());  // folder entries only
}

TEST_CASE("npz: a failed write leaves the previous file, and a NUL in a name is a ValueError") {
  const std::string path = temp_path("keep.npz");
  S::write_npz(path, {{"x", xt::xarray<std::int32_t>{1, 2}}});
  const std::string before = read_bytes(path);
  for (std::size_t after : {0ul, 30ul, 200ul}) {
    CAPTURE(after);
    S::detail::set_write_failure_after(after);
    const std::string msg = error_of<tapeflow::FileError>([&] {
      S::write_npz(path, {{"y", xt::xarray<double>::from_shape({50})}});
    });
    S::detail::set_write_failure_after(std::nullopt);
    std::string want = "write_npz: '";
    want += path;
    want += "': cannot write '";
    CHECK(msg.rfind(want, 0) == 0);
    CHECK(contains(msg, "injected failure"));
    CHECK(read_bytes(path) == before);
  }
  CHECK(S::read_npz(path).at("x").as<std::int32_t>() == xt::xarray<std::int32_t>{1, 2});
  const std::string msg = error_of<tapeflow::ValueError>([&] {
    S::write_npz(path, {{std::string("a\0b", 3), NpyArray()}});
  });
  std::string want = "write_npz: '";
  want += path;
  want += "': an array name holds a NUL character";
  CHECK(msg == want);
  CHECK(read_bytes(path) == before);
}
