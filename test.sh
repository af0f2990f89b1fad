#!/usr/bin/env bash
# Set up everything and run the whole test suite: unit and data-layer tests on SQLite and
# PostgreSQL, then the end-to-end tests in Chromium. See README.md.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/setup.sh dev

# Chromium for the end-to-end tests: Debian's package (Playwright's own download needs the
# open internet).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing Debian's chromium"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "Chromium is missing: run 'sudo apt-get install chromium' once" >&2; exit 1
  fi
fi

# PostgreSQL and Redis: the project's machines run them; start one that has stopped.
scripts/services.sh
export GAZPORTAL_REQUIRE_PG=1

status=0
say "static checks: ruff (style, complexity <= 15), mypy (services, models), the layer check"
ruff check . || status=$?
mypy || status=$?
python scripts/layers.py . || status=$?

say "unit, data-layer and security tests"
python -m pytest -q tests --ignore=tests/e2e "$@" || status=$?
say "end-to-end tests in Chromium"
python -m pytest -q tests/e2e -p no:asyncio -W ignore::pytest.PytestConfigWarning "$@" || status=$?
exit $status
