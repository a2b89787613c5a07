// NumPy .npy files: round trips of every dtype, the files NumPy itself writes (every dtype, big
// endian, Fortran order, 0-d, empty, format versions 2.0 and 3.0; tests/data/numpy), exact and
// rounding conversions, and a FileError naming the file for every truncated, corrupt or foreign
// file.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <xtensor/xarray.hpp>

#include "framework/io/io_test_util.hpp"
#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/io/atomic_file.hpp"
#include "tapeflow/framework/io/npy.hpp"

namespace fs = std::filesystem;
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

// The (2, 3) array make_fixtures.py's values() gives for T: its extremes and ordinary values.
template <class T>
xt::xarray<T> fixture_values() {
  using L = std::numeric_limits<T>;
  xt::xarray<T> v;
  if constexpr (std::is_same_v<T, bool>)
    v = {true, false, true, false, false, true};
  else if constexpr (std::is_same_v<T, float>)
    v = {-1.5f, 0.f, 0.25f, 3.0e38f, L::infinity(), L::quiet_NaN()};
  else if constexpr (std::is_same_v<T, double>)
    v = {0.1, -2.5, 3.0, 1e-3, 1e10, -0.0};
  else if constexpr (std::is_signed_v<T>)
    v = {L::min(), T(-1), T(0), T(1), L::max(), T(7)};
  else
    v = {T(0), T(1), T(2), T(L::max() - 1), L::max(), T(7)};
  return v.reshape({2, 3});
}

