#!/usr/bin/env bash
# Run lint and the whole suite on SQLite, then on a throwaway PostgreSQL cluster when the
# server binaries are on this machine. REQUIRE_POSTGRES=1 (CI) turns a missing or broken
# PostgreSQL into a failure. Extra arguments go to pytest.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY="$VENV/bin/python"
ran=()
status=0

echo "== lint (ruff)"
"$VENV/bin/ruff" check . || exit 1
"$VENV/bin/ruff" format --check . || exit 1
echo "== types (mypy, the whole package with the Django plugin)"
# The plugin loads the settings: the test profile needs no keys, and an in-memory database
# means loading them creates nothing under var/.
MEND_ENV=test DATABASE_URL=sqlite://:memory: "$VENV/bin/mypy" || exit 1

echo "== tests on SQLite"
if env -u DATABASE_URL "$PY" -m pytest "$@"; then ran+=("SQLite: passed"); else ran+=("SQLite: FAILED"); status=1; fi

if scripts/pg-cluster.sh available; then
  echo "== tests on PostgreSQL (throwaway cluster)"
  export PGTMP_STATE
  PGTMP_STATE=$(mktemp /tmp/mend-pg-state.XXXXXX)
  if url=$(scripts/pg-cluster.sh start); then
    trap 'scripts/pg-cluster.sh stop "$(cat "$PGTMP_STATE")"; rm -f "$PGTMP_STATE"' EXIT
    version=$(psql "$url" -Atc "show server_version" 2>/dev/null || echo "?")
    if DATABASE_URL="$url" "$PY" -m pytest "$@"; then
      ran+=("PostgreSQL $version: passed")
    else
      ran+=("PostgreSQL $version: FAILED"); status=1
    fi
  else
    ran+=("PostgreSQL: could not start a cluster")
    [ "${REQUIRE_POSTGRES:-0}" = "1" ] && status=1
  fi
else
  ran+=("PostgreSQL: skipped (no server binaries on this machine)")
  [ "${REQUIRE_POSTGRES:-0}" = "1" ] && status=1
fi

echo
echo "== databases"
printf '  %s\n' "${ran[@]}"
exit $status
