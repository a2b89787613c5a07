// NIfTI-1/-2 reading and writing (framework/io/nifti.hpp): round trips, the files nibabel wrote
// (tests/data/nifti, made by make_fixtures.py, with what nibabel read from them in
// expected.json), nibabel's conventions (axis order, affine choice, header fixes), and corrupt,
// truncated and foreign files, each a FileError naming the file once.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "framework/io/io_test_util.hpp"
#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/io/atomic_file.hpp"
#include "tapeflow/framework/io/nifti.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
namespace S = tapeflow::serialization;
using tapeflow::FileError;
using tapeflow::Shape;
using tapeflow::Tensor;
using tapeflow::ValueError;
using tapeflow::test::read_bytes;
using tapeflow::test::temp_path;
using tapeflow::test::temporary_files_in;
using tapeflow::test::write_bytes;

namespace {

const std::string kFixtures = std::string(TAPEFLOW_TEST_DATA_DIR) + "/nifti/";

// Field offsets of the two header layouts (nifti1.h, nifti2.h).
namespace n1 {
constexpr std::size_t dim = 40, datatype = 70, bitpix = 72, pixdim = 76, vox_offset = 108,
                      scl_slope = 112, scl_inter = 116, qform_code = 252, sform_code = 254,
                      magic = 344;
}
namespace n2 {
constexpr std::size_t magic = 4, datatype = 12, bitpix = 14, dim = 16, vox_offset = 168,
                      qform_code = 344, sform_code = 348;
}

template <class T>
void poke(std::string& bytes, std::size_t offset, T value) {
  REQUIRE(offset + sizeof value <= bytes.size());
  std::memcpy(bytes.data() + offset, &value, sizeof value);
}

template <class T>
T peek(const std::string& bytes, std::size_t offset) {
  T value;
  REQUIRE(offset + sizeof value <= bytes.size());
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

// "read_nifti: '<path>': " and the message, or a note when there was no FileError.
std::string nifti_read_error(const std::string& path, const S::NiftiReadOptions& options = {}) {
  try {
    S::read_nifti(path, options);
  } catch (const FileError& e) {
    return e.what();
  } catch (const std::exception& e) {
    std::string s = "(not a FileError: ";
    s += e.what();
    s += ")";
    return s;
  }
  return "(no error)";
}

std::string prefix(const std::string& path) {
  std::string s = "read_nifti: '";
  s += path;
  s += "': ";
  return s;
}

// Checks that reading `path` fails with a FileError that names the file once and says `what`.
void check_read_fails(const std::string& path, const std::string& what) {
  const std::string message = nifti_read_error(path);
  INFO(message);
  CHECK(message.rfind(prefix(path), 0) == 0);
  CHECK(message.find(prefix(path), 1) == std::string::npos);
  CHECK(message.find(what) != std::string::npos);
}

// `bytes` gzipped into `path`.
void write_gzip(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  if (!bytes.empty()) REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) > 0);
  REQUIRE(gzclose(f) == Z_OK);
}

// An affine with a rotation, zooms (2, 3, 4) and a translation.
S::Affine example_affine() {
  const double c = std::cos(0.3), s = std::sin(0.3);
  S::Affine a = S::identity_affine();
  a[0] = {2 * c, -3 * s, 0, -12.5};
  a[1] = {2 * s, 3 * c, 0, 30.25};
  a[2] = {0, 0, 4, -7};
  return a;
}

// Every entry within `tol` * (1 + its magnitude); `tol` 0: equal.
void check_affine(const S::Affine& got, const S::Affine& want, double tol) {
  for (std::size_t r = 0; r < 4; ++r)
    for (std::size_t c = 0; c < 4; ++c) {
      const double a = got[r][c], b = want[r][c];
      CHECK_MESSAGE(std::abs(a - b) <= tol * (1 + std::max(std::abs(a), std::abs(b))),
                    "affine[" << r << "][" << c << "]: got " << a << ", want " << b);
    }
}

// A valid little NIfTI file's bytes (uncompressed), to corrupt.
std::string valid_bytes(int version, const Shape& shape = {3, 4, 5}) {
  const std::string path = temp_path(version == 1 ? "valid1.nii" : "valid2.nii");
  S::write_nifti(path, tapeflow::test::random_tensor(shape, 3),
                 S::NiftiWriteOptions().version(version));
  return read_bytes(path);
}

