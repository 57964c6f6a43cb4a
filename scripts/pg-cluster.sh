#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL cluster in a temporary directory, listening only on a
# unix socket inside that directory. `start` prints the DATABASE_URL to use on stdout.
#   scripts/pg-cluster.sh start          -> prints postgres://... ; state kept in $PGTMP_STATE
#   scripts/pg-cluster.sh stop DIR
set -euo pipefail

find_bindir() {
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir; return
  fi
  local candidate
  for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$candidate/initdb" ] && { echo "$candidate"; return; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return; }
  return 1
}

as_owner() {
  # PostgreSQL refuses to run as root: use the postgres account when we are root.
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  available)
    find_bindir >/dev/null 2>&1
    ;;
  start)
    bindir=$(find_bindir) || { echo "PostgreSQL server binaries not found" >&2; exit 3; }
    dir=$(mktemp -d /tmp/mend-pg.XXXXXX)
    chmod 755 "$dir"
    [ "$(id -u)" = "0" ] && chown postgres "$dir"
    as_owner "$bindir/initdb" -D "$dir/data" -U mend -A trust -E UTF8 --no-instructions >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 4; }
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses='' -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 5; }
    as_owner "$bindir/createdb" -h "$dir" -U mend mend
    echo "$dir" > "${PGTMP_STATE:-/tmp/mend-pg.current}"
    echo "postgres://mend@$(printf %s "$dir" | sed "s|/|%2F|g")/mend"
    ;;
  stop)
    dir="${2:-$(cat "${PGTMP_STATE:-/tmp/mend-pg.current}" 2>/dev/null || true)}"
    [ -n "$dir" ] && [ -d "$dir/data" ] || exit 0
    bindir=$(find_bindir)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 available|start|stop [DIR]" >&2; exit 2
    ;;
esac
