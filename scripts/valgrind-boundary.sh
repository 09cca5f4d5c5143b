#!/usr/bin/env bash
# Leak check of the C++ / Postgres error boundary: runs a single-user backend under
# `valgrind --leak-check=full`, calls rulake.boundary_selftest() so that hundreds of Postgres and
# core errors and C++ exceptions thrown under pg_call unwind live C++ objects (each owning heap
# memory), and fails if any leak record's allocation stack passes through rulake's code. Postgres'
# own allocations (memory contexts that are never freed at exit, and the like) are noise here and
# are ignored; a skipped C++ destructor
# shows up as a "definitely lost" block allocated under rulake's frames.
#
# Needs the extension installed in the server (scripts/test.sh does that first). Environment:
#   RULAKE_BINDIR  the server's bindir (default: PostgreSQL 15's, or PG_CONFIG's)
#   RULAKE_WORK    a directory to work in (default: a new one under /tmp, removed on success)
#   ROUNDS         errors of each kind to raise (default 200)
# Runs as root (the backend runs as postgres) or as postgres.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rounds=${ROUNDS:-200}
. "$here/scripts/common.sh"
if [ -z "${RULAKE_BINDIR:-}" ]; then
  choose_pg_config
  RULAKE_BINDIR=$("$PG_CONFIG" --bindir)
fi
bindir=$RULAKE_BINDIR
command -v valgrind >/dev/null || { echo "valgrind is not installed (scripts/install-deps.sh)"; exit 1; }

own_work=0
if [ -z "${RULAKE_WORK:-}" ]; then RULAKE_WORK=$(mktemp -d /tmp/rulake-valgrind.XXXXXX); own_work=1; fi
work=$RULAKE_WORK
mkdir -p "$work"
chmod 755 "$work"
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$work"
as_pg() { as_postgres / "$1"; }

# The statements, one per line (a newline ends a statement in single-user mode). Errors raised at
# top level abort only their statement; the single-user backend goes on with the next line.
{
  echo "CREATE EXTENSION IF NOT EXISTS rulake;"
  for _ in $(seq 1 20); do
    echo "SELECT rulake.boundary_selftest('pg_error');"
    echo "SELECT rulake.boundary_selftest('core_error');"
  done
  # A C++ exception thrown under pg_call, then caught by glue code: the error stacks must be restored
  # (0), or the errors that follow jump into a dead frame.
  echo "SELECT rulake.boundary_selftest('cpp_in_pg_call') AS dangling_error_stacks;"
  for kind in pg_error core_error bad_alloc_in_pg_call; do
    echo "DO \$\$ BEGIN FOR i IN 1..$rounds LOOP BEGIN PERFORM rulake.boundary_selftest('$kind'); EXCEPTION WHEN OTHERS THEN NULL; END; END LOOP; END \$\$;"
  done
  echo "SELECT rulake.boundary_selftest('nonsense');"
  echo "SELECT rulake.boundary_selftest('live') AS live_probes;"
} >"$work/session.sql"

as_pg "'$bindir/initdb' -D '$work/data' -A trust --no-sync --no-locale -E UTF8" >"$work/initdb.log" 2>&1 \
  || { cat "$work/initdb.log"; exit 1; }
chown -R postgres:postgres "$work" 2>/dev/null || true

echo "running $((40 + 3 * rounds + 1)) guarded errors in a single-user backend under valgrind"
as_pg "valgrind --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=none \
        --num-callers=50 --log-file='$work/valgrind.log' \
        '$bindir/postgres' --single -D '$work/data' -c shared_buffers=16MB postgres \
        <'$work/session.sql' >'$work/backend.log' 2>&1" || true

problems=0
# The session must have run to its end: the live count is printed as 'live_probes = "0"'.
live=$(grep -Eo 'live_probes = "[0-9-]+"' "$work/backend.log" | grep -Eo '[0-9-]+' || true)
if [ "$live" != 0 ]; then
  echo "the self-test session did not finish with 0 live probe objects (live: ${live:-none})"
  grep -A3 'live_probes' "$work/backend.log" | tail -n 8; problems=1
fi
if ! grep -q 'dangling_error_stacks = "0"' "$work/backend.log"; then
  echo "pg_call did not restore the error stacks after a C++ exception"; problems=1
fi
# Each top-level error is printed by the backend (those caught inside the DO blocks are not).
errors=$(grep -c 'ERROR:  boundary self-test: \(postgres\|core\) error' "$work/backend.log" || true)
if [ "$errors" -ne 40 ]; then
  echo "expected 40 self-test errors in the backend output, found $errors"; tail -n 40 "$work/backend.log"; problems=1
fi
if ! grep -q 'LEAK SUMMARY\|All heap blocks were freed' "$work/valgrind.log"; then
  echo "valgrind produced no leak report:"; tail -n 60 "$work/valgrind.log"; exit 1
fi

# Leak records are blocks of lines from "... are definitely lost ..." up to the next empty one.
awk '
  /==[0-9]+== [0-9,]+ .*bytes in [0-9,]+ blocks are (definitely|indirectly|possibly) lost/ { rec = $0; inrec = 1; next }
  inrec && /==[0-9]+== *$/ { if (rec ~ /rulake|boundary_selftest/) print rec "\n"; inrec = 0; next }
  inrec { rec = rec "\n" $0 }
' "$work/valgrind.log" >"$work/rulake-leaks.txt"

summary=$(sed -n '/LEAK SUMMARY/,/suppressed/p' "$work/valgrind.log" | sed 's/^==[0-9]*== //')
if [ -s "$work/rulake-leaks.txt" ]; then
  echo "leaks allocated under rulake's code ($(grep -c 'lost in loss record' "$work/rulake-leaks.txt") records):"
  head -n 80 "$work/rulake-leaks.txt"
  problems=1
else
  echo "no leak record mentions rulake's code"
fi
echo "whole-process summary (includes Postgres' own allocations, not freed at exit):"
echo "$summary"
if [ "$problems" -ne 0 ]; then echo "outputs kept in $work"; exit 1; fi
[ "$own_work" -eq 1 ] && rm -rf "$work"
exit 0
