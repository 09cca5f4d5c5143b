#!/usr/bin/env bash
# Insert and VACUUM benchmark of the rabitq index.
#
# Usage: RULAKE_PREFIX=/tmp/pg-write bench/insert/run.sh [FVECS] [ROWS] [SECONDS]
#   FVECS    dataset (default: $RULAKE_SHARED/data/w2v-100/base.fvecs, RULAKE_SHARED=/work/shared)
#   ROWS     rows loaded from it (default 69294: all of w2v-100)
#   SECONDS  duration of each pgbench run (default 20)
#
# Needs the extension installed in the private server copy (scripts/private-pg.sh PREFIX, or any
# `RULAKE_PREFIX=PREFIX scripts/test.sh` run). Starts a throwaway cluster under /tmp (as postgres) and:
#   1. loads ROWS vectors into `src` (id primary key) and into `items`;
#   2. insert throughput: pgbench -M prepared, one INSERT of one dataset row (looked up in `src` by a
#      random id) per transaction, 1 and 2 clients, into `items` without any vector index, then with a
#      rabitq index (default options) built on the ROWS rows; prints rows/s and the ratio;
#   3. VACUUM: rebuilds `items` with ROWS rows and the index, deletes 10% of the rows (every tenth id),
#      and times VACUUM of the table with the index and without it.
# synchronous_commit = off so that the WAL flush of a 2-core shared machine does not dominate.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
. "$here/scripts/common.sh"
choose_pg_config
prefix=${RULAKE_PREFIX:?set RULAKE_PREFIX to the private server copy}
bindir=$prefix$($PG_CONFIG --bindir)
shared=${RULAKE_SHARED:-/work/shared}
fvecs=${1:-$shared/data/w2v-100/base.fvecs}
rows=${2:-69294}
seconds=${3:-20}
work=$(mktemp -d /tmp/rulake-bench-insert.XXXXXX)
chmod 755 "$work"
port=$((20000 + RANDOM % 10000))

pg() { as_postgres "$work" "$1"; }
# Runs SQL statements (each in its own transaction) and prints their output.
psql_q() { printf '%s\n' "$1" | pg "'$bindir/psql' -X -q -At -v ON_ERROR_STOP=1 -h '$work' -p $port -d postgres -f -"; }
cleanup() { pg "'$bindir/pg_ctl' -D '$work/data' -m fast stop" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

chown postgres "$work"
pg "'$bindir/initdb' -D '$work/data' -A trust -N >/dev/null"
cat >> "$work/data/postgresql.conf" <<CONF
port = $port
unix_socket_directories = '$work'
listen_addresses = ''
shared_buffers = 512MB
maintenance_work_mem = 512MB
synchronous_commit = off
autovacuum = off
jit = off
max_wal_size = 4GB
CONF
pg "'$bindir/pg_ctl' -D '$work/data' -l '$work/log' -w start >/dev/null"
python3 "$here/bench/insert/fvecs_to_copy.py" "$fvecs" "$rows" > "$work/rows.tsv"
chmod 644 "$work/rows.tsv"
dim=$(head -1 "$work/rows.tsv" | tr -cd ',' | wc -c); dim=$((dim + 1))
loaded=$(wc -l < "$work/rows.tsv")
psql_q "CREATE EXTENSION rulake; CREATE TABLE src (id int PRIMARY KEY, v vector($dim)); COPY src FROM '$work/rows.tsv'; ANALYZE src;"
echo "dataset: $fvecs, $loaded rows of $dim dimensions; pgbench runs of ${seconds}s"

cat > "$work/insert.sql" <<SQL
\\set id random(1, $loaded)
INSERT INTO items (v) SELECT v FROM src WHERE id = :id;
SQL
chmod 644 "$work/insert.sql"

# Prints the rows/s of one pgbench run into a fresh `items` (with or without the index).
insert_rate() {  # CLIENTS WITH_INDEX
  psql_q "DROP TABLE IF EXISTS items; SET client_min_messages = warning; CREATE TABLE items (id bigserial, v vector($dim)); INSERT INTO items (v) SELECT v FROM src; VACUUM ANALYZE items;"
  [ "$2" = 1 ] && psql_q "CREATE INDEX items_v ON items USING rabitq (v);"
  psql_q "CHECKPOINT;"
  pg "'$bindir/pgbench' -n -M prepared -c $1 -j $1 -T $seconds -f '$work/insert.sql' -h '$work' -p $port postgres" \
    | awk '/^tps/ { printf "%.0f\n", $3; exit }'
}

for clients in 1 2; do
  plain=$(insert_rate $clients 0)
  indexed=$(insert_rate $clients 1)
  ratio=$(awk -v a="$indexed" -v b="$plain" 'BEGIN { printf "%.2f", a / b }')
  echo "insert, $clients client(s): no vector index $plain rows/s, rabitq index $indexed rows/s (ratio $ratio)"
done

# VACUUM after deleting 10% of the rows, with and without the index.
vacuum_time() {  # WITH_INDEX
  psql_q "DROP TABLE IF EXISTS items; SET client_min_messages = warning; CREATE TABLE items (id bigserial, v vector($dim)); INSERT INTO items (v) SELECT v FROM src; VACUUM ANALYZE items;"
  [ "$1" = 1 ] && psql_q "CREATE INDEX items_v ON items USING rabitq (v);"
  psql_q "DELETE FROM items WHERE id % 10 = 0; CHECKPOINT;"
  local start end
  start=$(date +%s.%N)
  psql_q "VACUUM items;"
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }'
  if [ "$1" = 1 ]; then
    echo -n " s (index: $(psql_q "SELECT pg_size_pretty(pg_relation_size('items_v')) || ', ' || (rabitq_index_summary('items_v')->>'tuples') || ' tuples after, ' || (SELECT count(*) FROM rabitq_verify('items_v')) || ' problems'"))"
  else
    echo -n " s"
  fi
}
echo "VACUUM after deleting 10% of $loaded rows: with the rabitq index $(vacuum_time 1); without it $(vacuum_time 0)"
