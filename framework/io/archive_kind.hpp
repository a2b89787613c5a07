#pragma once
/// The kinds of Boost archive a tapeflow file's payload can be, how a path picks one, and the
/// names the file header gives them.
///
/// Example:
/// ```
/// namespace S = tapeflow::serialization;
/// S::Archive a = S::archive_for_path("model.xml");            // S::Archive::xml
/// std::string name = S::archive_name(a);                     // "xml", as in the file header
/// std::optional<S::Archive> b = S::archive_from_name("text");  // S::Archive::text
/// ```
#include <optional>
#include <string>

namespace tapeflow::serialization {

/// Archive kind; `automatic` picks from the extension: ".xml" -> xml, ".txt" -> text,
/// anything else -> binary.
enum class Archive { automatic, binary, text, xml };

/// `Archive` for `path` (never `automatic`).
/// Example: `archive_for_path("ckpt.txt") == Archive::text`
Archive archive_for_path(const std::string& path);

/// `archive`, or the kind `path` picks when it is `automatic` (what save functions write).
/// Example: `resolve_archive(Archive::automatic, "m.xml") == Archive::xml`
Archive resolve_archive(Archive archive, const std::string& path);

/// The name of `archive` in a file header: "binary", "text" or "xml" (`automatic`, which is
/// resolved before anything is written, reads "binary").
/// Example: `archive_name(Archive::text)` is "text".
const char* archive_name(Archive archive);

/// The archive kind a header name stands for; `std::nullopt` for any other text.
/// Example: `archive_from_name("xml") == Archive::xml`, `archive_from_name("zip")` is empty.
std::optional<Archive> archive_from_name(const std::string& name);

}  // namespace tapeflow::serialization