// The bytes written to stderr while `f` runs (libnifti prints there unless silenced).
template <class F>
std::string stderr_of(F&& f) {
  const std::string path = temp_path("stderr.txt");
  std::fflush(stderr);
  const int saved = ::dup(2);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ::dup2(fd, 2);
  ::close(fd);
  f();
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  return read_bytes(path);
}

float json_number(const nlohmann::json& v) {
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s == "nan") return std::numeric_limits<float>::quiet_NaN();
    return s == "inf" ? std::numeric_limits<float>::infinity()
                      : -std::numeric_limits<float>::infinity();
  }
  return static_cast<float>(v.get<double>());
}

}  // namespace

TEST_CASE("nifti: round trips, NIfTI-1 and -2, .nii and .nii.gz, 3-D and 4-D") {
  // 37 along x: more than one tile of the reordering loop, and odd sizes on every axis.
  for (const Shape& shape : {Shape{37, 5, 3}, Shape{4, 3, 5, 2}, Shape{1, 1, 1}, Shape{6}}) {
    for (int version : {1, 2}) {
      for (const char* ext : {".nii", ".nii.gz"}) {
        std::string name = "round";
        name += std::to_string(version);
        name += ext;
        const std::string path = temp_path(name);
        INFO(path << " " << tapeflow::shape_str(shape));
        const Tensor data = tapeflow::test::random_tensor(shape, 7, -1000.f, 1000.f);
        const S::Affine affine = example_affine();
        std::vector<double> sizes = {2, 3, 4};
        if (shape.size() == 4) sizes.push_back(0.75);
        S::write_nifti(path, data,
                       S::NiftiWriteOptions().version(version).affine(affine).voxel_sizes(sizes));
        const std::string bytes = read_bytes(path);
        CHECK((bytes.substr(0, 2) == "\x1f\x8b") == (std::string(ext) == ".nii.gz"));
        const S::NiftiImage img = S::read_nifti(path);
        CHECK(img.version == version);
        CHECK(img.datatype == 16);
        CHECK(img.byte_swapped == false);
        CHECK(img.dims == std::vector<std::int64_t>(shape.begin(), shape.end()));
        CHECK(tapeflow::shape_of(img.data) == shape);
        CHECK(img.data == data);                         // float32 on disk: exact
        const double tol = version == 1 ? 1e-6 : 1e-12;  // NIfTI-1 stores float32
        check_affine(img.affine, affine, tol);
        check_affine(img.sform, affine, tol);
        check_affine(img.qform, affine, version == 1 ? 1e-5 : 1e-9);  // a rotation: qform exact
        CHECK(img.qform_code == 2);
        CHECK(img.sform_code == 2);
        REQUIRE(img.voxel_sizes.size() == shape.size());
        for (std::size_t i = 0; i < shape.size(); ++i)
          CHECK(img.voxel_sizes[i] == doctest::Approx(sizes.size() > i ? sizes[i] : 1.0));
        CHECK(img.xyz_units == 2);
        CHECK(img.time_units == 8);

        const S::NiftiImage header = S::read_nifti_header(path);
        CHECK(header.data.size() == 0);
        CHECK(header.dims == img.dims);
        check_affine(header.affine, img.affine, 0);
      }
    }
  }
}

TEST_CASE("nifti: writing a read image gives the same image back") {
  for (const char* name : {"qform_only.nii", "no_xform.nii", "nifti2_float64_4d.nii.gz",
                           "uint8_sform.nii", "int16_scaled_be.nii"}) {
    INFO(name);
    const S::NiftiImage a = S::read_nifti(kFixtures + name);
    const std::string path = temp_path(std::string("again_") + name);
    S::write_nifti(path, a);
    const S::NiftiImage b = S::read_nifti(path);
    CHECK(b.version == a.version);
    CHECK(b.dims == a.dims);
    CHECK(b.qform_code == a.qform_code);
    CHECK(b.sform_code == a.sform_code);
    check_affine(b.affine, a.affine, 1e-6);
    CHECK(b.voxel_sizes == a.voxel_sizes);
    CHECK(b.data == a.data);
    CHECK(b.datatype == 16);
  }
}

