-- ruLake's security model (docs/security.md), tested as an attacker would try it. Each section names the
-- hole it closes; on the code before the model each of these checks failed.
\set SHOW_CONTEXT never
SET extra_float_digits = 0;

CREATE ROLE regress_sec_alice;
CREATE ROLE regress_sec_bob;
CREATE ROLE regress_sec_mallory;
GRANT USAGE ON SCHEMA rulake TO regress_sec_alice, regress_sec_bob, regress_sec_mallory;
CREATE SCHEMA regress_sec_mallory AUTHORIZATION regress_sec_mallory;
-- The SQLSTATE and message of a statement's error (details name OIDs that differ from run to run).
CREATE FUNCTION sec_error(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '_[0-9]+', '_<id>', 'g');
END
$$;

-- ---- 1. owner code cannot change the caller's session --------------------------------------------------
CREATE TABLE sec_mallory_items (id bigint, embedding vector(2));
INSERT INTO sec_mallory_items VALUES (1, '[1,1]'), (2, '[2,2]');
ALTER TABLE sec_mallory_items OWNER TO regress_sec_mallory;
CREATE TABLE sec_mallory_log (who text);
ALTER TABLE sec_mallory_log OWNER TO regress_sec_mallory;
SET ROLE regress_sec_mallory;
SELECT rulake.create_backend('sec_mallory', 'local');
-- generation_sql that moves the search_path of whoever evaluates it to mallory's schema.
SELECT rulake.create_collection('sec_steer', 'sec_mallory', 'sec_mallory_items',
    generation_sql => $$SELECT pg_catalog.length(pg_catalog.set_config('search_path', 'regress_sec_mallory, pg_catalog, public', false))$$);
-- A volatile function that writes, called from generation_sql and from a view used as a source.
CREATE FUNCTION regress_sec_mallory.note() RETURNS integer LANGUAGE sql VOLATILE AS
    $$ INSERT INTO public.sec_mallory_log VALUES (session_user) RETURNING 1 $$;
SELECT rulake.create_collection('sec_write', 'sec_mallory', 'sec_mallory_items',
    generation_sql => 'SELECT regress_sec_mallory.note()');
RESET ROLE;
SHOW search_path;
SELECT collection, outcome FROM rulake.refresh_all() WHERE collection LIKE 'sec_%' ORDER BY 1;
-- The superuser's session is as it was, and nothing was written in its name.
SHOW search_path;
SELECT count(*) AS rows_written FROM sec_mallory_log;
SELECT count(*) AS found FROM rulake.search('sec_steer', '[1,1]', 5);
SHOW search_path;
-- SET LOCAL inside generation_sql is rolled back too.
SET ROLE regress_sec_mallory;
SELECT rulake.create_collection('sec_local', 'sec_mallory', 'sec_mallory_items',
    generation_sql => $$SELECT pg_catalog.length(pg_catalog.set_config('work_mem', '77kB', true))$$);
RESET ROLE;
SHOW work_mem;
SELECT rulake.refresh('sec_local');
SHOW work_mem;
-- A temporary object of the caller is never found before the owner's schemas: pg_temp comes last.
CREATE TEMP TABLE sec_mallory_items (id bigint, embedding vector(2));
SET ROLE regress_sec_mallory;
SELECT rulake.create_collection('sec_temp', 'sec_mallory', 'public.sec_mallory_items',
    generation_sql => 'SELECT count(*) FROM sec_mallory_items');
RESET ROLE;
SELECT generation FROM rulake.collections WHERE name = 'sec_temp';
SELECT rulake.refresh('sec_temp');
SELECT generation FROM rulake.collections WHERE name = 'sec_temp';
DROP TABLE pg_temp.sec_mallory_items;

-- ---- 2. a cache never shows a searcher rows its loader could see -------------------------------------------
CREATE TABLE sec_docs (id bigint, owner name, embedding vector(2));
INSERT INTO sec_docs VALUES (1, 'regress_sec_alice', '[1,0]'), (2, 'regress_sec_alice', '[2,0]'),
                            (3, 'regress_sec_bob', '[3,0]');
