-- The C++ / Postgres error boundary.
-- A core exception becomes a clean SQL error with its mapped SQLSTATE and detail.
\set VERBOSITY default
SELECT rulake.boundary_selftest('core_error');
-- A Postgres error raised under a guarded call reaches the client unchanged...
SELECT rulake.boundary_selftest('pg_error');
-- ...and the C++ objects alive around it were destroyed (none left behind).
SELECT rulake.boundary_selftest('live') AS live_probe_objects;
-- The session is healthy afterwards and errors keep their SQLSTATE.
DO $$
BEGIN
  PERFORM rulake.boundary_selftest('pg_error');
EXCEPTION WHEN division_by_zero THEN
  RAISE NOTICE 'caught %', SQLERRM;
END $$;
DO $$
BEGIN
  PERFORM rulake.boundary_selftest('core_error');
EXCEPTION WHEN data_exception THEN
  RAISE NOTICE 'caught %', SQLERRM;
END $$;
SELECT rulake.boundary_selftest('live') AS live_probe_objects;
-- A C++ exception thrown inside pg_call (after Postgres code pushed an error context) is reported by
-- the entry guard as out of memory...
SELECT rulake.boundary_selftest('bad_alloc_in_pg_call');
DO $$
BEGIN
  PERFORM rulake.boundary_selftest('bad_alloc_in_pg_call');
EXCEPTION WHEN out_of_memory THEN
  RAISE NOTICE 'caught %', SQLERRM;
END $$;
-- ...and when glue code catches it and goes on, pg_call has restored Postgres' error stacks (0)...
SELECT rulake.boundary_selftest('cpp_in_pg_call') AS error_stacks_left_dangling;
-- ...so the next Postgres errors, caught or not, are raised and handled as usual.
DO $$
BEGIN
  PERFORM 1 / 0;
EXCEPTION WHEN division_by_zero THEN
  RAISE NOTICE 'caught %', SQLERRM;
END $$;
SELECT 1 / 0;
SELECT rulake.boundary_selftest('cpp_in_pg_call') AS error_stacks_left_dangling,
       rulake.boundary_selftest('pg_error');
SELECT rulake.boundary_selftest('live') AS live_probe_objects;
SELECT rulake.boundary_selftest('nonsense');
