#include "tapeflow/framework/io/npy.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <sstream>
#include <string_view>
#include <type_traits>
#include <utility>
#include <xtensor/xnpy.hpp>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/io/atomic_file.hpp"
#include "tapeflow/framework/io/detail/file_descriptor.hpp"

namespace tapeflow::serialization {

using detail::FileDescriptor;

namespace {

// Reading does not go through xtensor's xt::load_npy: on a corrupt file its parser indexes an
// empty header, reads shape numbers with unchecked overflow (and "-1" as 2^64-1), allocates
// whatever the shape claims before reading, takes a short read as success, needs the header keys
// in one order, knows neither format version 3.0 nor byte swapping, and returns a type chosen at
// compile time. So the header is parsed here, every number checked against the bytes the file
// has before anything is allocated; writing, where xt::dump_npy is sound, uses xtensor.

constexpr char kNpyMagic[] = "\x93NUMPY";
constexpr std::size_t kNpyMagicSize = 6;
// NumPy itself refuses headers over 10000 bytes unless told otherwise; no header of a dtype read
// here comes near either limit.
constexpr std::uint64_t kMaxHeaderBytes = std::uint64_t(1) << 20;
constexpr std::size_t kMaxNpyRank = 64;  // NPY_MAXDIMS of NumPy 2

static_assert(std::numeric_limits<long double>::digits >= 64,
              "exact integer/float comparisons below need a 64-bit mantissa");

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::bool_:
    case DType::int8:
    case DType::uint8:
      return 1;
    case DType::int16:
    case DType::uint16:
      return 2;
    case DType::int32:
    case DType::uint32:
    case DType::float32:
      return 4;
    case DType::int64:
    case DType::uint64:
    case DType::float64:
      return 8;
  }
  return 0;
}

// `s` with anything unprintable escaped, cut at 80 characters: header text for a message.
std::string excerpt(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 80)) {
    if (c >= 0x20 && c < 0x7f) {
      out += c;
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned char>(c));
      out += hex;
    }
  }
  if (s.size() > 80) out += "...";
  return out;
}

[[noreturn]] void unsupported_dtype(const std::string& where, const std::string& descr) {
  fail_file(where, "dtype " + descr +
                       " is not supported (tapeflow reads bool, int8 to int64, uint8 to uint64, "
                       "float32 and float64)");
}

struct NpyHeader {
  DType dtype = DType::float32;
  bool swap_bytes = false;  // the file's byte order is not the machine's
  bool fortran_order = false;
  Shape shape;
};

