#!/usr/bin/env bash
# Builds and runs tests/package as a user would: mode "install" (cmake --install the given
# build tree, then find_package) or "subdirectory" (add_subdirectory of the source tree).
set -euo pipefail
mode=$1 src=$2 build=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
case "$mode" in
  install)
    cmake --install "$build" --prefix "$work/prefix" >/dev/null
    cmake -S "$src/tests/package" -B "$work/b" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null ;;
  subdirectory)
    cmake -S "$src/tests/package" -B "$work/b" -DTAPEFLOW_SOURCE_DIR="$src" \
          -DTAPEFLOW_BUILD_TESTS=OFF -DTAPEFLOW_BUILD_EXAMPLES=OFF >/dev/null ;;
  *) echo "usage: check.sh install|subdirectory SRC BUILD" >&2; exit 2 ;;
esac
cmake --build "$work/b" -j2 >/dev/null
"$work/b/consumer"
