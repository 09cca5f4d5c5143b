-- rabitq write path: an index built on an empty table and filled by inserts, the REINDEX advice,
-- vacuum unlinking emptied pages, the integrity check, REINDEX (CONCURRENTLY), CREATE INDEX
-- CONCURRENTLY and partitioned tables.
SET jit = off;
SET enable_seqscan = off;
CREATE TABLE w (id int, v vector(8));
CREATE INDEX w_idx ON w USING rabitq (v);
SELECT s->'lists' AS lists, s->'tuples' AS tuples, s->'reindex_recommended' AS reindex_recommended
FROM rabitq_index_summary('w_idx') s;
SELECT count(*) AS problems FROM rabitq_verify('w_idx');

-- Inserts into the single zero-centroid list; the summary asks for a REINDEX once it holds 1000 rows.
INSERT INTO w SELECT i, (SELECT array_agg(cos(i * 0.7 + j * j)) FROM generate_series(1, 8) j)
FROM generate_series(1, 999) i;
SELECT s->'tuples' AS tuples, s->'rows_since_build' AS rows_since_build,
       s->'reindex_recommended' AS reindex_recommended FROM rabitq_index_summary('w_idx') s;
INSERT INTO w SELECT i, (SELECT array_agg(cos(i * 0.7 + j * j)) FROM generate_series(1, 8) j)
FROM generate_series(1000, 4000) i;
SELECT s->'tuples' AS tuples, s->'rows_since_build' AS rows_since_build,
       s->'reindex_recommended' AS reindex_recommended, s->'pages'->'data' AS data_pages
FROM rabitq_index_summary('w_idx') s;
SELECT * FROM rabitq_verify('w_idx');
-- Index and sequential scan agree.
SELECT array_agg(id) AS index_top5 FROM (SELECT id FROM w ORDER BY v <-> (SELECT v FROM w WHERE id = 77) LIMIT 5) a;
SET enable_indexscan = off;
SET enable_seqscan = on;
SELECT array_agg(id) AS seq_top5 FROM (SELECT id FROM w ORDER BY v <-> (SELECT v FROM w WHERE id = 77) LIMIT 5) a;
RESET enable_indexscan;
SET enable_seqscan = off;
REINDEX INDEX w_idx;
SELECT s->'lists' AS lists, s->'tuples' AS tuples, s->'built_tuples' AS built_tuples,
       s->'reindex_recommended' AS reindex_recommended FROM rabitq_index_summary('w_idx') s;

-- Vacuum: deleting the older half empties the first pages of every list (records are in heap order);
-- emptied pages other than a list's head and tail are unlinked and become free pages.
DELETE FROM w WHERE id <= 2000;
VACUUM w;
SELECT s->'tuples' AS tuples, (s->'pages'->>'free')::int > 0 AS pages_freed,
       (s->'pages'->>'data')::int + (s->'pages'->>'free')::int AS data_and_free_pages
FROM rabitq_index_summary('w_idx') s;
SELECT * FROM rabitq_verify('w_idx');
SELECT count(*) AS rows_found FROM (SELECT id FROM w ORDER BY v <-> (SELECT v FROM w WHERE id = 3000) LIMIT 5000) a;
SELECT array_agg(id) AS index_top5 FROM (SELECT id FROM w ORDER BY v <-> (SELECT v FROM w WHERE id = 3001) LIMIT 5) a;
-- A scan over every row returns each once.
SELECT count(*) = count(DISTINCT id) AS no_duplicates FROM (SELECT id FROM w ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 5000) a;
SELECT relpages > 0 AS has_pages, reltuples AS index_reltuples FROM pg_class WHERE relname = 'w_idx';
-- Inserts keep working on the shortened chains.
INSERT INTO w SELECT i, (SELECT array_agg(cos(i * 0.7 + j * j)) FROM generate_series(1, 8) j)
FROM generate_series(1, 500) i;
SELECT * FROM rabitq_verify('w_idx');
SELECT rabitq_index_summary('w_idx')->'tuples' AS tuples;