// The header dictionary, a Python literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// followed by spaces and a newline. Keys in any order, each exactly once, as NumPy requires.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& where) : text_(text), where_(where) {}

  NpyHeader parse() {
    NpyHeader h;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    skip_space();
    expect('{');
    skip_space();
    while (!eat('}')) {
      const std::size_t key_at = pos_;
      const std::string key = string_literal();
      skip_space();
      expect(':');
      skip_space();
      bool* seen = key == "descr"           ? &seen_descr
                   : key == "fortran_order" ? &seen_order
                   : key == "shape"         ? &seen_shape
                                            : nullptr;
      if (!seen) bad_at(key_at, "unexpected key '" + excerpt(key) + "'");
      if (*seen) bad_at(key_at, "key '" + key + "' twice");
      *seen = true;
      if (key == "descr") descr(h);
      if (key == "fortran_order") h.fortran_order = boolean();
      if (key == "shape") h.shape = shape();
      skip_space();
      if (!eat(',')) {
        expect('}');
        break;
      }
      skip_space();
    }
    skip_space();
    if (pos_ != text_.size()) bad("text after the closing '}'");
    if (!seen_descr) bad("no 'descr' key");
    if (!seen_order) bad("no 'fortran_order' key");
    if (!seen_shape) bad("no 'shape' key");
    return h;
  }

 private:
  [[noreturn]] void bad_at(std::size_t at, const std::string& what) const {
    fail_file(where_, "malformed header \"" + excerpt(text_) + "\": " + what + " at offset " +
                          std::to_string(at));
  }
  [[noreturn]] void bad(const std::string& what) const { bad_at(pos_, what); }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  bool eat(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!eat(c)) bad(std::string("expected '") + c + "'");
  }
  bool starts_with(std::string_view word) const { return text_.substr(pos_, word.size()) == word; }

  // A quoted string without escapes (no key or dtype read here has any).
  std::string string_literal() {
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"'))
      bad("expected a quoted string");
    const char quote = text_[pos_++];
    const std::size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) bad("unterminated string");
    std::string s(text_.substr(pos_, end - pos_));
    if (s.find('\\') != std::string::npos) bad("escape in a string");
    pos_ = end + 1;
    return s;
  }

  bool boolean() {
    if (starts_with("True")) {
      pos_ += 4;
      return true;
    }
    if (starts_with("False")) {
      pos_ += 5;
      return false;
    }
    bad("fortran_order is neither True nor False");
  }

  void descr(NpyHeader& h) {
    if (pos_ < text_.size() && text_[pos_] == '[')
      fail_file(where_, "a structured dtype (a list of fields) is not supported");
    const std::string d = string_literal();
    std::string_view s = d;
    char order = '|';
    if (!s.empty() && (s[0] == '<' || s[0] == '>' || s[0] == '|' || s[0] == '=')) {
      order = s[0];
      s.remove_prefix(1);
    }
    static constexpr std::pair<std::string_view, DType> kTypes[] = {
        {"b1", DType::bool_},   {"i1", DType::int8},    {"i2", DType::int16},
        {"i4", DType::int32},   {"i8", DType::int64},   {"u1", DType::uint8},
        {"u2", DType::uint16},  {"u4", DType::uint32},  {"u8", DType::uint64},
        {"f4", DType::float32}, {"f8", DType::float64},
    };
    const auto* it = std::find_if(std::begin(kTypes), std::end(kTypes),
                                  [&](const auto& t) { return t.first == s; });
    if (it == std::end(kTypes)) unsupported_dtype(where_, "'" + excerpt(d) + "'");
    h.dtype = it->second;
    const bool little = std::endian::native == std::endian::little;
    h.swap_bytes =
        dtype_size(h.dtype) > 1 && ((order == '<' && !little) || (order == '>' && little));
  }

  // A tuple of non-negative integers: (), (3,), (2, 3) or (2, 3,); Python 2's 3L too.
  Shape shape() {
    Shape dims;
    expect('(');
    skip_space();
    bool trailing_comma = false;
    while (!eat(')')) {
      if (pos_ >= text_.size() || text_[pos_] < '0' || text_[pos_] > '9')
        bad("expected a dimension (a non-negative integer)");
      std::uint64_t d = 0;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
        const auto digit = static_cast<std::uint64_t>(text_[pos_++] - '0');
        if (d > (std::uint64_t(std::numeric_limits<std::int64_t>::max()) - digit) / 10)
          bad("a dimension larger than 2^63 - 1");
        d = d * 10 + digit;
      }
      if (!eat('L')) eat('l');  // Python 2's long integers
      if (dims.size() == kMaxNpyRank)
        bad("more than " + std::to_string(kMaxNpyRank) + " dimensions");
      dims.push_back(static_cast<std::size_t>(d));
      skip_space();
      trailing_comma = eat(',');
      skip_space();
      if (!trailing_comma) {
        expect(')');
        break;
      }
    }
    if (dims.size() == 1 && !trailing_comma) bad("the shape (n) is not a tuple; (n,) is");
    return dims;
  }

  std::string_view text_;
  const std::string& where_;
  std::size_t pos_ = 0;
};

// The bytes the data of `h` takes, or nothing when that overflows 64 bits. A zero dimension
// makes it 0, but the other dimensions must still multiply without overflow (they make the
// strides).
std::optional<std::uint64_t> data_bytes(const NpyHeader& h) {
  std::uint64_t n = dtype_size(h.dtype);
  bool empty = false;
  for (std::size_t d : h.shape) {
    if (d == 0) {
      empty = true;
      continue;
    }
    if (n > std::numeric_limits<std::uint64_t>::max() / d) return std::nullopt;
    n *= d;
  }
  return empty ? 0 : n;
}

void swap_each(unsigned char* p, std::size_t count, std::size_t size) {
  for (std::size_t i = 0; i < count; ++i, p += size) std::reverse(p, p + size);
}

using ReadExact = std::function<void(char*, std::size_t)>;

template <class T, xt::layout_type L>
xt::xarray<T> read_values_in(const NpyHeader& h, std::uint64_t bytes, const ReadExact& read_exact) {
  xt::xarray<T, L> values = xt::xarray<T, L>::from_shape(h.shape);
  if constexpr (std::is_same_v<T, bool>) {
    // Bytes other than 0 and 1 are true, as in NumPy; copying them into a bool would be undefined.
    std::vector<char> raw(static_cast<std::size_t>(bytes));
    read_exact(raw.data(), raw.size());
    std::transform(raw.begin(), raw.end(), values.data(), [](char c) { return c != 0; });
  } else {
    read_exact(reinterpret_cast<char*>(values.data()), static_cast<std::size_t>(bytes));
    if (h.swap_bytes)
      swap_each(reinterpret_cast<unsigned char*>(values.data()), values.size(), sizeof(T));
  }
  if constexpr (L == xt::layout_type::row_major)
    return values;
  else
    return xt::xarray<T>(values);
}

