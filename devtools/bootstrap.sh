#!/usr/bin/env bash
# Installs what the app needs into the checkout, idempotently: .venv (pip), .tools (bun from
# the npm registry); with --browser, Debian's Chromium; with --cluster, what `make run-cluster`
# and its tests need: nginx, and PostgreSQL and Redis on 127.0.0.1 (installed and started
# only when nothing answers on their ports). Quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
BUN_VERSION=1.4.5
browser=no
cluster=no
for flag in "$@"; do
  case "$flag" in
    --browser) browser=yes ;;
    --cluster) cluster=yes ;;
    *) echo "usage: $0 [--browser] [--cluster]" >&2; exit 2 ;;
  esac
done

if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
apt_updated=no
apt_install() {
  if [ "$apt_updated" = no ]; then
    $SUDO apt-get update -qq
    apt_updated=yes
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}
answers() {  # answers PORT: something listens on 127.0.0.1:PORT
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

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

if [ "$browser" = yes ] && ! command -v chromium >/dev/null 2>&1; then
  echo "==> installing Chromium from Debian's packages"
  apt_install chromium
fi

if [ "$cluster" = yes ]; then
  # The cluster runs its own nginx with a generated configuration; the package's service
  # (if the system starts one) is not used.
  if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    echo "==> installing nginx from Debian's packages"
    apt_install nginx
  fi
  if ! answers 6379; then
    if ! command -v redis-server >/dev/null 2>&1; then
      echo "==> installing Redis from Debian's packages"
      apt_install redis-server
    fi
    echo "==> starting Redis on 127.0.0.1:6379 (in memory, no persistence)"
    redis-server --bind 127.0.0.1 --port 6379 --save "" --appendonly no --daemonize yes >/dev/null
  fi
  if ! answers 5432; then
    if ! command -v pg_ctlcluster >/dev/null 2>&1; then
      echo "==> installing PostgreSQL from Debian's packages"
      apt_install postgresql
    fi
    version=$(ls /usr/lib/postgresql | sort -V | tail -1)
    hba="/etc/postgresql/$version/main/pg_hba.conf"
    # The cluster and the tests connect as postgres@127.0.0.1 without a password, as on the
    # development and CI machines: allow exactly that, once, on this local server.
    if ! $SUDO grep -q "^host all postgres 127.0.0.1/32 trust" "$hba"; then
      echo "==> allowing postgres@127.0.0.1 without a password in $hba"
      $SUDO sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
    fi
    echo "==> starting PostgreSQL $version on 127.0.0.1:5432"
    $SUDO pg_ctlcluster "$version" main start
  fi
fi
