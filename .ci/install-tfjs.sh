#!/usr/bin/env bash
# Installs what the live TF.js tests need (tests/layers/test_tfjs_format.cpp): Node and npm (from
# Debian where the machine has none: install-deps --tfjs), then the pinned TensorFlow.js of
# tests/tfjs (npm ci: exactly the lockfile's packages, each checked against its sha512 integrity
# hash). As root, like install-deps.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install-deps.sh --tfjs
# Node trusts only its own list of certificate authorities; the system's store may hold more (the
# CA of an HTTPS proxy, say), which npm then trusts too.
export NODE_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
npm_ci() { npm ci --prefix tests/tfjs --no-audit --no-fund --loglevel=error "$@"; }
# No retries on the first try: an unverifiable certificate fails every fetch, and npm's retries
# with back-off would only delay the second try.
if ! npm_ci --fetch-retries=0; then
  # Behind a proxy whose CA this system lacks, TLS cannot be verified at all. The packages still
  # are: npm ci refuses any whose content does not match the lockfile's sha512 hash.
  echo "install-tfjs: npm ci failed; again without TLS certificate checks (the lockfile's" \
       "integrity hashes still checked)" >&2
  npm_ci --strict-ssl=false
fi
test -f tests/tfjs/node_modules/@tensorflow/tfjs/package.json
echo "install-tfjs: TensorFlow.js $(node -p "require('./tests/tfjs/node_modules/@tensorflow/tfjs/package.json').version") in tests/tfjs"
