-- avg(vector) and sum(vector).
SELECT avg(v), sum(v) FROM unnest(ARRAY['[1,2,3]'::vector, '[3,5,7]']) v;
SELECT avg(v), sum(v) FROM unnest(ARRAY['[1,2,3]'::vector, '[3,5,7]', NULL]) v;
SELECT avg(v), sum(v) FROM unnest(ARRAY[]::vector[]) v;
SELECT avg(v) IS NULL AS avg_null, sum(v) IS NULL AS sum_null FROM unnest(ARRAY[NULL]::vector[]) v;
SELECT avg(v) FROM unnest(ARRAY['[1,2]'::vector, '[3]']) v;
SELECT sum(v) FROM unnest(ARRAY['[1,2]'::vector, '[3]']) v;
-- avg sums in double precision: no overflow while the mean fits a float.
SELECT avg(v) FROM unnest(ARRAY['[3e38]'::vector, '[3e38]']) v;
SELECT sum(v) FROM unnest(ARRAY['[3e38]'::vector, '[3e38]']) v;
-- Grouped, ordered and windowed use.
SELECT g, avg(v), sum(v), count(*) FROM (VALUES (1, '[1,1]'::vector), (1, '[3,5]'), (2, '[10,20]'), (2, '[0,0]'), (2, '[2,-2]')) t(g, v)
GROUP BY g ORDER BY g;
SELECT i, avg(v) OVER w, sum(v) OVER w FROM (VALUES (1, '[2]'::vector), (2, '[4]'), (3, '[9]')) t(i, v)
WINDOW w AS (ORDER BY i ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) ORDER BY i;

-- The transition functions called directly (the state is {count, sums...}).
SELECT vector_accum('{0}', '[1,2,3]'), vector_accum('{0,0,0,0}', '[1,2,3]'), vector_accum('{2,4,4,4}', '[1,2,3]');
SELECT vector_combine('{1,2}', '{3,4}'), vector_combine('{0}', '{2,2,4}'), vector_combine('{2,2,4}', '{0}'), vector_combine('{0}', '{0}');
SELECT vector_avg('{2,4,5}'), vector_avg('{0}') IS NULL AS empty;
SELECT vector_accum('{}', '[1,2,3]');
SELECT vector_accum('{{0}}', '[1,2,3]');
SELECT vector_accum('{0,NULL}', '[1,2,3]');
SELECT vector_accum('{0,0}', '[1,2,3]');
SELECT vector_accum('{1,Infinity,0}', '[1,0]');
SELECT vector_combine('{{1,2}}', '{3,4}');
SELECT vector_combine('{1,2}', '{{3,4}}');
SELECT vector_combine('{}', '{0}');
SELECT vector_combine('{0}', '{}');
SELECT vector_combine('{1,2}', '{1,2,3}');
SELECT vector_combine('{1,1.5e308}', '{1,1.5e308}');
SELECT vector_combine('{0}', (SELECT array_agg(n) FROM generate_series(1, 16002) n));
SELECT vector_combine((SELECT array_agg(n) FROM generate_series(1, 16002) n), '{0}');
SELECT vector_combine((SELECT array_agg(n) FROM generate_series(1, 16002) n), (SELECT array_agg(n) FROM generate_series(1, 16002) n));
SELECT vector_avg('{}');
SELECT vector_avg('{1}');
SELECT vector_avg(array_agg(n)) FROM generate_series(1, 16002) n;
SELECT vector_avg('{1,1e39}');

-- Parallel aggregation: partial states from workers are combined; the result equals the serial one.
CREATE TABLE vec_agg (id int, g int, v vector(3));
INSERT INTO vec_agg SELECT i, i % 3, ARRAY[i % 7, i % 11 - 5, (i * 13) % 101]::vector FROM generate_series(1, 30000) i;
ANALYZE vec_agg;
EXPLAIN (COSTS OFF) SELECT avg(v), sum(v) FROM vec_agg;
SELECT avg(v) AS serial_avg, sum(v) AS serial_sum FROM vec_agg;
SELECT g, avg(v), sum(v) FROM vec_agg GROUP BY g ORDER BY g;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT avg(v), sum(v) FROM vec_agg;
SELECT avg(v) AS parallel_avg, sum(v) AS parallel_sum FROM vec_agg;
-- Partial states without rows (count 0) combine with each other and with non-empty ones (the
-- filters hide from the planner how few rows they keep, so it still plans partial aggregation).
EXPLAIN (COSTS OFF) SELECT avg(v), sum(v) FROM vec_agg WHERE id + 0 < 0;
SELECT avg(v) IS NULL AS avg_null, sum(v) IS NULL AS sum_null FROM vec_agg WHERE id + 0 < 0;
EXPLAIN (COSTS OFF) SELECT avg(v), sum(v) FROM vec_agg WHERE id % 30000 = 12345;
SELECT avg(v), sum(v) FROM vec_agg WHERE id % 30000 = 12345;
-- With the leader only gathering, every partial state comes from a worker.
SET parallel_leader_participation = off;
SELECT avg(v) AS workers_avg, sum(v) AS workers_sum FROM vec_agg;
SET enable_hashagg = off;
EXPLAIN (COSTS OFF) SELECT g, avg(v), sum(v) FROM vec_agg GROUP BY g ORDER BY g;
SELECT g, avg(v), sum(v) FROM vec_agg GROUP BY g ORDER BY g;
RESET enable_hashagg;
RESET parallel_leader_participation;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;
DROP TABLE vec_agg;