CREATE VIEW sec_my_docs AS SELECT id, embedding FROM sec_docs WHERE owner = current_user;
GRANT SELECT ON sec_my_docs TO regress_sec_alice, regress_sec_bob;
SET ROLE regress_sec_alice;
SELECT rulake.create_backend('sec_alice', 'local');
SELECT rulake.create_collection('sec_alice_docs', 'sec_alice', 'public.sec_my_docs', generation_sql => 'SELECT 1');
SELECT id FROM rulake.search('sec_alice_docs', '[0,0]', 10) ORDER BY id;
RESET ROLE;
SET ROLE regress_sec_bob;
-- Through alice's collection: refused (it holds the rows alice reads).
SELECT id FROM rulake.search('sec_alice_docs', '[0,0]', 10) ORDER BY id;
SELECT * FROM rulake.search_batch('sec_alice_docs', ARRAY['[0,0]'::vector], 10);
SELECT * FROM rulake.search_federated(ARRAY['sec_alice_docs'], '[0,0]', 10);
-- Through bob's own collection with the same witness: his own rows, from a cache of his own.
SELECT rulake.create_backend('sec_bob', 'local');
SELECT rulake.create_collection('sec_bob_docs', 'sec_bob', 'public.sec_my_docs', generation_sql => 'SELECT 1');
RESET ROLE;
SELECT (SELECT witness FROM rulake.collections WHERE name = 'sec_bob_docs') IS NOT DISTINCT FROM
       (SELECT witness FROM rulake.collections WHERE name = 'sec_alice_docs') AS same_data_ref_differs;
SET ROLE regress_sec_bob;
SELECT id FROM rulake.search('sec_bob_docs', '[0,0]', 10) ORDER BY id;
RESET ROLE;
SELECT c.name, e.reader, e.row_count FROM rulake.collections c JOIN rulake.cache_entries e USING (cache_relation)
 WHERE c.name LIKE 'sec\_%docs' ORDER BY c.name;
-- Not even a superuser searches a private collection of another role (it would see other rows).
SELECT id FROM rulake.search('sec_alice_docs', '[0,0]', 10);

-- Row-level security enabled after the collection was created is seen at the next search.
CREATE TABLE sec_rls (id bigint, tenant name, embedding vector(2));
INSERT INTO sec_rls VALUES (1, 'regress_sec_alice', '[1,0]'), (2, 'regress_sec_bob', '[2,0]');
ALTER TABLE sec_rls OWNER TO regress_sec_alice;
GRANT SELECT ON sec_rls TO regress_sec_bob;
SET ROLE regress_sec_alice;
SELECT rulake.create_collection('sec_rls', 'sec_alice', 'sec_rls', consistency => 'frozen');
RESET ROLE;
SET ROLE regress_sec_bob;
SELECT count(*) AS bob_sees FROM rulake.search('sec_rls', '[0,0]', 10);
RESET ROLE;
ALTER TABLE sec_rls ENABLE ROW LEVEL SECURITY;
CREATE POLICY sec_own ON sec_rls USING (tenant = current_user);
SET ROLE regress_sec_bob;
SELECT count(*) FROM sec_rls;
SELECT count(*) AS bob_sees FROM rulake.search('sec_rls', '[0,0]', 10);
RESET ROLE;
-- The owner (exempt from her own policies) still searches it; the frozen cache is primed again as private.
SET ROLE regress_sec_alice;
SELECT count(*) AS alice_sees FROM rulake.search('sec_rls', '[0,0]', 10);
RESET ROLE;
SELECT e.reader FROM rulake.collections c JOIN rulake.cache_entries e USING (cache_relation) WHERE c.name = 'sec_rls';
-- FORCE: the policies apply to the owner too, and to her cache.
ALTER TABLE sec_rls FORCE ROW LEVEL SECURITY;
SET ROLE regress_sec_alice;
SELECT rulake.invalidate('sec_rls');
SELECT id FROM rulake.search('sec_rls', '[0,0]', 10);
RESET ROLE;

