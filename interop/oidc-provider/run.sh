#!/usr/bin/env bash
# Runs `idconform check oauth` against node oidc-provider: installs it (npm ci), starts it, runs the suite, stops it.
# Needs Node.js 18+ and npm. Extra arguments go to `idconform check oauth` (e.g. --report junit --out op.xml).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"
npm ci --silent --no-audit --no-fund
PORT=18555 node server.mjs > "$here/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  grep -q listening "$here/server.log" && break
  sleep 0.1
done
cd "$root"
cargo run --release --quiet -- check oauth --target "$here/target.toml" "$@"
