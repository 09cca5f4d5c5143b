-- ruLake's views for every role: the catalog and the statistics, each limited to the collections the
-- role may see (rulake.may_see: it owns them - is a member of their owner - or may search or refresh
-- them; src/lake/lake_access.hpp). The catalog tables themselves are the extension owner's only: they
-- hold every role's generation_sql (which may embed credentials) and the sizes of sources other roles
-- cannot read.

-- True if the current role may see collection `collection` (false if there is no such collection).
CREATE FUNCTION rulake.may_see(collection text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'rulake_may_see' LANGUAGE C STABLE STRICT;
-- The searches counted for a collection ('hits' or 'misses'); NULL unless the current role may see it.
CREATE FUNCTION rulake._search_count(collection text, kind text) RETURNS bigint
    AS 'MODULE_PATHNAME', 'rulake_internal_search_count' LANGUAGE C VOLATILE STRICT;

-- The collections the current role may see; generation_sql only for their owners.
CREATE VIEW rulake.visible_collections WITH (security_barrier) AS
SELECT c.name, c.backend, c.source, c.source_relation, c.id_column, c.vector_column, c.dim, c.metric,
       c.consistency, c.ttl, c.rotation_seed, c.rerank_factor,
       CASE WHEN pg_catalog.pg_has_role(c.owner, 'MEMBER') THEN c.generation_sql END AS generation_sql,
       c.data_ref, c.owner, c.witness, c.generation, c.last_check, c.created_at,
       e.row_count AS cached_rows, e.reader IS NULL AS shared_cache
  FROM rulake.collections c
  LEFT JOIN rulake.cache_entries e ON e.cache_relation = c.cache_relation
 WHERE rulake.may_see(c.name);

-- The backends the current role owns or whose collections it may see.
CREATE VIEW rulake.visible_backends WITH (security_barrier) AS
SELECT b.name, b.kind, b.options, b.root, b.data_ref_prefix, b.owner, b.created_at
  FROM rulake.backends b
 WHERE pg_catalog.pg_has_role(b.owner, 'MEMBER')
    OR EXISTS (SELECT FROM rulake.collections c WHERE c.backend = b.name AND rulake.may_see(c.name));

-- ---------------------------------------------------------------------------------------------------
-- Statistics
-- ---------------------------------------------------------------------------------------------------

-- Counters per collection: searches from the collection's sequences, the rest added up over
-- backend slots.
CREATE VIEW rulake.collection_stats WITH (security_barrier) AS
WITH searches AS (
    SELECT c.id, rulake._search_count(c.name, 'hits') AS hits, rulake._search_count(c.name, 'misses') AS misses
      FROM rulake.collections c
     WHERE rulake.may_see(c.name)
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

-- The same counters per backend (its collections the current role may see added up).
CREATE VIEW rulake.backend_stats WITH (security_barrier) AS
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
         WHERE c.backend = b.name AND rulake.may_see(c.name) ORDER BY t.last_prime_at DESC NULLS LAST LIMIT 1) AS last_prime_ms
  FROM rulake.visible_backends b
  LEFT JOIN rulake.collection_stats s ON s.backend = b.name
 GROUP BY b.name, b.kind;

-- The same counters for the whole cache (the collections the current role may see), with the number and
-- size of the cache entries those collections use.
CREATE VIEW rulake.cache_stats WITH (security_barrier) AS
WITH visible_entries AS (
    SELECT e.row_count, e.size_bytes FROM rulake.cache_entries e
     WHERE EXISTS (SELECT FROM rulake.collections c WHERE c.cache_relation = e.cache_relation AND rulake.may_see(c.name))
)
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
         WHERE rulake.may_see(c.name) ORDER BY t.last_prime_at DESC NULLS LAST LIMIT 1) AS last_prime_ms,
       (SELECT count(*) FROM visible_entries) AS entries,
       (SELECT coalesce(sum(row_count), 0)::bigint FROM visible_entries) AS cached_rows,
       (SELECT coalesce(sum(size_bytes), 0)::bigint FROM visible_entries) AS cached_bytes
  FROM rulake.collection_stats s;



