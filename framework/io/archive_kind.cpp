#include "tapeflow/framework/io/archive_kind.hpp"

namespace tapeflow::serialization {

Archive archive_for_path(const std::string& path) {
  auto ends_with = [&](const std::string& s) {
    return path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0;
  };
  if (ends_with(".xml")) return Archive::xml;
  if (ends_with(".txt")) return Archive::text;
  return Archive::binary;
}

Archive resolve_archive(Archive archive, const std::string& path) {
  return archive == Archive::automatic ? archive_for_path(path) : archive;
}

const char* archive_name(Archive archive) {
  switch (archive) {
    case Archive::text:
      return "text";
    case Archive::xml:
      return "xml";
    default:
      return "binary";
  }
}

std::optional<Archive> archive_from_name(const std::string& name) {
  if (name == "binary") return Archive::binary;
  if (name == "text") return Archive::text;
  if (name == "xml") return Archive::xml;
  return std::nullopt;
}

}  // namespace tapeflow::serialization
