#!/usr/bin/env bash
# The ruLake benchmark. Starts a private cluster, loads the SIFT 50k data set (128 dims) and measures:
#   1. the overhead of rulake.search over a direct ORDER BY embedding <-> q LIMIT 10 on the same rows
#      with the same kind of rabitq index: QPS of both through pgbench -M prepared (target: ratio >= 0.9).
#      The two alternate in short rounds and the ratio is the median of the per-round ratios, so that
#      the load of a shared machine hits both alike;
#   2. prime time (rulake.refresh of a collection on the table: copy into the cache relation, rabitq
#      index build, analyze), measured on the loaded rows and extrapolated linearly to one million;
#   3. rulake.search_batch throughput (queries per second, 100 queries per call);
#   4. recall@10 of both paths against the data set's exact ground truth, for reference.
#
# Usage: [RULAKE_PREFIX=/tmp/pg-x] [ROWS=50000] [DURATION=10] [CLIENTS=2] [ROUNDS=6] bench/lake/run.sh
# Needs the extension built and installed into RULAKE_PREFIX (scripts/private-pg.sh does that) or into
# the system server. Run as root (the cluster runs as postgres). Prints a summary at the end and writes
# it to bench/lake/results-latest.txt.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rows=${ROWS:-50000}
duration=${DURATION:-10}
clients=${CLIENTS:-2}
rounds=${ROUNDS:-6}
shared=${RULAKE_SHARED:-$root/../shared}
data=$shared/data/sift-128-50k
if [ -n "${RULAKE_PREFIX:-}" ]; then
  bindir=$(bash "$root/scripts/private-pg.sh" "$RULAKE_PREFIX" | tail -n1)
else
  bindir=$(pg_config --bindir)
fi