template <class T>
NpyArray read_values(const NpyHeader& h, std::uint64_t bytes, const ReadExact& read_exact) {
  if (h.fortran_order)
    return read_values_in<T, xt::layout_type::column_major>(h, bytes, read_exact);
  return read_values_in<T, xt::layout_type::row_major>(h, bytes, read_exact);
}

NpyArray read_data(const NpyHeader& h, std::uint64_t bytes, const ReadExact& read_exact) {
  switch (h.dtype) {
    case DType::bool_:
      return read_values<bool>(h, bytes, read_exact);
    case DType::int8:
      return read_values<std::int8_t>(h, bytes, read_exact);
    case DType::int16:
      return read_values<std::int16_t>(h, bytes, read_exact);
    case DType::int32:
      return read_values<std::int32_t>(h, bytes, read_exact);
    case DType::int64:
      return read_values<std::int64_t>(h, bytes, read_exact);
    case DType::uint8:
      return read_values<std::uint8_t>(h, bytes, read_exact);
    case DType::uint16:
      return read_values<std::uint16_t>(h, bytes, read_exact);
    case DType::uint32:
      return read_values<std::uint32_t>(h, bytes, read_exact);
    case DType::uint64:
      return read_values<std::uint64_t>(h, bytes, read_exact);
    case DType::float32:
      return read_values<float>(h, bytes, read_exact);
    case DType::float64:
      return read_values<double>(h, bytes, read_exact);
  }
  return {};
}

// Closes the descriptor however the read ends.
// Element conversions of as() (exact) and cast() (rounded): the value, or nothing when `To`
// cannot hold it (exactly, for as()).
template <class To, class From>
std::optional<To> convert(From v, bool exact) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (std::is_same_v<To, bool>) {
    if (!exact) return v != From(0);  // NaN is true, as in NumPy
    if (v == From(0)) return false;
    if (v == From(1)) return true;
    return std::nullopt;
  } else if constexpr (std::is_same_v<From, bool>) {
    return To(v ? 1 : 0);
  } else if constexpr (std::is_integral_v<From> && std::is_integral_v<To>) {
    if (!std::in_range<To>(v)) return std::nullopt;
    return static_cast<To>(v);
  } else if constexpr (std::is_integral_v<From>) {
    const To f = static_cast<To>(v);  // the nearest float
    if (exact && static_cast<long double>(f) != static_cast<long double>(v)) return std::nullopt;
    return f;
  } else if constexpr (std::is_integral_v<To>) {
    if (!std::isfinite(v)) return std::nullopt;
    const From t = std::trunc(v);
    if (exact && t != v) return std::nullopt;
    if (static_cast<long double>(t) < static_cast<long double>(std::numeric_limits<To>::min()) ||
        static_cast<long double>(t) > static_cast<long double>(std::numeric_limits<To>::max()))
      return std::nullopt;
    return static_cast<To>(t);
  } else if constexpr (sizeof(To) >= sizeof(From)) {
    return static_cast<To>(v);
  } else {
    if (std::isfinite(v) && std::abs(v) > std::numeric_limits<To>::max()) return std::nullopt;
    const To f = static_cast<To>(v);
    if (exact && !std::isnan(v) && static_cast<From>(f) != v) return std::nullopt;
    return f;
  }
}

template <class V>
std::string value_str(V v) {
  if constexpr (std::is_same_v<V, bool>) {
    return v ? "True" : "False";
  } else if constexpr (std::is_integral_v<V>) {
    return std::to_string(v);
  } else {
    std::ostringstream os;
    os.precision(std::numeric_limits<V>::max_digits10);
    os << v;
    return os.str();
  }
}

// "(1, 2)": the index of element `flat` (C order) in `shape`.
std::string index_str(std::size_t flat, const Shape& shape) {
  Shape index(shape.size());
  for (std::size_t k = shape.size(); k-- > 0;) {
    index[k] = flat % shape[k];
    flat /= shape[k];
  }
  return shape_str(index);
}

