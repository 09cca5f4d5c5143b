-- rulake demo, run by scripts/demo.sh on a throwaway cluster. Sections are independent blocks;
-- new ones (the rabitq index, ruLake) are appended at the end.
\pset footer off

-- ---------------------------------------------------------------------------------------------
\echo '== the vector type'
CREATE EXTENSION rulake;

CREATE TABLE items (id int PRIMARY KEY, name text, embedding vector(3));
INSERT INTO items VALUES
  (1, 'north',      '[0,1,0]'),
  (2, 'east',       '[1,0,0]'),
  (3, 'north-east', '[0.7,0.7,0]'),
  (4, 'up',         '[0,0,1]'),
  (5, 'far north',  '[0,10,0]');

SELECT id, name, embedding, vector_dims(embedding) AS dims, round(vector_norm(embedding)::numeric, 3) AS norm
FROM items ORDER BY id;

\echo '== nearest to [0.1, 0.9, 0] by L2 distance (<->)'
SELECT id, name, round((embedding <-> '[0.1,0.9,0]')::numeric, 4) AS l2
FROM items ORDER BY embedding <-> '[0.1,0.9,0]' LIMIT 3;

\echo '== largest inner product first (<#> is the negative inner product)'
SELECT id, name, round((embedding <#> '[0.1,0.9,0]')::numeric, 4) AS neg_inner_product
FROM items ORDER BY embedding <#> '[0.1,0.9,0]' LIMIT 3;

\echo '== cosine distance (<=>) ignores length: north and far north are equally close'
SELECT id, name, round((embedding <=> '[0.1,0.9,0]')::numeric, 4) AS cosine
FROM items ORDER BY embedding <=> '[0.1,0.9,0]' LIMIT 3;

\echo '== the same distances as functions'
SELECT round(l2_distance('[1,2,3]'::vector, '[4,6,3]')::numeric, 4) AS l2_distance,
       round(inner_product('[1,2,3]'::vector, '[4,6,3]')::numeric, 4) AS inner_product,
       round(cosine_distance('[1,0,0]'::vector, '[0,1,0]')::numeric, 4) AS cosine_distance;

-- ---------------------------------------------------------------------------------------------
\echo '== the rabitq index: 20,000 vectors of 64 dimensions in 50 clusters'
SELECT setseed(0.42);
CREATE TABLE docs (id int PRIMARY KEY, cluster int, embedding vector(64));
INSERT INTO docs
SELECT i, i % 50,
       (SELECT array_agg(c.center[d] + (random() - 0.5) * 0.4 ORDER BY d)
          FROM generate_series(1, 64) d)::vector
FROM generate_series(1, 20000) i
CROSS JOIN LATERAL (SELECT array_agg(sin(i % 50 * 7 + d) ORDER BY d) AS center
                      FROM generate_series(1, 64) d) c;
ANALYZE docs;

\timing on
CREATE INDEX docs_embedding_idx ON docs USING rabitq (embedding vector_l2_ops);
\timing off
SELECT rabitq_index_summary('docs_embedding_idx') ->> 'lists' AS lists,
       pg_size_pretty(pg_relation_size('docs_embedding_idx')) AS index_size,
       pg_size_pretty(pg_relation_size('docs')) AS table_size;

\echo '== the planner uses the index for ORDER BY ... LIMIT'
EXPLAIN (COSTS OFF)
SELECT id FROM docs ORDER BY embedding <-> (SELECT embedding FROM docs WHERE id = 7) LIMIT 10;

\echo '== ten nearest neighbours of row 7, through the index, in exact distance order'
SELECT id, cluster, round((embedding <-> (SELECT embedding FROM docs WHERE id = 7))::numeric, 4) AS l2
FROM docs ORDER BY embedding <-> (SELECT embedding FROM docs WHERE id = 7) LIMIT 10;

\echo '== recall@10 of the index against an exact sequential scan, over 20 queries'
CREATE TEMP TABLE via_index AS
SELECT q.id AS query, r.id FROM generate_series(1, 20) q(id),
  LATERAL (SELECT d.id FROM docs d
           ORDER BY d.embedding <-> (SELECT embedding FROM docs WHERE id = q.id * 977) LIMIT 10) r;
SET enable_indexscan = off;
CREATE TEMP TABLE exact AS
SELECT q.id AS query, r.id FROM generate_series(1, 20) q(id),
  LATERAL (SELECT d.id FROM docs d
           ORDER BY d.embedding <-> (SELECT embedding FROM docs WHERE id = q.id * 977) LIMIT 10) r;
RESET enable_indexscan;
SELECT round(count(via_index.id)::numeric / (SELECT count(*) FROM exact), 3) AS recall_at_10
FROM exact LEFT JOIN via_index USING (query, id);