TEST_CASE("nifti: the voxels are stored x fastest, the tensor index is (x, y, z)") {
  // data(i, j, k) = 100 i + 10 j + k; in the file, voxel (i, j, k) is at i + nx (j + ny k).
  Tensor data = Tensor::from_shape({2, 3, 4});
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      for (std::size_t k = 0; k < 4; ++k) data(i, j, k) = static_cast<float>(100 * i + 10 * j + k);
  const std::string path = temp_path("order.nii");
  S::write_nifti(path, data);
  const std::string bytes = read_bytes(path);
  REQUIRE(bytes.size() == 352 + 24 * 4);
  CHECK(peek<std::int16_t>(bytes, n1::dim) == 3);
  CHECK(peek<std::int16_t>(bytes, n1::dim + 2) == 2);  // dim[1] = nx
  CHECK(peek<std::int16_t>(bytes, n1::dim + 6) == 4);  // dim[3] = nz
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      for (std::size_t k = 0; k < 4; ++k)
        CHECK(peek<float>(bytes, 352 + 4 * (i + 2 * (j + 3 * k))) == data(i, j, k));
}

TEST_CASE("nifti: the files nibabel wrote read as nibabel reads them") {
  std::ifstream in(kFixtures + "expected.json");
  REQUIRE(in);
  const nlohmann::json expected = nlohmann::json::parse(in);
  std::size_t count = 0;
  for (const nlohmann::json& e : expected.at("fixtures")) {
    const std::string path = kFixtures + e.at("file").get<std::string>();
    INFO(path);
    const S::NiftiImage img = S::read_nifti(path);
    CHECK(img.version == e.at("version").get<int>());
    CHECK(img.datatype == e.at("datatype").get<int>());
    const Shape shape = e.at("shape").get<Shape>();
    CHECK(tapeflow::shape_of(img.data) == shape);
    CHECK(img.dims == std::vector<std::int64_t>(shape.begin(), shape.end()));
    CHECK(img.qform_code == e.at("qform_code").get<int>());
    CHECK(img.sform_code == e.at("sform_code").get<int>());
    S::Affine affine{};
    for (std::size_t r = 0; r < 4; ++r)
      for (std::size_t c = 0; c < 4; ++c) affine[r][c] = e.at("affine")[r][c].get<double>();
    check_affine(img.affine, affine, 1e-6);
    CHECK(img.voxel_sizes == e.at("zooms").get<std::vector<double>>());
    // nibabel's applied scaling: (1, 0) when the header's slope means none.
    const bool scaled = img.scl_slope != 0 && std::isfinite(img.scl_slope);
    CHECK((scaled ? img.scl_slope : 1.0) == json_number(e.at("slope")));
    CHECK((scaled ? img.scl_inter : 0.0) == json_number(e.at("inter")));
    const auto& values = e.at("data");
    REQUIRE(values.size() == img.data.size());
    Tensor want = Tensor::from_shape(shape);
    for (std::size_t i = 0; i < values.size(); ++i) want.data()[i] = json_number(values[i]);
    tapeflow::test::check_close_nan(img.data, want);
    // Bit for bit: nibabel's float64 result cast to float32, as tapeflow computes it.
    for (std::size_t i = 0; i < values.size(); ++i)
      if (!std::isnan(want.data()[i])) CHECK(img.data.data()[i] == want.data()[i]);

    const S::NiftiImage header = S::read_nifti_header(path);
    CHECK(header.data.size() == 0);
    CHECK(header.dims == img.dims);
    CHECK(header.datatype == img.datatype);
    ++count;
  }
  CHECK(count == 15);
}

TEST_CASE("nifti: the nibabel fixtures cover what they should") {
  // Big-endian (2, 4 and 8 bytes), scaled int16, a qform-only and a transform-less file, two
  // NIfTI-2 files, a pair: each checked against expected.json above.
  CHECK(S::read_nifti(kFixtures + "int16_scaled_be.nii").byte_swapped);
  CHECK(S::read_nifti(kFixtures + "int64.nii.gz").byte_swapped);
  CHECK(S::read_nifti(kFixtures + "nifti2_qform_be.nii").byte_swapped);
  const S::NiftiImage scaled = S::read_nifti(kFixtures + "int16_scaled.nii.gz");
  CHECK(scaled.scl_slope != 1.0);
  CHECK(scaled.scl_inter != 0.0);
  // The pair reads through either of its names.
  const S::NiftiImage pair = S::read_nifti(kFixtures + "pair.hdr");
  CHECK(S::read_nifti(kFixtures + "pair.img").data == pair.data);
  // The NIfTI-2 file holds a qform different from its sform; the sform wins.
  const S::NiftiImage both = S::read_nifti(kFixtures + "nifti2_float64_4d.nii.gz");
  CHECK(both.qform[0][3] != both.sform[0][3]);
  check_affine(both.affine, both.sform, 0);
  // Without transforms: nibabel's x-flipped, centered fallback from the voxel sizes.
  const S::NiftiImage none = S::read_nifti(kFixtures + "no_xform.nii");
  CHECK(none.affine[0][0] == -1.5);
  CHECK(none.affine[0][3] == doctest::Approx(1.5));   // -(3 - 1) / 2 * -1.5
  CHECK(none.affine[1][3] == doctest::Approx(-1.0));  // -(2 - 1) / 2 * 2
}

