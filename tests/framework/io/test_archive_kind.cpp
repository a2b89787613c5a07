// Archive kinds: the choice by extension and the names the file header gives them.
#include <doctest/doctest.h>

#include <string>

#include "tapeflow/framework/io/archive_kind.hpp"

namespace S = tapeflow::serialization;

TEST_CASE("archive kind: by extension, anything else binary") {
  CHECK(S::archive_for_path("a.xml") == S::Archive::xml);
  CHECK(S::archive_for_path("dir.xml/a.txt") == S::Archive::text);
  CHECK(S::archive_for_path("a.tfm") == S::Archive::binary);
  CHECK(S::archive_for_path("xml") == S::Archive::binary);
  CHECK(S::resolve_archive(S::Archive::automatic, "m.xml") == S::Archive::xml);
  CHECK(S::resolve_archive(S::Archive::text, "m.xml") == S::Archive::text);
}

TEST_CASE("archive kind: header names round-trip, others are refused") {
  for (S::Archive a : {S::Archive::binary, S::Archive::text, S::Archive::xml})
    CHECK(S::archive_from_name(S::archive_name(a)) == a);
  CHECK(std::string(S::archive_name(S::Archive::text)) == "text");
  CHECK(std::string(S::archive_name(S::Archive::automatic)) == "binary");
  CHECK_FALSE(S::archive_from_name("zip").has_value());
  CHECK_FALSE(S::archive_from_name("XML").has_value());
  CHECK_FALSE(S::archive_from_name("").has_value());
}
