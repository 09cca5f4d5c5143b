-- rabitq: builds are deterministic; empty, truncated and unlogged tables; inserts, deletes and vacuum.
SET jit = off;
CREATE TABLE pts (id int, v vector(8));
INSERT INTO pts SELECT i, (SELECT array_agg(cos(i * 0.7 + j * j)) FROM generate_series(1, 8) j)
FROM generate_series(1, 4000) i;

-- Same rows and seed: byte-identical indexes, whatever the number of build threads.
SET rabitq.build_threads = 1;
CREATE INDEX pts_a ON pts USING rabitq (v) WITH (lists = 8, seed = 11);
SET rabitq.build_threads = 2;
CREATE INDEX pts_b ON pts USING rabitq (v) WITH (lists = 8, seed = 11);
CREATE INDEX pts_c ON pts USING rabitq (v) WITH (lists = 8, seed = 12);
CREATE INDEX pts_d ON pts USING rabitq (v) WITH (lists = 8, seed = 11, rerank = 'index');
SELECT rabitq_index_checksum('pts_a') = rabitq_index_checksum('pts_b') AS same_seed_same_bytes,
       rabitq_index_checksum('pts_a') <> rabitq_index_checksum('pts_c') AS other_seed_other_bytes,
       rabitq_index_checksum('pts_a') <> rabitq_index_checksum('pts_d') AS other_rerank_other_bytes,
       length(rabitq_index_checksum('pts_a')) AS hex_digits;
SELECT rabitq_index_checksum('pts_a') AS before_reindex \gset
REINDEX INDEX pts_a;
SELECT rabitq_index_checksum('pts_a') = :'before_reindex' AS reindex_same_bytes;
SELECT s->'lists' AS lists, s->'tuples' AS tuples, (s->'list_tuples'->>'min')::int > 0 AS no_empty_list,
       (s->'pages'->>'total')::int = pg_relation_size('pts_a') / current_setting('block_size')::int AS pages_match
FROM rabitq_index_summary('pts_a') s;
DROP INDEX pts_b, pts_c, pts_d;

-- The build stays within maintenance_work_mem: records spill to disk through a sort (same bytes as
-- an in-memory build), and the k-means sample shrinks, with a notice, when it cannot fit.
CREATE TABLE many (v vector(8));
INSERT INTO many SELECT (SELECT array_agg(sin(i * 0.3 + j)) FROM generate_series(1, 8) j) FROM generate_series(1, 12000) i;
CREATE INDEX many_in_memory ON many USING rabitq (v) WITH (lists = 10);
SET maintenance_work_mem = '1MB';
CREATE INDEX many_spilled ON many USING rabitq (v) WITH (lists = 10);
SELECT rabitq_index_checksum('many_in_memory') = rabitq_index_checksum('many_spilled') AS spilled_build_same_bytes;
DROP TABLE many;
CREATE TABLE big (v vector(512));
INSERT INTO big SELECT (SELECT array_agg(sin(i + j)) FROM generate_series(1, 512) j) FROM generate_series(1, 600) i;
CREATE INDEX big_idx ON big USING rabitq (v);
SELECT s->'kmeans_sample' AS kmeans_sample, s->'tuples' AS tuples FROM rabitq_index_summary('big_idx') s;
RESET maintenance_work_mem;
DROP TABLE big;

-- A long build stops when the statement is cancelled (here by statement_timeout, during k-means: one
-- thread, 1000 lists over 20000 rows take seconds, far beyond the timeout on any machine we run on).
CREATE TABLE slow (v vector(64));
INSERT INTO slow SELECT (SELECT array_agg(sin(i * 0.1 + j)) FROM generate_series(1, 64) j) FROM generate_series(1, 20000) i;
SET rabitq.build_threads = 1;
SET statement_timeout = '100ms';
CREATE INDEX slow_idx ON slow USING rabitq (v) WITH (lists = 1000);
RESET statement_timeout;
RESET rabitq.build_threads;
SELECT count(*) AS slow_idx_exists FROM pg_class WHERE relname = 'slow_idx';
DROP TABLE slow;