TEST_CASE("nifti: header values nibabel fixes on loading") {
  std::string bytes = valid_bytes(1);
  poke<float>(bytes, n1::pixdim + 4, -2.f);  // pixdim[1] negative: its absolute value
  poke<float>(bytes, n1::pixdim + 8, 0.f);   // pixdim[2] zero: 1
  poke<float>(bytes, n1::pixdim + 12, 5.f);
  poke<float>(bytes, n1::pixdim, 0.f);  // qfac 0: 1
  poke<std::int16_t>(bytes, n1::qform_code, 0);
  poke<std::int16_t>(bytes, n1::sform_code, 9);  // invalid: 0
  const std::string path = temp_path("fixes.nii");
  write_bytes(path, bytes);
  const S::NiftiImage img = S::read_nifti(path);
  CHECK(img.voxel_sizes == std::vector<double>{2, 1, 5});
  CHECK(img.sform_code == 0);
  CHECK(img.qform_code == 0);
  S::Affine fallback = S::identity_affine();  // shape (3, 4, 5)
  fallback[0] = {-2, 0, 0, 2};
  fallback[1] = {0, 1, 0, -1.5};
  fallback[2] = {0, 0, 5, -10};
  check_affine(img.affine, fallback, 1e-12);

  // A qform with qfac -1 flips the third axis.
  poke<std::int16_t>(bytes, n1::qform_code, 1);
  poke<float>(bytes, n1::pixdim, -1.f);
  write_bytes(path, bytes);
  const S::NiftiImage q = S::read_nifti(path);
  CHECK(q.qform_code == 1);
  CHECK(q.affine[2][2] == doctest::Approx(-5.0));
}

TEST_CASE("nifti: scl_slope and scl_inter, applied as nibabel applies them") {
  Tensor data = Tensor::from_shape({2, 2, 1});
  for (std::size_t i = 0; i < 4; ++i) data.data()[i] = static_cast<float>(i) - 1.f;
  const std::string path = temp_path("scale.nii");
  S::write_nifti(path, data, S::NiftiWriteOptions().datatype(S::NiftiDatatype::int16));
  std::string bytes = read_bytes(path);
  const auto read_with = [&](float slope, float inter) {
    poke(bytes, n1::scl_slope, slope);
    poke(bytes, n1::scl_inter, inter);
    write_bytes(path, bytes);
    return S::read_nifti(path).data;
  };
  CHECK(read_with(2.f, 10.f) == data * 2.f + 10.f);
  CHECK(read_with(0.f, 10.f) == data);  // slope 0: no scaling
  CHECK(read_with(std::numeric_limits<float>::quiet_NaN(), 10.f) == data);
  CHECK(read_with(std::numeric_limits<float>::infinity(), 10.f) == data);
  CHECK(read_with(1.f, 0.f) == data);
  CHECK(read_with(0.5f, -0.25f) == data * 0.5f - 0.25f);
  poke(bytes, n1::scl_slope, 2.f);
  poke(bytes, n1::scl_inter, std::numeric_limits<float>::infinity());
  write_bytes(path, bytes);
  check_read_fails(path, "scl_inter is inf (not finite)");
}

