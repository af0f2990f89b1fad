#!/usr/bin/env bash
# Set up everything and run the portal in production mode at http://localhost:3000
# (SQLite by default, with demo data when the database is empty). See README.md.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/setup.sh run
say "loading demo data if the database is empty"
python -m gazportal.cli demo --if-empty --accounts "${GAZPORTAL_DEMO_ACCOUNTS:-200}" --seed 1
# Demo mode: the start page offers the demo customer ("try the demo"); demo-customer also makes the demo
# operator of the staff console (/staff) and prints both sign-ins. GAZPORTAL_DEMO=0 turns it off.
export GAZPORTAL_DEMO="${GAZPORTAL_DEMO:-1}"
if [ "$GAZPORTAL_DEMO" = 1 ]; then
  python -m gazportal.cli demo-customer
fi
say "starting the portal at ${GAZPORTAL_PUBLIC_URL:-http://localhost:3000}"
exec reflex run --env prod