// Same shape and the same bytes (NaN equals NaN, -0 differs from 0).
template <class T>
bool same_bits(const xt::xarray<T>& a, const xt::xarray<T>& b) {
  return Shape(a.shape().begin(), a.shape().end()) == Shape(b.shape().begin(), b.shape().end()) &&
         (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

std::string npy_read_error(const std::string& path) {
  return error_of<tapeflow::FileError>([&] { S::read_npy(path); });
}

// An npy file image: magic, version `major`.0, header length, `dict` padded with spaces to a
// multiple of 64 bytes and ended by a newline (unless `newline` is false), then `data`.
std::string npy_bytes(const std::string& dict, const std::string& data, int major = 1,
                      bool newline = true) {
  const std::size_t prefix = major == 1 ? 10 : 12;
  std::string header = dict;
  if (newline) {
    while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
  }
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  for (std::size_t i = 0; i < prefix - 8; ++i) out += static_cast<char>(header.size() >> (8 * i));
  out += header;
  out += data;
  return out;
}

// The message of reading `bytes` as an npy file (written to `name` in the scratch folder).
std::string bytes_error(const std::string& bytes, const std::string& name = "bad.npy") {
  const std::string path = temp_path(name);
  write_bytes(path, bytes);
  return npy_read_error(path);
}

template <class T>
void check_round_trip() {
  CAPTURE(S::dtype_name(S::dtype_of<T>()));
  const std::string path = temp_path("round_trip.npy");
  xt::xarray<T> rank3 = fixture_values<T>();
  rank3.reshape({3, 1, 2});
  for (const xt::xarray<T>& values : {fixture_values<T>(), xt::xarray<T>(fixture_values<T>()(1, 2)),
                                      xt::xarray<T>(xt::xarray<T>::from_shape({0, 4})), rank3}) {
    S::write_npy(path, values);
    const NpyArray got = S::read_npy(path);
    CHECK(got.dtype() == S::dtype_of<T>());
    CHECK(got.shape() == Shape(values.shape().begin(), values.shape().end()));
    CHECK(same_bits(got.as<T>(), values));
  }
  // What write_npy writes for the fixture's values is, byte for byte, what np.save wrote.
  S::write_npy(path, fixture_values<T>());
  std::string name = S::dtype_name(S::dtype_of<T>());
  static const std::pair<const char*, const char*> kCodes[] = {
      {"bool", "b1"},   {"int8", "i1"},    {"int16", "i2"},  {"int32", "i4"},
      {"int64", "i8"},  {"uint8", "u1"},   {"uint16", "u2"}, {"uint32", "u4"},
      {"uint64", "u8"}, {"float32", "f4"}, {"float64", "f8"}};
  for (const auto& [dtype, code] : kCodes)
    if (name == dtype)
      CHECK(read_bytes(path) == read_bytes(numpy_fixture(std::string(code) + ".npy")));
}

template <class T>
void check_numpy_fixture(const std::string& code) {
  CAPTURE(code);
  const xt::xarray<T> want = fixture_values<T>();
  const NpyArray little = S::read_npy(numpy_fixture(code + ".npy"));
  CHECK(little.dtype() == S::dtype_of<T>());
  CHECK(little.shape() == Shape{2, 3});
  CHECK(same_bits(little.as<T>(), want));
  if (sizeof(T) > 1) {
    const NpyArray big = S::read_npy(numpy_fixture("be_" + code + ".npy"));
    CHECK(big.dtype() == S::dtype_of<T>());
    CHECK(same_bits(big.as<T>(), want));
  }
}

}  // namespace

TEST_CASE("npy: every dtype round-trips, and is written as np.save writes it") {
  check_round_trip<bool>();
  check_round_trip<std::int8_t>();
  check_round_trip<std::int16_t>();
  check_round_trip<std::int32_t>();
  check_round_trip<std::int64_t>();
  check_round_trip<std::uint8_t>();
  check_round_trip<std::uint16_t>();
  check_round_trip<std::uint32_t>();
  check_round_trip<std::uint64_t>();
  check_round_trip<float>();
  check_round_trip<double>();
}

TEST_CASE("npy: a Tensor round-trips as float32, an NpyArray as its dtype") {
  const std::string path = temp_path("tensor.npy");
  Tensor t = Tensor::from_shape({2, 3, 4});
  for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = 0.5f * static_cast<float>(i) - 3.f;
  S::write_npy(path, t);
  CHECK(S::read_npy(path).dtype() == DType::float32);
  const Tensor back = S::load_npy(path);
  CHECK(back.shape() == t.shape());
  CHECK(std::memcmp(back.data(), t.data(), t.size() * sizeof(float)) == 0);
  // Through an NpyArray (and its implicit conversion from a Tensor) too.
  S::write_npy(path, NpyArray(t));
  CHECK(S::load_npy(path) == t);
  S::write_npy(path, S::read_npy(numpy_fixture("i2.npy")));
  CHECK(read_bytes(path) == read_bytes(numpy_fixture("i2.npy")));
  // The default array: float32 of shape (0,).
  CHECK(NpyArray().dtype() == DType::float32);
  CHECK(NpyArray().shape() == Shape{0});
}

TEST_CASE("npy: reads NumPy's files of every dtype, little and big endian") {
  check_numpy_fixture<bool>("b1");
  check_numpy_fixture<std::int8_t>("i1");
  check_numpy_fixture<std::int16_t>("i2");
  check_numpy_fixture<std::int32_t>("i4");
  check_numpy_fixture<std::int64_t>("i8");
  check_numpy_fixture<std::uint8_t>("u1");
  check_numpy_fixture<std::uint16_t>("u2");
  check_numpy_fixture<std::uint32_t>("u4");
  check_numpy_fixture<std::uint64_t>("u8");
  check_numpy_fixture<float>("f4");
  check_numpy_fixture<double>("f8");
}

TEST_CASE("npy: Fortran order, 0-d, empty, and format versions 2.0 and 3.0") {
  // np.asfortranarray(np.arange(24.0).reshape(2, 3, 4) / 4): C order on reading.
  const NpyArray f = S::read_npy(numpy_fixture("fortran_f8.npy"));
  CHECK(f.shape() == Shape{2, 3, 4});
  const xt::xarray<double> fv = f.as<double>();
  for (std::size_t i = 0; i < 24; ++i) CHECK(fv.data()[i] == static_cast<double>(i) / 4);
  // int16, Fortran order and big endian: arange(6) - 3 in shape (3, 2).
  const NpyArray g = S::read_npy(numpy_fixture("fortran_i2_be.npy"));
  CHECK(g.dtype() == DType::int16);
  CHECK(g.as<std::int16_t>() == xt::xarray<std::int16_t>{{-3, -2}, {-1, 0}, {1, 2}});

  const NpyArray s = S::read_npy(numpy_fixture("scalar_f4.npy"));
  CHECK(s.shape() == Shape{});
  CHECK(s.size() == 1);
  CHECK(s.to_tensor()() == 3.5f);
  const NpyArray e = S::read_npy(numpy_fixture("empty_f4.npy"));
  CHECK(e.shape() == Shape{0, 3});
  CHECK(e.size() == 0);
  CHECK(e.to_tensor().shape() == Tensor::shape_type{0, 3});

  CHECK(same_bits(S::read_npy(numpy_fixture("v2_i4.npy")).as<std::int32_t>(),
                  fixture_values<std::int32_t>()));
  CHECK(same_bits(S::read_npy(numpy_fixture("v3_u1.npy")).as<std::uint8_t>(),
                  fixture_values<std::uint8_t>()));
}

TEST_CASE("npy: the header's keys in any order, Python 2's long integers, any bool byte") {
  const std::string four_i4("\1\0\0\0\2\0\0\0\3\0\0\0\4\0\0\0", 16);
  const std::string path = temp_path("header.npy");
  write_bytes(path,
              npy_bytes("{'shape': (2, 2), 'descr': '<i4', 'fortran_order': False}", four_i4));
  CHECK(S::read_npy(path).as<std::int32_t>() == xt::xarray<std::int32_t>{{1, 2}, {3, 4}});
  write_bytes(path,
              npy_bytes("{\"descr\":\"<i4\",\"fortran_order\":True,\"shape\":(2L,2L,),}", four_i4));
  CHECK(S::read_npy(path).as<std::int32_t>() == xt::xarray<std::int32_t>{{1, 3}, {2, 4}});
  // NumPy reads any nonzero byte of a bool array as True.
  write_bytes(path, npy_bytes("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }",
                              std::string("\0\1\x7f", 3)));
  CHECK(S::read_npy(path).as<bool>() == xt::xarray<bool>{false, true, true});
}

TEST_CASE("npy: as<T> converts exactly or throws a ValueError naming the element") {
  const NpyArray f8 = xt::xarray<double>{{1.0, -2.0}, {0.5, 3.0}};
  CHECK(f8.as<double>() == f8.cast<double>());
  const std::string msg = error_of<tapeflow::ValueError>([&] { f8.as<std::int32_t>(); });
  CHECK(msg ==
        "NpyArray::as<int32>: element (1, 0) of the float64 array is 0.5, which int32 cannot "
        "hold exactly (cast<int32>() rounds)");
  CHECK(error_of<tapeflow::ValueError>([&] { f8.as<float>(); }) == "(no error)");
  CHECK(f8.as<float>() == xt::xarray<float>{{1.f, -2.f}, {0.5f, 3.f}});
  CHECK(contains(
      error_of<tapeflow::ValueError>([] { NpyArray(xt::xarray<double>{0.1}).as<float>(); }),
      "element (0,) of the float64 array is 0.10000000000000001, which float32"));
  // Whole numbers convert exactly, in range only.
  CHECK(NpyArray(xt::xarray<double>{-3.0, 7.0}).as<std::int8_t>() ==
        xt::xarray<std::int8_t>{-3, 7});
  CHECK(contains(
      error_of<tapeflow::ValueError>([] { NpyArray(xt::xarray<double>{-1.0}).as<std::uint8_t>(); }),
      "is -1, which uint8 cannot hold"));
  // Integers: in range of the target (an int64 file read as int32).
  const NpyArray i8 = xt::xarray<std::int64_t>{5, -7, std::int64_t(1) << 40};
  CHECK(contains(error_of<tapeflow::ValueError>([&] { i8.as<std::int32_t>(); }),
                 "element (2,) of the int64 array is 1099511627776, which int32 cannot hold"));
  CHECK(NpyArray(xt::xarray<std::int64_t>{5, -7}).as<std::int32_t>() ==
        xt::xarray<std::int32_t>{5, -7});
  CHECK(contains(error_of<tapeflow::ValueError>(
                     [] { NpyArray(xt::xarray<std::int16_t>{-1}).as<std::uint64_t>(); }),
                 "is -1, which uint64"));
  // Integers to floats: exactly representable ones only (2^24 + 1 is no float32).
  CHECK(NpyArray(xt::xarray<std::int32_t>{16777216}).as<float>()(0) == 16777216.f);
  CHECK(contains(error_of<tapeflow::ValueError>(
                     [] { NpyArray(xt::xarray<std::int32_t>{16777217}).as<float>(); }),
                 "is 16777217, which float32 cannot hold exactly"));
  const std::uint64_t top = std::numeric_limits<std::uint64_t>::max();
  CHECK(contains(error_of<tapeflow::ValueError>(
                     [&] { NpyArray(xt::xarray<std::uint64_t>{top}).as<double>(); }),
                 "18446744073709551615, which float64 cannot hold exactly"));
  // Booleans: 0 and 1 both ways; NaN survives float64 -> float32; infinities too.
  CHECK(NpyArray(xt::xarray<std::uint8_t>{0, 1}).as<bool>() == xt::xarray<bool>{false, true});
  CHECK(contains(
      error_of<tapeflow::ValueError>([] { NpyArray(xt::xarray<std::uint8_t>{2}).as<bool>(); }),
      "is 2, which bool cannot hold exactly"));
  CHECK(NpyArray(xt::xarray<bool>{true, false}).as<double>() == xt::xarray<double>{1.0, 0.0});
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const xt::xarray<float> nf = NpyArray(xt::xarray<double>{nan, -inf}).as<float>();
  CHECK(std::isnan(nf(0)));
  CHECK(nf(1) == -std::numeric_limits<float>::infinity());
  CHECK(contains(
      error_of<tapeflow::ValueError>([&] { NpyArray(xt::xarray<double>{nan}).as<std::int64_t>(); }),
      "is nan, which int64 cannot hold"));
}

TEST_CASE("npy: cast<T> rounds as astype does, and still refuses values out of range") {
  const NpyArray f8 = xt::xarray<double>{{0.1, -2.7}, {2.7, 1e30}};
  const xt::xarray<float> f = f8.cast<float>();
  CHECK(f(0, 0) == 0.1f);
  CHECK(f(1, 1) == 1e30f);
  CHECK(NpyArray(xt::xarray<double>{-2.7, 2.7, -0.5}).cast<std::int32_t>() ==
        xt::xarray<std::int32_t>{-2, 2, 0});
  CHECK(NpyArray(xt::xarray<double>{0.0, -0.5, 3.0}).cast<bool>() ==
        xt::xarray<bool>{false, true, true});
  CHECK(NpyArray(xt::xarray<std::int32_t>{16777217}).cast<float>()(0) == 16777216.f);
  CHECK(error_of<tapeflow::ValueError>([] { NpyArray(xt::xarray<double>{1e300}).cast<float>(); }) ==
        "NpyArray::cast<float32>: element (0,) of the float64 array is 1.0000000000000001e+300, "
        "which float32 cannot hold");
  CHECK(contains(error_of<tapeflow::ValueError>(
                     [] { NpyArray(xt::xarray<std::int32_t>{300}).cast<std::int8_t>(); }),
                 "NpyArray::cast<int8>: element (0,) of the int32 array is 300, which int8 cannot "
                 "hold"));
  CHECK(contains(error_of<tapeflow::ValueError>(
                     [] { NpyArray(xt::xarray<double>{9.3e18}).cast<std::int64_t>(); }),
                 "which int64 cannot hold"));
  CHECK(NpyArray(xt::xarray<double>{9.2e18}).cast<std::int64_t>()(0) == 9200000000000000000);
  // to_tensor: float32 of any dtype, rounded.
  CHECK(S::read_npy(numpy_fixture("f8.npy")).to_tensor() ==
        Tensor(xt::xarray<float>{{0.1f, -2.5f, 3.f}, {1e-3f, 1e10f, -0.f}}));
  CHECK(S::load_npy(numpy_fixture("u8.npy"))(1, 1) == 18446744073709551615.f);
  CHECK(contains(error_of<tapeflow::ValueError>([] { S::load_npy(temp_path("none.npy")); }),
                 "(another exception"));  // a missing file is a FileError, not a ValueError
}

TEST_CASE("npy: dtypes tapeflow does not read are FileErrors naming the dtype") {
  for (const auto& [file, descr] : {std::pair<const char*, const char*>{"complex64.npy", "'<c8'"},
                                    {"unicode_u3.npy", "'<U3'"},
                                    {"float16.npy", "'<f2'"}}) {
    const std::string path = numpy_fixture(file);
    std::string want = "read_npy: '";
    want += path;
    want += "': dtype ";
    want += descr;
    want +=
        " is not supported (tapeflow reads bool, int8 to int64, uint8 to uint64, float32 and "
        "float64)";
    CHECK(npy_read_error(path) == want);
  }
  CHECK(contains(npy_read_error(numpy_fixture("structured.npy")),
                 "': a structured dtype (a list of fields) is not supported"));
  CHECK(contains(bytes_error(npy_bytes("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }",
                                       std::string(8, '\0'))),
                 "dtype '|O' is not supported"));
}

TEST_CASE("npy: a file truncated at any length is a FileError naming the file") {
  const std::string whole = read_bytes(numpy_fixture("f4.npy"));
  REQUIRE(whole.size() == 152);
  const std::string path = temp_path("truncated.npy");
  std::string prefix = "read_npy: '";
  prefix += path;
  prefix += "': ";
  for (std::size_t n = 0; n < whole.size(); ++n) {
    CAPTURE(n);
    write_bytes(path, whole.substr(0, n));
    const std::string msg = npy_read_error(path);
    CHECK(msg.rfind(prefix, 0) == 0);
    CHECK(msg.find(prefix, 1) == std::string::npos);  // the prefix once
    if (n == 0) CHECK(msg == prefix + "empty: no npy header");
    if (n > 0 && n < 10)
      CHECK(msg == prefix + "truncated: " + std::to_string(n) + " bytes end inside the npy header");
    if (n >= 10 && n < 128) CHECK(contains(msg, "truncated: the header claims 118 bytes but only"));
    if (n >= 128)
      CHECK(msg == prefix +
                       "truncated: the header claims shape (2, 3) of float32 (24 bytes) but "
                       "only " +
                       std::to_string(n - 128) + " bytes follow it");
  }
  write_bytes(path, whole + "xy");
  CHECK(npy_read_error(path) == prefix +
                                    "the header claims shape (2, 3) of float32 (24 bytes) but 26 "
                                    "bytes follow it (2 too many)");
}

TEST_CASE("npy: wrong magic, version or header is a FileError saying what is wrong") {
  const std::string ok_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  const std::string data(8, '\0');
  CHECK(contains(bytes_error("PK\3\4 a zip, not an npy file"),
                 "': not an npy file (it does not start with \\x93NUMPY)"));
  std::string v4 = npy_bytes(ok_dict, data, 2);
  v4[6] = 4;
  CHECK(contains(bytes_error(v4),
                 "': npy format version 4.0 is not supported (1.0, 2.0 and 3.0 are)"));
  std::string v11 = npy_bytes(ok_dict, data);
  v11[7] = 1;
  CHECK(contains(bytes_error(v11), "npy format version 1.1 is not supported"));
  // A header length beyond the file, and one beyond any sane header (checked before the file's).
  std::string long_header = npy_bytes(ok_dict, data);
  long_header[8] = '\xff';
  long_header[9] = '\xff';
  CHECK(
      contains(bytes_error(long_header),
               "': truncated: the header claims 65535 bytes but only 126 follow its length field"));
  std::string huge_header = npy_bytes(ok_dict, data, 2);
  huge_header[11] = '\x7f';
  CHECK(contains(bytes_error(huge_header),
                 "': the header claims 2130706548 bytes, more than the 1048576 an npy header may "
                 "have here"));

  struct Case {
    std::string dict;
    const char* want;
  };
  const Case cases[] = {
      {"", "malformed header \"\": expected '{' at offset 0"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), ", "expected a quoted string"},
      {"{'descr': '<f4', 'fortran_order': False}", "no 'shape' key"},
      {"{'descr': '<f4', 'shape': (2,)}", "no 'fortran_order' key"},
      {"{'fortran_order': False, 'shape': (2,)}", "no 'descr' key"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}",
       "key 'descr' twice at offset 17"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", "unexpected key 'x'"},
      {"{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}", "neither True nor False"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2)}", "the shape (n) is not a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}", "expected a dimension"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (,)}", "expected a dimension"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': 2}", "expected '('"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2 3)}", "expected ')'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (9223372036854775808,)}",
       "a dimension larger than 2^63 - 1"},
      {"{'descr': <f4, 'fortran_order': False, 'shape': (2,)}", "expected a quoted string"},
      {"{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}", "dtype '<f4, ' is not supported"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x", "text after the closing '}'"},
      {"{'descr': 'a\\b', 'fortran_order': False, 'shape': (2,)}", "escape in a string"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", "expected '}'"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.dict);
    const std::string msg = bytes_error(npy_bytes(c.dict, data, 1, !c.dict.empty()));
    CHECK(contains(msg, "read_npy: '"));
    CHECK(contains(msg, c.want));
  }
  std::string rank65 = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (int i = 0; i < 65; ++i) rank65 += "1, ";
  rank65 += ")}";
  CHECK(contains(bytes_error(npy_bytes(rank65, data)), "more than 64 dimensions at offset"));
  // Shapes whose size overflows, or claims far more than the file holds: no allocation.
  CHECK(contains(bytes_error(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': "
                                       "(4294967296, 4294967296), }",
                                       data)),
                 "the header claims shape (4294967296, 4294967296) of float64 (more than 2^64 "
                 "bytes)"));
  CHECK(contains(bytes_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': "
                                       "(1000000, 1000), }",
                                       data)),
                 "': truncated: the header claims shape (1000000, 1000) of float32 (4000000000 "
                 "bytes) but only 8 bytes follow it"));
  // A zero dimension makes the array empty, but the others must still fit.
  CHECK(contains(bytes_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': "
                                       "(0, 9223372036854775807, 4), }",
                                       "")),
                 "more than 2^64 bytes"));
  write_bytes(
      temp_path("empty_dim.npy"),
      npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 1000000000000), }", ""));
  CHECK(S::read_npy(temp_path("empty_dim.npy")).shape() == Shape{0, 1000000000000});
}

