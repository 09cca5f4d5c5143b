-- ruLake federated search: three collections (shards of one data set), merged by exact distance.
\set SHOW_CONTEXT never
CREATE TABLE lake_shard_a (id bigint, embedding vector(16));
CREATE TABLE lake_shard_b (id bigint, embedding vector(16));
CREATE TABLE lake_shard_c (id bigint, embedding vector(16));
CREATE TABLE lake_all_points AS
SELECT i::bigint AS id, ARRAY(SELECT round((sin(i * 0.37 + d * 1.3) + cos(i * 0.011 * d))::numeric, 4)
                        FROM generate_series(1, 16) d)::real[]::vector(16) AS embedding
  FROM generate_series(1, 36000) i;
INSERT INTO lake_shard_a SELECT * FROM lake_all_points WHERE id % 3 = 0;
INSERT INTO lake_shard_b SELECT * FROM lake_all_points WHERE id % 3 = 1;
INSERT INTO lake_shard_c SELECT * FROM lake_all_points WHERE id % 3 = 2;
SELECT rulake.create_backend('shards', 'local');
SELECT rulake.create_collection('shard_a', 'shards', 'lake_shard_a');
SELECT rulake.create_collection('shard_b', 'shards', 'lake_shard_b');
SELECT rulake.create_collection('shard_c', 'shards', 'lake_shard_c');
SELECT * FROM rulake.refresh_all();
-- Each cache has a rabitq index with several lists (one per ~1000 rows), and at 12000 rows it is
-- searched through that index.
SELECT c.name, (rabitq_index_summary(i.indexrelid) ->> 'lists')::int > 1 AS several_lists
  FROM rulake.collections c JOIN rulake.cache_entries e USING (cache_relation) JOIN pg_index i ON i.indrelid = e.cache_relation::regclass
 ORDER BY c.name;

CREATE TABLE lake_queries AS SELECT q AS query_no, embedding AS query FROM lake_all_points
  JOIN generate_series(1, 30) q ON id = q * 1187 + 5;

-- Recall@10 of the federated search against exact search over the union, probing one list of each
-- shard's index (of 12): an approximate search, which the per-shard over-request keeps close to exact.
SET rabitq.probes = 1;
WITH federated AS (
    SELECT q.query_no, f.id FROM lake_queries q,
           LATERAL rulake.search_federated(ARRAY['shard_a', 'shard_b', 'shard_c'], q.query, 10) f
), exact AS (
    SELECT q.query_no, e.id FROM lake_queries q,
           LATERAL (SELECT id FROM lake_all_points ORDER BY embedding <-> q.query LIMIT 10) e
)
SELECT (SELECT count(*) FROM exact) AS wanted,
       count(*)::float8 / (SELECT count(*) FROM exact) >= 0.9 AS recall_at_least_0_9
  FROM federated f JOIN exact e USING (query_no, id);

-- Probing every list, each shard's answer is exact, and so is the merge: the same ids and distances as
-- exact search over the union, in distance order, each row labelled with its shard.
SET rabitq.probes = 32768;
WITH federated AS (
    SELECT q.query_no, array_agg(f.id ORDER BY f.distance, f.id) AS ids,
           bool_and(f.collection = 'shard_' || chr(97 + (f.id % 3)::int)) AS labelled
      FROM lake_queries q, LATERAL rulake.search_federated(ARRAY['shard_a', 'shard_b', 'shard_c'], q.query, 10) f
     GROUP BY q.query_no
), exact AS (
    SELECT q.query_no, array_agg(e.id ORDER BY e.distance, e.id) AS ids
      FROM lake_queries q,
           LATERAL (SELECT id, embedding <-> q.query AS distance FROM lake_all_points
                     ORDER BY embedding <-> q.query, id LIMIT 10) e
     GROUP BY q.query_no
)
SELECT count(*) AS queries, count(*) FILTER (WHERE f.ids = e.ids) AS identical, bool_and(f.labelled) AS labelled
  FROM federated f JOIN exact e USING (query_no);
-- Rows come back nearest first.
SELECT bool_and(ordered) AS nearest_first FROM (
    SELECT distance >= lag(distance, 1, 0::float8) OVER () AS ordered
      FROM rulake.search_federated(ARRAY['shard_c', 'shard_a', 'shard_b'], (SELECT query FROM lake_queries LIMIT 1), 25)
) t;
RESET rabitq.probes;
-- One collection is a plain search; k larger than every shard returns everything.
SELECT count(*) FROM rulake.search_federated(ARRAY['shard_a'], (SELECT query FROM lake_queries LIMIT 1), 10);
SELECT count(*) FROM rulake.search_federated(ARRAY['shard_a', 'shard_b', 'shard_c'], (SELECT query FROM lake_queries LIMIT 1), 100000);
-- Each collection keeps its own consistency: a change to one shard is seen.
INSERT INTO lake_shard_b VALUES (100000, (SELECT query FROM lake_queries WHERE query_no = 1));
SELECT collection, id, distance FROM rulake.search_federated(ARRAY['shard_a', 'shard_b', 'shard_c'],
                                                           (SELECT query FROM lake_queries WHERE query_no = 1), 2)
 ORDER BY distance, id;
SELECT collection, hits, misses, primes FROM rulake.collection_stats ORDER BY collection;

-- Errors: any collection's error fails the call.
SELECT * FROM rulake.search_federated(ARRAY['shard_a', 'nope'], (SELECT query FROM lake_queries LIMIT 1), 10);
SELECT * FROM rulake.search_federated(ARRAY['shard_a', 'shard_a'], (SELECT query FROM lake_queries LIMIT 1), 10);
SELECT * FROM rulake.search_federated(ARRAY[]::text[], (SELECT query FROM lake_queries LIMIT 1), 10);
SELECT * FROM rulake.search_federated(ARRAY['shard_a', NULL], (SELECT query FROM lake_queries LIMIT 1), 10);
SELECT * FROM rulake.search_federated(NULL, (SELECT query FROM lake_queries LIMIT 1), 10);
SELECT * FROM rulake.search_federated(ARRAY['shard_a'], NULL, 10);
SELECT * FROM rulake.search_federated(ARRAY['shard_a'], '[1,2,3]', 10);
SELECT * FROM rulake.search_federated(ARRAY['shard_a'], (SELECT query FROM lake_queries LIMIT 1), 0);
SELECT * FROM rulake.search_federated(ARRAY[['shard_a'], ['shard_b']], (SELECT query FROM lake_queries LIMIT 1), 1);
SELECT rulake.create_collection('shard_a_ip', 'shards', 'lake_shard_a', metric => 'ip');
SELECT * FROM rulake.search_federated(ARRAY['shard_a', 'shard_a_ip'], (SELECT query FROM lake_queries LIMIT 1), 10);
ALTER TABLE lake_shard_c DISABLE TRIGGER rulake_generation;
SELECT * FROM rulake.search_federated(ARRAY['shard_a', 'shard_c'], (SELECT query FROM lake_queries LIMIT 1), 10);
ALTER TABLE lake_shard_c ENABLE TRIGGER rulake_generation;

SET rulake.max_cache_entries = 0;
SELECT rulake.drop_collection(name) FROM rulake.collections ORDER BY name;
SELECT rulake.drop_backend('shards');
RESET rulake.max_cache_entries;
SELECT count(*) AS cache_relations FROM pg_class WHERE relnamespace = 'rulake_cache'::regnamespace AND relkind = 'r';
DROP TABLE lake_shard_a, lake_shard_b, lake_shard_c, lake_all_points, lake_queries;
