#!/usr/bin/env bash
# Installs everything the whole test suite needs on a fresh Debian/Ubuntu machine, then runs it.
# System packages: socat (pty pairs), stm32flash (independent STM32 peer), chromium (e2e).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v socat >/dev/null || need+=(socat)
command -v stm32flash >/dev/null || need+=(stm32flash)
# LAN services tests (issue 12): dig as the DNS client, chronyd -Q as the NTP client.
command -v dig >/dev/null || need+=(dnsutils)
[ -x /usr/sbin/chronyd ] || command -v chronyd >/dev/null || need+=(chrony)
# The offline-LAN test: ntpdig resolves time.google.com through the hub; ip sets up the namespace.
command -v ntpdig >/dev/null || need+=(ntpsec-ntpdate)
command -v ip >/dev/null || need+=(iproute2)
# The e2e tests launch this path (test/support/browser-gate.ts); under CI a missing one fails the run.
[ -x "${FLEETBENCH_CHROMIUM:-/usr/bin/chromium}" ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Electron's binary is not needed for the tests (the shell is unit-tested with fakes).
ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm ci --no-audit --no-fund
npm test
