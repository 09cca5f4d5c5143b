-- ruLake catalog: backends and collections, their validation and their privileges.
\set SHOW_CONTEXT never

-- The catalog tables (and the sequences behind them) are kept by pg_dump.
SELECT unnest(extconfig)::regclass AS kept_by_pg_dump FROM pg_extension WHERE extname = 'rulake' ORDER BY 1::text;

-- ---- local backends ---------------------------------------------------------------------------------
SELECT rulake.create_backend('db', 'local');
SELECT rulake.create_backend('svc', 'local', '{"data_ref_prefix": "local://svc"}');
SELECT name, kind, options, root, data_ref_prefix, owner FROM rulake.backends ORDER BY name;
SELECT rulake.create_backend('db', 'local');
SELECT rulake.create_backend('', 'local');
SELECT rulake.create_backend(NULL, 'local');
SELECT rulake.create_backend('x', 'fdw');
SELECT rulake.create_backend('x', NULL);
SELECT rulake.create_backend('x', 'local', '[1]');
SELECT rulake.create_backend('x', 'local', '{"root": "/tmp"}');
SELECT rulake.create_backend('x', 'local', '{"data_ref_prefix": 7}');
SELECT rulake.create_backend('x', 'local', '{"data_ref_prefix": ""}');

-- ---- collections on local relations ---------------------------------------------------------------
CREATE TABLE lake_items (id integer PRIMARY KEY, embedding vector(3), label text);
INSERT INTO lake_items VALUES (1, '[1,0,0]', 'a'), (2, '[0,1,0]', 'b'), (3, '[0,0,1]', 'c');
CREATE TABLE lake_untyped (key bigint, v vector);
INSERT INTO lake_untyped VALUES (10, '[1,2,3,4]'), (11, NULL);
CREATE TABLE lake_empty_untyped (id bigint, embedding vector);
CREATE VIEW lake_items_view AS SELECT id, embedding FROM lake_items WHERE id < 3;
CREATE MATERIALIZED VIEW lake_items_mv AS SELECT id, embedding FROM lake_items;
CREATE TABLE lake_parted (id bigint, embedding vector(3)) PARTITION BY RANGE (id);
CREATE SEQUENCE lake_sequence;

SELECT rulake.create_collection('items', 'db', 'lake_items');
SELECT rulake.create_collection('items_ip', 'svc', 'public.lake_items', metric => 'inner_product', rotation_seed => 7,
                                rerank_factor => 5, consistency => 'eventual', ttl => '5 minutes');
SELECT rulake.create_collection('untyped', 'db', 'lake_untyped', 'key', 'v', 'frozen', metric => 'COSINE');
SELECT rulake.create_collection('view', 'db', 'lake_items_view', generation_sql => 'SELECT count(*) FROM lake_items');
SELECT name, backend, source, source_relation, id_column, vector_column, dim, metric, consistency, ttl,
       rotation_seed, rerank_factor, generation_sql, data_ref, owner, witness
  FROM rulake.collections ORDER BY name;
-- Watched tables get rulake's statement trigger (one per table) and a change log.
SELECT tgrelid::regclass, tgname, tgenabled FROM pg_trigger WHERE tgname = 'rulake_generation' ORDER BY 1::text;
SELECT source, count(*) FROM rulake.source_changes GROUP BY source ORDER BY source::text;

-- Bad collections.
SELECT rulake.create_collection('items', 'db', 'lake_items');
SELECT rulake.create_collection('', 'db', 'lake_items');
SELECT rulake.create_collection('x', 'nobackend', 'lake_items');
SELECT rulake.create_collection('x', NULL, 'lake_items');
SELECT rulake.create_collection('x', 'db', 'no_such_table');
SELECT rulake.create_collection('x', 'db', 'no_such_schema.t');
SELECT rulake.create_collection('x', 'db', '');
SELECT rulake.create_collection('x', 'db', 'lake_items', 'nope');
SELECT rulake.create_collection('x', 'db', 'lake_items', 'label');
SELECT rulake.create_collection('x', 'db', 'lake_items', 'id', 'label');
SELECT rulake.create_collection('x', 'db', 'lake_items', 'id', 'nope');
SELECT rulake.create_collection('x', 'db', 'lake_items', consistency => 'sometimes');
SELECT rulake.create_collection('x', 'db', 'lake_items', consistency => 'eventual');
SELECT rulake.create_collection('x', 'db', 'lake_items', consistency => 'eventual', ttl => '-1 second');
SELECT rulake.create_collection('x', 'db', 'lake_items', ttl => '1 minute');
SELECT rulake.create_collection('x', 'db', 'lake_items', rotation_seed => -1);
SELECT rulake.create_collection('x', 'db', 'lake_items', rerank_factor => 0);
SELECT rulake.create_collection('x', 'db', 'lake_items', rerank_factor => 1025);
SELECT rulake.create_collection('x', 'db', 'lake_items', metric => 'l1');
SELECT rulake.create_collection('x', 'db', 'lake_empty_untyped');
SELECT rulake.create_collection('x', 'db', 'lake_items_view');
SELECT rulake.create_collection('x', 'db', 'lake_items_mv');
SELECT rulake.create_collection('x', 'db', 'lake_parted');
SELECT rulake.create_collection('x', 'db', 'lake_sequence');
SELECT rulake.create_collection('x', 'db', 'lake_items_pkey');
-- generation_sql is run once when the collection is created; it must return one value.
SELECT rulake.create_collection('x', 'db', 'lake_items_view', generation_sql => 'SELECT 1, 2');
SELECT rulake.create_collection('x', 'db', 'lake_items_view', generation_sql => 'SELECT 1 FROM lake_items');
SELECT rulake.create_collection('x', 'db', 'lake_items_view', generation_sql => 'SELECT NULL::int');
SELECT rulake.create_collection('x', 'db', 'lake_items_view', generation_sql => 'SELECT -5');
SELECT rulake.create_collection('x', 'db', 'lake_items_view', generation_sql => 'SELECT 1.5');
SELECT rulake.create_collection('x', 'db', 'lake_items_view', generation_sql => 'DELETE FROM lake_items RETURNING 1');
SELECT rulake.create_collection('x', 'db', 'lake_items_view', generation_sql => 'SELECT * FROM no_such_table');
SELECT count(*) AS lake_items_rows FROM lake_items;
-- A relation with row-level security makes a private collection (only its owner may search it; see
-- lake_security.sql).
ALTER TABLE lake_untyped ENABLE ROW LEVEL SECURITY;
SELECT rulake.create_collection('x', 'db', 'lake_untyped', 'key', 'v');
ALTER TABLE lake_untyped DISABLE ROW LEVEL SECURITY;
SELECT rulake.drop_collection('x');
SELECT count(*) AS collections FROM rulake.collections;