-- ---- 3. locks no other role can take ---------------------------------------------------------------------
-- rulake takes no advisory lock (any role may take those); its locks are object locks in its own space.
BEGIN;
SELECT rulake.refresh('sec_bob_docs') IS NOT NULL AS refreshed;
SELECT count(*) AS advisory_locks FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory';
SELECT count(*) > 0 AS rulake_locks FROM pg_locks
 WHERE pid = pg_backend_pid() AND locktype = 'object' AND classid = 'rulake'::regnamespace::oid;
ROLLBACK;

-- ---- 4. watched tables: writers only append to the change log ---------------------------------------------
CREATE TABLE sec_watched (id bigint, embedding vector(2));
CREATE TABLE sec_child () INHERITS (sec_watched);
INSERT INTO sec_watched VALUES (1, '[1,1]');
INSERT INTO sec_child VALUES (2, '[2,2]');
SELECT rulake.create_backend('sec_db', 'local');
SELECT rulake.create_collection('sec_watched', 'sec_db', 'sec_watched');
-- The cache holds the table's own rows (ONLY): writes to children are not watched.
SELECT id FROM rulake.search('sec_watched', '[0,0]', 10) ORDER BY id;
SELECT generation AS g0 FROM rulake.collections WHERE name = 'sec_watched' \gset
BEGIN ISOLATION LEVEL REPEATABLE READ;
INSERT INTO sec_watched VALUES (3, '[3,3]');
-- The writer's own transaction sees its change.
SELECT id FROM rulake.search('sec_watched', '[0,0]', 10) ORDER BY id;
ROLLBACK;
SELECT id FROM rulake.search('sec_watched', '[0,0]', 10) ORDER BY id;
INSERT INTO sec_watched VALUES (4, '[4,4]');
SELECT id FROM rulake.search('sec_watched', '[0,0]', 10) ORDER BY id;
SELECT generation <> :'g0'::jsonb AS generation_moved FROM rulake.collections WHERE name = 'sec_watched';
-- Compaction keeps the generation: 40 writes, a refresh compacts, and the cache stays current.
DO $$ BEGIN FOR i IN 1..40 LOOP INSERT INTO sec_watched VALUES (200 + i, '[9,9]'); END LOOP; END $$;
SELECT count(*) > 32 AS long_log FROM rulake.source_changes WHERE source = 'sec_watched'::regclass;
SELECT rulake.refresh('sec_watched');
SELECT count(*) AS log_rows FROM rulake.source_changes WHERE source = 'sec_watched'::regclass;
SELECT rulake.refresh('sec_watched');

-- ---- 5. bounded sizes -------------------------------------------------------------------------------------
SELECT * FROM rulake.search('sec_watched', '[0,0]', 100001);
SELECT * FROM rulake.search_batch('sec_watched', ARRAY['[0,0]'::vector], 2147483647);
SELECT * FROM rulake.search_federated(ARRAY['sec_watched'], '[0,0]', 2147483647);
SELECT count(*) FROM rulake.search_federated(ARRAY['sec_watched'], '[0,0]', 100000);

-- ---- 6. eventual past its ttl, source unchanged: searchable read-only ---------------------------------------
SELECT rulake.create_collection('sec_eventual', 'sec_db', 'sec_watched', consistency => 'eventual', ttl => '1 millisecond');
SELECT count(*) FROM rulake.search('sec_eventual', '[0,0]', 3);
SELECT pg_sleep(0.01);
BEGIN READ ONLY;
SELECT count(*) FROM rulake.search('sec_eventual', '[0,0]', 3);
-- refresh and refresh_all have nothing to do, and say so without trying to write.
SELECT rulake.refresh('sec_eventual');
SELECT collection, outcome FROM rulake.refresh_all() WHERE collection = 'sec_eventual';
COMMIT;
-- A changed source still needs a refresh, which a read-only transaction cannot do: one clear error.
INSERT INTO sec_watched VALUES (5, '[5,5]');
SELECT pg_sleep(0.01);
BEGIN READ ONLY;
SELECT count(*) FROM rulake.search('sec_eventual', '[0,0]', 3);
COMMIT;
BEGIN READ ONLY;
SELECT rulake.refresh('sec_eventual');
COMMIT;
BEGIN READ ONLY;
SELECT collection, outcome FROM rulake.refresh_all() WHERE collection = 'sec_eventual';
COMMIT;