template <class To, class Values>
void convert_into(const Values& from, To* out, bool exact, const std::string& where) {
  using From = typename Values::value_type;
  const From* in = from.data();
  const std::size_t n = from.size();
  if constexpr (std::is_same_v<To, From>) {
    std::copy(in, in + n, out);
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      const std::optional<To> v = convert<To, From>(in[i], exact);
      if (!v) {
        const char* to = dtype_name(dtype_of<To>());
        std::string what =
            "element " + index_str(i, Shape(from.shape().begin(), from.shape().end()));
        what += " of the ";
        what += dtype_name(dtype_of<From>());
        what += " array is " + value_str(in[i]) + ", which " + to + " cannot hold";
        if (exact) {
          what += " exactly (cast<";
          what += to;
          what += ">() rounds)";
        }
        fail(where, what);
      }
      out[i] = *v;
    }
  }
}

}  // namespace

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::bool_:
      return "bool";
    case DType::int8:
      return "int8";
    case DType::int16:
      return "int16";
    case DType::int32:
      return "int32";
    case DType::int64:
      return "int64";
    case DType::uint8:
      return "uint8";
    case DType::uint16:
      return "uint16";
    case DType::uint32:
      return "uint32";
    case DType::uint64:
      return "uint64";
    case DType::float32:
      return "float32";
    case DType::float64:
      return "float64";
  }
  return "?";
}

NpyArray::NpyArray() : values_(xt::xarray<float>::from_shape({0})) {}

NpyArray::NpyArray(const Tensor& tensor) : values_(xt::xarray<float>(tensor)) {}

Shape NpyArray::shape() const {
  return std::visit([](const auto& v) { return Shape(v.shape().begin(), v.shape().end()); },
                    values_);
}

std::size_t NpyArray::size() const {
  return std::visit([](const auto& v) { return v.size(); }, values_);
}

template <NpyValue T>
xt::xarray<T> NpyArray::as() const {
  xt::xarray<T> out = xt::xarray<T>::from_shape(shape());
  const std::string where = std::string("NpyArray::as<") + dtype_name(dtype_of<T>()) + ">";
  std::visit([&](const auto& v) { convert_into(v, out.data(), true, where); }, values_);
  return out;
}

template <NpyValue T>
xt::xarray<T> NpyArray::cast() const {
  xt::xarray<T> out = xt::xarray<T>::from_shape(shape());
  const std::string where = std::string("NpyArray::cast<") + dtype_name(dtype_of<T>()) + ">";
  std::visit([&](const auto& v) { convert_into(v, out.data(), false, where); }, values_);
  return out;
}

Tensor NpyArray::to_tensor() const {
  Tensor out = Tensor::from_shape(shape());
  std::visit([&](const auto& v) { convert_into(v, out.data(), false, "NpyArray::to_tensor"); },
             values_);
  return out;
}

namespace detail {

NpyArray read_npy_stream(std::uint64_t total_bytes,
                         const std::function<std::size_t(char*, std::size_t)>& read,
                         const std::string& where) {
  std::uint64_t done = 0;  // bytes read so far
  const ReadExact read_exact = [&](char* p, std::size_t n) {
    for (std::size_t got = 0; got < n;) {
      const std::size_t r = read(p + got, n - got);
      if (r == 0)
        fail_file(where, "truncated: the data ended after " + std::to_string(done) + " of " +
                             std::to_string(total_bytes) + " bytes");
      got += r;
      done += r;
    }
  };

  // Magic, version, header length: 10 bytes in version 1.0, 12 in 2.0 and 3.0.
  if (total_bytes == 0) fail_file(where, "empty: no npy header");
  char prelude[12] = {};
  const std::size_t have = static_cast<std::size_t>(std::min<std::uint64_t>(total_bytes, 12));
  read_exact(prelude, have);
  if (std::memcmp(prelude, kNpyMagic, std::min(have, kNpyMagicSize)) != 0)
    fail_file(where, "not an npy file (it does not start with \\x93NUMPY)");
  const auto truncated_header = [&] {
    fail_file(where,
              "truncated: " + std::to_string(total_bytes) + " bytes end inside the npy header");
  };
  if (have < kNpyMagicSize + 2) truncated_header();
  const int major = static_cast<unsigned char>(prelude[6]);
  const int minor = static_cast<unsigned char>(prelude[7]);
  if (minor != 0 || major < 1 || major > 3)
    fail_file(where, "npy format version " + std::to_string(major) + "." + std::to_string(minor) +
                         " is not supported (1.0, 2.0 and 3.0 are)");
  const std::size_t prefix = major == 1 ? 10 : 12;
  if (have < prefix) truncated_header();
  std::uint64_t header_len = 0;
  for (std::size_t i = prefix; i-- > 8;)
    header_len = header_len << 8 | static_cast<unsigned char>(prelude[i]);
  if (header_len > kMaxHeaderBytes)
    fail_file(where, "the header claims " + std::to_string(header_len) + " bytes, more than the " +
                         std::to_string(kMaxHeaderBytes) + " an npy header may have here");
  const std::uint64_t data_offset = prefix + header_len;
  if (data_offset > total_bytes)
    fail_file(where, "truncated: the header claims " + std::to_string(header_len) +
                         " bytes but only " + std::to_string(total_bytes - prefix) +
                         " follow its length field");

  std::string text(static_cast<std::size_t>(header_len), '\0');
  const std::size_t in_prelude = std::min(text.size(), have - prefix);
  std::memcpy(text.data(), prelude + prefix, in_prelude);
  read_exact(text.data() + in_prelude, text.size() - in_prelude);
  const NpyHeader h = HeaderParser(text, where).parse();

  const std::optional<std::uint64_t> bytes = data_bytes(h);
  const std::string claim =
      "the header claims shape " + shape_str(h.shape) + " of " + dtype_name(h.dtype) + " (";
  if (!bytes) fail_file(where, claim + "more than 2^64 bytes)");
  const std::uint64_t follow = total_bytes - data_offset;
  if (*bytes > follow)
    fail_file(where, "truncated: " + claim + std::to_string(*bytes) + " bytes) but only " +
                         std::to_string(follow) + " bytes follow it");
  if (*bytes < follow)
    fail_file(where, claim + std::to_string(*bytes) + " bytes) but " + std::to_string(follow) +
                         " bytes follow it (" + std::to_string(follow - *bytes) + " too many)");

  NpyArray array = read_data(h, *bytes, read_exact);
  char extra;
  if (read(&extra, 1) != 0)
    fail_file(where,
              "the data goes on past the " + std::to_string(total_bytes) + " bytes its size says");
  return array;
}

}  // namespace detail

