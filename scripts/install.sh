#!/usr/bin/env bash
# Installs the locked dependencies with plain `npm ci`. The lock holds every platform's optional
# packages (rollup's, biome's, esbuild's native builds), so it works on any platform.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund
