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
-- Locking (src/lake/lake_locks.cpp): transaction-level locks that only rulake can take, one per
-- collection, cache entry, watched source and backend, taken in that order (rulake._lock). Unrelated
-- refreshes run concurrently; searches that find their cache current take none. Who may do what:
-- docs/security.md.
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

-- The caches: one relation rulake_cache.c_* (id bigint, embedding vector(dim)) per witness and reader,
-- with one rabitq index per metric its collections use. reader: NULL for a shared cache (the source
-- shows every reader the same rows), else the role whose view of a private source it holds
-- (src/lake/lake_access.hpp); a private cache serves only that role's collections. ref_count =
-- collections pointing to it; unreferenced entries are evicted least recently used first beyond
-- rulake.max_cache_entries. last_used: when the entry was last primed, shared, attached or detached
-- (searches are counted in rulake.stat_counters). cache_relation is kept by name, so that a dump
-- without schema rulake_cache restores: entries whose relation is missing are dropped and primed again
-- when next needed.
CREATE TABLE rulake.cache_entries (
    cache_relation text PRIMARY KEY CHECK (cache_relation ~ '^rulake_cache\.c_[0-9a-f]{16}_[0-9]+$'),
    witness        text NOT NULL REFERENCES rulake.bundles (rvf_witness),
    reader         regrole,
    rotation       text NOT NULL DEFAULT 'hadamard' CHECK (rotation IN ('hadamard', 'haar')),
    row_count      bigint NOT NULL,
    size_bytes     bigint NOT NULL,
    ref_count      integer NOT NULL DEFAULT 0,
    last_used      timestamptz NOT NULL,
    origin         text NOT NULL CHECK (origin IN ('prime', 'warm')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (cache_relation, witness)
);
CREATE UNIQUE INDEX cache_entries_witness_reader ON rulake.cache_entries (witness, (coalesce(reader::oid, 0)));

CREATE SEQUENCE rulake.collection_ids;

-- Named vector sets on a backend. cache_relation/witness/generation: the cache the collection points to,
-- its witness and the source generation it was built from; last_check: when the generation was last
-- compared. owner: the collection's owner; the search counters rulake._hits_<id>/_misses_<id> are owned
-- by that role, so that DROP ROLE refuses while the role owns collections.
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
    cache_relation  text,
    witness         text,
    generation      jsonb,
    last_check      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (cache_relation, witness) REFERENCES rulake.cache_entries (cache_relation, witness) ON DELETE SET NULL
);
CREATE INDEX ON rulake.collections (cache_relation);
CREATE INDEX ON rulake.collections (source_relation);

-- The change log of tables watched by rulake's trigger (rulake._log_change): every writing statement
-- inserts one row whose stamp is a 64-bit mix of a fresh value of rulake.generation_values. A table's
-- generation is the XOR of the stamps its log rows visible to the reader hold
-- (src/lake/lake_catalog.hpp), so a committed write is seen by the next search, a transaction sees its
-- own writes, and writers only ever insert: they never wait for, block or fail each other because of
-- rulake. Refreshes compact a table's log (rulake._compact_change_log), keeping the XOR.
CREATE TABLE rulake.source_changes (
    source regclass NOT NULL,
    stamp  bigint NOT NULL
);
CREATE INDEX source_changes_source ON rulake.source_changes (source);
CREATE SEQUENCE rulake.generation_values;
CREATE SEQUENCE rulake.cache_relation_ids;

SELECT pg_catalog.pg_extension_config_dump('rulake.backends', '');
SELECT pg_catalog.pg_extension_config_dump('rulake.bundles', '');
SELECT pg_catalog.pg_extension_config_dump('rulake.cache_entries', '');
SELECT pg_catalog.pg_extension_config_dump('rulake.collections', '');
SELECT pg_catalog.pg_extension_config_dump('rulake.collection_ids', '');
SELECT pg_catalog.pg_extension_config_dump('rulake.source_changes', '');
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

