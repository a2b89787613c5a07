#!/usr/bin/env bash
# Installs what tapeflow needs on Debian 12, as root. Idempotent: does nothing when all is there.
#   bash .ci/install-deps.sh          build + test dependencies
#   bash .ci/install-deps.sh --bench  also libtorch, for bench/ (the comparison benchmark)
#   bash .ci/install-deps.sh --lint   also clang-format, for .ci/check-format.sh
#   bash .ci/install-deps.sh --sanitize  also clang and its sanitizer runtimes, for the
#                                     ASan + UBSan build of the tests (.ci/run)
#   bash .ci/install-deps.sh --tfjs   also Node and npm, for the live TF.js tests (then run
#                                     `npm ci --prefix tests/tfjs`); a Node and npm already on
#                                     PATH, from any source, are used as they are
# The flags combine (`--bench --lint`): one `apt-get update` and one install for all of them.
set -euo pipefail
pkgs=(cmake g++ make ninja-build pkg-config ca-certificates
      xtensor-dev libxtensor-blas-dev xtl-dev libxsimd-dev libopenblas-dev
      libboost-serialization-dev doctest-dev libdnnl-dev nlohmann-json3-dev
      libcli11-dev libcairo2-dev fonts-dejavu-core libzip-dev libnifti2-dev
      libopenmpi-dev openmpi-bin)
for flag in "$@"; do
  case "$flag" in
    --bench) pkgs+=(libtorch-dev) ;;
    --lint) pkgs+=(clang-format) ;;
    --sanitize) pkgs+=(clang libclang-rt-dev) ;;
    # Debian's npm conflicts with a Node installed from elsewhere (NodeSource's nodejs package
    # bundles npm and declares "Conflicts: npm"): ask Debian only for the commands missing.
    --tfjs)
      command -v node >/dev/null || pkgs+=(nodejs)
      command -v npm >/dev/null || pkgs+=(npm) ;;
    *) echo "install-deps: unknown option '$flag' (known: --bench, --lint, --sanitize, --tfjs)" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages already installed"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# On a CI machine (CI set) dpkg skips its fsync per unpacked file, most of the time of the many
# small packages (npm's): a crash there means a new run, not a system to repair.
opts=()
[ -n "${CI:-}" ] && opts+=(-o Dpkg::Options::=--force-unsafe-io)
$SUDO apt-get install -y -qq --no-install-recommends "${opts[@]}" "${missing[@]}" >/dev/null
echo "install-deps: done"