TEST_CASE("nifti: writing other datatypes rounds to the nearest integer, in range") {
  Tensor data = Tensor::from_shape({5, 1, 1});
  const std::vector<float> values = {0.f, 1.4f, 2.5f, 254.6f, 255.f};
  std::copy(values.begin(), values.end(), data.begin());
  const std::string path = temp_path("types.nii.gz");
  S::write_nifti(path, data, S::NiftiWriteOptions().datatype(S::NiftiDatatype::uint8));
  const S::NiftiImage img = S::read_nifti(path);
  CHECK(img.datatype == 2);
  CHECK(img.data == tapeflow::test::T({5, 1, 1}, {0, 1, 2, 255, 255}));  // ties to even

  const Tensor ints = tapeflow::test::T({2, 2}, {-3, 0, 7, 100});
  for (S::NiftiDatatype t :
       {S::NiftiDatatype::int8, S::NiftiDatatype::int16, S::NiftiDatatype::int32,
        S::NiftiDatatype::int64, S::NiftiDatatype::float32, S::NiftiDatatype::float64}) {
    S::write_nifti(path, ints, S::NiftiWriteOptions().datatype(t).version(2));
    const S::NiftiImage back = S::read_nifti(path);
    CHECK(back.datatype == static_cast<int>(t));
    CHECK(back.data == ints);
  }
  const Tensor big = tapeflow::test::T({2}, {0.f, 4294967040.f});  // float32 just below 2^32
  S::write_nifti(path, big, S::NiftiWriteOptions().datatype(S::NiftiDatatype::uint32));
  CHECK(S::read_nifti(path).data == big);
  S::write_nifti(path, big, S::NiftiWriteOptions().datatype(S::NiftiDatatype::uint64));
  CHECK(S::read_nifti(path).data == big);

  // Out of range or NaN: a ValueError naming the voxel, and the file stays as it was.
  const std::string before = read_bytes(path);
  const auto write_error = [&](const Tensor& t, S::NiftiDatatype type) -> std::string {
    try {
      S::write_nifti(path, t, S::NiftiWriteOptions().datatype(type));
    } catch (const ValueError& e) {
      return e.what();
    }
    return "(no ValueError)";
  };
  std::string message = write_error(tapeflow::test::T({3}, {0, 1, 256}), S::NiftiDatatype::uint8);
  CHECK(message.find("write_nifti: '") == 0);
  CHECK(message.find("the value 256 at voxel (2,) does not fit the datatype UINT8 (2)") !=
        std::string::npos);
  message = write_error(tapeflow::test::T({2}, {-1, 0}), S::NiftiDatatype::uint16);
  CHECK(message.find("the value -1 at voxel (0,)") != std::string::npos);
  message = write_error(tapeflow::test::T({1}, {NAN}), S::NiftiDatatype::int32);
  CHECK(message.find("the value nan") != std::string::npos);
  message = write_error(tapeflow::test::T({1}, {9.3e18f}), S::NiftiDatatype::int64);
  CHECK(message.find("does not fit the datatype INT64") != std::string::npos);
  message = write_error(tapeflow::test::T({1}, {-129}), S::NiftiDatatype::int8);
  CHECK(message.find("does not fit the datatype INT8") != std::string::npos);
  CHECK(read_bytes(path) == before);
}

TEST_CASE("nifti: bad write arguments are ValueErrors, and write nothing") {
  const Tensor data = tapeflow::test::random_tensor({2, 2, 2});
  const std::string path = temp_path("bad_args.nii");
  fs::remove(path);
  const auto error = [&](const std::string& p, const Tensor& t, const S::NiftiWriteOptions& o) {
    try {
      S::write_nifti(p, t, o);
    } catch (const ValueError& e) {
      return std::string(e.what());
    } catch (const std::exception& e) {
      return std::string("(not a ValueError) ") + e.what();
    }
    return std::string("(no error)");
  };
  const S::NiftiWriteOptions ok;
  CHECK(error(temp_path("x.img"), data, ok).find("must end in .nii or .nii.gz") !=
        std::string::npos);
  CHECK(
      error(path, data, S::NiftiWriteOptions().version(3)).find("version must be 1 or 2, got 3") !=
      std::string::npos);
  CHECK(error(path, Tensor(3.f), ok).find("1 to 7 axes") != std::string::npos);
  CHECK(error(path, Tensor::from_shape({1, 1, 1, 1, 1, 1, 1, 1}), ok).find("1 to 7 axes") !=
        std::string::npos);
  CHECK(error(path, Tensor::from_shape({2, 0, 2}), ok).find("at least one voxel") !=
        std::string::npos);
  CHECK(error(path, Tensor::from_shape({32768}), ok).find("write version 2") != std::string::npos);
  CHECK(error(path, data, S::NiftiWriteOptions().sform_code(6)).find("sform_code must be 0 to 5") !=
        std::string::npos);
  CHECK(error(path, data, S::NiftiWriteOptions().voxel_sizes(std::vector<double>{1, 0, 1}))
            .find("finite and positive") != std::string::npos);
  S::Affine bad = S::identity_affine();
  bad[1][2] = NAN;
  CHECK(error(path, data, S::NiftiWriteOptions().affine(bad)).find("must be finite") !=
        std::string::npos);
  bad = S::identity_affine();
  bad[3][0] = 1;
  CHECK(error(path, data, S::NiftiWriteOptions().affine(bad)).find("last row") !=
        std::string::npos);
  CHECK(error(path, data, S::NiftiWriteOptions().descrip(std::string(80, 'd'))).find("descrip") !=
        std::string::npos);
  CHECK(error(path, data, S::NiftiWriteOptions().compression_level(10)).find("compression_level") !=
        std::string::npos);
  CHECK(!fs::exists(path));
  // Beyond NIfTI-1's 16-bit dims, NIfTI-2 works.
  S::write_nifti(temp_path("long.nii.gz"), Tensor::from_shape({40000}),
                 S::NiftiWriteOptions().version(2));
  CHECK(S::read_nifti(temp_path("long.nii.gz")).dims == std::vector<std::int64_t>{40000});
}