-- ---- 8. authorization -------------------------------------------------------------------------------------
SELECT 'rulake._hits_' || id AS steer_hits FROM rulake.collections WHERE name = 'sec_steer' \gset
SELECT cache_relation AS alice_cache FROM rulake.collections WHERE name = 'sec_alice_docs' \gset
SELECT count(*) AS alice_cache_rows FROM :alice_cache;
SET ROLE regress_sec_bob;
-- A cache relation that exists (alice's, holding her rows) is not reachable.
SELECT sec_error(format('SELECT count(*) FROM %s', :'alice_cache'));
-- The catalog tables are not readable; the views show only what bob may see.
SELECT count(*) FROM rulake.collections;
SELECT count(*) FROM rulake.cache_entries;
SELECT count(*) FROM rulake.source_changes;
SELECT name, generation_sql FROM rulake.visible_collections ORDER BY name;
SELECT name FROM rulake.visible_backends ORDER BY name;
SELECT collection FROM rulake.collection_stats ORDER BY 1;
SELECT backend FROM rulake.backend_stats ORDER BY 1;
-- Search counters of other roles' collections are not readable.
SELECT rulake._search_count('sec_steer', 'hits');
SELECT rulake._search_count('sec_bob_docs', 'hits') AS own_hits;
SELECT rulake._search_count('sec_bob_docs', 'nope');
SELECT sec_error(format('SELECT last_value FROM %s', :'steer_hits'));
-- Someone else's backend.
SELECT rulake.create_collection('sec_x', 'sec_alice', 'public.sec_my_docs', generation_sql => 'SELECT 1');
-- Internal functions and the lock function are not executable.
SELECT rulake._lock('collection', 'sec_alice_docs');
RESET ROLE;
-- A role that owns collections cannot be dropped (their counters depend on it).
SELECT sec_error('DROP ROLE regress_sec_alice');

-- ---- 9. the caller's settings do not shape a shared cache ---------------------------------------------------
SET default_tablespace = pg_global;
SET maintenance_work_mem = '1MB';
SELECT rulake.invalidate('sec_watched');
SELECT count(*) FROM rulake.search('sec_watched', '[0,0]', 3);
SELECT c.reltablespace FROM rulake.collections l JOIN pg_class c ON c.oid = l.cache_relation::regclass
 WHERE l.name = 'sec_watched';
RESET default_tablespace;
RESET maintenance_work_mem;
-- The build memory of caches is a server setting (superuser only), bounded like maintenance_work_mem.
SET rulake.cache_maintenance_work_mem = '512kB';
SET ROLE regress_sec_bob;
SET rulake.cache_maintenance_work_mem = '128MB';
RESET ROLE;

-- ---- clean up ------------------------------------------------------------------------------------------------
SET rulake.max_cache_entries = 0;
SELECT rulake.drop_collection(name) FROM rulake.collections ORDER BY name;
SELECT rulake.drop_backend(name) FROM rulake.backends ORDER BY name;
RESET rulake.max_cache_entries;
SELECT count(*) AS entries FROM rulake.cache_entries;
SELECT count(*) AS change_logs FROM rulake.source_changes;
DROP TABLE sec_mallory_items, sec_mallory_log, sec_docs, sec_rls, sec_watched CASCADE;
DROP FUNCTION sec_error(text);
DROP SCHEMA regress_sec_mallory CASCADE;
REVOKE USAGE ON SCHEMA rulake FROM regress_sec_alice, regress_sec_bob, regress_sec_mallory;
DROP ROLE regress_sec_alice, regress_sec_bob, regress_sec_mallory;