work=$(mktemp -d /tmp/rulake-bench.XXXXXX)
chmod 755 "$work"
port=$((20000 + RANDOM % 20000))
as_pg() { su postgres -s /bin/bash -c "$1"; }
psql_q() { as_pg "'$bindir/psql' -h '$work' -p $port -X -q -A -t -v ON_ERROR_STOP=1 postgres" ; }
cleanup() { as_pg "'$bindir/pg_ctl' -D '$work/data' -m fast stop" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

echo "== preparing $rows rows of $data"
perl "$here/fvecs_to_copy.pl" "$data/base.fvecs" "$rows" >"$work/base.copy"
perl "$here/fvecs_to_copy.pl" "$data/query.fvecs" 1000 >"$work/query.copy"
chown -R postgres "$work"
as_pg "'$bindir/initdb' -D '$work/data' -A trust" >/dev/null
cat >>"$work/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$work'
port = $port
shared_buffers = 512MB
max_connections = 20
synchronous_commit = on
CONF
as_pg "'$bindir/pg_ctl' -D '$work/data' -l '$work/log' -w start" >/dev/null

psql_q <<SQL
CREATE EXTENSION rulake;
CREATE TABLE items (id bigint, embedding vector(128));
COPY items FROM '$work/base.copy';
CREATE TABLE queries (i integer PRIMARY KEY, v vector(128));
COPY queries FROM '$work/query.copy';
VACUUM ANALYZE items;
VACUUM ANALYZE queries;
SQL

ms() { psql_q <<<"SELECT extract(epoch FROM clock_timestamp() - '$1'::timestamptz) * 1000"; }

echo "== direct rabitq index on the table"
start=$(psql_q <<<"SELECT clock_timestamp()")
psql_q <<<"CREATE INDEX items_rabitq ON items USING rabitq (embedding vector_l2_ops); ANALYZE items;"
index_ms=$(ms "$start")

echo "== prime"
psql_q <<<"SELECT rulake.create_backend('db', 'local'); SELECT rulake.create_collection('sift', 'db', 'items');" >/dev/null
start=$(psql_q <<<"SELECT clock_timestamp()")
outcome=$(psql_q <<<"SELECT rulake.refresh('sift')")
prime_ms=$(ms "$start")
[ "$outcome" = primed ] || { echo "unexpected refresh outcome: $outcome"; exit 1; }
prime_per_million_s=$(awk -v ms="$prime_ms" -v n="$rows" 'BEGIN { printf "%.1f", ms / 1000 * 1000000 / n }')

cat >"$work/direct.sql" <<'SQL'
\set i random(0, 999)
SELECT id FROM items ORDER BY embedding <-> (SELECT v FROM queries WHERE i = :i) LIMIT 10;
SQL
cat >"$work/lake.sql" <<'SQL'
\set i random(0, 999)
SELECT id FROM rulake.search('sift', (SELECT v FROM queries WHERE i = :i), 10);
SQL
cat >"$work/batch.sql" <<'SQL'
\set i random(0, 899)
SELECT count(*) FROM rulake.search_batch('sift', (SELECT array_agg(v ORDER BY i) FROM queries WHERE i >= :i AND i < :i + 100), 10);
SQL
chown postgres "$work"/*.sql
bench() {  # SCRIPT SECONDS -> tps
  as_pg "'$bindir/pgbench' -h '$work' -p $port -n -M prepared -c $clients -j $clients -T $2 -f '$work/$1' postgres" 2>&1 |
    awk '/^tps = / { print $3 }'
}
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

echo "== warm-up"
bench direct.sql 5 >/dev/null
bench lake.sql 5 >/dev/null
: >"$work/direct.tps"; : >"$work/lake.tps"; : >"$work/ratio"
for r in $(seq 1 "$rounds"); do
  # Alternate which goes first, so neither always follows the other.
  if [ $((r % 2)) -eq 1 ]; then d=$(bench direct.sql "$duration"); l=$(bench lake.sql "$duration")
  else l=$(bench lake.sql "$duration"); d=$(bench direct.sql "$duration"); fi
  echo "$d" >>"$work/direct.tps"; echo "$l" >>"$work/lake.tps"
  awk -v a="$l" -v b="$d" 'BEGIN { printf "%.4f\n", a / b }' >>"$work/ratio"
  echo "== round $r of $rounds (${duration}s each): direct $d, rulake.search $l tps"
done
direct_qps=$(median <"$work/direct.tps")
lake_qps=$(median <"$work/lake.tps")
ratio=$(median <"$work/ratio")
ratios=$(tr '\n' ' ' <"$work/ratio")

echo "== search_batch"
batch_tps=$(bench batch.sql "$duration")
batch_qps=$(awk -v t="$batch_tps" 'BEGIN { printf "%.1f", t * 100 }')

echo "== recall@10 against the ground truth (first 200 queries)"
perl -e '
  open(my $fh, "<:raw", $ARGV[0]) or die; my $q = 0;
  while ($q < 200 && read($fh, my $h, 4) == 4) { my $n = unpack("l<", $h); read($fh, my $b, 4 * $n);
    my @ids = unpack("l<$n", $b); print "$q\t", join(",", @ids[0..9]), "\n"; $q++ }' "$data/groundtruth.ivecs" >"$work/truth.copy"
chown postgres "$work/truth.copy"
recall=$(psql_q <<SQL
CREATE TABLE truth (i integer, ids text);
COPY truth FROM '$work/truth.copy';
WITH t AS (SELECT i, string_to_array(ids, ',')::bigint[] AS ids FROM truth)
SELECT round(avg((SELECT count(*) FROM rulake.search('sift', q.v, 10) s WHERE s.id = ANY (t.ids)) / 10.0), 4) || ' ' ||
       round(avg((SELECT count(*) FROM (SELECT id FROM items ORDER BY embedding <-> q.v LIMIT 10) d WHERE d.id = ANY (t.ids)) / 10.0), 4)
  FROM t JOIN queries q USING (i);
SQL
)

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
summary=$(cat <<TXT
ruLake benchmark, $(date -u +%Y-%m-%d) - SIFT ${rows} x 128 (L2), $clients pgbench clients, median of $rounds x ${duration}s runs
machine: $(nproc) cores ($cpu), shared with other work; shared_buffers 512MB
rulake.search QPS:            $lake_qps (median)
direct ORDER BY <-> LIMIT 10: $direct_qps (median)
QPS ratio (search / direct):  $ratio   (target >= 0.9; median of per-round ratios: $ratios)
search_batch (100 per call):  $batch_qps queries/s
prime ($rows rows):           $(printf '%.0f' "$prime_ms") ms   -> about $prime_per_million_s s per million vectors (linear extrapolation)
CREATE INDEX on the table:    $(printf '%.0f' "$index_ms") ms (for comparison)
recall@10 (search, direct):   $recall
TXT
)
echo
echo "$summary"
echo "$summary" >"$here/results-latest.txt"
