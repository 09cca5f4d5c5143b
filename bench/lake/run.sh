#!/usr/bin/env bash
# The ruLake benchmark. Starts a private cluster, loads the SIFT 50k data set (128 dims) and measures:
#   1. the overhead of rulake.search over a direct ORDER BY embedding <-> q LIMIT 10 on the same rows
#      with the same kind of rabitq index, through pgbench -M prepared (target: QPS ratio >= 0.9), two
#      ways: (a) one pgbench run mixing both scripts 1:1 - every client picks one at random per
#      transaction, so both meet the same load - where the QPS ratio is the inverse ratio of the two
#      scripts' mean latencies (median over ROUNDS runs); (b) separate runs of each, alternating, where
#      the ratio is that of their transactions per second (median of per-round ratios; on a shared
#      machine the load changes between runs, so this one is noisier);
#   2. prime time (rulake.refresh of a collection on the table: copy into the cache relation, rabitq
#      index build, analyze), measured on a fifth of the rows and on all of them, and extrapolated to a
#      million (linearly, and with the growth exponent measured between the two);
#   3. rulake.search_batch throughput (queries per second, 100 queries per call);
#   4. recall@10 of both paths against the data set's exact ground truth, for reference.
#
# Usage: [RULAKE_PREFIX=/tmp/pg-x] [ROWS=50000] [DURATION=10] [CLIENTS=2] [ROUNDS=5] bench/lake/run.sh
# Needs the extension built and installed into RULAKE_PREFIX (scripts/private-pg.sh does that) or into
# the system server. Run as root (the cluster runs as postgres). Prints a summary at the end and writes
# it to bench/out/lake-results.txt (bench/lake/results.md keeps a commented copy).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rows=${ROWS:-50000}
duration=${DURATION:-10}
clients=${CLIENTS:-2}
rounds=${ROUNDS:-5}
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
# A fifth of the rows first, to see how prime time grows, then all of them.
small=$((rows / 5))
psql_q <<SQL >/dev/null
CREATE TABLE items_small AS SELECT * FROM items WHERE id < $small;
ANALYZE items_small;
SELECT rulake.create_backend('db', 'local');
SELECT rulake.create_collection('sift_small', 'db', 'items_small');
SELECT rulake.create_collection('sift', 'db', 'items');
SQL
prime() {  # COLLECTION -> ms
  local start outcome
  start=$(psql_q <<<"SELECT clock_timestamp()")
  outcome=$(psql_q <<<"SELECT rulake.refresh('$1')")
  [ "$outcome" = primed ] || { echo "unexpected refresh outcome: $outcome" >&2; exit 1; }
  ms "$start"
}
prime_small_ms=$(prime sift_small)
prime_ms=$(prime sift)
# Extrapolation to a million rows: linear, and with the growth exponent measured between the two sizes.
prime_per_million_s=$(awk -v ms="$prime_ms" -v n="$rows" 'BEGIN { printf "%.1f", ms / 1000 * 1000000 / n }')
prime_exponent=$(awk -v a="$prime_small_ms" -v b="$prime_ms" 'BEGIN { printf "%.2f", log(b / a) / log(5) }')
prime_per_million_fit_s=$(awk -v ms="$prime_ms" -v n="$rows" -v e="$prime_exponent" \
  'BEGIN { printf "%.1f", ms / 1000 * (1000000 / n) ^ e }')

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
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.4f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo "== warm-up"
bench direct.sql 5 >/dev/null
bench lake.sql 5 >/dev/null
# (a) mixed runs: per-script mean latencies of one run.
: >"$work/mixed"
for r in $(seq 1 "$rounds"); do
  as_pg "'$bindir/pgbench' -h '$work' -p $port -n -M prepared -c $clients -j $clients -T $duration \
         -f '$work/direct.sql@1' -f '$work/lake.sql@1' postgres" 2>&1 |
    awk '/^SQL script 1/ { s = 1 } /^SQL script 2/ { s = 2 }
         /latency average/ && s { l[s] = $(NF - 1) }
         END { printf "%.4f %s %s\n", l[1] / l[2], l[1], l[2] }' | tee -a "$work/mixed" |
    awk -v r="$r" -v n="$rounds" '{ printf "== mixed round %d of %d: latency direct %s ms, rulake.search %s ms, ratio %s\n", r, n, $2, $3, $1 }'
done
mixed_ratio=$(cut -d' ' -f1 "$work/mixed" | median)
mixed_ratios=$(cut -d' ' -f1 "$work/mixed" | tr '\n' ' ')
mixed_direct_ms=$(cut -d' ' -f2 "$work/mixed" | median)
mixed_lake_ms=$(cut -d' ' -f3 "$work/mixed" | median)

# (b) separate, alternating runs.
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
ruLake benchmark, $(date -u +%Y-%m-%d) - SIFT ${rows} x 128 (L2), $clients pgbench clients, $rounds rounds of ${duration}s per measurement
machine: $(nproc) cores ($cpu), shared with other work; shared_buffers 512MB
QPS ratio, mixed runs:        $mixed_ratio   (target >= 0.9; mean latency direct $mixed_direct_ms ms / rulake.search $mixed_lake_ms ms; per run: $mixed_ratios)
QPS ratio, separate runs:     $ratio   (median of per-round ratios: $ratios)
rulake.search QPS:            $lake_qps (median of separate runs)
direct ORDER BY <-> LIMIT 10: $direct_qps (median of separate runs)
search_batch (100 per call):  $batch_qps queries/s
prime ($small / $rows rows):   $(printf '%.0f' "$prime_small_ms") / $(printf '%.0f' "$prime_ms") ms (copy + rabitq index build + analyze; time ~ rows^$prime_exponent)
prime per million vectors:    about $prime_per_million_s s if linear, $prime_per_million_fit_s s with the measured exponent (extrapolated, not measured)
CREATE INDEX on the table:    $(printf '%.0f' "$index_ms") ms (for comparison)
recall@10 (search, direct):   $recall
TXT
)
echo
echo "$summary"
mkdir -p "$root/bench/out"
echo "$summary" >"$root/bench/out/lake-results.txt"
