-- ruLake searches over local relations: results against exact search, consistency modes after source
-- changes, shared caches, invalidation, LRU eviction, counters, privileges and bad input.
\set SHOW_CONTEXT never
SET extra_float_digits = 0;

CREATE TABLE lake_points (id bigint, embedding vector(4));
-- 300 points on a deterministic pseudo-random grid; ids are sparse (7 + 13 i).
INSERT INTO lake_points
SELECT 7 + 13 * i, ARRAY[(i * 37) % 101, (i * 53) % 97, (i * 71) % 89, (i * 29) % 83]::real[]::vector
  FROM generate_series(0, 299) i;
SELECT rulake.create_backend('db', 'local');
SELECT rulake.create_collection('points', 'db', 'lake_points');

-- The first search primes the cache; the result is the exact nearest neighbours (a 300-row cache is
-- small enough for an exact answer).
CREATE FUNCTION lake_exact(q vector, k integer) RETURNS TABLE (id bigint, distance float8) LANGUAGE sql AS $$
    SELECT id, embedding <-> q FROM lake_points ORDER BY embedding <-> q, id LIMIT k
$$;
SELECT * FROM rulake.search('points', '[10,20,30,40]', 5) ORDER BY distance, id;
SELECT array_agg(id ORDER BY distance, id) = (SELECT array_agg(id ORDER BY distance, id) FROM lake_exact('[10,20,30,40]', 5))
       AS exact FROM rulake.search('points', '[10,20,30,40]', 5);
SELECT rulake.refresh('points');
SELECT e.row_count, e.ref_count, e.origin, e.rotation, c.generation IS NOT NULL AS has_generation,
       e.cache_relation LIKE 'rulake_cache.c\_' || left(c.witness, 16) || '\_%' AS named_after_witness,
       c.witness = rulake.bundle_witness(c.data_ref, c.dim, c.rotation_seed, c.rerank_factor, c.generation) AS witness_ok
  FROM rulake.collections c JOIN rulake.cache_entries e ON e.cache_relation = c.cache_relation WHERE c.name = 'points';
-- The cache relation has a rabitq index of the collection's metric.
SELECT am.amname, opc.opcname FROM rulake.cache_entries e
  JOIN rulake.collections c ON c.cache_relation = e.cache_relation AND c.name = 'points'
  JOIN pg_index i ON i.indrelid = e.cache_relation::regclass JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_am am ON am.oid = ic.relam JOIN pg_opclass opc ON opc.oid = i.indclass[0];

-- ---- fresh: a committed change is seen by the next search -------------------------------------------
INSERT INTO lake_points VALUES (1, '[10,20,30,40]');
SELECT * FROM rulake.search('points', '[10,20,30,40]', 2) ORDER BY distance, id;
UPDATE lake_points SET embedding = '[100,100,100,100]' WHERE id = 1;
SELECT * FROM rulake.search('points', '[10,20,30,40]', 1);
DELETE FROM lake_points WHERE id = 1;
SELECT count(*) FROM rulake.search('points', '[100,100,100,100]', 1000);
-- Uncommitted changes of other transactions are not; the writer's own transaction sees its change,
-- and a rollback takes the cache it built with it.
BEGIN;
INSERT INTO lake_points VALUES (2, '[10,20,30,40]');
SELECT id FROM rulake.search('points', '[10,20,30,40]', 1);
ROLLBACK;
SELECT id FROM rulake.search('points', '[10,20,30,40]', 1);
SELECT rulake.refresh('points');
TRUNCATE lake_points;
SELECT count(*) FROM rulake.search('points', '[10,20,30,40]', 10);
INSERT INTO lake_points
SELECT 7 + 13 * i, ARRAY[(i * 37) % 101, (i * 53) % 97, (i * 71) % 89, (i * 29) % 83]::real[]::vector
  FROM generate_series(0, 299) i;

-- ---- frozen: never rechecked after the first prime; refresh does ------------------------------------
SELECT rulake.create_collection('frozen', 'db', 'lake_points', consistency => 'frozen', rotation_seed => 1);
SELECT count(*) FROM rulake.search('frozen', '[0,0,0,0]', 1000);
INSERT INTO lake_points VALUES (3, '[0,0,0,0]');
SELECT count(*), min(id) FROM rulake.search('frozen', '[0,0,0,0]', 1000);
SELECT rulake.refresh('frozen');
SELECT count(*), min(id) FROM rulake.search('frozen', '[0,0,0,0]', 1000);
SELECT rulake.refresh('frozen');

-- ---- eventual: rechecked once the last check is older than the ttl ---------------------------------
SELECT rulake.create_collection('eventual', 'db', 'lake_points', consistency => 'eventual', ttl => '3 seconds',
                                rotation_seed => 2);
