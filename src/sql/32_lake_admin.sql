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
    PERFORM rulake._lock('backend', p_name);
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
    PERFORM rulake._lock('backend', p_name);
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

    PERFORM rulake._lock('backend', p_backend);
    PERFORM rulake._lock('collection', p_name);
    SELECT * INTO b FROM rulake.backends WHERE name = p_backend;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'backend "%" does not exist', p_backend USING ERRCODE = 'undefined_object';
    END IF;
    -- A backend (its root directory, its data_ref_prefix) is its owner's to use.
    PERFORM rulake._require_owner(caller, b.owner, 'backend', p_backend);
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
        SELECT c.relkind, format('%I.%I', n.nspname, c.relname)
          INTO v_relkind, v_source
          FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.oid = p_source_relation;
        IF v_relkind NOT IN ('r', 'p', 'v', 'm', 'f') THEN
            RAISE EXCEPTION '"%" is not a table, view, materialized view or foreign table', p_source
                USING ERRCODE = 'wrong_object_type';
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
                      ELSE rulake._probe_source_dim(p_source_relation, p_vector_column, caller, p_search_path) END;
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
            PERFORM rulake._lock('source', p_source_relation::oid::text);
            IF NOT EXISTS (SELECT FROM rulake.source_changes WHERE source = p_source_relation) THEN
                -- The first row of the change log: a fresh stamp, so that the generation is new even
                -- for a table watched before.
                INSERT INTO rulake.source_changes (source, stamp)
                VALUES (p_source_relation, rulake._stamp(pg_catalog.nextval('rulake.generation_values')));
            END IF;
            IF NOT EXISTS (SELECT FROM pg_catalog.pg_trigger
                            WHERE tgrelid = p_source_relation AND tgname = 'rulake_generation') THEN
                EXECUTE format('CREATE TRIGGER rulake_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s '
                               'FOR EACH STATEMENT EXECUTE FUNCTION rulake._log_change()', p_source_relation);
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
    -- The search counters (see rulake.stat_counters), owned by the collection's owner: DROP ROLE then
    -- refuses while the role owns collections (drop them, or DROP OWNED, first). Read through
    -- rulake._search_count by the roles that may see the collection.
    EXECUTE format('CREATE SEQUENCE rulake.%I; CREATE SEQUENCE rulake.%I; ALTER SEQUENCE rulake.%I OWNER TO %I; '
                   'ALTER SEQUENCE rulake.%I OWNER TO %I',
                   '_hits_' || v_id, '_misses_' || v_id, '_hits_' || v_id, caller::regrole::text,
                   '_misses_' || v_id, caller::regrole::text);
END
$$;

-- Detaches a collection from its cache (evicting it later if nobody else uses it), removes rulake's
-- trigger from its source when no other collection watches that table, and deletes the collection.
CREATE FUNCTION rulake._drop_collection(caller oid, p_name text) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c rulake.collections;
BEGIN
    c := rulake._lock_owned_collection(caller, p_name);
    DELETE FROM rulake.collections WHERE name = p_name;
    IF c.cache_relation IS NOT NULL THEN
        PERFORM rulake._recount(c.cache_relation);
    END IF;
    IF c.source_relation IS NOT NULL AND c.generation_sql IS NULL THEN
        PERFORM rulake._lock('source', c.source_relation::oid::text);
    END IF;
    IF c.source_relation IS NOT NULL AND c.generation_sql IS NULL
       AND NOT EXISTS (SELECT FROM rulake.collections
                        WHERE source_relation = c.source_relation AND generation_sql IS NULL) THEN
        DELETE FROM rulake.source_changes WHERE source = c.source_relation;
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

-- A refresh needs the right to search the collection or membership in its owner (lake_access.hpp).
CREATE FUNCTION rulake._refresh(caller oid, p_name text) RETURNS text
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT rulake._may_refresh(caller, p_name) THEN
        PERFORM rulake._require_read(caller, p_name);  -- raises the reason
    END IF;
    RETURN rulake._refresh_collection(p_name);
END
$$;

