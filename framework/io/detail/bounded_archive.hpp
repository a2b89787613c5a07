#pragma once
/// Boost archives read with bounds, for the library's own file records (layers/saving.cpp).
/// Internal: it pulls in every Boost archive header, which the public headers stay free of.
///
/// A corrupt or crafted payload must not crash the reader or make it allocate wildly, and Boost
/// trusts its input. So:
/// - every count (string length, vector size) is checked against the payload size before
///   anything is allocated: each element takes at least one byte (`checked_count`);
/// - strings go through a count and characters in binary and text archives (Boost's own string
///   loader allocates the count first); booleans through an integer (Boost's binary bool loader
///   asserts on values other than 0 and 1);
/// - XML tag names are passed in zero-padded buffers and an XML payload with a tag name of 48
///   characters or more is refused (Boost compares end tags past the end of a short literal);
/// - the archive signature is compared before Boost reads it (it reads its length unchecked);
/// - the XML archives have no root header (Boost would read its closing tag in a destructor,
///   where a throw terminates the process).
/// Every problem is a `FileError("<where>: corrupted file: ...")`.
///
/// Example (a record type with split save/load members):
/// ```
/// namespace D = tapeflow::serialization::detail;
/// struct Note {
///   std::string text;
///   std::vector<float> values;
///   template <class Ar> void save(Ar& ar, unsigned) const {
///     D::save_string(ar, "text", text);
///     D::save_vector(ar, "v", values);
///   }
///   template <class Ar> void load(Ar& ar, unsigned) {
///     D::load_string(ar, "text", text);
///     D::load_vector(ar, "v", values);
///   }
///   BOOST_SERIALIZATION_SPLIT_MEMBER()
/// };
/// std::string payload = D::write_payload(note, Archive::xml);
/// Note back;
/// D::read_payload(payload, Archive::xml, back, "load: 'note.xml'");
/// ```
#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/archive/text_iarchive.hpp>
#include <boost/archive/text_oarchive.hpp>
#include <boost/archive/xml_iarchive.hpp>
#include <boost/archive/xml_oarchive.hpp>
#include <boost/serialization/nvp.hpp>
#include <boost/serialization/split_member.hpp>
#include <boost/serialization/string.hpp>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/io/archive_kind.hpp"

namespace tapeflow::serialization::detail {

/// While alive, the field loaders below on this thread accept counts up to `payload_bytes` and
/// start their errors with `where` (the operation and file, e.g. "load: 'm.bin'"). Outside any
/// scope the bound is 0 (every count is refused) and errors start with "load". Scopes nest;
/// `read_payload` opens one.
/// Example: `PayloadScope scope(payload.size(), "load: 'm.bin'");`
class PayloadScope {
 public:
  PayloadScope(std::size_t payload_bytes, std::string where);
  ~PayloadScope();
  PayloadScope(const PayloadScope&) = delete;
  PayloadScope& operator=(const PayloadScope&) = delete;

