-- ruLake: bundles and witnesses (see docs/formats.md).

-- The witness of a bundle's fields: SHAKE-256 over the domain-separated, length-prefixed data_ref, dim,
-- rotation_seed, rerank_factor and generation, as 64 lowercase hex characters. generation is a JSON
-- number (a non-negative integer, numeric generation) or a JSON string (opaque generation).
CREATE FUNCTION rulake.bundle_witness(data_ref text, dim bigint, rotation_seed numeric, rerank_factor bigint,
                                      generation jsonb) RETURNS text
    AS 'MODULE_PATHNAME', 'rulake_bundle_witness' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The bundle sidecar (table.rulake.json, format_version 2) at an absolute server path, verified against
-- its witness. Only superusers and members of pg_read_server_files may call it.
CREATE FUNCTION rulake.read_bundle(path text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'rulake_read_bundle' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

-- ===================================================================================================
-- ruLake: a cache-first vector layer (docs/rulake.md).
--
-- Layout: catalog tables (kept by pg_dump), internal functions (rulake._*: PL/pgSQL orchestration and
-- C++ for files, loading and witnesses; not executable by PUBLIC; they run as the extension owner),
-- and the public API. The public management functions are C entry points (rulake_gate) that call
-- rulake._<name>(caller oid, arguments...) as the extension owner, so the implementations know who
-- called and check that role's rights; searches are C++ entry points.
--
-- Locking: every change of the cache catalog (priming, sharing, attaching, evicting, invalidating,
-- creating and dropping backends and collections) holds one transaction-level advisory lock,
-- rulake._lock_catalog(), taken before any catalog row is touched. Changes are therefore serialized
-- and cannot deadlock on each other; searches that find their cache current take no such lock.
-- ===================================================================================================

CREATE SCHEMA rulake_cache;
COMMENT ON SCHEMA rulake_cache IS 'ruLake cache relations (one per witness), created and dropped by rulake only';

-- ---------------------------------------------------------------------------------------------------
-- Catalog
-- ---------------------------------------------------------------------------------------------------

-- Registered sources. local: relations of this database (tables, views, materialized views, foreign
-- tables: so any FDW is a backend). fs: a directory of ruvec1 files inside rulake.allowed_dirs.
CREATE TABLE rulake.backends (
    name            text PRIMARY KEY CHECK (name <> ''),
    kind            text NOT NULL CHECK (kind IN ('local', 'fs')),
    options         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(options) = 'object'),
    root            text CHECK ((kind = 'fs') = (root IS NOT NULL)),  -- fs: canonical directory
    data_ref_prefix text,          -- NULL: file://<path> (fs), local://<database>/... (local)
    owner           regrole NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- One row per witness: the fields of the bundle sidecar (format_version 2). A row lives as long as the
-- cache entry of its witness.
CREATE TABLE rulake.bundles (
    rvf_witness    text PRIMARY KEY CHECK (rvf_witness ~ '^[0-9a-f]{64}$'),
    data_ref       text NOT NULL,
    dim            bigint NOT NULL,
    rotation_seed  numeric NOT NULL,
    rerank_factor  bigint NOT NULL,
    generation     jsonb NOT NULL CHECK (jsonb_typeof(generation) IN ('number', 'string')),
    pii_policy     text,
    lineage_id     text,
    memory_class   text,
    format_version integer NOT NULL DEFAULT 2,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- The caches: one relation rulake_cache.c_* (id bigint, embedding vector(dim)) per witness, with one
-- rabitq index per metric its collections use. ref_count = collections pointing to it; unreferenced
-- entries are evicted least recently used first beyond rulake.max_cache_entries. last_used: when the
-- entry was last primed, shared, attached or detached (searches are counted in rulake.stat_counters).
-- cache_relation is kept by name, so that a dump without schema rulake_cache restores: entries whose
-- relation is missing are dropped and primed again when next needed.
CREATE TABLE rulake.cache_entries (
    witness        text PRIMARY KEY REFERENCES rulake.bundles (rvf_witness) ON DELETE CASCADE,
    cache_relation text NOT NULL UNIQUE CHECK (cache_relation ~ '^rulake_cache\.c_[0-9a-f]{16}_[0-9]+$'),
    rotation       text NOT NULL DEFAULT 'hadamard' CHECK (rotation IN ('hadamard', 'haar')),
    row_count      bigint NOT NULL,
    size_bytes     bigint NOT NULL,
    ref_count      integer NOT NULL DEFAULT 0,
    last_used      timestamptz NOT NULL,
    origin         text NOT NULL CHECK (origin IN ('prime', 'warm')),
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE SEQUENCE rulake.collection_ids;

-- Named vector sets on a backend. witness/generation: the cache the collection points to and the
-- source generation it was built from; last_check: when the generation was last compared.
CREATE TABLE rulake.collections (
    name            text PRIMARY KEY CHECK (name <> ''),
    id              bigint NOT NULL DEFAULT nextval('rulake.collection_ids') UNIQUE,
    backend         text NOT NULL REFERENCES rulake.backends (name),
    source          text NOT NULL,
    source_relation regclass,
    id_column       text NOT NULL,
    vector_column   text NOT NULL,
    dim             integer NOT NULL CHECK (dim BETWEEN 1 AND 16000),
    metric          text NOT NULL CHECK (metric IN ('l2', 'ip', 'cosine')),
    consistency     text NOT NULL CHECK (consistency IN ('fresh', 'eventual', 'frozen')),
    ttl             interval CHECK ((consistency = 'eventual') = (ttl IS NOT NULL)),
    rotation_seed   bigint NOT NULL CHECK (rotation_seed >= 0),
    rerank_factor   integer NOT NULL CHECK (rerank_factor BETWEEN 1 AND 1024),
    generation_sql  text,
    search_path     text NOT NULL,
    data_ref        text NOT NULL,
    owner           regrole NOT NULL,
    witness         text REFERENCES rulake.cache_entries (witness) ON DELETE SET NULL,
    generation      jsonb,
    last_check      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON rulake.collections (witness);
CREATE INDEX ON rulake.collections (source_relation);

-- Generation counters of tables watched by rulake's trigger: rulake._bump_generation() sets the row
-- of the changed table to the next value of rulake.generation_values in the writing transaction, so a
-- committed change is seen by the next search and values are never reused.
CREATE TABLE rulake.source_generations (
    source     regclass PRIMARY KEY,
    generation bigint NOT NULL
);
CREATE SEQUENCE rulake.generation_values;
CREATE SEQUENCE rulake.cache_relation_ids;

SELECT pg_catalog.pg_extension_config_dump('rulake.backends', '');
SELECT pg_catalog.pg_extension_config_dump('rulake.bundles', '');
SELECT pg_catalog.pg_extension_config_dump('rulake.cache_entries', '');
SELECT pg_catalog.pg_extension_config_dump('rulake.collections', '');
SELECT pg_catalog.pg_extension_config_dump('rulake.collection_ids', '');
SELECT pg_catalog.pg_extension_config_dump('rulake.source_generations', '');
SELECT pg_catalog.pg_extension_config_dump('rulake.generation_values', '');
SELECT pg_catalog.pg_extension_config_dump('rulake.cache_relation_ids', '');

-- Counters (src/lake/lake_stats.cpp). Searches are counted in two sequences per collection,
-- rulake._hits_<id> and rulake._misses_<id>: nextval needs no transaction id, writes no table row and
-- keeps no lock, so counting costs a search next to nothing and concurrent searches never wait on each
-- other; like any sequence the counts are not rolled back with the transaction. The rarer events
-- (primes with their duration, shared hits, invalidations, warm installs) happen in transactions that
-- write the catalog anyway and go to rulake.stat_counters, one row per collection and backend slot, so
-- that backends never update each other's rows. Unlogged: no WAL; a crash resets it.
CREATE UNLOGGED TABLE rulake.stat_counters (
    collection_id  bigint NOT NULL,
    slot           integer NOT NULL,
    primes         bigint NOT NULL DEFAULT 0,
    shared_hits    bigint NOT NULL DEFAULT 0,
    invalidations  bigint NOT NULL DEFAULT 0,
    warm_installs  bigint NOT NULL DEFAULT 0,
    prime_ms_total float8 NOT NULL DEFAULT 0,
    last_prime_ms  float8,
    last_prime_at  timestamptz,
    PRIMARY KEY (collection_id, slot)
);

GRANT SELECT ON rulake.backends, rulake.bundles, rulake.cache_entries, rulake.collections TO PUBLIC;

-- ---------------------------------------------------------------------------------------------------
-- Internal functions in C++ (src/lake/*.cpp). Not executable by PUBLIC.
-- ---------------------------------------------------------------------------------------------------

CREATE FUNCTION rulake._allowed_directory(path text, create_leaf boolean) RETURNS text
    AS 'MODULE_PATHNAME', 'rulake_internal_allowed_directory' LANGUAGE C VOLATILE;
CREATE FUNCTION rulake._validate_file_name(name text) RETURNS void
    AS 'MODULE_PATHNAME', 'rulake_internal_validate_file_name' LANGUAGE C IMMUTABLE;
CREATE FUNCTION rulake._ruvec1_info(root text, file text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'rulake_internal_ruvec1_info' LANGUAGE C VOLATILE;
CREATE FUNCTION rulake._read_bundle_in_dir(dir text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'rulake_internal_read_bundle_in_dir' LANGUAGE C VOLATILE;
CREATE FUNCTION rulake._write_bundle_in_dir(dir text, bundle jsonb) RETURNS text
    AS 'MODULE_PATHNAME', 'rulake_internal_write_bundle_in_dir' LANGUAGE C VOLATILE;
CREATE FUNCTION rulake._save_cache_files(relation regclass, dir text, bundle jsonb) RETURNS bigint
    AS 'MODULE_PATHNAME', 'rulake_internal_save_cache_files' LANGUAGE C VOLATILE;
CREATE FUNCTION rulake._inspect_warm_dir(dir text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'rulake_internal_inspect_warm_dir' LANGUAGE C VOLATILE;
CREATE FUNCTION rulake._load_cache(collection text, relation regclass) RETURNS bigint
    AS 'MODULE_PATHNAME', 'rulake_internal_load_cache' LANGUAGE C VOLATILE;
CREATE FUNCTION rulake._load_rbpx(relation regclass, path text, dim integer, rotation_seed bigint,
                                  rerank_factor integer, count bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'rulake_internal_load_rbpx' LANGUAGE C VOLATILE;
CREATE FUNCTION rulake._probe_source_dim(relation regclass, vector_column text, owner oid) RETURNS integer
    AS 'MODULE_PATHNAME', 'rulake_internal_probe_source_dim' LANGUAGE C VOLATILE;
CREATE FUNCTION rulake._source_generation(collection text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'rulake_internal_source_generation' LANGUAGE C VOLATILE;
CREATE FUNCTION rulake._evaluate_generation_sql(sql text, owner oid, search_path text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'rulake_internal_evaluate_generation_sql' LANGUAGE C VOLATILE;
CREATE FUNCTION rulake._count_event(collection_id bigint, event text, prime_ms float8 DEFAULT NULL) RETURNS void
    AS 'MODULE_PATHNAME', 'rulake_internal_count_event' LANGUAGE C VOLATILE;

-- ---------------------------------------------------------------------------------------------------
-- Internal functions in PL/pgSQL. All pin search_path and qualify every name.
-- ---------------------------------------------------------------------------------------------------

-- The refresh lock (see the top of this file). Held until the transaction ends.
CREATE FUNCTION rulake._lock_catalog() RETURNS void LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp AS $$
    SELECT pg_catalog.pg_advisory_xact_lock(1920298081, 1)
$$;

-- Raises 42501 unless caller is a member of owner (superusers are members of every role).
CREATE FUNCTION rulake._require_owner(caller oid, owner regrole, kind text, name text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT pg_catalog.pg_has_role(caller, owner, 'MEMBER') THEN
        RAISE EXCEPTION 'must be owner of % %', kind, name USING ERRCODE = 'insufficient_privilege';
    END IF;
END
$$;

-- Raises 42501 unless caller may read (or, with writing, write) files on the server.
CREATE FUNCTION rulake._require_file_access(caller oid, writing boolean) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_role text := CASE WHEN writing THEN 'pg_write_server_files' ELSE 'pg_read_server_files' END;
    v_verb text := CASE WHEN writing THEN 'write' ELSE 'read' END;
BEGIN
    IF NOT pg_catalog.pg_has_role(caller, v_role, 'USAGE') THEN
        RAISE EXCEPTION 'permission denied to % files on the server', v_verb
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('Only superusers and roles with privileges of the "%s" role may %s files on the server.',
                                  v_role, v_verb);
    END IF;
END
$$;

-- True if caller may read collection c: for local sources SELECT on the relation or on both its id and
-- vector columns (as for SELECT id, vector FROM source); fs collections are readable by every role that
-- may call ruLake's functions.
CREATE FUNCTION rulake._may_read(caller oid, c rulake.collections) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF c.source_relation IS NULL THEN
        RETURN true;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_class WHERE oid = c.source_relation) THEN
        RAISE EXCEPTION 'source relation of collection "%" no longer exists', c.name USING ERRCODE = 'undefined_table';
    END IF;
    RETURN pg_catalog.has_table_privilege(caller, c.source_relation, 'SELECT')
        OR (pg_catalog.has_column_privilege(caller, c.source_relation, c.id_column, 'SELECT')
            AND pg_catalog.has_column_privilege(caller, c.source_relation, c.vector_column, 'SELECT'));
END
$$;

-- Raises 42501 "permission denied for table x", as Postgres words it (view, materialized view, foreign
-- table as the relation is).
CREATE FUNCTION rulake._permission_denied(relation regclass) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_kind text;
    v_name name;
BEGIN
    SELECT CASE relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                        WHEN 'f' THEN 'foreign table' ELSE 'table' END, relname
      INTO v_kind, v_name FROM pg_catalog.pg_class WHERE oid = relation;
    RAISE EXCEPTION 'permission denied for % %', v_kind, v_name USING ERRCODE = 'insufficient_privilege';
END
$$;

-- Raises 42501 unless rulake._may_read().
CREATE FUNCTION rulake._require_read(caller oid, c rulake.collections) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT rulake._may_read(caller, c) THEN
        PERFORM rulake._permission_denied(c.source_relation);
    END IF;
END
$$;

-- Statement trigger on tables watched for changes (installed by create_collection, one per table):
-- moves the table's generation to a new value inside the writing transaction. Writers of one table
-- wait for each other on this counter row until they commit, as they would on a shared parent row.
CREATE FUNCTION rulake._bump_generation() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE rulake.source_generations SET generation = pg_catalog.nextval('rulake.generation_values')
     WHERE source = TG_RELID;
    RETURN NULL;
END
$$;

-- True if the cache entry of witness w exists and its relation too.
CREATE FUNCTION rulake._entry_usable(w text) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT FROM rulake.cache_entries e JOIN pg_catalog.pg_class r ON r.oid = pg_catalog.to_regclass(e.cache_relation)
                    WHERE e.witness = w)
$$;

-- Sets the reference count of witness w's entry to the number of collections pointing to it, and
-- its last use to now.
CREATE FUNCTION rulake._recount(w text) RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
    UPDATE rulake.cache_entries
       SET ref_count = (SELECT count(*) FROM rulake.collections WHERE witness = w),
           last_used = pg_catalog.clock_timestamp()
     WHERE witness = w
$$;

-- Drops a cache relation if nobody is reading it right now; otherwise leaves it to
-- rulake._collect_garbage() (a later refresh drops it), so that a refresh never waits for searches.
CREATE FUNCTION rulake._drop_cache_relation(relation regclass) RETURNS boolean
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE NOWAIT', relation);
    EXECUTE format('DROP TABLE %s', relation);
    RETURN true;
EXCEPTION WHEN lock_not_available THEN
    RETURN false;
END
$$;

-- Removes the cache entry of witness w (and its bundle row; collections pointing to it lose their
-- cache) and drops its relation. Call with the refresh lock held.
CREATE FUNCTION rulake._drop_entry(w text) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_relation regclass;
BEGIN
    SELECT pg_catalog.to_regclass(cache_relation) INTO v_relation FROM rulake.cache_entries WHERE witness = w;
    DELETE FROM rulake.bundles WHERE rvf_witness = w;  -- cascades to the entry, nulls collections.witness
    IF v_relation IS NOT NULL AND EXISTS (SELECT FROM pg_catalog.pg_class WHERE oid = v_relation) THEN
        PERFORM rulake._drop_cache_relation(v_relation);
    END IF;
END
$$;

-- Drops relations in rulake_cache that no entry refers to (left behind by a drop that found them busy).
CREATE FUNCTION rulake._collect_garbage() RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.oid::pg_catalog.regclass AS relation FROM pg_catalog.pg_class c
              WHERE c.relnamespace = 'rulake_cache'::pg_catalog.regnamespace AND c.relkind = 'r'
                AND NOT EXISTS (SELECT FROM rulake.cache_entries e WHERE e.cache_relation = 'rulake_cache.' || c.relname) LOOP
        PERFORM rulake._drop_cache_relation(r.relation);
    END LOOP;
END
$$;

-- Evicts unreferenced entries, least recently used first, until at most rulake.max_cache_entries
-- remain (entries in use are never evicted). Call with the refresh lock held.
CREATE FUNCTION rulake._evict() RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_excess bigint;
    r record;
BEGIN
    SELECT count(*) - pg_catalog.current_setting('rulake.max_cache_entries')::integer INTO v_excess
      FROM rulake.cache_entries;
    IF v_excess > 0 THEN
        FOR r IN SELECT witness FROM rulake.cache_entries WHERE ref_count = 0
                  ORDER BY last_used, witness LIMIT v_excess LOOP
            PERFORM rulake._drop_entry(r.witness);
        END LOOP;
    END IF;
    PERFORM rulake._collect_garbage();
END
$$;

-- A new, empty cache relation for witness w.
CREATE FUNCTION rulake._create_cache_relation(w text, dim integer) RETURNS regclass
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_name text := 'c_' || pg_catalog.left(w, 16) || '_' || pg_catalog.nextval('rulake.cache_relation_ids');
BEGIN
    EXECUTE format('CREATE TABLE rulake_cache.%I (id bigint NOT NULL, embedding @extschema@.vector(%s) NOT NULL)',
                   v_name, dim);
    RETURN format('rulake_cache.%I', v_name)::pg_catalog.regclass;
END
$$;

-- Creates the rabitq index of metric on a cache relation unless it exists. The index's seed is the
-- collection's rotation_seed modulo 2^31 (the rabitq option is a 32-bit integer).
CREATE FUNCTION rulake._ensure_index(relation regclass, metric text, rotation_seed bigint) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_table name;
    v_index text;
    v_opclass text := CASE metric WHEN 'ip' THEN 'vector_ip_ops' WHEN 'cosine' THEN 'vector_cosine_ops'
                                  ELSE 'vector_l2_ops' END;
BEGIN
    SELECT relname INTO v_table FROM pg_catalog.pg_class WHERE oid = relation;
    v_index := v_table || '_' || metric;
    IF pg_catalog.to_regclass(format('rulake_cache.%I', v_index)) IS NULL THEN
        EXECUTE format('CREATE INDEX %I ON %s USING rabitq (embedding @extschema@.%I) WITH (seed = %s)',
                       v_index, relation, v_opclass, rotation_seed % 2147483648);
    END IF;
END
$$;

-- Points collection p_name at witness w (its cache entry must exist), recording the generation, and
-- recounts both the new and the old entry. Call with the refresh lock held.
CREATE FUNCTION rulake._attach(p_name text, w text, p_generation jsonb) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_old text;
BEGIN
    SELECT witness INTO v_old FROM rulake.collections WHERE name = p_name;
    UPDATE rulake.collections
       SET witness = w, generation = p_generation, last_check = pg_catalog.clock_timestamp()
     WHERE name = p_name;
    PERFORM rulake._recount(w);
    IF v_old IS NOT NULL AND v_old <> w THEN
        PERFORM rulake._recount(v_old);
    END IF;
END
$$;

-- The collection row, or 42704 "collection ... does not exist".
CREATE FUNCTION rulake._collection(p_name text) RETURNS rulake.collections
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c rulake.collections;
BEGIN
    SELECT * INTO c FROM rulake.collections WHERE name = p_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'collection "%" does not exist', p_name USING ERRCODE = 'undefined_object';
    END IF;
    RETURN c;
END
$$;

-- Brings collection p_name's cache up to date with its source: compares the source's generation now
-- with the one the cache was built from and, if they differ (or there is no cache), points the
-- collection at the cache of the new witness - an existing one ('shared') or a new one loaded from the
-- source ('primed'). Otherwise 'up_to_date'. Takes the refresh lock. Callers check the right to read.
CREATE FUNCTION rulake._refresh_collection(p_name text) RETURNS text
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c rulake.collections;
    v_generation jsonb;
    v_witness text;
    v_relation regclass;
    v_rows bigint;
    v_started timestamptz;
    v_outcome text;
BEGIN
    PERFORM rulake._lock_catalog();
    c := rulake._collection(p_name);  -- read after the lock: sees what the last refresh committed
    v_generation := rulake._source_generation(p_name);
    v_witness := rulake.bundle_witness(c.data_ref, c.dim, c.rotation_seed, c.rerank_factor, v_generation);
    IF c.witness = v_witness AND rulake._entry_usable(v_witness) THEN
        UPDATE rulake.collections SET last_check = pg_catalog.clock_timestamp() WHERE name = p_name;
        RETURN 'up_to_date';
    END IF;
    IF EXISTS (SELECT FROM rulake.cache_entries WHERE witness = v_witness) AND NOT rulake._entry_usable(v_witness) THEN
        PERFORM rulake._drop_entry(v_witness);  -- its relation was dropped behind rulake's back
    END IF;
    SELECT pg_catalog.to_regclass(cache_relation) INTO v_relation FROM rulake.cache_entries WHERE witness = v_witness;
    IF FOUND THEN
        PERFORM rulake._ensure_index(v_relation, c.metric, c.rotation_seed);
        v_outcome := 'shared';
        PERFORM rulake._count_event(c.id, 'shared');
    ELSE
        v_started := pg_catalog.clock_timestamp();
        v_relation := rulake._create_cache_relation(v_witness, c.dim);
        v_rows := rulake._load_cache(p_name, v_relation);
        PERFORM rulake._ensure_index(v_relation, c.metric, c.rotation_seed);
        EXECUTE format('ANALYZE %s', v_relation);
        INSERT INTO rulake.bundles (rvf_witness, data_ref, dim, rotation_seed, rerank_factor, generation)
        VALUES (v_witness, c.data_ref, c.dim, c.rotation_seed, c.rerank_factor, v_generation);
        INSERT INTO rulake.cache_entries (witness, cache_relation, row_count, size_bytes, last_used, origin)
        VALUES (v_witness, v_relation::text, v_rows, pg_catalog.pg_total_relation_size(v_relation),
                pg_catalog.clock_timestamp(), 'prime');
        v_outcome := 'primed';
        PERFORM rulake._count_event(c.id, 'prime',
                                    extract(epoch FROM pg_catalog.clock_timestamp() - v_started)::float8 * 1000);
    END IF;
    PERFORM rulake._attach(p_name, v_witness, v_generation);
    PERFORM rulake._evict();
    RETURN v_outcome;
END
$$;

-- ---------------------------------------------------------------------------------------------------
-- Implementations of the public management functions (called through rulake_gate, first argument the
-- calling role).
-- ---------------------------------------------------------------------------------------------------

CREATE FUNCTION rulake._create_backend(caller oid, p_name text, p_kind text, p_options jsonb) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_allowed text[];
    v_key text;
    v_root text;
BEGIN
    IF p_name IS NULL OR p_name = '' THEN
        RAISE EXCEPTION 'backend name must not be empty' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_kind IS NULL OR p_kind NOT IN ('local', 'fs') THEN
        RAISE EXCEPTION 'unknown backend kind "%"', p_kind USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Kinds are "local" (relations of this database) and "fs" (a directory of ruvec1 files).';
    END IF;
    p_options := coalesce(p_options, '{}');
    IF jsonb_typeof(p_options) <> 'object' THEN
        RAISE EXCEPTION 'backend options must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_allowed := CASE p_kind WHEN 'fs' THEN ARRAY['root', 'data_ref_prefix'] ELSE ARRAY['data_ref_prefix'] END;
    FOR v_key IN SELECT jsonb_object_keys(p_options) LOOP
        IF NOT v_key = ANY (v_allowed) THEN
            RAISE EXCEPTION 'unknown option "%" for backends of kind %', v_key, p_kind USING ERRCODE = 'invalid_parameter_value',
                HINT = format('Options of %s backends: %s.', p_kind, array_to_string(v_allowed, ', '));
        END IF;
        IF jsonb_typeof(p_options -> v_key) <> 'string' OR p_options ->> v_key = '' THEN
            RAISE EXCEPTION 'option "%" must be a non-empty string', v_key USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    IF p_kind = 'fs' THEN
        PERFORM rulake._require_file_access(caller, false);
        IF NOT p_options ? 'root' THEN
            RAISE EXCEPTION 'an fs backend needs the option "root"' USING ERRCODE = 'invalid_parameter_value',
                HINT = 'root is a directory inside rulake.allowed_dirs holding ruvec1 files.';
        END IF;
        v_root := rulake._allowed_directory(p_options ->> 'root', false);
    END IF;
    PERFORM rulake._lock_catalog();
    IF EXISTS (SELECT FROM rulake.backends WHERE name = p_name) THEN
        RAISE EXCEPTION 'backend "%" already exists', p_name USING ERRCODE = 'duplicate_object';
    END IF;
    INSERT INTO rulake.backends (name, kind, options, root, data_ref_prefix, owner)
    VALUES (p_name, p_kind, p_options, v_root, p_options ->> 'data_ref_prefix', caller::regrole);
END
$$;

CREATE FUNCTION rulake._drop_backend(caller oid, p_name text) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    b rulake.backends;
    v_users text;
BEGIN
    PERFORM rulake._lock_catalog();
    SELECT * INTO b FROM rulake.backends WHERE name = p_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'backend "%" does not exist', p_name USING ERRCODE = 'undefined_object';
    END IF;
    PERFORM rulake._require_owner(caller, b.owner, 'backend', p_name);
    SELECT string_agg(format('%I', name), ', ' ORDER BY name) INTO v_users FROM rulake.collections WHERE backend = p_name;
    IF v_users IS NOT NULL THEN
        RAISE EXCEPTION 'backend "%" is used by collections', p_name USING ERRCODE = 'dependent_objects_still_exist',
            DETAIL = format('Collections: %s.', v_users), HINT = 'Drop them first with rulake.drop_collection.';
    END IF;
    DELETE FROM rulake.backends WHERE name = p_name;
END
$$;

CREATE FUNCTION rulake._create_collection(caller oid, p_name text, p_backend text, p_source text, p_id_column text,
                                          p_vector_column text, p_consistency text, p_ttl interval,
                                          p_rotation_seed bigint, p_rerank_factor integer, p_generation_sql text,
                                          p_metric text, p_source_relation regclass, p_search_path text)
RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    b rulake.backends;
    v_metric text;
    v_dim integer;
    v_relkind "char";
    v_rowsecurity boolean;
    v_type oid;
    v_typmod integer;
    v_data_ref text;
    v_info jsonb;
    v_source text := p_source;
    v_id bigint;
BEGIN
    IF p_name IS NULL OR p_name = '' THEN
        RAISE EXCEPTION 'collection name must not be empty' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_source IS NULL OR p_source = '' THEN
        RAISE EXCEPTION 'source must not be empty' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_backend IS NULL THEN
        RAISE EXCEPTION 'backend must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_id_column IS NULL OR p_vector_column IS NULL THEN
        RAISE EXCEPTION 'id_column and vector_column must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_consistency IS NULL OR p_consistency NOT IN ('fresh', 'eventual', 'frozen') THEN
        RAISE EXCEPTION 'unknown consistency "%"', p_consistency USING ERRCODE = 'invalid_parameter_value',
            HINT = 'fresh checks the source on every search, eventual once per ttl, frozen only when refreshed.';
    END IF;
    IF p_consistency = 'eventual' AND (p_ttl IS NULL OR p_ttl <= interval '0') THEN
        RAISE EXCEPTION 'eventual consistency needs a positive ttl' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_consistency <> 'eventual' AND p_ttl IS NOT NULL THEN
        RAISE EXCEPTION 'ttl applies only to eventual consistency' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_rotation_seed IS NULL OR p_rotation_seed < 0 THEN
        RAISE EXCEPTION 'rotation_seed must be a non-negative integer' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_rerank_factor IS NULL OR p_rerank_factor NOT BETWEEN 1 AND 1024 THEN
        RAISE EXCEPTION 'rerank_factor must be between 1 and 1024' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_metric := CASE lower(coalesce(p_metric, '')) WHEN 'l2' THEN 'l2' WHEN 'ip' THEN 'ip'
                     WHEN 'inner_product' THEN 'ip' WHEN 'cosine' THEN 'cosine' END;
    IF v_metric IS NULL THEN
        RAISE EXCEPTION 'unknown metric "%"', p_metric USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Metrics are l2 (<->), ip (<#>) and cosine (<=>).';
    END IF;

    PERFORM rulake._lock_catalog();
    SELECT * INTO b FROM rulake.backends WHERE name = p_backend;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'backend "%" does not exist', p_backend USING ERRCODE = 'undefined_object';
    END IF;
    IF EXISTS (SELECT FROM rulake.collections WHERE name = p_name) THEN
        RAISE EXCEPTION 'collection "%" already exists', p_name USING ERRCODE = 'duplicate_object';
    END IF;

    IF b.kind = 'fs' THEN
        PERFORM rulake._require_file_access(caller, false);
        IF p_generation_sql IS NOT NULL THEN
            RAISE EXCEPTION 'generation_sql applies only to local backends' USING ERRCODE = 'invalid_parameter_value',
                DETAIL = 'The generation of a file is its modification time.';
        END IF;
        v_info := rulake._ruvec1_info(b.root, p_source);  -- validates the name, opens the file
        v_dim := (v_info ->> 'dim')::integer;
        v_data_ref := coalesce(b.data_ref_prefix, 'file://' || rtrim(b.root, '/')) || '/' || p_source;
        p_source_relation := NULL;
    ELSE
        IF p_source_relation IS NULL THEN
            RAISE EXCEPTION 'relation "%" does not exist', p_source USING ERRCODE = 'undefined_table';
        END IF;
        SELECT c.relkind, c.relrowsecurity, format('%I.%I', n.nspname, c.relname)
          INTO v_relkind, v_rowsecurity, v_source
          FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.oid = p_source_relation;
        IF v_relkind NOT IN ('r', 'p', 'v', 'm', 'f') THEN
            RAISE EXCEPTION '"%" is not a table, view, materialized view or foreign table', p_source
                USING ERRCODE = 'wrong_object_type';
        END IF;
        IF v_rowsecurity THEN
            RAISE EXCEPTION 'relation "%" has row-level security', p_source USING ERRCODE = 'feature_not_supported',
                DETAIL = 'A cache holds every row, whatever the policies would show each reader.';
        END IF;
        IF NOT (pg_catalog.has_table_privilege(caller, p_source_relation, 'SELECT')
                OR (pg_catalog.has_column_privilege(caller, p_source_relation, p_id_column, 'SELECT')
                    AND pg_catalog.has_column_privilege(caller, p_source_relation, p_vector_column, 'SELECT'))) THEN
            PERFORM rulake._permission_denied(p_source_relation);
        END IF;
        SELECT atttypid INTO v_type FROM pg_catalog.pg_attribute
         WHERE attrelid = p_source_relation AND attname = p_id_column AND attnum > 0 AND NOT attisdropped;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'column "%" of relation "%" does not exist', p_id_column, p_source USING ERRCODE = 'undefined_column';
        END IF;
        IF v_type NOT IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype) THEN
            RAISE EXCEPTION 'id column "%" must be smallint, integer or bigint, not %', p_id_column, v_type::regtype
                USING ERRCODE = 'datatype_mismatch';
        END IF;
        SELECT atttypid, atttypmod INTO v_type, v_typmod FROM pg_catalog.pg_attribute
         WHERE attrelid = p_source_relation AND attname = p_vector_column AND attnum > 0 AND NOT attisdropped;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'column "%" of relation "%" does not exist', p_vector_column, p_source USING ERRCODE = 'undefined_column';
        END IF;
        IF v_type <> '@extschema@.vector'::regtype THEN
            RAISE EXCEPTION 'vector column "%" must be of type vector, not %', p_vector_column, v_type::regtype
                USING ERRCODE = 'datatype_mismatch';
        END IF;
        v_dim := CASE WHEN v_typmod > 0 THEN v_typmod
                      ELSE rulake._probe_source_dim(p_source_relation, p_vector_column, caller) END;
        IF v_dim IS NULL THEN
            RAISE EXCEPTION 'cannot tell the dimension of column "%": it has no type modifier and no values', p_vector_column
                USING ERRCODE = 'invalid_parameter_value', HINT = 'Declare the column as vector(n), or add rows first.';
        END IF;
        IF p_generation_sql IS NOT NULL THEN
            PERFORM rulake._evaluate_generation_sql(p_generation_sql, caller, p_search_path);
        ELSIF v_relkind <> 'r' THEN
            RAISE EXCEPTION 'a collection on "%" needs generation_sql', p_source USING ERRCODE = 'invalid_parameter_value',
                DETAIL = 'rulake watches ordinary tables with a trigger; views, materialized views, foreign and partitioned tables say their generation through generation_sql.',
                HINT = 'generation_sql is a query returning one number or text that changes whenever the data does.';
        ELSE
            IF NOT pg_catalog.has_table_privilege(caller, p_source_relation, 'TRIGGER') THEN
                RAISE EXCEPTION 'permission denied to watch relation %', p_source USING ERRCODE = 'insufficient_privilege',
                    DETAIL = 'rulake installs a trigger on the table, which needs the TRIGGER privilege.',
                    HINT = 'Or give generation_sql.';
            END IF;
            IF NOT EXISTS (SELECT FROM rulake.source_generations WHERE source = p_source_relation) THEN
                INSERT INTO rulake.source_generations (source, generation)
                VALUES (p_source_relation, pg_catalog.nextval('rulake.generation_values'));
                EXECUTE format('CREATE TRIGGER rulake_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s '
                               'FOR EACH STATEMENT EXECUTE FUNCTION rulake._bump_generation()', p_source_relation);
            END IF;
        END IF;
        v_data_ref := coalesce(b.data_ref_prefix, 'local://' || current_database()) || '/' || v_source || '#'
                      || format('%I,%I', p_id_column, p_vector_column);
    END IF;

    INSERT INTO rulake.collections (name, backend, source, source_relation, id_column, vector_column, dim, metric,
                                    consistency, ttl, rotation_seed, rerank_factor, generation_sql, search_path,
                                    data_ref, owner)
    VALUES (p_name, p_backend, v_source, p_source_relation, p_id_column, p_vector_column, v_dim, v_metric,
            p_consistency, p_ttl, p_rotation_seed, p_rerank_factor, p_generation_sql, p_search_path,
            v_data_ref, caller::regrole)
    RETURNING id INTO v_id;
    -- The search counters (see rulake.stat_counters); readable by everyone, as the catalog is.
    EXECUTE format('CREATE SEQUENCE rulake.%I; CREATE SEQUENCE rulake.%I; GRANT SELECT ON rulake.%I, rulake.%I TO PUBLIC',
                   '_hits_' || v_id, '_misses_' || v_id, '_hits_' || v_id, '_misses_' || v_id);
END
$$;

-- Detaches a collection from its cache (evicting it later if nobody else uses it), removes rulake's
-- trigger from its source when no other collection watches that table, and deletes the collection.
CREATE FUNCTION rulake._drop_collection(caller oid, p_name text) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c rulake.collections;
BEGIN
    PERFORM rulake._lock_catalog();
    c := rulake._collection(p_name);
    PERFORM rulake._require_owner(caller, c.owner, 'collection', p_name);
    DELETE FROM rulake.collections WHERE name = p_name;
    IF c.witness IS NOT NULL THEN
        PERFORM rulake._recount(c.witness);
    END IF;
    IF c.source_relation IS NOT NULL AND c.generation_sql IS NULL
       AND NOT EXISTS (SELECT FROM rulake.collections
                        WHERE source_relation = c.source_relation AND generation_sql IS NULL) THEN
        DELETE FROM rulake.source_generations WHERE source = c.source_relation;
        IF EXISTS (SELECT FROM pg_catalog.pg_trigger
                    WHERE tgrelid = c.source_relation AND tgname = 'rulake_generation') THEN
            EXECUTE format('DROP TRIGGER rulake_generation ON %s', c.source_relation);
        END IF;
    END IF;
    EXECUTE format('DROP SEQUENCE IF EXISTS rulake.%I, rulake.%I', '_hits_' || c.id, '_misses_' || c.id);
    -- Rows locked by a transaction counting right now stay behind (ids are never reused; the views skip them).
    DELETE FROM rulake.stat_counters WHERE ctid IN (SELECT ctid FROM rulake.stat_counters
                                                    WHERE collection_id = c.id FOR UPDATE SKIP LOCKED);
    PERFORM rulake._evict();
END
$$;

CREATE FUNCTION rulake._refresh(caller oid, p_name text) RETURNS text
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM rulake._require_read(caller, rulake._collection(p_name));
    RETURN rulake._refresh_collection(p_name);
END
$$;

-- Refreshes every collection the caller may read, in name order, each in its own subtransaction: one
-- failing collection reports 'error: <message>' and the others go on.
CREATE FUNCTION rulake._refresh_all(caller oid) RETURNS TABLE (collection text, outcome text)
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c rulake.collections;
BEGIN
    FOR c IN SELECT * FROM rulake.collections ORDER BY name LOOP
        collection := c.name;
        BEGIN
            IF NOT rulake._may_read(caller, c) THEN
                CONTINUE;
            END IF;
            outcome := rulake._refresh_collection(c.name);
        EXCEPTION WHEN OTHERS THEN
            outcome := 'error: ' || SQLERRM;
        END;
        RETURN NEXT;
    END LOOP;
END
$$;

-- Drops the cache the collection points to, for every collection sharing it: the next search or
-- refresh loads it from the source again.
CREATE FUNCTION rulake._invalidate(caller oid, p_name text) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c rulake.collections;
BEGIN
    PERFORM rulake._lock_catalog();
    c := rulake._collection(p_name);
    PERFORM rulake._require_owner(caller, c.owner, 'collection', p_name);
    IF c.witness IS NOT NULL THEN
        PERFORM rulake._drop_entry(c.witness);
    END IF;
    PERFORM rulake._count_event(c.id, 'invalidation');
END
$$;

-- The bundle (sidecar fields) of witness w as jsonb, for the C++ writers.
CREATE FUNCTION rulake._bundle_json(w text) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object('memory_class', memory_class))
           || jsonb_build_object('format_version', format_version, 'data_ref', data_ref, 'dim', dim,
                                 'rotation_seed', rotation_seed, 'rerank_factor', rerank_factor,
                                 'generation', generation, 'rvf_witness', rvf_witness,
                                 'pii_policy', pii_policy, 'lineage_id', lineage_id)
      FROM rulake.bundles WHERE rvf_witness = w
$$;

-- The collection's cache entry, or 55000 "collection ... has no cache".
CREATE FUNCTION rulake._cached_entry(c rulake.collections) RETURNS rulake.cache_entries
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    e rulake.cache_entries;
BEGIN
    SELECT * INTO e FROM rulake.cache_entries WHERE witness = c.witness;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'collection "%" has no cache', c.name USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'Run rulake.refresh first.';
    END IF;
    RETURN e;
END
$$;

CREATE FUNCTION rulake._publish_bundle(caller oid, p_name text, p_dir text) RETURNS text
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c rulake.collections;
    e rulake.cache_entries;
BEGIN
    PERFORM rulake._require_file_access(caller, true);
    c := rulake._collection(p_name);
    PERFORM rulake._require_read(caller, c);
    e := rulake._cached_entry(c);
    RETURN rulake._write_bundle_in_dir(p_dir, rulake._bundle_json(e.witness));
END
$$;

CREATE FUNCTION rulake._refresh_from_bundle_dir(caller oid, p_name text, p_dir text) RETURNS text
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c rulake.collections;
    v_bundle jsonb;
BEGIN
    PERFORM rulake._require_file_access(caller, false);
    c := rulake._collection(p_name);
    PERFORM rulake._require_read(caller, c);
    v_bundle := rulake._read_bundle_in_dir(p_dir);
    IF v_bundle IS NULL THEN
        RETURN 'bundle_missing';
    END IF;
    IF v_bundle ->> 'data_ref' <> c.data_ref THEN
        RAISE EXCEPTION 'bundle in "%" describes other data than collection "%"', p_dir, p_name
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The bundle''s data_ref is "%s", the collection''s "%s".', v_bundle ->> 'data_ref', c.data_ref);
    END IF;
    PERFORM rulake._lock_catalog();
    c := rulake._collection(p_name);
    IF c.witness IS NOT DISTINCT FROM v_bundle ->> 'rvf_witness' THEN
        RETURN 'up_to_date';
    END IF;
    IF c.witness IS NOT NULL THEN
        PERFORM rulake._drop_entry(c.witness);
    END IF;
    PERFORM rulake._count_event(c.id, 'invalidation');
    RETURN 'invalidated';
END
$$;

CREATE FUNCTION rulake._save_cache(caller oid, p_name text, p_dir text) RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c rulake.collections;
    e rulake.cache_entries;
BEGIN
    PERFORM rulake._require_file_access(caller, true);
    c := rulake._collection(p_name);
    PERFORM rulake._require_read(caller, c);
    e := rulake._cached_entry(c);
    RETURN rulake._save_cache_files(e.cache_relation::pg_catalog.regclass, p_dir, rulake._bundle_json(e.witness));
END
$$;

-- Installs the cache saved in p_dir (table.rulake.json + a .rbpx file) for collection p_name without
-- reading its source. The bundle must be the collection's: same data_ref, dimension, seed and rerank
-- factor (hence a witness the collection would compute for that generation); the .rbpx header must
-- agree with the bundle and use the Hadamard rotation (version-1 files do not record a rotation and
-- are taken as Hadamard). Returns the number of rows installed.
CREATE FUNCTION rulake._warm_from_dir(caller oid, p_name text, p_dir text) RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c rulake.collections;
    v_found jsonb;
    v_bundle jsonb;
    v_file jsonb;
    v_witness text;
    v_relation regclass;
    v_rows bigint;
BEGIN
    PERFORM rulake._require_file_access(caller, false);
    PERFORM rulake._lock_catalog();
    c := rulake._collection(p_name);
    PERFORM rulake._require_owner(caller, c.owner, 'collection', p_name);
    v_found := rulake._inspect_warm_dir(p_dir);
    v_bundle := v_found -> 'bundle';
    v_file := v_found -> 'rbpx';
    v_witness := v_bundle ->> 'rvf_witness';
    IF (v_bundle ->> 'dim')::bigint <> c.dim THEN
        RAISE EXCEPTION 'saved cache has % dimensions, collection "%" has %', v_bundle ->> 'dim', p_name, c.dim
            USING ERRCODE = 'data_exception';
    END IF;
    IF (v_bundle ->> 'rotation_seed')::numeric <> c.rotation_seed THEN
        RAISE EXCEPTION 'saved cache has rotation seed %, collection "%" has %', v_bundle ->> 'rotation_seed', p_name,
            c.rotation_seed USING ERRCODE = 'data_exception';
    END IF;
    IF (v_bundle ->> 'rerank_factor')::bigint <> c.rerank_factor THEN
        RAISE EXCEPTION 'saved cache has rerank factor %, collection "%" has %', v_bundle ->> 'rerank_factor', p_name,
            c.rerank_factor USING ERRCODE = 'data_exception';
    END IF;
    IF v_bundle ->> 'data_ref' <> c.data_ref THEN
        RAISE EXCEPTION 'saved cache describes other data than collection "%"', p_name USING ERRCODE = 'data_exception',
            DETAIL = format('The bundle''s data_ref is "%s", the collection''s "%s".', v_bundle ->> 'data_ref', c.data_ref);
    END IF;
    IF rulake.bundle_witness(c.data_ref, c.dim, c.rotation_seed, c.rerank_factor, v_bundle -> 'generation') <> v_witness THEN
        RAISE EXCEPTION 'saved cache''s witness is not collection "%"''s', p_name USING ERRCODE = 'data_exception';
    END IF;
    IF (v_file ->> 'dim')::bigint <> c.dim OR (v_file ->> 'rotation_seed')::numeric <> c.rotation_seed
       OR (v_file ->> 'rerank_factor')::bigint <> c.rerank_factor THEN
        RAISE EXCEPTION 'cache file does not match its bundle' USING ERRCODE = 'data_corrupted',
            DETAIL = format('The file has %s dimensions, rotation seed %s and rerank factor %s; the bundle %s, %s and %s.',
                            v_file ->> 'dim', v_file ->> 'rotation_seed', v_file ->> 'rerank_factor',
                            v_bundle ->> 'dim', v_bundle ->> 'rotation_seed', v_bundle ->> 'rerank_factor');
    END IF;
    IF coalesce(v_file ->> 'rotation', 'hadamard') <> 'hadamard' THEN
        RAISE EXCEPTION 'cache file uses the % rotation, rulake caches the hadamard rotation', v_file ->> 'rotation'
            USING ERRCODE = 'feature_not_supported';
    END IF;

    IF rulake._entry_usable(v_witness) THEN
        SELECT pg_catalog.to_regclass(cache_relation), row_count INTO v_relation, v_rows
          FROM rulake.cache_entries WHERE witness = v_witness;
        PERFORM rulake._ensure_index(v_relation, c.metric, c.rotation_seed);
    ELSE
        IF EXISTS (SELECT FROM rulake.cache_entries WHERE witness = v_witness) THEN
            PERFORM rulake._drop_entry(v_witness);
        END IF;
        v_relation := rulake._create_cache_relation(v_witness, c.dim);
        v_rows := rulake._load_rbpx(v_relation, v_file ->> 'path', c.dim, c.rotation_seed, c.rerank_factor,
                                    (v_file ->> 'count')::bigint);
        PERFORM rulake._ensure_index(v_relation, c.metric, c.rotation_seed);
        EXECUTE format('ANALYZE %s', v_relation);
        INSERT INTO rulake.bundles (rvf_witness, data_ref, dim, rotation_seed, rerank_factor, generation,
                                    pii_policy, lineage_id, memory_class)
        VALUES (v_witness, c.data_ref, c.dim, c.rotation_seed, c.rerank_factor, v_bundle -> 'generation',
                v_bundle ->> 'pii_policy', v_bundle ->> 'lineage_id', v_bundle ->> 'memory_class');
        INSERT INTO rulake.cache_entries (witness, cache_relation, row_count, size_bytes, last_used, origin)
        VALUES (v_witness, v_relation::text, v_rows, pg_catalog.pg_total_relation_size(v_relation),
                pg_catalog.clock_timestamp(), 'warm');
    END IF;
    PERFORM rulake._attach(p_name, v_witness, v_bundle -> 'generation');
    PERFORM rulake._count_event(c.id, 'warm');
    PERFORM rulake._evict();
    RETURN v_rows;
END
$$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA rulake FROM PUBLIC;
GRANT EXECUTE ON FUNCTION rulake.bundle_witness(text, bigint, numeric, bigint, jsonb) TO PUBLIC;
GRANT EXECUTE ON FUNCTION rulake.read_bundle(text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION rulake.boundary_selftest(text) TO PUBLIC;

-- ---------------------------------------------------------------------------------------------------
-- Statistics
-- ---------------------------------------------------------------------------------------------------

-- Counters per collection: searches from the collection's sequences, the rest added up over
-- backend slots.
CREATE VIEW rulake.collection_stats AS
WITH searches AS (
    SELECT c.id,
           coalesce(pg_catalog.pg_sequence_last_value(pg_catalog.to_regclass('rulake._hits_' || c.id)), 0) AS hits,
           coalesce(pg_catalog.pg_sequence_last_value(pg_catalog.to_regclass('rulake._misses_' || c.id)), 0) AS misses
      FROM rulake.collections c
), events AS (
    SELECT collection_id, sum(primes) AS primes, sum(shared_hits) AS shared_hits,
           sum(invalidations) AS invalidations, sum(warm_installs) AS warm_installs,
           sum(prime_ms_total) AS total_prime_ms,
           (array_agg(last_prime_ms ORDER BY last_prime_at DESC NULLS LAST))[1] AS last_prime_ms
      FROM rulake.stat_counters GROUP BY collection_id
)
SELECT c.name AS collection, c.backend, s.hits, s.misses,
       coalesce(e.primes, 0)::bigint AS primes,
       coalesce(e.shared_hits, 0)::bigint AS shared_hits,
       coalesce(e.invalidations, 0)::bigint AS invalidations,
       coalesce(e.warm_installs, 0)::bigint AS warm_installs,
       CASE WHEN s.hits + s.misses > 0 THEN s.hits::float8 / (s.hits + s.misses) END AS hit_rate,
       coalesce(e.total_prime_ms, 0)::float8 AS total_prime_ms,
       e.last_prime_ms
  FROM rulake.collections c
  JOIN searches s ON s.id = c.id
  LEFT JOIN events e ON e.collection_id = c.id;

-- The same counters per backend (its collections added up).
CREATE VIEW rulake.backend_stats AS
SELECT b.name AS backend, b.kind,
       coalesce(sum(s.hits), 0)::bigint AS hits,
       coalesce(sum(s.misses), 0)::bigint AS misses,
       coalesce(sum(s.primes), 0)::bigint AS primes,
       coalesce(sum(s.shared_hits), 0)::bigint AS shared_hits,
       coalesce(sum(s.invalidations), 0)::bigint AS invalidations,
       coalesce(sum(s.warm_installs), 0)::bigint AS warm_installs,
       CASE WHEN coalesce(sum(s.hits + s.misses), 0) > 0
            THEN sum(s.hits)::float8 / sum(s.hits + s.misses) END AS hit_rate,
       coalesce(sum(s.total_prime_ms), 0)::float8 AS total_prime_ms,
       (SELECT t.last_prime_ms FROM rulake.stat_counters t JOIN rulake.collections c ON c.id = t.collection_id
         WHERE c.backend = b.name ORDER BY t.last_prime_at DESC NULLS LAST LIMIT 1) AS last_prime_ms
  FROM rulake.backends b
  LEFT JOIN rulake.collection_stats s ON s.backend = b.name
 GROUP BY b.name, b.kind;

-- The same counters for the whole cache (every collection), with the number and size of cache entries.
CREATE VIEW rulake.cache_stats AS
SELECT coalesce(sum(s.hits), 0)::bigint AS hits,
       coalesce(sum(s.misses), 0)::bigint AS misses,
       coalesce(sum(s.primes), 0)::bigint AS primes,
       coalesce(sum(s.shared_hits), 0)::bigint AS shared_hits,
       coalesce(sum(s.invalidations), 0)::bigint AS invalidations,
       coalesce(sum(s.warm_installs), 0)::bigint AS warm_installs,
       CASE WHEN coalesce(sum(s.hits + s.misses), 0) > 0
            THEN sum(s.hits)::float8 / sum(s.hits + s.misses) END AS hit_rate,
       coalesce(sum(s.total_prime_ms), 0)::float8 AS total_prime_ms,
       (SELECT t.last_prime_ms FROM rulake.stat_counters t JOIN rulake.collections c ON c.id = t.collection_id
         ORDER BY t.last_prime_at DESC NULLS LAST LIMIT 1) AS last_prime_ms,
       (SELECT count(*) FROM rulake.cache_entries) AS entries,
       (SELECT coalesce(sum(row_count), 0)::bigint FROM rulake.cache_entries) AS cached_rows,
       (SELECT coalesce(sum(size_bytes), 0)::bigint FROM rulake.cache_entries) AS cached_bytes
  FROM rulake.collection_stats s;

GRANT SELECT ON rulake.collection_stats, rulake.backend_stats, rulake.cache_stats TO PUBLIC;

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

GRANT EXECUTE ON FUNCTION rulake.create_backend(text, text, jsonb), rulake.drop_backend(text),
    rulake.create_collection(text, text, text, text, text, text, interval, bigint, integer, text, text),
    rulake.drop_collection(text), rulake.refresh(text), rulake.refresh_all(), rulake.invalidate(text),
    rulake.publish_bundle(text, text), rulake.refresh_from_bundle_dir(text, text), rulake.save_cache(text, text),
    rulake.warm_from_dir(text, text), rulake.search(text, @extschema@.vector, integer),
    rulake.search_batch(text, @extschema@.vector[], integer),
    rulake.search_federated(text[], @extschema@.vector, integer) TO PUBLIC;
