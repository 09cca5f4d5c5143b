-- ---------------------------------------------------------------------------------------------------
-- Public API
-- ---------------------------------------------------------------------------------------------------

-- Registers a backend. kind 'local': relations of this database; options: data_ref_prefix (default
-- 'local://<database>'). kind 'fs': options root (a directory inside rulake.allowed_dirs) and
-- data_ref_prefix (default: file://<root>); only superusers and members of pg_read_server_files.
CREATE FUNCTION rulake.create_backend(name text, kind text, options jsonb DEFAULT '{}') RETURNS void
    AS 'MODULE_PATHNAME', 'rulake_gate' LANGUAGE C VOLATILE;
-- Removes a backend no collection uses (owner or superuser).
CREATE FUNCTION rulake.drop_backend(name text) RETURNS void
    AS 'MODULE_PATHNAME', 'rulake_gate' LANGUAGE C VOLATILE;
-- Registers a collection (see docs/rulake.md). source: a relation (local) or a file name (fs).
CREATE FUNCTION rulake.create_collection(name text, backend text, source text, id_column text DEFAULT 'id',
                                         vector_column text DEFAULT 'embedding', consistency text DEFAULT 'fresh',
                                         ttl interval DEFAULT NULL, rotation_seed bigint DEFAULT 42,
                                         rerank_factor integer DEFAULT 20, generation_sql text DEFAULT NULL,
                                         metric text DEFAULT 'l2') RETURNS void
    AS 'MODULE_PATHNAME', 'rulake_create_collection_gate' LANGUAGE C VOLATILE;
-- Removes a collection (owner or superuser); its cache stays until evicted if others use it.
CREATE FUNCTION rulake.drop_collection(name text) RETURNS void
    AS 'MODULE_PATHNAME', 'rulake_gate' LANGUAGE C VOLATILE;
-- Checks the source's generation and primes or shares the cache if it changed:
-- 'up_to_date' | 'primed' | 'shared'.
CREATE FUNCTION rulake.refresh(collection text) RETURNS text
    AS 'MODULE_PATHNAME', 'rulake_gate' LANGUAGE C VOLATILE;
-- refresh() of every collection the caller may read; for schedulers such as pg_cron.
CREATE FUNCTION rulake.refresh_all() RETURNS TABLE (collection text, outcome text)
    AS 'MODULE_PATHNAME', 'rulake_gate' LANGUAGE C VOLATILE;
-- Drops the collection's cache (owner or superuser).
CREATE FUNCTION rulake.invalidate(collection text) RETURNS void
    AS 'MODULE_PATHNAME', 'rulake_gate' LANGUAGE C VOLATILE;
-- Writes table.rulake.json for the cache the collection holds into dir; returns its witness.
CREATE FUNCTION rulake.publish_bundle(collection text, dir text) RETURNS text
    AS 'MODULE_PATHNAME', 'rulake_gate' LANGUAGE C VOLATILE;
-- Compares the bundle in dir with the collection's cache: 'up_to_date' | 'invalidated' | 'bundle_missing'.
CREATE FUNCTION rulake.refresh_from_bundle_dir(collection text, dir text) RETURNS text
    AS 'MODULE_PATHNAME', 'rulake_gate' LANGUAGE C VOLATILE;
-- Writes the cache as dir/cache.rbpx (version 2) plus dir/table.rulake.json; returns the row count.
CREATE FUNCTION rulake.save_cache(collection text, dir text) RETURNS bigint
    AS 'MODULE_PATHNAME', 'rulake_gate' LANGUAGE C VOLATILE;
-- Installs a saved cache without touching the backend; returns the row count.
CREATE FUNCTION rulake.warm_from_dir(collection text, dir text) RETURNS bigint
    AS 'MODULE_PATHNAME', 'rulake_gate' LANGUAGE C VOLATILE;

-- The k nearest rows of a collection: (id, distance), distance being the metric operator's value.
CREATE FUNCTION rulake.search(collection text, query @extschema@.vector, k integer DEFAULT 10)
RETURNS TABLE (id bigint, distance float8)
    AS 'MODULE_PATHNAME', 'rulake_search' LANGUAGE C VOLATILE ROWS 10;
-- search() for many queries with one freshness check; query_no counts from 1.
CREATE FUNCTION rulake.search_batch(collection text, queries @extschema@.vector[], k integer DEFAULT 10)
RETURNS TABLE (query_no integer, id bigint, distance float8)
    AS 'MODULE_PATHNAME', 'rulake_search_batch' LANGUAGE C VOLATILE;
-- The k nearest rows over several collections of one metric, merged by exact distance.
CREATE FUNCTION rulake.search_federated(collections text[], query @extschema@.vector, k integer DEFAULT 10)
RETURNS TABLE (collection text, id bigint, distance float8)
    AS 'MODULE_PATHNAME', 'rulake_search_federated' LANGUAGE C VOLATILE ROWS 10;