 private:
  std::string where_;
  std::size_t previous_bound_;
  const std::string* previous_where_;
};

/// The innermost scope's payload size: the largest count a loader accepts (records use it to
/// bound products of counts, e.g. the elements of a shape).
/// Example: `if (size > payload_bound() / d) fail_corrupt_payload("impossible shape");`
std::size_t payload_bound();

/// Throws `FileError("<where>: corrupted file: <what>")`, `where` from the innermost scope.
/// Example: `fail_corrupt_payload("weight 'kernel' has an impossible shape");`
[[noreturn]] void fail_corrupt_payload(const std::string& what);

/// `n`, or a `FileError` when it exceeds `payload_bound()`; `what` names the field.
/// Example: `std::uint64_t n = checked_count(read_n, "dim");`
std::uint64_t checked_count(std::uint64_t n, const char* what);

/// The XML tag `name` in a zero-padded buffer that lives as long as the program (see the file
/// comment); the name for every `make_nvp`.
/// Example: `ar << boost::serialization::make_nvp(tag("model"), model);`
const char* tag(const char* name);

/// The checks `read_payload` makes before Boost sees a payload: the archive signature (binary
/// and text) and the XML tag lengths (xml). `FileError` when one fails.
/// Example: `check_before_parsing(payload, Archive::text);`
void check_before_parsing(const std::string& payload, Archive archive);

/// True for Boost's XML archives, which name every field and have no count before a string.
template <class Ar>
inline constexpr bool is_xml_archive_v = std::is_same_v<Ar, boost::archive::xml_iarchive> ||
                                         std::is_same_v<Ar, boost::archive::xml_oarchive>;

/// A string as a count and characters (binary, text), so that a corrupt count is caught before
/// any allocation; XML has no count field and uses Boost's own string.
/// Example: `save_string(ar, "name", name); ... load_string(ar, "name", name);`
template <class Ar>
void save_string(Ar& ar, const char* tag_name, const std::string& s) {
  if constexpr (is_xml_archive_v<Ar>) {
    ar << boost::serialization::make_nvp(tag(tag_name), s);
  } else {
    std::uint64_t n = s.size();
    ar << n;
    for (char c : s) ar << c;
  }
}
template <class Ar>
void load_string(Ar& ar, const char* tag_name, std::string& s) {
  if constexpr (is_xml_archive_v<Ar>) {
    ar >> boost::serialization::make_nvp(tag(tag_name), s);
  } else {
    std::uint64_t n = 0;
    ar >> n;
    checked_count(n, tag_name);
    s.clear();
    for (std::uint64_t i = 0; i < n; ++i) {
      char c = 0;
      ar >> c;
      s.push_back(c);
    }
  }
}

/// A boolean as an unsigned 0 or 1; any other value loads as a `FileError`.
/// Example: `save_bool(ar, "built", built); ... load_bool(ar, "built", built);`
template <class Ar>
void save_bool(Ar& ar, const char* tag_name, bool b) {
  unsigned v = b ? 1 : 0;
  ar << boost::serialization::make_nvp(tag(tag_name), v);
}
template <class Ar>
void load_bool(Ar& ar, const char* tag_name, bool& b) {
  unsigned v = 0;
  ar >> boost::serialization::make_nvp(tag(tag_name), v);
  if (v > 1) fail_corrupt_payload(std::string("flag '") + tag_name + "' is " + std::to_string(v));
  b = v == 1;
}

/// A vector as a "count" field, then each element tagged `tag_name` (elements may be records).
/// Example: `save_vector(ar, "dim", shape); ... load_vector(ar, "dim", shape);`
template <class Ar, class T>
void save_vector(Ar& ar, const char* tag_name, const std::vector<T>& v) {
  std::uint64_t n = v.size();
  ar << boost::serialization::make_nvp(tag("count"), n);
  for (const T& x : v) ar << boost::serialization::make_nvp(tag(tag_name), x);
}
template <class Ar, class T>
void load_vector(Ar& ar, const char* tag_name, std::vector<T>& v) {
  std::uint64_t n = 0;
  ar >> boost::serialization::make_nvp(tag("count"), n);
  checked_count(n, tag_name);
  v.clear();
  for (std::uint64_t i = 0; i < n; ++i) {
    T x{};
    ar >> boost::serialization::make_nvp(tag(tag_name), x);
    v.push_back(std::move(x));
  }
}

/// The root element's tag in every payload.
inline constexpr const char* kPayloadRoot = "rec";

/// `record` as a payload of kind `archive` (not `automatic`).
/// Example: `std::string payload = write_payload(record, Archive::binary);`
template <class Record>
std::string write_payload(const Record& record, Archive archive) {
  std::ostringstream os;
  {  // the archive flushes when it is destroyed: before os.str()
    if (archive == Archive::text) {
      boost::archive::text_oarchive ar(os);
      ar << boost::serialization::make_nvp(tag(kPayloadRoot), record);
    } else if (archive == Archive::xml) {
      boost::archive::xml_oarchive ar(os, boost::archive::no_header);
      ar << boost::serialization::make_nvp(tag(kPayloadRoot), record);
    } else {
      boost::archive::binary_oarchive ar(os);
      ar << boost::serialization::make_nvp(tag(kPayloadRoot), record);
    }
  }
  return os.str();
}

/// Parses `payload`, of kind `archive`, into `record` under a `PayloadScope(payload.size(),
/// where)`. Anything wrong, including an exception of Boost's or the standard library's, is a
/// `FileError("<where>: corrupted file: ...")`; a tapeflow `Error` from a record passes as is.
/// Example: `read_payload(image.substr(header.payload_offset), header.archive, rec, where);`
template <class Record>
void read_payload(const std::string& payload, Archive archive, Record& record,
                  const std::string& where) {
  PayloadScope scope(payload.size(), where);
  check_before_parsing(payload, archive);
  std::istringstream is(payload);
  try {
    if (archive == Archive::text) {
      boost::archive::text_iarchive ar(is);
      ar >> boost::serialization::make_nvp(tag(kPayloadRoot), record);
    } else if (archive == Archive::xml) {
      boost::archive::xml_iarchive ar(is, boost::archive::no_header);
      ar >> boost::serialization::make_nvp(tag(kPayloadRoot), record);
    } else {
      boost::archive::binary_iarchive ar(is);
      ar >> boost::serialization::make_nvp(tag(kPayloadRoot), record);
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    fail_corrupt_payload(std::string("cannot read the ") + archive_name(archive) +
                         " archive: " + e.what());
  }
}

}  // namespace tapeflow::serialization::detail
