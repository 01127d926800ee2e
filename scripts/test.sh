#!/usr/bin/env bash
# Installs everything the test suite needs on a Debian machine and runs it (lint, types, tests).
# The README's test command and .ci/run both call this script; other arguments go to pytest.
#
#   ./scripts/test.sh            the whole suite, two pytest processes (pytest-xdist)
#   ./scripts/test.sh --fast     the edit-test loop: no browser, PostgreSQL, Redis, real-model or
#                                slow tests, and no Debian packages or services set up for them
set -euo pipefail
cd "$(dirname "$0")/.."

fast=0
if [ "${1:-}" = "--fast" ]; then
  fast=1
  shift
fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# What the tests need beyond Python: Debian packages and the services the tests talk to over real
# connections; --fast runs no browser, PostgreSQL or Redis test and sets up only systemd-analyze.
system_setup() {
  local need=()
  # systemd-analyze checks the units in deploy/systemd/ (tests/deploy/test_systemd_units.py).
  command -v systemd-analyze >/dev/null || need+=(systemd)
  if [ $fast = 0 ]; then
    # Headless Chromium for the browser tests, PostgreSQL and Redis servers.
    command -v chromium >/dev/null || need+=(chromium)
    command -v chromedriver >/dev/null || need+=(chromium-driver)
    command -v pg_ctlcluster >/dev/null || need+=(postgresql)
    command -v redis-server >/dev/null || need+=(redis-server)
  fi
  if [ ${#need[@]} -gt 0 ]; then
    echo "== installing Debian packages: ${need[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  [ $fast = 0 ] || return 0

  if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    echo "== starting PostgreSQL"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
  if ! (redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG); then
    echo "== starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  fi
}
system_setup

# Python environment.
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# Installed again only when pyproject.toml changed since the last install into this .venv.
stamp=.venv/.presseschau-installed
wanted=$(sha256sum pyproject.toml | cut -d" " -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[test]"
  echo "$wanted" > "$stamp"
fi

echo "== ruff"
.venv/bin/ruff check presseschau tests bench scripts
.venv/bin/ruff format --check presseschau tests bench scripts
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
# Two processes; the browser tests and the PostgreSQL/Redis tests are grouped per process (markers
# and groups: tests/conftest.py). Arguments given override these.
if [ $fast = 1 ]; then
  .venv/bin/python -m pytest -n 2 -m "not browser and not postgres and not redis and not realmodel and not slow" "$@"
else
  .venv/bin/python -m pytest -n 2 --dist loadgroup --durations=20 "$@"
fi
