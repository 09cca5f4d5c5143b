-- rabitq: index options, settings and what an index accepts.
\set VERBOSITY default
CREATE TABLE opt (id int, v vector(3));
INSERT INTO opt SELECT i, ARRAY[sin(i), cos(i), sin(2 * i)] FROM generate_series(1, 50) i;

-- WITH (...) options: out-of-range and unknown values name the valid ones.
CREATE INDEX ON opt USING rabitq (v) WITH (lists = 0);
CREATE INDEX ON opt USING rabitq (v) WITH (lists = 32769);
CREATE INDEX ON opt USING rabitq (v) WITH (seed = -1);
CREATE INDEX ON opt USING rabitq (v) WITH (rotation = 'givens');
CREATE INDEX ON opt USING rabitq (v) WITH (rerank = 'disk');
CREATE INDEX ON opt USING rabitq (v) WITH (probes = 3);
-- Valid options are stored and reported by the summary.
CREATE INDEX opt_idx ON opt USING rabitq (v) WITH (lists = 4, seed = 7, rotation = 'haar', rerank = 'index');
SELECT s->'lists' AS lists, s->'seed' AS seed, s->'rotation' AS rotation, s->'rerank' AS rerank,
       s->'dims' AS dims, s->'metric' AS metric, s->'tuples' AS tuples
FROM rabitq_index_summary('opt_idx') s;
ALTER INDEX opt_idx SET (lists = 0);
DROP INDEX opt_idx;
-- Without lists, one list per 1000 rows (at least one).
CREATE INDEX opt_idx ON opt USING rabitq (v);
SELECT rabitq_index_summary('opt_idx')->'lists' AS lists;
DROP INDEX opt_idx;

-- Columns and operator classes.
CREATE TABLE nodims (v vector);
CREATE INDEX ON nodims USING rabitq (v);
CREATE TABLE wide (v vector(2039));
CREATE INDEX ON wide USING rabitq (v) WITH (rerank = 'index');
CREATE INDEX wide_idx ON wide USING rabitq (v);
CREATE TABLE wider (v vector(2049));
CREATE INDEX ON wider USING rabitq (v) WITH (rotation = 'haar');
CREATE INDEX ON opt USING rabitq (id);
CREATE INDEX ON opt USING rabitq (v, v);
CREATE UNIQUE INDEX ON opt USING rabitq (v);
-- An expression index needs its own copy of the vectors to rerank.
CREATE INDEX ON opt USING rabitq (((v + v)::vector(3))) WITH (rerank = 'heap');
CREATE INDEX opt_expr ON opt USING rabitq (((v + v)::vector(3))) WITH (rerank = 'index');
SET enable_seqscan = off;
SELECT id FROM opt ORDER BY (v + v)::vector(3) <-> '[0,2,0]' LIMIT 3;
RESET enable_seqscan;
SELECT id FROM opt ORDER BY (v + v)::vector(3) <-> '[0,2,0]' LIMIT 3;
SELECT amvalidate(c.oid) AS valid, c.opcname FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
WHERE a.amname = 'rabitq' ORDER BY c.opcname;
-- An operator class with a wrong support function fails validation and cannot be used.
CREATE OPERATOR CLASS bad_ops FOR TYPE vector USING rabitq AS
    OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 vector_norm(vector);
SELECT amvalidate(oid) AS bad_ops_valid FROM pg_opclass WHERE opcname = 'bad_ops';
CREATE INDEX ON opt USING rabitq (v bad_ops);
DROP OPERATOR FAMILY bad_ops USING rabitq;
CREATE INDEX opt_btree ON opt (id);
SELECT rabitq_index_summary('opt');
SELECT rabitq_index_checksum('opt_btree');

-- Settings: ranges are enforced, the rabitq prefix is reserved, SET LOCAL works.
SET rabitq.probes = -1;
SET rabitq.max_probes = 0;
SET rabitq.epsilon = 11;
SET rabitq.query_bits = 9;
SET rabitq.build_threads = 0;
SET rabitq.iterative_scan = 'sometimes';
SET rabitq.no_such_setting = 1;
SHOW rabitq.probes;
SHOW rabitq.max_probes;
SHOW rabitq.epsilon;
SHOW rabitq.iterative_scan;
SHOW rabitq.build_threads;
SHOW rabitq.query_bits;
BEGIN;
SET LOCAL rabitq.probes = 5;
SHOW rabitq.probes;
COMMIT;
SHOW rabitq.probes;

DROP TABLE opt, nodims, wide, wider;
