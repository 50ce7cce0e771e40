#!/usr/bin/env bash
# The canary run: the whole suite once with DEBUG on, every secret the local stack issues
# recorded, then all output and temp files searched for them (scripts/canary-scan.mjs).
set -uo pipefail
cd "$(dirname "$0")/.."
dir="$PWD/.tmp/canary"
rm -rf "$dir"
mkdir -p "$dir"
# The temp directory lives outside the repository: a "fresh project" a test makes there must not
# find the repository's node_modules by walking up (the package test checks what a consumer lacks).
tmp="$(mktemp -d "${TMPDIR:-/tmp}/mesh-canary-XXXXXX")"
export MESH_CANARY_FILE="$dir/secrets.txt" DEBUG='mesh*' TMPDIR="$tmp"
: > "$MESH_CANARY_FILE"
# CANARY_NODE_VERSION=24 runs it on that Node (the npm registry's node package); CI does, so the
# canary run is its Node 24 run too.
if [ -n "${CANARY_NODE_VERSION:-}" ]; then
  runner=(npx -y "node@$CANARY_NODE_VERSION" node_modules/vitest/vitest.mjs)
else
  runner=(npx vitest)
fi
"${runner[@]}" run --reporter=dot --reporter=json --outputFile.json="$dir/vitest.json" > "$dir/output.log" 2>&1
tests=$?
node scripts/test-summary.mjs "$dir/vitest.json" > /dev/null || tests=1
node scripts/canary-scan.mjs "$MESH_CANARY_FILE" "$dir/output.log" "$tmp"
scan=$?
rm -rf "$tmp"
[ $tests -eq 0 ] || echo "canary run: the suite itself failed (see $dir/output.log)"
[ $tests -eq 0 ] && [ $scan -eq 0 ]