TEST_CASE("npy: a missing file, a folder or a device is a FileError") {
  const std::string missing = temp_path("missing.npy");
  std::string want = "read_npy: '";
  want += missing;
  want += "': cannot open: No such file or directory";
  CHECK(npy_read_error(missing) == want);
  const std::string folder = temp_path("a_folder.npy");
  fs::create_directories(folder);
  CHECK(contains(npy_read_error(folder), "': not a regular file"));
  if (fs::exists("/dev/zero"))
    CHECK(npy_read_error("/dev/zero") == "read_npy: '/dev/zero': not a regular file");
}

TEST_CASE("npy: a failed write leaves the previous file, and says where") {
  const std::string path = temp_path("keep.npy");
  S::write_npy(path, xt::xarray<std::int16_t>{1, 2, 3});
  const std::string before = read_bytes(path);
  for (std::size_t after : {0ul, 10ul, 100ul}) {
    CAPTURE(after);
    S::detail::set_write_failure_after(after);
    const std::string msg = error_of<tapeflow::FileError>(
        [&] { S::write_npy(path, xt::xarray<double>::from_shape({100})); });
    S::detail::set_write_failure_after(std::nullopt);
    std::string want = "write_npy: '";
    want += path;
    want += "': cannot write '";
    CHECK(msg.rfind(want, 0) == 0);
    CHECK(contains(msg, "injected failure"));
    CHECK(read_bytes(path) == before);
  }
  CHECK(S::read_npy(path).as<std::int16_t>() == xt::xarray<std::int16_t>{1, 2, 3});
  CHECK(contains(
      error_of<tapeflow::FileError>([] { S::write_npy(temp_path("no/dir/x.npy"), Tensor()); }),
      "write_npy: '"));
}
