-- rulake extension script. Assembled at build time from src/sql/*.sql in name order.
\echo Use "CREATE EXTENSION rulake" to load this file. \quit

CREATE SCHEMA rulake;

-- Proves the C++ / Postgres error boundary (see src/pg/boundary_selftest.cpp). Returns the number of
-- live probe objects for kind 'live'; raises for 'core_error', 'pg_error' and 'bad_alloc_in_pg_call'
-- (a C++ exception thrown inside pg_call); returns 0 for 'cpp_in_pg_call' when the error stacks were
-- restored after glue code caught such an exception.
CREATE FUNCTION rulake.boundary_selftest(kind text) RETURNS bigint
    AS 'MODULE_PATHNAME', 'rulake_boundary_selftest' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