TEST_CASE("nifti: voxel sizes default to the affine's column lengths, the affine to them") {
  const Tensor data = tapeflow::test::random_tensor({2, 3, 4, 2});
  const std::string path = temp_path("sizes.nii");
  S::write_nifti(path, data, S::NiftiWriteOptions().affine(example_affine()));
  S::NiftiImage img = S::read_nifti(path);
  REQUIRE(img.voxel_sizes.size() == 4);
  CHECK(img.voxel_sizes[0] == doctest::Approx(2));
  CHECK(img.voxel_sizes[1] == doctest::Approx(3));
  CHECK(img.voxel_sizes[2] == doctest::Approx(4));
  CHECK(img.voxel_sizes[3] == 1);
  S::write_nifti(path, data, S::NiftiWriteOptions().voxel_sizes(std::vector<double>{1.5, 2.5}));
  img = S::read_nifti(path);
  CHECK(img.voxel_sizes == std::vector<double>{1.5, 2.5, 1, 1});
  S::Affine want = S::identity_affine();
  want[0][0] = 1.5;
  want[1][1] = 2.5;
  check_affine(img.affine, want, 0);
  // Codes 0: neither transform; the fallback from the voxel sizes.
  S::write_nifti(path, data, S::NiftiWriteOptions().qform_code(0).sform_code(0).descrip("hello"));
  img = S::read_nifti(path);
  CHECK(img.qform_code == 0);
  CHECK(img.sform_code == 0);
  CHECK(img.affine[0][0] == -1);
  CHECK(img.descrip == "hello");
}

TEST_CASE("nifti: a failed write leaves the previous file as it was") {
  const std::string path = temp_path("keep.nii.gz");
  S::write_nifti(path, tapeflow::test::random_tensor({4, 4, 4}, 1));
  const std::string before = read_bytes(path);
  S::detail::set_write_failure_after(100);
  std::string message;
  try {
    S::write_nifti(path, tapeflow::test::random_tensor({8, 8, 8}, 2));
  } catch (const FileError& e) {
    message = e.what();
  }
  S::detail::set_write_failure_after(std::nullopt);
  std::string want = "write_nifti: '";
  want += path;
  want += "': ";
  CHECK(message.rfind(want, 0) == 0);
  CHECK(message.find("injected failure") != std::string::npos);
  CHECK(read_bytes(path) == before);
  CHECK(temporary_files_in(tapeflow::test::temp_dir()) == 0);
  CHECK(tapeflow::shape_of(S::read_nifti(path).data) == Shape{4, 4, 4});
}

TEST_CASE("nifti: truncated files are FileErrors at every length") {
  for (int version : {1, 2}) {
    const std::string bytes = valid_bytes(version);
    const std::size_t header = version == 1 ? 348 : 540;
    const std::string path = temp_path("truncated.nii");
    for (std::size_t n :
         {std::size_t(0), std::size_t(3), std::size_t(4), std::size_t(100), header - 1, header,
          header + 3, header + 4, header + 5, bytes.size() - 1}) {
      INFO("version " << version << ", " << n << " of " << bytes.size() << " bytes");
      write_bytes(path, bytes.substr(0, n));
      check_read_fails(path, n < 4 ? "not a NIfTI file" : "truncated");
      if (n >= header) {  // the header alone reads; its size check sees the missing voxels
        std::string message;
        try {
          S::read_nifti_header(path);
        } catch (const FileError& e) {
          message = e.what();
        }
        CHECK(message.find("truncated") != std::string::npos);
      }
      // The same bytes gzipped: the stream ends before the voxels do.
      const std::string gz = temp_path("truncated.nii.gz");
      write_gzip(gz, bytes.substr(0, n));
      check_read_fails(gz, n < 4 ? "not a NIfTI file" : "truncated");
    }
    write_bytes(path, bytes);
    CHECK(S::read_nifti(path).data.size() == 60);
  }
}