NpyArray read_npy(const std::string& path) {
  const std::string where = "read_npy: '" + path + "'";
  FileDescriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) fail_file(where, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(file.fd, &st) != 0)
    fail_file(where, std::string("cannot stat: ") + std::strerror(errno));
  // The file's size bounds every allocation; devices and pipes have none.
  if (!S_ISREG(st.st_mode)) fail_file(where, "not a regular file");
  return detail::read_npy_stream(
      static_cast<std::uint64_t>(st.st_size),
      [&](char* p, std::size_t n) -> std::size_t {
        for (;;) {
          const ssize_t r = ::read(file.fd, p, n);
          if (r >= 0) return static_cast<std::size_t>(r);
          if (errno != EINTR) fail_file(where, std::string("cannot read: ") + std::strerror(errno));
        }
      },
      where);
}

Tensor load_npy(const std::string& path) { return read_npy(path).to_tensor(); }

std::string npy_image(const NpyArray& array) {
  return std::visit([](const auto& v) { return xt::dump_npy(v); }, array.values_);
}

template <NpyValue T>
void write_npy(const std::string& path, const xt::xarray<T>& array) {
  write_file_atomically(path, xt::dump_npy(array), "write_npy: '" + path + "'");
}

void write_npy(const std::string& path, const Tensor& tensor) {
  write_file_atomically(path, xt::dump_npy(tensor), "write_npy: '" + path + "'");
}

void write_npy(const std::string& path, const NpyArray& array) {
  write_file_atomically(path, npy_image(array), "write_npy: '" + path + "'");
}

#define TAPEFLOW_NPY_INSTANTIATE(T)                 \
  template xt::xarray<T> NpyArray::as<T>() const;   \
  template xt::xarray<T> NpyArray::cast<T>() const; \
  template void write_npy<T>(const std::string&, const xt::xarray<T>&);
TAPEFLOW_NPY_INSTANTIATE(bool)
TAPEFLOW_NPY_INSTANTIATE(std::int8_t)
TAPEFLOW_NPY_INSTANTIATE(std::int16_t)
TAPEFLOW_NPY_INSTANTIATE(std::int32_t)
TAPEFLOW_NPY_INSTANTIATE(std::int64_t)
TAPEFLOW_NPY_INSTANTIATE(std::uint8_t)
TAPEFLOW_NPY_INSTANTIATE(std::uint16_t)
TAPEFLOW_NPY_INSTANTIATE(std::uint32_t)
TAPEFLOW_NPY_INSTANTIATE(std::uint64_t)
TAPEFLOW_NPY_INSTANTIATE(float)
TAPEFLOW_NPY_INSTANTIATE(double)
#undef TAPEFLOW_NPY_INSTANTIATE

}  // namespace tapeflow::serialization