SELECT count(*) FROM rulake.search('eventual', '[0,0,0,0]', 1000);
DELETE FROM lake_points WHERE id = 3;
SELECT count(*), min(id) FROM rulake.search('eventual', '[0,0,0,0]', 1000);  -- within the ttl: old cache
SELECT pg_sleep(3.2);
SELECT count(*), min(id) FROM rulake.search('eventual', '[0,0,0,0]', 1000);  -- rechecked: new cache

-- ---- shared caches -----------------------------------------------------------------------------------
-- Same source, columns, seed and rerank factor: same witness, one cache.
SELECT rulake.create_collection('points_too', 'db', 'lake_points');
SELECT rulake.refresh('points');
SELECT rulake.refresh('points_too');
SELECT count(DISTINCT c.witness) AS witnesses, min(ref_count) AS refs
  FROM rulake.collections c JOIN rulake.cache_entries e USING (cache_relation) WHERE c.name IN ('points', 'points_too');
-- Another metric shares the relation and adds its own index.
SELECT rulake.create_collection('points_cos', 'db', 'lake_points', metric => 'cosine');
SELECT rulake.refresh('points_cos');
SELECT opc.opcname FROM rulake.collections c JOIN rulake.cache_entries e USING (cache_relation)
  JOIN pg_index i ON i.indrelid = e.cache_relation::regclass JOIN pg_opclass opc ON opc.oid = i.indclass[0]
 WHERE c.name = 'points_cos' ORDER BY 1;
SELECT array_agg(id ORDER BY distance, id) = (SELECT array_agg(id ORDER BY embedding <=> '[1,2,3,4]', id)
                                                FROM (SELECT * FROM lake_points ORDER BY embedding <=> '[1,2,3,4]', id LIMIT 5) t)
       AS exact_cosine FROM rulake.search('points_cos', '[1,2,3,4]', 5);
