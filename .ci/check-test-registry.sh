#!/usr/bin/env bash
# Fails when ctest does not see every doctest case of a test program: a case whose name CMake
# cannot carry (an unbalanced '[' or ']' joins it with its neighbours) would silently never run.
#   bash .ci/check-test-registry.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: check-test-registry.sh BUILD_DIR}
listed=$(ctest --test-dir "$build" -N 2>&1) || { echo "$listed" >&2; exit 1; }
if grep -q "CMake Error" <<<"$listed"; then
  echo "tests: ctest cannot read the registered tests:" >&2
  grep -A3 "CMake Error" <<<"$listed" | head -20 >&2
  exit 1
fi
status=0
for program in "$build"/tests/test_*; do
  [ -x "$program" ] && [ -f "$program" ] || continue
  cases=$("$program" --count | sed -n 's/.*passing the current filters: \([0-9]*\).*/\1/p')
  folder=$(basename "$program" | sed 's/^test_//; s/^framework_/framework\//')
  registered=$(grep -c "Test *#[0-9]*: $folder/" <<<"$listed" || true)
  if [ "$cases" != "$registered" ]; then
    echo "tests: $(basename "$program") has $cases cases but ctest registered $registered" >&2
    status=1
  fi
done
[ "$status" -eq 0 ] && echo "tests: ctest registered every doctest case"
exit "$status"