TEST_CASE("nifti: a damaged or truncated gzip stream is a FileError") {
  const std::string path = temp_path("damaged.nii.gz");
  // Incompressible voxels, so the stream is long and a cut lands inside the voxels.
  S::write_nifti(path, tapeflow::test::random_tensor({16, 16, 16}, 5));
  const std::string gz = read_bytes(path);
  for (std::size_t n : {std::size_t(2), std::size_t(10), std::size_t(30), gz.size() / 2,
                        gz.size() - 8, gz.size() - 4, gz.size() - 1}) {
    INFO("cut at " << n << " of " << gz.size());
    write_bytes(path, gz.substr(0, n));
    const std::string message = nifti_read_error(path);
    INFO(message);
    CHECK(message.rfind(prefix(path), 0) == 0);
    CHECK((message.find("truncated") != std::string::npos ||
           message.find("corrupt gzip") != std::string::npos));
  }
  // A flipped bit inside the deflate data or the checksum.
  for (std::size_t at : {gz.size() / 2, gz.size() - 6}) {
    std::string bad = gz;
    bad[at] = static_cast<char>(bad[at] ^ 0x10);
    write_bytes(path, bad);
    const std::string message = nifti_read_error(path);
    INFO(message);
    CHECK(message.rfind(prefix(path), 0) == 0);
    CHECK(message.find("corrupt gzip") != std::string::npos);
  }
}