-- rerank = 'index': vector pages stay; the check follows records to their vectors.
CREATE INDEX w_vec ON w USING rabitq (v vector_cosine_ops) WITH (lists = 3, rerank = 'index');
DELETE FROM w WHERE id % 2 = 0;
INSERT INTO w SELECT i, (SELECT array_agg(sin(i * 0.3 + j)) FROM generate_series(1, 8) j) FROM generate_series(5001, 5600) i;
VACUUM w;
SELECT * FROM rabitq_verify('w_vec');
SELECT (SELECT rabitq_index_summary('w_vec')->>'tuples')::int = (SELECT count(*) FROM w) AS counts_match;

-- REINDEX CONCURRENTLY and CREATE INDEX CONCURRENTLY build complete, valid indexes.
REINDEX INDEX CONCURRENTLY w_vec;
CREATE INDEX CONCURRENTLY w_cic ON w USING rabitq (v) WITH (lists = 4);
SELECT indexrelid::regclass AS index, indisvalid FROM pg_index WHERE indrelid = 'w'::regclass ORDER BY 1;
SELECT * FROM rabitq_verify('w_vec');
SELECT * FROM rabitq_verify('w_cic');
SELECT (SELECT rabitq_index_summary('w_cic')->>'tuples')::int = (SELECT count(*) FROM w) AS cic_counts_match;
DROP INDEX w_idx, w_vec;
SELECT array_agg(id) AS cic_top3 FROM (SELECT id FROM w ORDER BY v <-> (SELECT v FROM w WHERE id = 3001) LIMIT 3) a;

-- Partitioned table: an index on the parent builds one index per partition, later partitions too.
CREATE TABLE pw (id int, v vector(8)) PARTITION BY RANGE (id);
CREATE TABLE pw1 PARTITION OF pw FOR VALUES FROM (0) TO (1000);
CREATE TABLE pw2 PARTITION OF pw FOR VALUES FROM (1000) TO (2000);
INSERT INTO pw SELECT i, (SELECT array_agg(cos(i * 0.7 + j * j)) FROM generate_series(1, 8) j) FROM generate_series(0, 1999) i;
CREATE INDEX pw_idx ON pw USING rabitq (v) WITH (lists = 2);
CREATE TABLE pw3 PARTITION OF pw FOR VALUES FROM (2000) TO (3000);
INSERT INTO pw SELECT i, (SELECT array_agg(cos(i * 0.7 + j * j)) FROM generate_series(1, 8) j) FROM generate_series(2000, 2999) i;
SELECT c.relname AS partition_index, (rabitq_index_summary(c.oid)->>'tuples')::int AS tuples,
       (SELECT count(*) FROM rabitq_verify(c.oid)) AS problems
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'pw_idx'::regclass ORDER BY 1;
EXPLAIN (COSTS OFF) SELECT id FROM pw ORDER BY v <-> '[1,1,1,1,1,1,1,1]' LIMIT 3;
SELECT array_agg(id) AS partitioned_top3 FROM (SELECT id FROM pw ORDER BY v <-> (SELECT v FROM pw WHERE id = 2500) LIMIT 3) a;
REINDEX INDEX pw_idx;
SELECT (SELECT count(*) FROM rabitq_verify('pw1_v_idx')) + (SELECT count(*) FROM rabitq_verify('pw3_v_idx')) AS problems_after_reindex;

-- Errors: not an index, not a rabitq index, privileges.
SELECT * FROM rabitq_verify('w');
CREATE INDEX w_btree ON w (id);
SELECT * FROM rabitq_verify('w_btree');
CREATE ROLE rabitq_reader;
GRANT SELECT ON w TO rabitq_reader;
SET ROLE rabitq_reader;
SELECT * FROM rabitq_verify('w_cic');
RESET ROLE;
DROP TABLE w, pw;
DROP ROLE rabitq_reader;
