#!/usr/bin/env bash
# Lints the package as published: publint and arethetypeswrong on the packed tarball.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
npm pack --silent --pack-destination "$dir" >/dev/null
tarball="$(ls "$dir"/*.tgz)"
npx publint "$tarball" --strict
npx attw "$tarball"
