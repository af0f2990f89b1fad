#!/usr/bin/env bash
# Shared set-up for ./run.sh and ./test.sh: everything a fresh machine with Python 3.11, Node 20
# and npm needs. Idempotent and quick when nothing changed (stamps in .venv/ and .tools/).
# Usage: source scripts/setup.sh [dev]   ("dev" also installs the test tools)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
MODE="${1:-run}"

say() { printf '\033[1m[gazportal]\033[0m %s\n' "$*"; }

# 1. Python 3.11 virtualenv with pinned dependencies.
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for c in python3.11 python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then PY="$c"; break; fi
  done
fi
[ -n "$PY" ] || { echo "Python 3.11 is required (set PYTHON=/path/to/python3.11)" >&2; exit 1; }
[ -x .venv/bin/python ] || { say "creating .venv"; "$PY" -m venv .venv; }
REQ=requirements.txt; [ "$MODE" = dev ] && REQ=requirements-dev.txt
stamp=".venv/.installed-$(cat requirements.txt "$REQ" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  say "installing Python packages from $REQ"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$REQ" 2>&1 | { grep -v "^WARNING: Location" || true; }
  touch "$stamp"
fi
# shellcheck disable=SC1091
source .venv/bin/activate

# 2. bun 1.4.4 from npm into the project (Reflex's own bun download needs the open internet),
#    plus the browser-test tools for the test suite.
NPM_PKGS="bun@1.4.4"
[ "$MODE" = dev ] && NPM_PKGS="$NPM_PKGS axe-core@4.11.0"
npm_stamp=".tools/.installed-$(echo "$NPM_PKGS" | sha256sum | cut -c1-16)"
if [ ! -f "$npm_stamp" ] || [ ! -x .tools/node_modules/.bin/bun ]; then
  say "installing $NPM_PKGS into .tools/"
  mkdir -p .tools
  npm install --prefix .tools --no-audit --no-fund --loglevel=error $NPM_PKGS
  touch "$npm_stamp"
fi
export PATH="$ROOT/.tools/node_modules/.bin:$PATH"
export REFLEX_TELEMETRY_ENABLED=false

# 3. The database: migrations (SQLite file gazportal.db unless GAZPORTAL_DB_URL says otherwise).
say "applying database migrations"
reflex db migrate
