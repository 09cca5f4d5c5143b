-- rabitq: ordered scans return rows in exact distance order.
SET jit = off;
CREATE TABLE items (id int PRIMARY KEY, category int, v vector(16));
INSERT INTO items
SELECT i, i % 7, (SELECT array_agg(sin(i * 0.37 + j * 1.1) + cos(i * 0.011 * j)) FROM generate_series(1, 16) j)
FROM generate_series(1, 3000) i;
INSERT INTO items VALUES (3001, 0, NULL), (3002, 0, NULL);
ANALYZE items;
CREATE INDEX items_l2 ON items USING rabitq (v) WITH (lists = 12);
CREATE INDEX items_ip ON items USING rabitq (v vector_ip_ops) WITH (lists = 12);
CREATE INDEX items_cos ON items USING rabitq (v vector_cosine_ops) WITH (lists = 12, rerank = 'index');
SELECT rabitq_index_summary('items_l2')->'tuples' AS l2_tuples, rabitq_index_summary('items_cos')->'tuples' AS cos_tuples;

-- The planner picks the index for ORDER BY distance LIMIT, and not for anything else.
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <-> (SELECT v FROM items WHERE id = 1) LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <#> '[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <=> '[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM items WHERE v = '[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]';
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <+> '[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT count(*) FROM items;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY id LIMIT 5;

-- Exact order: with every list probed the index returns the sequential scan's top rows, with
-- non-decreasing distances, for each metric.
CREATE FUNCTION top_ids(q vector, op text, k int, use_index bool) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE result int[];
BEGIN
  PERFORM set_config('enable_indexscan', CASE WHEN use_index THEN 'on' ELSE 'off' END, true);
  PERFORM set_config('enable_seqscan', CASE WHEN use_index THEN 'off' ELSE 'on' END, true);
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM items WHERE v IS NOT NULL ORDER BY v %s $1 LIMIT $2) s', op)
    INTO result USING q, k;
  RETURN result;
END $$;
CREATE FUNCTION index_distances(q vector, op text, k int) RETURNS float8[] LANGUAGE plpgsql AS $$
DECLARE result float8[];
BEGIN
  PERFORM set_config('enable_seqscan', 'off', true);
  EXECUTE format('SELECT array_agg(d) FROM (SELECT v %s $1 AS d FROM items ORDER BY v %s $1 LIMIT $2) s', op, op)
    INTO result USING q, k;
  RETURN result;
END $$;
CREATE FUNCTION non_decreasing(a float8[]) RETURNS bool LANGUAGE sql AS $$
  SELECT coalesce(bool_and(a[i] <= a[i + 1]), true) FROM generate_series(1, array_length(a, 1) - 1) i $$;
SET rabitq.probes = 12;
SELECT op, count(*) AS queries,
       count(*) FILTER (WHERE top_ids(q.v, op, 25, true) = top_ids(q.v, op, 25, false)) AS same_as_seqscan,
       count(*) FILTER (WHERE non_decreasing(index_distances(q.v, op, 100))) AS ordered,
       min(array_length(index_distances(q.v, op, 100), 1)) AS rows_returned
FROM (SELECT v FROM items WHERE id % 300 = 17) q, unnest(ARRAY['<->', '<#>', '<=>']) op
GROUP BY op ORDER BY op;
-- With the default (automatic) probes the first rows are still in order and mostly the true ones.
RESET rabitq.probes;
SELECT op, count(*) FILTER (WHERE non_decreasing(index_distances(q.v, op, 50))) AS ordered,
       avg((SELECT count(*) FROM unnest(top_ids(q.v, op, 10, true)) x
            WHERE x = ANY(top_ids(q.v, op, 10, false))))::numeric(4, 2) AS recall_at_10
FROM (SELECT v FROM items WHERE id % 300 = 17) q, unnest(ARRAY['<->', '<#>', '<=>']) op
GROUP BY op ORDER BY op;

-- Query edge cases.
SET enable_seqscan = off;
SELECT id FROM items ORDER BY v <-> (SELECT NULL::vector) LIMIT 3;
SELECT id FROM items ORDER BY v <-> '[1,2,3]' LIMIT 3;
SELECT id FROM items ORDER BY v <=> (SELECT '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]'::vector) LIMIT 3;
-- NULL vectors are not indexed, so an index scan never returns them. In relaxed order a scan that
-- runs to the end returns every other row exactly once; strict order skips the few rows of later lists
-- that are closer than rows already returned.
SET rabitq.iterative_scan = relaxed_order;
SELECT count(*) AS all_rows, count(DISTINCT id) AS distinct_rows, count(*) FILTER (WHERE v IS NULL) AS null_rows
FROM (SELECT id, v FROM items ORDER BY v <-> '[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]' LIMIT 5000) s;
SET rabitq.iterative_scan = strict_order;
SELECT count(*) > 2800 AS most_rows, count(DISTINCT id) = count(*) AS distinct_rows,
       non_decreasing(array_agg(d)) AS ordered
FROM (SELECT id, v <-> '[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]' AS d FROM items
      ORDER BY v <-> '[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]' LIMIT 5000) s;
-- Zero vectors have no cosine distance: the cosine index skips them, the L2 index does not.
INSERT INTO items VALUES (4000, 3, '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]');
SELECT count(*) FILTER (WHERE id = 4000) AS zero_rows_cosine
FROM (SELECT id FROM items ORDER BY v <=> '[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]' LIMIT 5000) s;
SELECT id FROM items ORDER BY v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 1;

-- Iterative scan: a selective filter still gets its rows from further lists. 10 rows match
-- category = 3 AND id % 50 = 0; one list holds few of them.
SET rabitq.probes = 1;
SELECT count(*) AS rows_category_3 FROM (
  SELECT id FROM items WHERE category = 3 ORDER BY v <-> (SELECT v FROM items WHERE id = 10) LIMIT 10) s;
CREATE FUNCTION rare_rows() RETURNS TABLE (found bigint, ordered bool) LANGUAGE sql AS $$
  SELECT count(*), non_decreasing(array_agg(d)) FROM (
    SELECT v <-> (SELECT v FROM items WHERE id = 10) AS d FROM items WHERE category = 3 AND id % 50 = 0
    ORDER BY v <-> (SELECT v FROM items WHERE id = 10) LIMIT 10) s $$;
SET rabitq.iterative_scan = relaxed_order;
SELECT * FROM rare_rows();
SET rabitq.iterative_scan = strict_order;
SELECT found >= 6 AS most_found, ordered FROM rare_rows();
SET rabitq.iterative_scan = off;
SELECT found < 6 AS few_found, ordered FROM rare_rows();
SET rabitq.iterative_scan = relaxed_order;
SET rabitq.max_probes = 2;
SELECT found < 10 AS bounded_by_max_probes FROM rare_rows();
RESET rabitq.max_probes;
RESET rabitq.iterative_scan;
-- Strict order: distances never decrease, even across continued lists.
SELECT non_decreasing(array_agg(d)) AS ordered FROM (
  SELECT v <-> (SELECT v FROM items WHERE id = 10) AS d FROM items WHERE category = 3
  ORDER BY v <-> (SELECT v FROM items WHERE id = 10) LIMIT 300) s;
RESET rabitq.probes;

-- A nested loop rescans the index with a new query per outer row.
SELECT q.id, (SELECT i.id FROM items i ORDER BY i.v <-> q.v LIMIT 1) AS nearest
FROM items q WHERE q.id IN (5, 500, 2500) ORDER BY q.id;

RESET enable_seqscan;
DROP TABLE items;
DROP FUNCTION top_ids, index_distances, rare_rows, non_decreasing;
