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
SELECT rulake.boundary_selftest('nonsense');
