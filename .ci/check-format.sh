#!/usr/bin/env bash
# Fails when a C++ file of the repository differs from what clang-format (the repository's
# .clang-format) makes of it, and shows the difference. `clang-format -i FILE` fixes it.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
while IFS= read -r file; do
  if ! clang-format --style=file "$file" | diff -u "$file" - >/tmp/tapeflow-format.diff; then
    echo "format: $file is not clang-format clean:" >&2
    head -20 /tmp/tapeflow-format.diff >&2
    status=1
  fi
done < <(git ls-files '*.cpp' '*.hpp')
[ "$status" -eq 0 ] && echo "format: every C++ file is clang-format clean"
exit "$status"