TEST_CASE("nifti: corrupt headers are FileErrors saying what is wrong") {
  const std::string path = temp_path("corrupt.nii");
  const std::string good1 = valid_bytes(1), good2 = valid_bytes(2);
  const auto check = [&](std::string bytes, const std::string& what) {
    write_bytes(path, bytes);
    check_read_fails(path, what);
  };
  std::string b = good1;
  b.replace(n1::magic, 4, std::string("n+3\0", 4));
  check(b, "the magic is 'n+3\\x00', not 'n+1' or 'ni1'");
  b.replace(n1::magic, 4, std::string(4, '\0'));
  check(b, "an ANALYZE 7.5 header");
  b = good2;
  b.replace(n2::magic, 4, std::string("n+1\0", 4));
  check(b, "not a NIfTI-2 file");
  b = good2;
  b[n2::magic + 5] = '\r';
  check(b, "end-of-line check");
  b = good1;
  poke<std::int32_t>(b, 0, 349);
  check(b, "sizeof_hdr) read 349, not 348 (NIfTI-1) or 540");
  check("just some text, not an image at all...", "not a NIfTI file");

  for (std::int16_t rank : {0, 8, -1}) {
    b = good1;
    poke<std::int16_t>(b, n1::dim, rank);
    std::string what = "dim[0] (the rank) is ";
    what += std::to_string(rank);
    what += ", not 1 to 7";
    check(b, what);
  }
  b = good1;
  poke<std::int16_t>(b, n1::dim + 4, -3);
  check(b, "dim[2] is -3 (negative)");
  // Huge dims: refused by the size they would take, before anything is allocated.
  b = good1;
  for (int i = 1; i <= 7; ++i) poke<std::int16_t>(b, n1::dim + 2 * i, 32767);
  poke<std::int16_t>(b, n1::dim, 7);
  check(b, "need more than the 8589934592 bytes a read accepts");
  b = good2;
  for (int i = 1; i <= 3; ++i) poke<std::int64_t>(b, n2::dim + 8 * i, std::int64_t(1) << 40);
  check(b, "need more than");
  b = good2;
  for (int i = 1; i <= 3; ++i)
    poke<std::int64_t>(b, n2::dim + 8 * i, std::numeric_limits<std::int64_t>::max());
  check(b, "need more than");
  // Within max_bytes, the file's size is checked before the voxels are read.
  b = good1;
  poke<std::int16_t>(b, n1::dim + 2, 3000);
  write_bytes(path, b);
  CHECK(
      nifti_read_error(path).find("the header promises 240000 bytes of voxels from offset 352, the "
                                  "file has 592 bytes") != std::string::npos);
  CHECK(nifti_read_error(path, S::NiftiReadOptions().max_bytes(1000))
            .find("need more than the 1000") != std::string::npos);

  b = good1;
  poke<std::int16_t>(b, n1::datatype, 32);
  poke<std::int16_t>(b, n1::bitpix, 64);
  check(b, "unsupported voxel type COMPLEX64 (32)");
  poke<std::int16_t>(b, n1::datatype, 128);
  poke<std::int16_t>(b, n1::bitpix, 24);
  check(b, "unsupported voxel type RGB24 (128)");
  poke<std::int16_t>(b, n1::datatype, 1);
  check(b, "unsupported voxel type BINARY (1)");
  poke<std::int16_t>(b, n1::datatype, 3);
  check(b, "unknown datatype code 3");
  b = good1;
  poke<std::int16_t>(b, n1::bitpix, 16);
  check(b, "bitpix is 16, but datatype FLOAT32 (16) has 32 bits");
  b = good2;
  poke<std::int16_t>(b, n2::datatype, 2048);
  poke<std::int16_t>(b, n2::bitpix, 256);
  check(b, "unsupported voxel type COMPLEX256 (2048)");

  for (float offset : {-16.f, std::numeric_limits<float>::quiet_NaN(),
                       std::numeric_limits<float>::infinity(), 1e30f}) {
    b = good1;
    poke<float>(b, n1::vox_offset, offset);
    check(b, "vox_offset is ");
  }
  b = good1;
  poke<float>(b, n1::vox_offset, 1e9f);
  check(b, "truncated: the header promises 240 bytes of voxels from offset 1000000000");
  b = good2;
  poke<std::int64_t>(b, n2::vox_offset, -544);
  check(b, "vox_offset is -544");
  // A single file's voxels never start inside the header (libnifti's rule): vox_offset 0 reads
  // from byte 348, the 4 extension bytes (0) first, then the voxels one place later.
  b = good1;
  poke<float>(b, n1::vox_offset, 0.f);
  write_bytes(path, b);
  const Tensor shifted = S::read_nifti(path).data;
  const Tensor original = tapeflow::test::random_tensor({3, 4, 5}, 3);  // as valid_bytes wrote
  CHECK(shifted(0, 0, 0) == 0.f);
  CHECK(shifted(1, 0, 0) == original(0, 0, 0));
  CHECK(shifted(0, 1, 0) == original(2, 0, 0));
}

TEST_CASE("nifti: missing, empty and foreign files, and libnifti stays quiet") {
  check_read_fails(temp_path("missing.nii"), "cannot open: No such file or directory");
  check_read_fails(tapeflow::test::temp_dir(), "it is a directory");
  const std::string empty = temp_path("empty.nii");
  write_bytes(empty, "");
  check_read_fails(empty, "not a NIfTI file");
  // A pair's header without its image.
  const std::string hdr = temp_path("lonely.hdr");
  write_bytes(hdr, read_bytes(kFixtures + "pair.hdr"));
  check_read_fails(hdr, "no image file (.img or .img.gz) lies beside it");
  write_bytes(temp_path("lonely.img"), read_bytes(kFixtures + "pair.img").substr(0, 20));
  const std::string message = nifti_read_error(hdr);
  std::string want = prefix(hdr);
  want += "image file '";
  want += temp_path("lonely.img");
  want += "': truncated: the header promises 32 bytes";
  CHECK_MESSAGE(message.rfind(want, 0) == 0, message);

  // Nothing on stderr while reading bad files or writing good ones.
  std::string bytes = valid_bytes(1);
  poke<std::int16_t>(bytes, n1::datatype, 32);
  poke<std::int16_t>(bytes, n1::bitpix, 64);
  const std::string bad = temp_path("noisy.nii");
  write_bytes(bad, bytes);
  const std::string printed = stderr_of([&] {
    nifti_read_error(bad);
    nifti_read_error(empty);
    nifti_read_error(hdr);
    S::write_nifti(temp_path("quiet.nii"), tapeflow::test::random_tensor({2, 2}),
                   S::NiftiWriteOptions().version(2));
  });
  CHECK(printed.empty());
}
