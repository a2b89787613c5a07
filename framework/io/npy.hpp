#pragma once
/// NumPy's `.npy` files, read and written: one array with its dtype and shape, as `np.save`
/// writes it and `np.load` reads it (format versions 1.0, 2.0 and 3.0).
///
/// Reading takes bool, int8 to int64, uint8 to uint64, float32 and float64, in C or Fortran
/// order and little (`<`), big (`>`) or no (`|`) byte order; the values come back in C order and
/// the machine's byte order. Any other dtype (complex, float16, strings, objects, structured) is
/// a `FileError` naming it. Every length in the file is checked against the file's size before
/// anything is allocated: a truncated, corrupted or foreign file is a `FileError` naming the
/// file and what is wrong, never a huge allocation or a crash.
///
/// Writing gives C order, the machine's byte order (little endian on x86 and ARM), version 1.0
/// (xtensor's `xt::dump_npy`), atomically (framework/io/atomic_file.hpp): a failed write leaves
/// the previous file.
///
/// Example:
/// ```
/// namespace S = tapeflow::serialization;
/// S::write_npy("x.npy", xt::xarray<std::int32_t>{{1, 2}, {3, 4}});
/// S::NpyArray a = S::read_npy("x.npy");  // a.dtype() == S::DType::int32, shape (2, 2)
/// xt::xarray<std::int64_t> wide = a.as<std::int64_t>();  // exact conversions only
/// tapeflow::Tensor t = S::load_npy("x.npy");            // float32, whatever the file's dtype
/// ```
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <xtensor/xarray.hpp>

#include "tapeflow/framework/core/tensor.hpp"

namespace tapeflow::serialization {

/// The dtypes tapeflow reads and writes, by NumPy's names (`bool_` is NumPy's `np.bool_`).
enum class DType {
  bool_,
  int8,
  int16,
  int32,
  int64,
  uint8,
  uint16,
  uint32,
  uint64,
  float32,
  float64
};

/// The C++ element types of the dtypes, one each: `bool`, `std::int8_t` ... `std::uint64_t`,
/// `float`, `double`.
template <class T>
concept NpyValue = std::same_as<T, bool> || std::same_as<T, std::int8_t> ||
    std::same_as<T, std::int16_t> || std::same_as<T, std::int32_t> ||
    std::same_as<T, std::int64_t> || std::same_as<T, std::uint8_t> ||
    std::same_as<T, std::uint16_t> || std::same_as<T, std::uint32_t> ||
    std::same_as<T, std::uint64_t> || std::same_as<T, float> || std::same_as<T, double>;

/// The dtype of element type `T`. Example: `dtype_of<float>() == DType::float32`
template <NpyValue T>
constexpr DType dtype_of() {
  if constexpr (std::same_as<T, bool>) return DType::bool_;
  if constexpr (std::same_as<T, std::int8_t>) return DType::int8;
  if constexpr (std::same_as<T, std::int16_t>) return DType::int16;
  if constexpr (std::same_as<T, std::int32_t>) return DType::int32;
  if constexpr (std::same_as<T, std::int64_t>) return DType::int64;
  if constexpr (std::same_as<T, std::uint8_t>) return DType::uint8;
  if constexpr (std::same_as<T, std::uint16_t>) return DType::uint16;
  if constexpr (std::same_as<T, std::uint32_t>) return DType::uint32;
  if constexpr (std::same_as<T, std::uint64_t>) return DType::uint64;
  if constexpr (std::same_as<T, float>) return DType::float32;
  if constexpr (std::same_as<T, double>) return DType::float64;
}

/// NumPy's name of `dtype`: "bool", "int8", ..., "float64".
/// Example: `std::string(dtype_name(DType::uint16)) == "uint16"`
const char* dtype_name(DType dtype);

/// An array read from (or to be written to) a `.npy` file or an `.npz` member: its dtype, its
/// shape and its values in C order. Converts from any `xt::xarray<T>` of a supported `T`, and
/// from a `Tensor` (float32), so either can be passed where an `NpyArray` is expected.
///
/// Getting the values out: `as<T>()` converts exactly or not at all (an int64 file read as
/// int32 works while every value fits; a float file read as an integer type only when every
/// value is a whole number in range; float64 as float32 only when every value is a float32);
/// `cast<T>()` rounds as NumPy's `astype` does (floats to the nearest float, floats to integers
/// towards zero, nonzero to true) but still refuses a value out of `T`'s range or a NaN for an
/// integer; `to_tensor()` is `cast<float>()` as a `Tensor`. A refused value is a `ValueError`
/// naming its index.
///
/// Example:
/// ```
/// NpyArray a = xt::xarray<double>{0.5, 2.0};
/// a.cast<float>();         // {0.5f, 2.f}
/// a.as<std::int32_t>();    // ValueError: element (0,) ... is 0.5, which int32 cannot hold exactly
/// a.cast<std::int32_t>();  // {0, 2}
/// ```
class NpyArray {
 public:
  /// An empty float32 array of shape (0,).
  NpyArray();
  /// The array of `values` (dtype from `T`).
  template <NpyValue T>
  NpyArray(xt::xarray<T> values) : values_(std::move(values)) {}
  /// A float32 array holding a copy of `tensor`.
  NpyArray(const Tensor& tensor);

