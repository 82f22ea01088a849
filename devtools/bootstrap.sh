#!/usr/bin/env bash
# Installs what the app needs into the checkout, idempotently: .venv (pip), .tools (bun from
# the npm registry) and, with --browser, Debian's Chromium. Quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
BUN_VERSION=1.4.5

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PYTHON" -m venv .venv
fi

stamp=".venv/.installed-$(cat pyproject.toml requirements.lock | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "==> installing Python packages (requirements.lock)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
  rm -f .venv/.installed-*
  touch "$stamp"
fi

if grep -qw avx2 /proc/cpuinfo 2>/dev/null; then bun_pkg=bun-linux-x64; else bun_pkg=bun-linux-x64-baseline; fi
if [ ! -x ".tools/node_modules/@oven/$bun_pkg/bin/bun" ]; then
  echo "==> installing bun $BUN_VERSION from the npm registry"
  mkdir -p .tools
  npm install --prefix .tools --ignore-scripts --no-audit --no-fund --silent \
    "@oven/$bun_pkg@$BUN_VERSION"
fi

if [ "${1:-}" = "--browser" ] && ! command -v chromium >/dev/null 2>&1; then
  echo "==> installing Chromium from Debian's packages"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
