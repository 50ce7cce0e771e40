#!/usr/bin/env bash
# Installs the locked dependencies. `npm ci` first; when it refuses the lock only because other
# platforms' optional packages (rollup's and biome's native builds for macOS, Windows, ...) are
# not in it, install from the same lock with `npm install`. Those packages cannot be in the lock:
# the registry reachable here does not serve them, so npm cannot resolve them when it writes the
# lock (the symptom of npm/cli#4828). Any other failure of `npm ci` is a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tmp
if npm ci --no-audit --no-fund 2>.tmp/npm-ci.log; then
  exit 0
fi
if grep -q 'Missing: .* from lock file' .tmp/npm-ci.log && ! grep -v -e 'Missing: @rollup/rollup-' -e 'Missing: @biomejs/cli-' -e '^npm error *$' .tmp/npm-ci.log | grep -q 'Missing:'; then
  echo "npm ci refused the lock for other platforms' optional native packages only; installing from the same lock with npm install."
  npm install --no-audit --no-fund
  installed=$?
  git checkout -- package-lock.json 2>/dev/null || true # keep the lock as committed
  exit $installed
fi
cat .tmp/npm-ci.log >&2
exit 1