-- Refreshes every collection the caller may refresh, in name order, each in its own subtransaction:
-- one failing collection reports 'error: <message>' (and a WARNING, for schedulers' logs) and the
-- others go on.
CREATE FUNCTION rulake._refresh_all(caller oid) RETURNS TABLE (collection text, outcome text)
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c rulake.collections;
BEGIN
    FOR c IN SELECT * FROM rulake.collections ORDER BY name LOOP
        collection := c.name;
        BEGIN
            IF NOT rulake._may_refresh(caller, c.name) THEN
                CONTINUE;
            END IF;
            outcome := rulake._refresh_collection(c.name);
        EXCEPTION WHEN OTHERS THEN
            outcome := 'error: ' || SQLERRM;
            -- Schedulers record the call's success; the server log shows each failure.
            RAISE WARNING 'rulake.refresh_all: collection "%" failed: %', c.name, SQLERRM;
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
    c := rulake._lock_owned_collection(caller, p_name);
    PERFORM rulake._drop_collection_entry(c);
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
    SELECT * INTO e FROM rulake.cache_entries WHERE cache_relation = c.cache_relation;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'collection "%" has no cache', c.name USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'Run rulake.refresh first.';
    END IF;
    RETURN e;
END
$$;

-- The cache entry of collection p_name, for writing it to files: raises unless caller may write files on
-- the server and search the collection (its rows, or their witness, leave the database).
CREATE FUNCTION rulake._entry_to_write(caller oid, p_name text) RETURNS rulake.cache_entries
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM rulake._require_file_access(caller, true);
    PERFORM rulake._require_read(caller, p_name);
    RETURN rulake._cached_entry(rulake._collection(p_name));
END
$$;

CREATE FUNCTION rulake._publish_bundle(caller oid, p_name text, p_dir text) RETURNS text
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    e rulake.cache_entries;
BEGIN
    e := rulake._entry_to_write(caller, p_name);
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
    -- It may drop the cache, which other collections (and roles) share: the owner's decision.
    PERFORM rulake._require_owner(caller, c.owner, 'collection', p_name);
    v_bundle := rulake._read_bundle_in_dir(p_dir);
    IF v_bundle IS NULL THEN
        RETURN 'bundle_missing';
    END IF;
    IF v_bundle ->> 'data_ref' <> c.data_ref THEN
        RAISE EXCEPTION 'bundle in "%" describes other data than collection "%"', p_dir, p_name
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The bundle''s data_ref is "%s", the collection''s "%s".', v_bundle ->> 'data_ref', c.data_ref);
    END IF;
    c := rulake._lock_collection(p_name);
    IF c.witness IS NOT DISTINCT FROM v_bundle ->> 'rvf_witness' THEN
        RETURN 'up_to_date';
    END IF;
    PERFORM rulake._drop_collection_entry(c);
    PERFORM rulake._count_event(c.id, 'invalidation');
    RETURN 'invalidated';
END
$$;

CREATE FUNCTION rulake._save_cache(caller oid, p_name text, p_dir text) RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    e rulake.cache_entries;
BEGIN
    e := rulake._entry_to_write(caller, p_name);
    RETURN rulake._save_cache_files(e.cache_relation::pg_catalog.regclass, p_dir, rulake._bundle_json(e.witness));
END
$$;

-- Installs the cache saved in p_dir (table.rulake.json + a .rbpx file) for collection p_name without
-- reading its source. The bundle must be the collection's: same data_ref, dimension, seed and rerank
-- factor (hence a witness the collection would compute for that generation); the .rbpx header must
-- agree with the bundle and use the Hadamard rotation (version-1 files do not record a rotation and
-- are taken as Hadamard). Returns the number of rows installed.
CREATE FUNCTION rulake._warm_from_dir(caller oid, p_name text, p_dir text) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp SET default_tablespace = '' SET temp_tablespaces = ''
SET maintenance_work_mem = '64MB' SET rabitq.build_threads = 2 AS $$
DECLARE
    c rulake.collections;
    v_found jsonb;
    v_bundle jsonb;
    v_file jsonb;
    v_witness text;
    v_reader oid;
    v_entry text;
    v_relation regclass;
    v_rows bigint;
BEGIN
    PERFORM rulake._require_file_access(caller, false);
    c := rulake._lock_owned_collection(caller, p_name);
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

    v_reader := rulake._cache_reader(p_name);
    PERFORM rulake._lock('cache', rulake._cache_lock_key(v_witness, v_reader));
    PERFORM rulake._pin_build_settings();
    SELECT cache_relation INTO v_entry FROM rulake.cache_entries
     WHERE witness = v_witness AND coalesce(reader::oid, 0) = v_reader;
    IF v_entry IS NOT NULL AND rulake._entry_usable(v_entry) THEN
        v_relation := pg_catalog.to_regclass(v_entry);
        SELECT row_count INTO v_rows FROM rulake.cache_entries WHERE cache_relation = v_entry;
        PERFORM rulake._ensure_index(v_relation, c.metric, c.rotation_seed);
    ELSE
        IF v_entry IS NOT NULL THEN
            PERFORM rulake._drop_entry(v_entry);
        END IF;
        v_relation := rulake._create_cache_relation(v_witness, c.dim);
        v_rows := rulake._load_rbpx(v_relation, v_file ->> 'path', c.dim, c.rotation_seed, c.rerank_factor,
                                    (v_file ->> 'count')::bigint);
        v_entry := rulake._install_entry(v_relation, v_witness, v_reader, c, v_bundle -> 'generation', v_bundle,
                                         v_rows, 'warm');
    END IF;
    PERFORM rulake._attach(p_name, v_entry, v_witness, v_bundle -> 'generation');
    PERFORM rulake._count_event(c.id, 'warm');
    PERFORM rulake._evict();
    RETURN v_rows;
END
$$;

