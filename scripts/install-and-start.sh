#!/usr/bin/env bash
# Installs Fleetbench's dependencies and starts it: the desktop app where Electron's binary can be
# downloaded, otherwise the headless hub with the dashboard in your browser. Extra arguments go to
# `fleetbench serve` in headless mode (e.g. --demo 20).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # One line on whether Electron's binary can be fetched (scripts/install-plan.js: mirror, cache,
  # a 5 s probe), then one install: without the binary when it cannot be fetched.
  plan=0
  node scripts/install-plan.js || plan=$?
  if [ "$plan" -eq 10 ]; then
    ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm install --no-audit --no-fund
  elif ! npm install --no-audit --no-fund; then
    # The probe said yes (or could not tell) but the download still failed: install without it.
    echo "Electron's binary could not be downloaded after all; installing without it (headless hub + browser dashboard)."
    ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm install --no-audit --no-fund
  fi
fi
exec npm start -- "$@"