SELECT rulake.create_collection('points_ip', 'db', 'lake_points', metric => 'ip');
SELECT array_agg(id ORDER BY distance, id) = (SELECT array_agg(id ORDER BY embedding <#> '[1,2,3,4]', id)
                                                FROM (SELECT * FROM lake_points ORDER BY embedding <#> '[1,2,3,4]', id LIMIT 5) t)
       AS exact_ip FROM rulake.search('points_ip', '[1,2,3,4]', 5);
SELECT ref_count FROM rulake.collections c JOIN rulake.cache_entries e USING (cache_relation) WHERE c.name = 'points';

-- ---- invalidate: drops the cache of every collection sharing it -------------------------------------
SELECT rulake.invalidate('points');
SELECT name, witness IS NULL AS no_cache FROM rulake.collections
 WHERE name IN ('points', 'points_too', 'points_cos', 'points_ip') ORDER BY name;
SELECT rulake.refresh('points_too');
SELECT rulake.refresh('points');
SELECT rulake.invalidate('points');  -- twice: nothing left to drop, still counted

-- ---- batches -----------------------------------------------------------------------------------------
SELECT * FROM rulake.search_batch('points', ARRAY['[10,20,30,40]', '[50,50,50,50]']::vector[], 2) ORDER BY 1, 3, 2;
SELECT count(*) FROM rulake.search_batch('points', ARRAY[]::vector[], 2);
SELECT rulake.refresh('points');

-- ---- counters ------------------------------------------------------------------------------------------
-- Searches are counted by sequences, so the search rolled back above still counts as a miss; its
-- prime, counted in the catalog transaction, was rolled back.
SELECT collection, backend, hits, misses, primes, shared_hits, invalidations, warm_installs, round(hit_rate::numeric, 3),
       total_prime_ms > 0 AS timed, last_prime_ms >= 0 AS last_timed
  FROM rulake.collection_stats ORDER BY collection;
SELECT backend, kind, hits, misses, primes, shared_hits, invalidations, warm_installs FROM rulake.backend_stats;
SELECT hits, misses, primes, shared_hits, invalidations, warm_installs, entries > 0 AS has_entries,
       cached_rows > 0 AS has_rows, cached_bytes > 0 AS has_bytes FROM rulake.cache_stats;
-- Read-only transactions search current caches without counting; a stale one cannot be refreshed.
BEGIN READ ONLY;
SELECT count(*) FROM rulake.search('points', '[1,1,1,1]', 3);
ROLLBACK;
SELECT hits FROM rulake.collection_stats WHERE collection = 'points';
INSERT INTO lake_points VALUES (4, '[1,1,1,1]');
BEGIN READ ONLY;
SELECT count(*) FROM rulake.search('points', '[1,1,1,1]', 3);
ROLLBACK;

-- ---- LRU eviction of unreferenced caches --------------------------------------------------------------
-- With no room for unreferenced entries, dropping the other collections evicts their caches.
SET rulake.max_cache_entries = 0;
SELECT rulake.drop_collection(name) FROM rulake.collections WHERE name <> 'points' ORDER BY name;
SELECT count(*) AS entries FROM rulake.cache_entries;
CREATE TABLE lake_other (id bigint, embedding vector(4));
INSERT INTO lake_other VALUES (1, '[1,2,3,4]');
SELECT rulake.create_collection('other', 'db', 'lake_other');
SELECT rulake.refresh('points'), rulake.refresh('other');
SELECT count(*) AS entries FROM rulake.cache_entries;
CREATE TEMP TABLE lake_old AS SELECT name, c.witness, e.cache_relation AS relation
  FROM rulake.collections c JOIN rulake.cache_entries e USING (cache_relation);
SET rulake.max_cache_entries = 3;
INSERT INTO lake_points VALUES (5, '[2,2,2,2]');
SELECT rulake.refresh('points');   -- the old points cache is now unreferenced, 3 entries: kept
INSERT INTO lake_other VALUES (2, '[2,2,2,2]');
SELECT rulake.refresh('other');    -- 4 entries: the least recently used unreferenced one goes
SELECT o.name, EXISTS (SELECT FROM rulake.cache_entries e WHERE e.witness = o.witness) AS entry_kept,
       to_regclass(o.relation) IS NOT NULL AS relation_kept
  FROM lake_old o ORDER BY o.name;
SELECT count(*) AS entries, sum(ref_count) AS refs FROM rulake.cache_entries;
-- Entries in use are never evicted, whatever the limit.
SET rulake.max_cache_entries = 0;
INSERT INTO lake_points VALUES (6, '[3,3,3,3]');
SELECT rulake.refresh('points');
SELECT count(*) AS entries, sum(ref_count) AS refs FROM rulake.cache_entries;
-- Cache relations nothing refers to are gone, not just forgotten.
SELECT count(*) AS cache_relations FROM pg_class WHERE relnamespace = 'rulake_cache'::regnamespace AND relkind = 'r';
RESET rulake.max_cache_entries;

-- ---- large caches are searched through their index directly -------------------------------------------
-- (from 10000 rows, for k up to a tenth of them): the same rows and distances as ORDER BY ... LIMIT k
-- on the cache relation, with the same index, even when it probes few lists.
CREATE TABLE lake_large (id bigint, embedding vector(8));
INSERT INTO lake_large SELECT i, ARRAY(SELECT round((sin(i * 0.7 + d) * 10)::numeric, 2) FROM generate_series(1, 8) d)::real[]::vector
  FROM generate_series(1, 12000) i;
SELECT rulake.create_collection('large', 'db', 'lake_large');
SELECT rulake.refresh('large');
SELECT cache_relation AS large_cache FROM rulake.cache_entries JOIN rulake.collections USING (cache_relation) WHERE name = 'large' \gset
SET rabitq.probes = 1;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE via_search = via_sql) AS identical
  FROM (SELECT q,
               (SELECT array_agg(row(id, distance)) FROM rulake.search('large', v, 10)) AS via_search,
               (SELECT array_agg(row(id, embedding <-> v) ORDER BY embedding <-> v) FROM
                  (SELECT * FROM :large_cache ORDER BY embedding <-> v LIMIT 10) t) AS via_sql
          FROM (SELECT q, ARRAY(SELECT round((cos(q * 1.3 + d) * 10)::numeric, 2) FROM generate_series(1, 8) d)::real[]::vector AS v
                  FROM generate_series(1, 20) q) queries) compared;
RESET rabitq.probes;
-- Each search is one scan of that index.
BEGIN;
CREATE TEMP TABLE lake_scans AS SELECT pg_stat_get_xact_numscans(indexrelid) AS index_scans,
                                       pg_stat_get_xact_numscans(indrelid) AS table_scans
  FROM pg_index WHERE indrelid = :'large_cache'::regclass;
SELECT count(*) FROM generate_series(1, 20) q,
       rulake.search('large', ARRAY(SELECT round((cos(q * 1.3 + d) * 10)::numeric, 2) FROM generate_series(1, 8) d)::real[]::vector, 10);
SELECT pg_stat_get_xact_numscans(indexrelid) - s.index_scans AS index_scans,
       pg_stat_get_xact_numscans(indrelid) - s.table_scans AS table_scans
  FROM pg_index, lake_scans s WHERE indrelid = :'large_cache'::regclass;
COMMIT;
SELECT rulake.drop_collection('large');
DROP TABLE lake_large;

-- ---- views with generation_sql ---------------------------------------------------------------------------
CREATE TABLE lake_versions (version bigint);
INSERT INTO lake_versions VALUES (1);
CREATE VIEW lake_points_view AS SELECT id, embedding FROM lake_points WHERE id > 100;
SELECT rulake.create_collection('view', 'db', 'lake_points_view',
                                generation_sql => 'SELECT version FROM lake_versions');
SELECT min(id) FROM rulake.search('view', '[0,0,0,0]', 1000);
SELECT rulake.refresh('view');
UPDATE lake_versions SET version = 2;
SELECT rulake.refresh('view');
UPDATE lake_versions SET version = 3;
CREATE OR REPLACE VIEW lake_points_view AS SELECT id, embedding FROM lake_points WHERE id > 200;
SELECT min(id) FROM rulake.search('view', '[0,0,0,0]', 1000);
-- Opaque (text) generations work as well.
SELECT rulake.create_collection('view_text', 'db', 'lake_points_view',
                                generation_sql => $$SELECT 'v' || version FROM lake_versions$$);
SELECT rulake.refresh('view_text');
SELECT generation FROM rulake.collections WHERE name = 'view_text';

-- ---- privileges: the cache is no way around SELECT on the source ------------------------------------------
CREATE ROLE regress_lake_reader;
GRANT USAGE ON SCHEMA rulake TO regress_lake_reader;
SET ROLE regress_lake_reader;
SELECT * FROM rulake.search('points', '[1,1,1,1]', 1);
SELECT * FROM rulake.search_batch('points', ARRAY['[1,1,1,1]']::vector[], 1);
SELECT * FROM rulake.search_federated(ARRAY['points'], '[1,1,1,1]', 1);
SELECT rulake.refresh('points');
SELECT * FROM rulake.search('view', '[1,1,1,1]', 1);
SELECT * FROM rulake.refresh_all();  -- nothing it may read
RESET ROLE;
GRANT SELECT (id) ON lake_points TO regress_lake_reader;
SET ROLE regress_lake_reader;
SELECT * FROM rulake.search('points', '[1,1,1,1]', 1);
RESET ROLE;
GRANT SELECT (embedding) ON lake_points TO regress_lake_reader;
SET ROLE regress_lake_reader;
SELECT * FROM rulake.search('points', '[1,1,1,1]', 1);
SELECT * FROM rulake.refresh_all();
RESET ROLE;
REVOKE SELECT ON lake_points FROM regress_lake_reader;
GRANT SELECT ON lake_points_view TO regress_lake_reader;
SET ROLE regress_lake_reader;
-- A view's rows may depend on its reader: its collection is private to its owner.
SELECT count(*) FROM rulake.search('view', '[1,1,1,1]', 1);
RESET ROLE;

-- ---- bad input ------------------------------------------------------------------------------------------
SELECT * FROM rulake.search('nope', '[1,1,1,1]', 1);
SELECT * FROM rulake.search(NULL, '[1,1,1,1]', 1);
SELECT * FROM rulake.search('points', NULL, 1);
SELECT * FROM rulake.search('points', '[1,1,1]', 1);
SELECT * FROM rulake.search('points', '[1,1,1,1]', 0);
SELECT * FROM rulake.search('points', '[1,1,1,1]', NULL);
SELECT * FROM rulake.search_batch('points', ARRAY['[1,1,1,1]', NULL]::vector[], 1);
SELECT * FROM rulake.search_batch('points', ARRAY['[1,1,1,1]', '[1,1]']::vector[], 1);
SELECT * FROM rulake.search_batch('points', ARRAY[['[1,1,1,1]'], ['[1,1,1,1]']]::vector[], 1);
SELECT * FROM rulake.search_batch('points', NULL, 1);
SELECT * FROM rulake.refresh('nope');
SELECT rulake.invalidate('nope');
-- A trigger disabled behind rulake's back is noticed.
ALTER TABLE lake_points DISABLE TRIGGER rulake_generation;
SELECT * FROM rulake.search('points', '[1,1,1,1]', 1);
ALTER TABLE lake_points ENABLE TRIGGER rulake_generation;
SELECT count(*) FROM rulake.search('points', '[1,1,1,1]', 1);

-- ---- clean up ---------------------------------------------------------------------------------------------
SET rulake.max_cache_entries = 0;
SELECT rulake.drop_collection(name) FROM rulake.collections ORDER BY name;
SELECT rulake.drop_backend('db');
SELECT count(*) AS entries FROM rulake.cache_entries;
SELECT count(*) AS cache_relations FROM pg_class WHERE relnamespace = 'rulake_cache'::regnamespace;
SELECT count(*) AS counters FROM rulake.stat_counters;
RESET rulake.max_cache_entries;
DROP VIEW lake_points_view;
DROP TABLE lake_points, lake_other, lake_versions;
DROP FUNCTION lake_exact(vector, integer);
REVOKE USAGE ON SCHEMA rulake FROM regress_lake_reader;
DROP ROLE regress_lake_reader;
