#include "tapeflow/framework/io/detail/bounded_archive.hpp"

#include <cctype>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

namespace tapeflow::serialization::detail {

namespace {

// The innermost PayloadScope of this thread (payloads are parsed on the caller's thread).
thread_local std::size_t t_payload_bound = 0;
thread_local const std::string* t_where = nullptr;

// Boost's XML reader checks an end tag with `name[parsed_length]`, reading past a tag literal
// when a crafted file has a longer tag. So every tag lives in a zero-padded buffer of
// kTagBuffer bytes, and XML payloads with a tag name of kMaxXmlTag or more characters are
// refused before parsing.
constexpr std::size_t kTagBuffer = 64;
constexpr std::size_t kMaxXmlTag = 48;

const std::string& current_where() {
  static const std::string fallback = "load";
  return t_where ? *t_where : fallback;
}

void check_xml_tags(const std::string& xml) {
  auto is_name_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
           c == ':';
  };
  for (std::size_t i = 0; i < xml.size(); ++i) {
    if (xml[i] != '<') continue;
    std::size_t j = i + 1;
    if (j < xml.size() && xml[j] == '/') ++j;
    std::size_t n = 0;
    while (j + n < xml.size() && is_name_char(xml[j + n])) ++n;
    if (n >= kMaxXmlTag)
      fail_corrupt_payload("an XML tag name is " + std::to_string(n) + " characters long");
  }
}

// What an empty archive of each kind starts with: Boost's signature and library version.
std::string signature_of(Archive archive) {
  std::ostringstream os;
  if (archive == Archive::binary) {
    { boost::archive::binary_oarchive ar(os); }
    return os.str().substr(0, 30);
  }
  { boost::archive::text_oarchive ar(os); }
  return os.str().substr(0, 25);
}

}  // namespace

PayloadScope::PayloadScope(std::size_t payload_bytes, std::string where)
    : where_(std::move(where)), previous_bound_(t_payload_bound), previous_where_(t_where) {
  t_payload_bound = payload_bytes;
  t_where = &where_;
}

PayloadScope::~PayloadScope() {
  t_payload_bound = previous_bound_;
  t_where = previous_where_;
}

std::size_t payload_bound() { return t_payload_bound; }

void fail_corrupt_payload(const std::string& what) {
  fail_file(current_where(), "corrupted file: " + what);
}

std::uint64_t checked_count(std::uint64_t n, const char* what) {
  if (n > t_payload_bound)
    fail_corrupt_payload(std::string(what) + " count " + std::to_string(n) +
                         " exceeds the payload size " + std::to_string(t_payload_bound));
  return n;
}

const char* tag(const char* name) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<char[]>> tags;
  std::lock_guard<std::mutex> lock(mutex);
  auto& buffer = tags[name];
  if (!buffer) {
    buffer.reset(new char[kTagBuffer]());
    std::strncpy(buffer.get(), name, kTagBuffer - 1);
  }
  return buffer.get();
}

void check_before_parsing(const std::string& payload, Archive archive) {
  if (archive == Archive::xml) {
    check_xml_tags(payload);
    return;
  }
  static const std::string binary_signature = signature_of(Archive::binary);
  static const std::string text_signature = signature_of(Archive::text);
  const std::string& signature = archive == Archive::text ? text_signature : binary_signature;
  if (payload.compare(0, signature.size(), signature) != 0)
    fail_corrupt_payload(std::string("the ") + archive_name(archive) +
                         " archive signature is wrong");
}

}  // namespace tapeflow::serialization::detail