-- Inserts land in their nearest list and are found by scans; deletes disappear after VACUUM.
SET enable_seqscan = off;
INSERT INTO pts SELECT i, (SELECT array_agg(cos(i * 0.7 + j * j)) FROM generate_series(1, 8) j)
FROM generate_series(4001, 4600) i;
SELECT rabitq_index_summary('pts_a')->'tuples' AS tuples_after_insert;
SELECT id FROM pts ORDER BY v <-> (SELECT v FROM pts WHERE id = 4321) LIMIT 1;
DELETE FROM pts WHERE id % 2 = 0;
-- (relaxed order: a scan to the end returns every row the index holds)
SET rabitq.iterative_scan = relaxed_order;
SELECT count(*) AS visible_rows FROM (SELECT id FROM pts ORDER BY v <-> '[1,1,1,1,1,1,1,1]' LIMIT 10000) s;
VACUUM pts;
SELECT rabitq_index_summary('pts_a')->'tuples' AS tuples_after_vacuum;
SELECT count(*) AS rows_after_vacuum, count(*) FILTER (WHERE id % 2 = 0) AS deleted_rows_returned
FROM (SELECT id FROM pts ORDER BY v <-> '[1,1,1,1,1,1,1,1]' LIMIT 10000) s;
RESET rabitq.iterative_scan;
SELECT id FROM pts ORDER BY v <-> (SELECT v FROM pts WHERE id = 4321) LIMIT 1;
-- Many inserts into one list grow its chain by new pages.
INSERT INTO pts SELECT 5000 + i, '[1,1,1,1,1,1,1,1]' FROM generate_series(1, 1000) i;
SELECT (rabitq_index_summary('pts_a')->'list_tuples'->>'max')::int >= 1000 AS one_list_grew,
       rabitq_index_summary('pts_a')->'tuples' AS tuples;
SELECT count(*) FROM (SELECT id FROM pts ORDER BY v <-> '[1,1,1,1,1,1,1,1]' LIMIT 1000) s WHERE id > 5000;
RESET enable_seqscan;
DROP TABLE pts;

-- An index on an empty table has one list (the zero centroid) and works as rows arrive.
CREATE TABLE empty_t (id int, v vector(3));
CREATE INDEX empty_idx ON empty_t USING rabitq (v) WITH (lists = 10);
SELECT s->'lists' AS lists, s->'tuples' AS tuples FROM rabitq_index_summary('empty_idx') s;
SET enable_seqscan = off;
SELECT id FROM empty_t ORDER BY v <-> '[1,2,3]' LIMIT 5;
INSERT INTO empty_t VALUES (1, '[1,2,3]'), (2, '[3,2,1]'), (3, NULL), (4, '[1,2,4]');
SELECT id, v <-> '[1,2,3]' AS distance FROM empty_t ORDER BY v <-> '[1,2,3]' LIMIT 5;
-- TRUNCATE rebuilds it empty; inserts after it work.
TRUNCATE empty_t;
SELECT id FROM empty_t ORDER BY v <-> '[1,2,3]' LIMIT 5;
INSERT INTO empty_t VALUES (5, '[9,9,9]'), (6, '[1,1,1]');
SELECT id FROM empty_t ORDER BY v <-> '[1,2,3]' LIMIT 5;
SELECT rabitq_index_summary('empty_idx')->'tuples' AS tuples;
RESET enable_seqscan;
DROP TABLE empty_t;

-- TRUNCATE of a table created in the same transaction rebuilds the index in place (same relfilenode):
-- backends must not keep using the old centroids.
BEGIN;
CREATE TABLE same_xact (id int, v vector(3));
INSERT INTO same_xact SELECT i, ARRAY[i, i % 7, i % 3] FROM generate_series(1, 3000) i;
CREATE INDEX same_xact_idx ON same_xact USING rabitq (v) WITH (lists = 8);
INSERT INTO same_xact VALUES (5000, '[1,1,1]');
SELECT pg_relation_filenode('same_xact_idx') AS filenode_before \gset
TRUNCATE same_xact;
SELECT pg_relation_filenode('same_xact_idx') = :filenode_before AS same_filenode;
INSERT INTO same_xact VALUES (1, '[1,2,3]'), (2, '[3,2,1]');
SET LOCAL enable_seqscan = off;
SELECT id FROM same_xact ORDER BY v <-> '[1,2,3]' LIMIT 5;
SELECT s->'lists' AS lists, s->'tuples' AS tuples FROM rabitq_index_summary('same_xact_idx') s;
COMMIT;
DROP TABLE same_xact;

-- Unlogged tables get an init fork holding an empty index.
CREATE UNLOGGED TABLE ul (id int, v vector(4));
INSERT INTO ul SELECT i, ARRAY[i, i % 3, i % 5, 1] FROM generate_series(1, 300) i;
CREATE INDEX ul_idx ON ul USING rabitq (v) WITH (lists = 3);
SELECT pg_relation_size('ul_idx', 'init') > 0 AS has_init_fork;
SET enable_seqscan = off;
SELECT id FROM ul ORDER BY v <-> '[100,1,0,1]' LIMIT 3;
INSERT INTO ul VALUES (1000, '[100.25,1,0,1]');
SELECT id FROM ul ORDER BY v <-> '[100.25,1,0,1]' LIMIT 1;
RESET enable_seqscan;
DROP TABLE ul;

-- Temporary tables work too (no WAL at all).
CREATE TEMP TABLE tmp_t (id int, v vector(2));
INSERT INTO tmp_t SELECT i, ARRAY[i, -i] FROM generate_series(1, 100) i;
CREATE INDEX ON tmp_t USING rabitq (v);
SET enable_seqscan = off;
SELECT id FROM tmp_t ORDER BY v <-> '[50,-50]' LIMIT 3;
RESET enable_seqscan;