  /// Example: `read_npy("x.npy").dtype() == DType::float64`
  DType dtype() const { return static_cast<DType>(values_.index()); }
  /// Example: `read_npy("x.npy").shape() == Shape{2, 3}`; a 0-d array's is `{}`.
  Shape shape() const;
  /// The number of elements (1 for a 0-d array). Example: `a.size() == 6`
  std::size_t size() const;

  /// The values as `T`, every one converted exactly, else a `ValueError` (see the class).
  /// Example: `xt::xarray<double> d = read_npy("f4.npy").as<double>();`
  template <NpyValue T>
  xt::xarray<T> as() const;
  /// The values as `T`, rounded where `T` has no exact value (see the class).
  /// Example: `xt::xarray<std::int32_t> i = a.cast<std::int32_t>();`
  template <NpyValue T>
  xt::xarray<T> cast() const;
  /// `cast<float>()` as a `Tensor`. Example: `Tensor t = read_npy("x.npy").to_tensor();`
  Tensor to_tensor() const;

 private:
  // Alternatives in the order of DType, so that values_.index() is the dtype.
  std::variant<xt::xarray<bool>, xt::xarray<std::int8_t>, xt::xarray<std::int16_t>,
               xt::xarray<std::int32_t>, xt::xarray<std::int64_t>, xt::xarray<std::uint8_t>,
               xt::xarray<std::uint16_t>, xt::xarray<std::uint32_t>, xt::xarray<std::uint64_t>,
               xt::xarray<float>, xt::xarray<double>>
      values_;

  friend std::string npy_image(const NpyArray& array);
};

/// The array of the `.npy` file `path`. Throws `FileError("read_npy: '<path>': ...")` when the
/// file is missing, not a regular file, not an npy file, of an unsupported version or dtype,
/// or when its header is malformed or its data shorter or longer than the header's shape needs.
/// Example: `NpyArray a = read_npy("volume.npy");`
NpyArray read_npy(const std::string& path);

/// `read_npy(path).to_tensor()`: the file's values as float32, in C order.
/// Example: `Tensor x = load_npy("x.npy");`
Tensor load_npy(const std::string& path);

/// Writes `array` to `path` as an `.npy` file that `np.load` reads back with the same dtype,
/// shape and values. Atomic; a failure is a `FileError("write_npy: '<path>': ...")` and leaves
/// the previous file.
/// Example: `write_npy("labels.npy", xt::xarray<std::uint8_t>{0, 1, 1});`
template <NpyValue T>
void write_npy(const std::string& path, const xt::xarray<T>& array);
/// `tensor` as float32. Example: `write_npy("x.npy", Tensor(xt::ones<float>({2, 3})));`
void write_npy(const std::string& path, const Tensor& tensor);
/// Example: `write_npy("a.npy", read_npy("b.npy"));`
void write_npy(const std::string& path, const NpyArray& array);

/// The bytes of the `.npy` file `write_npy` writes for `array` (what `.npz` members hold).
/// Example: `std::string bytes = npy_image(NpyArray(xt::xarray<float>{1.f}));`
std::string npy_image(const NpyArray& array);

namespace detail {
/// Reads one npy image of `total_bytes` bytes (a file, or an `.npz` member's uncompressed
/// size) through `read(buffer, n)`, which returns how many bytes it put into `buffer` (up to
/// `n`; 0 at the end) or throws. The header is checked against `total_bytes` before the data is
/// allocated, and the reading goes on to the end (one more read must return 0). Problems are
/// `FileError("<where>: ...")`.
/// Example: `read_npy_stream(size, [&](char* p, std::size_t n) { return fread(p, 1, n, f); }, w)`
NpyArray read_npy_stream(std::uint64_t total_bytes,
                         const std::function<std::size_t(char*, std::size_t)>& read,
                         const std::string& where);
}  // namespace detail

}  // namespace tapeflow::serialization