-- ---- privileges ------------------------------------------------------------------------------------
CREATE ROLE regress_lake_alice;
CREATE ROLE regress_lake_bob;
GRANT USAGE ON SCHEMA rulake TO regress_lake_alice, regress_lake_bob;
CREATE TABLE lake_alice_items (id bigint, embedding vector(2));
ALTER TABLE lake_alice_items OWNER TO regress_lake_alice;
GRANT SELECT ON lake_alice_items TO regress_lake_bob;
SET ROLE regress_lake_alice;
SELECT rulake.create_backend('alice_db', 'local');
SELECT rulake.create_collection('alice', 'alice_db', 'lake_alice_items');
-- Without SELECT, or with SELECT but without TRIGGER (rulake could not watch the table).
SELECT rulake.create_collection('alice_x', 'alice_db', 'lake_items');
RESET ROLE;
SET ROLE regress_lake_bob;
-- A backend is its owner's to use.
SELECT rulake.create_collection('bob', 'alice_db', 'lake_alice_items', generation_sql => 'SELECT 1');
SELECT rulake.create_backend('bob_db', 'local');
SELECT rulake.create_collection('bob', 'bob_db', 'lake_alice_items');
SELECT rulake.create_collection('bob', 'bob_db', 'lake_alice_items', generation_sql => 'SELECT 1');
-- Only owners drop (or invalidate) what they own.
SELECT rulake.drop_collection('alice');
SELECT rulake.invalidate('alice');
SELECT rulake.drop_backend('alice_db');
-- The catalog tables are not readable; the views show what the role may see: bob may search alice's
-- collection (he has SELECT on its table), but only alice sees her generation_sql.
SELECT name, owner, generation_sql FROM rulake.visible_collections ORDER BY name;
SELECT name, owner FROM rulake.visible_backends ORDER BY name;
SELECT rulake.drop_collection('bob');
SELECT rulake.drop_backend('bob_db');
SELECT name, owner FROM rulake.collections;
DELETE FROM rulake.collections;
INSERT INTO rulake.backends (name, kind, owner) VALUES ('mine', 'local', 'regress_lake_bob');
SELECT rulake._refresh_collection('alice');
-- fs backends and directories are for superusers and pg_read_server_files only.
SELECT rulake.create_backend('files', 'fs', '{"root": "/tmp"}');
SET rulake.allowed_dirs = '/tmp';
SET rulake.max_cache_entries = 1;
RESET ROLE;
DROP TABLE lake_alice_items;  -- the trigger goes with it; the collection reports the loss
SELECT * FROM rulake.refresh_all() WHERE collection = 'alice';
SELECT rulake.drop_collection('alice');
SELECT rulake.drop_backend('alice_db');
REVOKE USAGE ON SCHEMA rulake FROM regress_lake_alice, regress_lake_bob;
DROP ROLE regress_lake_alice, regress_lake_bob;

-- ---- settings ----------------------------------------------------------------------------------------
SHOW rulake.allowed_dirs;
SHOW rulake.max_cache_entries;
SET rulake.allowed_dirs = 'relative/dir';
SET rulake.allowed_dirs = '/a, "/b,c", /d/';
SHOW rulake.allowed_dirs;
RESET rulake.allowed_dirs;
SET rulake.max_cache_entries = -1;
SET rulake.no_such_setting = 1;

-- ---- dropping --------------------------------------------------------------------------------------
SELECT rulake.drop_backend('db');
SELECT rulake.drop_backend('nobackend');
SELECT rulake.drop_collection('nocollection');
SELECT rulake.drop_collection('items');
-- The trigger stays while another collection watches the table, and goes with the last one.
SELECT tgrelid::regclass FROM pg_trigger WHERE tgname = 'rulake_generation' ORDER BY 1::text;
SELECT rulake.drop_collection('items_ip');
SELECT rulake.drop_collection('untyped');
SELECT rulake.drop_collection('view');
SELECT count(*) AS triggers FROM pg_trigger WHERE tgname = 'rulake_generation';
SELECT count(*) AS change_logs FROM rulake.source_changes;
SELECT rulake.drop_backend('db');
SELECT rulake.drop_backend('svc');
SELECT count(*) AS backends FROM rulake.backends;
DROP VIEW lake_items_view;
DROP MATERIALIZED VIEW lake_items_mv;
DROP TABLE lake_items, lake_untyped, lake_empty_untyped, lake_parted;
DROP SEQUENCE lake_sequence;
