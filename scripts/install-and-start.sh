#!/usr/bin/env bash
# Installs Fleetbench's dependencies and starts it: the desktop app where Electron's binary can be
# downloaded, otherwise the headless hub with the dashboard in your browser. Extra arguments go to
# `fleetbench serve` in headless mode (e.g. --demo 20).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  if ! npm install --no-audit --no-fund; then
    echo "Electron's binary could not be downloaded; installing without it (headless hub + browser dashboard)."
    ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm install --no-audit --no-fund
  fi
fi
exec npm start -- "$@"
