#!/usr/bin/env bash
# Starts the local Mesh stack (stand-in Auth0 + reference backend), installing dependencies first
# on a fresh clone. Ctrl-C stops both servers.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ]; then
  bash scripts/install.sh
fi
exec node_modules/.bin/tsx dev/main.ts
