#!/usr/bin/env bash
# Fails when a library file includes a header of a layer above its own (dependencies point down:
# the order of TAPEFLOW_LAYERS in CMakeLists.txt), or when the
# umbrella header <tapeflow.hpp> misses a public header.
set -euo pipefail
cd "$(dirname "$0")/.."

# The layers of the design, lowest first, as CMakeLists.txt declares them (TAPEFLOW_LAYERS); a
# file may include its own layer and those below.
mapfile -t layers < <(sed -n '/^set(TAPEFLOW_LAYERS/,/^)/p' CMakeLists.txt | sed '1d;$d' |
                      sed 's/#.*//' | tr -s ' ' | sed 's/^ //;s/ $//' | grep -v '^$')
[ "${#layers[@]}" -gt 0 ] || { echo "layers: no TAPEFLOW_LAYERS list in CMakeLists.txt" >&2; exit 1; }
rank_of() {
  local path=$1 i
  for i in "${!layers[@]}"; do
    case "$path" in "${layers[$i]}"/*) echo "$i"; return ;; esac
  done
  echo -1
}

status=0
while IFS= read -r file; do
  own=$(rank_of "$file")
  if [ "$own" -lt 0 ]; then
    echo "layers: $file is in no layer (move it into one of: ${layers[*]})" >&2
    status=1
    continue
  fi
  while IFS= read -r target; do
    dep=$(rank_of "$target")
    if [ "$dep" -lt 0 ]; then
      echo "layers: $file includes $target, which is in no layer" >&2
      status=1
    elif [ "$dep" -gt "$own" ]; then
      echo "layers: $file (${layers[$own]}) includes $target (${layers[$dep]}, a layer above)" >&2
      status=1
    fi
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]tapeflow\/\([^">]*\)[">].*/\1/p' "$file")
done < <(git ls-files 'framework/*.hpp' 'framework/*.cpp' 'layers/*.hpp' 'layers/*.cpp' \
                      'optim/*.hpp' 'optim/*.cpp' | grep -v '^framework/include/')

# Every public header is in the umbrella.
umbrella=framework/include/tapeflow.hpp
while IFS= read -r header; do
  grep -q "^#include \"tapeflow/$header\"" "$umbrella" || {
    echo "layers: $umbrella does not include tapeflow/$header" >&2
    status=1
  }
done < <(git ls-files 'framework/*.hpp' 'layers/*.hpp' 'optim/*.hpp' | grep -v '^framework/include/' |
         grep -v '/detail/')
[ "$status" -eq 0 ] && echo "layers: every include points down; the umbrella has every public header"
exit "$status"
