#!/usr/bin/env bash
# The main job on the local stack (dev/demo.ts), installing dependencies first on a fresh clone.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ]; then
  bash scripts/install.sh
fi
exec node_modules/.bin/tsx dev/demo.ts "$@"
