-- ruLake's internal functions (not executable by PUBLIC): C++ helpers, then the PL/pgSQL that keeps
-- the cache catalog. They run as the extension owner, called by the gate (src/lake/lake_gate.cpp).

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
CREATE FUNCTION rulake._probe_source_dim(relation regclass, vector_column text, owner oid, search_path text)
RETURNS integer
    AS 'MODULE_PATHNAME', 'rulake_internal_probe_source_dim' LANGUAGE C VOLATILE;
CREATE FUNCTION rulake._source_generation(collection text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'rulake_internal_source_generation' LANGUAGE C VOLATILE;
CREATE FUNCTION rulake._evaluate_generation_sql(sql text, owner oid, search_path text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'rulake_internal_evaluate_generation_sql' LANGUAGE C VOLATILE;
CREATE FUNCTION rulake._count_event(collection_id bigint, event text, prime_ms float8 DEFAULT NULL) RETURNS void
    AS 'MODULE_PATHNAME', 'rulake_internal_count_event' LANGUAGE C VOLATILE;

CREATE FUNCTION rulake._lock(kind text, key text, wait boolean DEFAULT true) RETURNS boolean
    AS 'MODULE_PATHNAME', 'rulake_internal_lock' LANGUAGE C VOLATILE;
CREATE FUNCTION rulake._require_read(caller oid, collection text) RETURNS void
    AS 'MODULE_PATHNAME', 'rulake_internal_require_read' LANGUAGE C STABLE;
CREATE FUNCTION rulake._may_read(caller oid, collection text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'rulake_internal_may_read' LANGUAGE C STABLE;
CREATE FUNCTION rulake._may_refresh(caller oid, collection text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'rulake_internal_may_refresh' LANGUAGE C STABLE;
CREATE FUNCTION rulake._cache_reader(collection text) RETURNS oid
    AS 'MODULE_PATHNAME', 'rulake_internal_cache_reader' LANGUAGE C STABLE;
CREATE FUNCTION rulake._stamp(value bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'rulake_internal_stamp' LANGUAGE C IMMUTABLE STRICT;

-- ---------------------------------------------------------------------------------------------------
-- Internal functions in PL/pgSQL. All pin search_path and qualify every name.
-- ---------------------------------------------------------------------------------------------------

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

-- Statement trigger on tables watched for changes (installed by create_collection, one per table):
-- appends one row to the table's change log (see rulake.source_changes). Writers only insert, so they
-- never wait for each other here.
CREATE FUNCTION rulake._log_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO rulake.source_changes (source, stamp)
    VALUES (TG_RELID, rulake._stamp(pg_catalog.nextval('rulake.generation_values')));
    RETURN NULL;
END
$$;

-- Replaces the change-log rows of source that this transaction sees and can lock at once by one row
-- holding their XOR, which leaves the source's generation as it is for every reader. Only in read
-- committed, read-write transactions, and only beyond 32 rows; rows locked by others are left alone.
CREATE FUNCTION rulake._compact_change_log(p_source regclass) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF pg_catalog.current_setting('transaction_isolation') <> 'read committed'
       OR pg_catalog.current_setting('transaction_read_only')::boolean
       OR (SELECT count(*) FROM rulake.source_changes WHERE source = p_source) <= 32 THEN
        RETURN;
    END IF;
    WITH gone AS (
        DELETE FROM rulake.source_changes
         WHERE ctid = ANY (ARRAY(SELECT ctid FROM rulake.source_changes WHERE source = p_source
                                   FOR UPDATE SKIP LOCKED))
        RETURNING stamp
    )
    INSERT INTO rulake.source_changes (source, stamp)
    SELECT p_source, pg_catalog.bit_xor(stamp) FROM gone HAVING count(*) > 0;
END
$$;

-- True if the cache entry of relation r exists and its relation too.
CREATE FUNCTION rulake._entry_usable(r text) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT FROM rulake.cache_entries e JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(e.cache_relation)
                    WHERE e.cache_relation = r)
$$;

-- Sets the reference count of the entry of relation r to the number of collections pointing to it, and
-- its last use to now.
CREATE FUNCTION rulake._recount(r text) RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
    UPDATE rulake.cache_entries
       SET ref_count = (SELECT count(*) FROM rulake.collections WHERE cache_relation = r),
           last_used = pg_catalog.clock_timestamp()
     WHERE cache_relation = r
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

-- Removes the cache entry of relation r (collections pointing to it lose their cache), its bundle row
-- when no other entry has that witness, and drops the relation. Call with the entry's lock held.
CREATE FUNCTION rulake._drop_entry(r text) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_witness text;
    v_relation regclass := pg_catalog.to_regclass(r);
BEGIN
    DELETE FROM rulake.cache_entries WHERE cache_relation = r RETURNING witness INTO v_witness;
    IF v_witness IS NOT NULL AND NOT EXISTS (SELECT FROM rulake.cache_entries WHERE witness = v_witness) THEN
        DELETE FROM rulake.bundles WHERE rvf_witness = v_witness;
    END IF;
    IF v_relation IS NOT NULL THEN
        PERFORM rulake._drop_cache_relation(v_relation);
    END IF;
END
$$;

-- The key of an entry's lock (rulake._lock('cache', ...)).
CREATE FUNCTION rulake._cache_lock_key(w text, p_reader oid) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT w || '/' || coalesce(p_reader, 0)::text
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
-- remain (entries in use are never evicted). An entry whose lock another transaction holds (it is
-- being primed, shared or attached) is skipped; the reference count is read again under the lock.
CREATE FUNCTION rulake._evict() RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_excess bigint;
    r record;
BEGIN
    SELECT count(*) - pg_catalog.current_setting('rulake.max_cache_entries')::integer INTO v_excess
      FROM rulake.cache_entries;
    FOR r IN SELECT cache_relation, witness, reader FROM rulake.cache_entries WHERE ref_count = 0
              ORDER BY last_used, cache_relation LOOP
        EXIT WHEN v_excess <= 0;
        CONTINUE WHEN NOT rulake._lock('cache', rulake._cache_lock_key(r.witness, r.reader), false);
        CONTINUE WHEN EXISTS (SELECT FROM rulake.collections WHERE cache_relation = r.cache_relation);
        PERFORM rulake._drop_entry(r.cache_relation);
        v_excess := v_excess - 1;
    END LOOP;
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
-- collection's rotation_seed modulo 2^31 (the rabitq option is a 32-bit integer). Built with the
-- settings its caller pinned (rulake._pin_build_settings), not the session's.
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

-- Sets, for the rest of the calling function (which must have SET clauses for these settings so that
-- they are restored at its exit), the settings that shape a cache built for every collection of its
-- witness: the caller's session must not (default_tablespace, temp_tablespaces, maintenance_work_mem,
-- rabitq.build_threads). maintenance_work_mem comes from rulake.cache_maintenance_work_mem.
CREATE FUNCTION rulake._pin_build_settings() RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
    SELECT pg_catalog.set_config('maintenance_work_mem', pg_catalog.current_setting('rulake.cache_maintenance_work_mem'), true);
$$;

-- Points collection p_name at the entry of relation r (witness w), recording the generation, and
-- recounts both the new and the old entry. Call with the entry's lock held.
CREATE FUNCTION rulake._attach(p_name text, r text, w text, p_generation jsonb) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_old text;
BEGIN
    SELECT cache_relation INTO v_old FROM rulake.collections WHERE name = p_name;
    UPDATE rulake.collections
       SET cache_relation = r, witness = w, generation = p_generation, last_check = pg_catalog.clock_timestamp()
     WHERE name = p_name;
    PERFORM rulake._recount(r);
    IF v_old IS NOT NULL AND v_old <> r THEN
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

-- Records a freshly loaded cache relation as the entry of witness w for reader p_reader (0: shared):
-- builds the index of c's metric, analyzes it, inserts its bundle row (p_bundle: the sidecar's optional
-- fields; unless an entry of another reader holds that witness already) and its entry row. Call with
-- the entry's lock held and the build settings pinned. Returns the entry's key (its relation's name).
CREATE FUNCTION rulake._install_entry(p_relation regclass, w text, p_reader oid, c rulake.collections,
                                      p_generation jsonb, p_bundle jsonb, p_rows bigint, p_origin text)
RETURNS text
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM rulake._ensure_index(p_relation, c.metric, c.rotation_seed);
    EXECUTE format('ANALYZE %s', p_relation);
    INSERT INTO rulake.bundles (rvf_witness, data_ref, dim, rotation_seed, rerank_factor, generation,
                                pii_policy, lineage_id, memory_class)
    VALUES (w, c.data_ref, c.dim, c.rotation_seed, c.rerank_factor, p_generation,
            p_bundle ->> 'pii_policy', p_bundle ->> 'lineage_id', p_bundle ->> 'memory_class')
    ON CONFLICT (rvf_witness) DO NOTHING;
    INSERT INTO rulake.cache_entries (cache_relation, witness, reader, row_count, size_bytes, last_used, origin)
    VALUES (p_relation::text, w, nullif(p_reader, 0)::regrole, p_rows, pg_catalog.pg_total_relation_size(p_relation),
            pg_catalog.clock_timestamp(), p_origin);
    RETURN p_relation::text;
END
$$;

-- Drops the cache entry collection c points to (for every collection sharing it), under the entry's
-- lock. Call with the collection's lock held.
CREATE FUNCTION rulake._drop_collection_entry(c rulake.collections) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF c.cache_relation IS NOT NULL THEN
        PERFORM rulake._lock('cache', rulake._cache_lock_key(c.witness, (SELECT reader FROM rulake.cache_entries
                                                                          WHERE cache_relation = c.cache_relation)));
        PERFORM rulake._drop_entry(c.cache_relation);
    END IF;
END
$$;

-- Takes collection p_name's lock (held until the transaction ends) and returns its row as committed
-- by the last transaction that held the lock.
CREATE FUNCTION rulake._lock_collection(p_name text) RETURNS rulake.collections
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM rulake._lock('collection', p_name);
    RETURN rulake._collection(p_name);
END
$$;

-- rulake._lock_collection, then 42501 unless caller is a member of the collection's owner.
CREATE FUNCTION rulake._lock_owned_collection(caller oid, p_name text) RETURNS rulake.collections
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c rulake.collections := rulake._lock_collection(p_name);
BEGIN
    PERFORM rulake._require_owner(caller, c.owner, 'collection', p_name);
    RETURN c;
END
$$;

-- Brings collection p_name's cache up to date with its source: compares the source's generation now
-- with the one the cache was built from and, if they differ (or there is no cache, or the cache was
-- loaded for another reader than the source now calls for), points the collection at the cache of the
-- new witness and reader - an existing one ('shared') or a new one loaded from the source as the
-- collection's owner ('primed'). Otherwise 'up_to_date'. Takes the collection's lock, then the entry's
-- (so unrelated collections refresh concurrently). In a read-only transaction (or on a standby) it
-- reports 'up_to_date' when nothing needs doing and raises 25006 otherwise. Callers check the right to
-- refresh.
CREATE FUNCTION rulake._refresh_collection(p_name text) RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp SET default_tablespace = '' SET temp_tablespaces = ''
SET maintenance_work_mem = '64MB' SET rabitq.build_threads = 2 AS $$
DECLARE
    c rulake.collections;
    v_generation jsonb;
    v_witness text;
    v_reader oid;
    v_relation regclass;
    v_entry text;
    v_rows bigint;
    v_started timestamptz;
    v_outcome text;
BEGIN
    c := rulake._lock_collection(p_name);
    v_generation := rulake._source_generation(p_name);
    v_reader := rulake._cache_reader(p_name);
    v_witness := rulake.bundle_witness(c.data_ref, c.dim, c.rotation_seed, c.rerank_factor, v_generation);
    IF c.source_relation IS NOT NULL AND c.generation_sql IS NULL THEN
        PERFORM rulake._compact_change_log(c.source_relation);
    END IF;
    PERFORM rulake._lock('cache', rulake._cache_lock_key(v_witness, v_reader));
    SELECT cache_relation INTO v_entry FROM rulake.cache_entries
     WHERE witness = v_witness AND coalesce(reader::oid, 0) = v_reader;
    IF v_entry IS NOT NULL AND NOT rulake._entry_usable(v_entry) THEN
        PERFORM rulake._drop_entry(v_entry);  -- its relation was dropped behind rulake's back
        v_entry := NULL;
    END IF;
    IF v_entry IS NOT NULL AND c.cache_relation = v_entry THEN
        IF NOT pg_catalog.current_setting('transaction_read_only')::boolean THEN
            UPDATE rulake.collections SET last_check = pg_catalog.clock_timestamp() WHERE name = p_name;
        END IF;
        RETURN 'up_to_date';
    END IF;
    IF pg_catalog.current_setting('transaction_read_only')::boolean THEN
        RAISE EXCEPTION 'cache of collection "%" must be refreshed, which a read-only transaction cannot do', p_name
            USING ERRCODE = 'read_only_sql_transaction',
                  HINT = 'Refresh in a read-write transaction (on the primary).';
    END IF;
    PERFORM rulake._pin_build_settings();
    IF v_entry IS NOT NULL THEN
        v_relation := pg_catalog.to_regclass(v_entry);
        PERFORM rulake._ensure_index(v_relation, c.metric, c.rotation_seed);
        v_outcome := 'shared';
        PERFORM rulake._count_event(c.id, 'shared');
    ELSE
        v_started := pg_catalog.clock_timestamp();
        v_relation := rulake._create_cache_relation(v_witness, c.dim);
        v_rows := rulake._load_cache(p_name, v_relation);
        v_entry := rulake._install_entry(v_relation, v_witness, v_reader, c, v_generation, NULL, v_rows, 'prime');
        v_outcome := 'primed';
        PERFORM rulake._count_event(c.id, 'prime',
                                    extract(epoch FROM pg_catalog.clock_timestamp() - v_started)::float8 * 1000);
    END IF;
    PERFORM rulake._attach(p_name, v_entry, v_witness, v_generation);
    PERFORM rulake._evict();
    RETURN v_outcome;
END
$$;
