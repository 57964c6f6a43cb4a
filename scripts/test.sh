#!/usr/bin/env bash
# Run lint and the whole suite on SQLite, then on a throwaway PostgreSQL cluster when the
# server binaries are on this machine. REQUIRE_POSTGRES=1 (CI) turns a missing or broken
# PostgreSQL into a failure. Extra arguments go to pytest.
#
# Every run has its clock set to an instant below (MEND_TEST_NOW, see src/mend/testclock.py), so
# the suite passes or fails alike at any hour: the whole suite on SQLite at the first instant and
# on PostgreSQL at the last, then the tests marked `clock` (where a date a person means is the
# clinic's, not UTC's) at each of the others. MEND_CLOCK=0 skips those runs; MEND_TEST_NOW, when
# set, is the whole suite's instant on both databases.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY="$VENV/bin/python"
ran=()
status=0

# Where the clinic's date and UTC's are easiest to confuse. Harbour, the personas' and the demo's
# clinic, is in Toronto; Northside in Vancouver.
CLOCK_INSTANTS=(
  2026-06-16T02:30:00Z # 22:30 the evening before in Toronto: UTC's date is already tomorrow
  2026-06-16T12:00:00Z # 08:00 in Toronto, 05:00 in Vancouver: one date everywhere
  2026-06-16T23:30:00Z # 19:30 in Toronto, 16:30 in Vancouver: UTC's last half hour of the day
  2026-03-08T06:30:00Z # 01:30 EST, half an hour before Toronto springs forward (22:30 in Vancouver)
  2026-11-01T05:30:00Z # 01:30 EDT, in the hour Toronto repeats when it falls back
)
if [ $# -gt 0 ]; then
  clock_args=("$@")
else
  # Only the modules with clock tests: collecting the whole suite again would cost more than the
  # tests. The browser's ran in the whole suite (each run would load a demo server of its own).
  mapfile -t clock_args < <(
    grep -rlE --include='test_*.py' 'pytest\.mark\.clock' tests src/mend | grep -v '^tests/browser/' | sort
  )
fi

# run_suite DATABASE INDEX [pytest arguments]: the whole suite at CLOCK_INSTANTS[INDEX], then the
# clock tests at each other instant.
run_suite() {
  local db=$1 main=$2
  shift 2
  local at=${MEND_TEST_NOW:-${CLOCK_INSTANTS[$main]}}
  echo "== tests on $db at $at"
  if MEND_TEST_NOW=$at "$PY" -m pytest "$@"; then
    ran+=("$db at $at: passed")
  else
    ran+=("$db at $at: FAILED"); status=1
  fi
  [ "${MEND_CLOCK:-1}" = "1" ] && [ ${#clock_args[@]} -gt 0 ] || return 0
  local i now code failed=() done=0
  for i in "${!CLOCK_INSTANTS[@]}"; do
    [ "$i" = "$main" ] && continue
    now=${CLOCK_INSTANTS[$i]}
    echo "== $db: clock tests at $now"
    MEND_TEST_NOW=$now "$PY" -m pytest -q -m "clock and not browser" "${clock_args[@]}"
    code=$?
    # 5: the arguments given selected no clock test.
    if [ $code -eq 0 ] || [ $code -eq 5 ]; then done=$((done + 1)); else failed+=("$now"); fi
  done
  if [ ${#failed[@]} -eq 0 ]; then
    ran+=("$db, clock tests at $done more instants: passed")
  else
    ran+=("$db, clock tests: FAILED at ${failed[*]}"); status=1
  fi
}

echo "== lint (ruff)"
"$VENV/bin/ruff" check . || exit 1
"$VENV/bin/ruff" format --check . || exit 1
echo "== types (mypy, the whole package with the Django plugin)"
# The plugin loads the settings: the test profile needs no keys, and an in-memory database
# means loading them creates nothing under var/.
MEND_ENV=test DATABASE_URL=sqlite://:memory: "$VENV/bin/mypy" || exit 1

unset DATABASE_URL # SQLite is the default; the PostgreSQL run below names its own database
run_suite SQLite 0 "$@"

if scripts/pg-cluster.sh available; then
  echo "== PostgreSQL: a throwaway cluster"
  export PGTMP_STATE
  PGTMP_STATE=$(mktemp /tmp/mend-pg-state.XXXXXX)
  if url=$(scripts/pg-cluster.sh start); then
    trap 'scripts/pg-cluster.sh stop "$(cat "$PGTMP_STATE")"; rm -f "$PGTMP_STATE"' EXIT
    version=$(psql "$url" -Atc "show server_version" 2>/dev/null || echo "?")
    DATABASE_URL="$url" run_suite "PostgreSQL $version" $((${#CLOCK_INSTANTS[@]} - 1)) "$@"
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
