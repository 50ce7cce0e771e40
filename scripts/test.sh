#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs dependencies if missing, checks types and
# lint, runs every test (vitest; then test/runtimes under Bun, Deno and workerd), and ends with "N passed, N failed" from vitest's JSON report.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ]; then
  bash scripts/install.sh || exit 1
fi

status=0
npx tsc --noEmit -p . || status=1
npx biome check . || status=1
# The API reference (docs/api, not committed) must build without a warning.
npx typedoc --logLevel Warn || status=1

mkdir -p .tmp
rm -f .tmp/vitest.json .tmp/vitest-runtimes.json
npx vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest.json "$@" || status=1
reports=(.tmp/vitest.json)
# The whole suite (no file filter given) includes the other runtimes: Bun, Deno, workerd (test/runtimes).
if [ $# -eq 0 ]; then
  MESH_DIST_FRESH=1 npx vitest run --config vitest.runtimes.config.ts --reporter=default --reporter=json \
    --outputFile.json=.tmp/vitest-runtimes.json || status=1
  reports+=(.tmp/vitest-runtimes.json)
fi

node scripts/test-summary.mjs "${reports[@]}" || status=1
exit $status
