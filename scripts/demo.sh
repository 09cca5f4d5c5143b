#!/usr/bin/env bash
# The demo: installs what is missing, builds and installs rulake, starts a throwaway PostgreSQL 15
# cluster as user postgres in a temporary directory on a free port, runs scripts/demo.sql with psql
# (echoing each statement and its result; any SQL error stops the demo with a non-zero exit), then
# stops the cluster and removes the directory, also when interrupted. Run as root on Debian 12.
#
#   scripts/demo.sh [FILE.sql]     run FILE.sql instead of scripts/demo.sql
# Environment: RULAKE_PREFIX=DIR installs into a private copy of the server under DIR
# (scripts/private-pg.sh) instead of the system one; PG_CONFIG selects the server to build against.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
sql=$(realpath "${1:-$here/scripts/demo.sql}")
[ -f "$sql" ] || { echo "no such SQL file: $sql"; exit 1; }
cd "$here"
. scripts/common.sh

"$here/scripts/install-deps.sh"
choose_pg_config

echo "building and installing rulake"
if [ -n "${RULAKE_PREFIX:-}" ]; then
  bindir=$(scripts/private-pg.sh "$RULAKE_PREFIX" | tail -n1)
else
  make -s -j2 PG_CONFIG="$PG_CONFIG"
  make -s install PG_CONFIG="$PG_CONFIG" >/dev/null
  bindir=$("$PG_CONFIG" --bindir)
fi

as_pg() { as_postgres / "$1"; }

# A free port: nothing listens on it over TCP and no socket file for it exists in /tmp.
port_is_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && [ ! -e "/tmp/.s.PGSQL.$1" ]
}
port=""
for _ in $(seq 1 100); do
  candidate=$((20000 + RANDOM % 30000))
  if port_is_free "$candidate"; then port=$candidate; break; fi
done
[ -n "$port" ] || { echo "found no free port"; exit 1; }

tmp=$(mktemp -d /tmp/rulake-demo.XXXXXX)
cleanup() {
  if [ -f "$tmp/data/postmaster.pid" ]; then
    as_pg "'$bindir/pg_ctl' -D '$tmp/data' -m fast -w stop" >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
chmod 755 "$tmp"
cp "$sql" "$tmp/demo.sql"
[ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$tmp"

echo "starting a throwaway cluster in $tmp on port $port"
as_pg "'$bindir/initdb' -D '$tmp/data' -A trust -U postgres --no-sync --locale=C -E UTF8" >"$tmp/initdb.log" 2>&1 \
  || { cat "$tmp/initdb.log"; exit 1; }
# Listens on 127.0.0.1 and on a socket in the temporary directory only.
if ! as_pg "'$bindir/pg_ctl' -D '$tmp/data' -l '$tmp/server.log' -w \
      -o \"-p $port -k '$tmp' -c listen_addresses=127.0.0.1\" start" >/dev/null; then
  cat "$tmp/server.log"; exit 1
fi

echo "running $(basename "$sql")"
echo
if ! as_pg "'$bindir/psql' -X -h '$tmp' -p $port -U postgres -d postgres -v ON_ERROR_STOP=1 \
      --echo-queries --pset=pager=off -f '$tmp/demo.sql' 2>&1"; then
  echo
  echo "the demo failed; server log:"
  tail -n 30 "$tmp/server.log"
  exit 1
fi
echo
echo "demo finished; stopping and removing the cluster"
