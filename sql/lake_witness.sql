-- Bundle witnesses and sidecars (format_version 2 of the reference ruLake format).
-- The reference test vectors that SQL can express (the fifth has a NUL byte in an opaque generation,
-- which text cannot hold; the unit tests cover it).
SELECT v.data_ref,
       rulake.bundle_witness(v.data_ref, v.dim, v.seed, v.rerank, v.generation) AS witness,
       rulake.bundle_witness(v.data_ref, v.dim, v.seed, v.rerank, v.generation) = v.expected AS matches_reference
FROM (VALUES
  ('gs://bucket/x.parquet', 128, 42, 20, '7'::jsonb,
   '7eac1775d1f76a4db88672655fc64977287ec60eda47c6df3a19bacfd0c038cd'),
  ('x', 1, 0, 1, '7',
   '1cc8073588bc0c76ef87dd44d7be3440e306a089ca313ba05c2db6710205983b'),
  ('iceberg://catalog/db/table', 384, 3735928559, 5, '"01JCX7NK6G5R9G1YZ7QH"',
   '6b1a75410b684054ec05c6c717a4e75204419722d5ce64e37ac1a2703c8e940b'),
  ('local://svc/c', 2, 42, 20, '1',
   '5d1ad6d44c88e139f04d2b26b421d2f4789e5acf44ccab6eefc21a18e43858dd')
) AS v(data_ref, dim, seed, rerank, generation, expected);

-- A string generation is opaque: "7" is not the number 7. Numbers are judged by value.
SELECT rulake.bundle_witness('x', 1, 0, 1, '"7"') <> rulake.bundle_witness('x', 1, 0, 1, '7') AS string_differs,
       rulake.bundle_witness('x', 1, 0, 1, '7.0') = rulake.bundle_witness('x', 1, 0, 1, '7') AS integral_value,
       rulake.bundle_witness('x', 1, 42.000, 1, '7') = rulake.bundle_witness('x', 1, 42, 1, '7') AS integral_seed;
-- The whole u64 range of the seed and the generation, without rounding (2^53 + 1 is exact).
SELECT rulake.bundle_witness('x', 1, 18446744073709551615, 1, '18446744073709551615') AS max_u64;
SELECT rulake.bundle_witness('x', 1, 9007199254740993, 1, '7') <> rulake.bundle_witness('x', 1, 9007199254740992, 1, '7') AS exact;
-- STRICT: a NULL argument gives NULL.
SELECT rulake.bundle_witness(NULL, 1, 0, 1, '7') IS NULL AS null_in_null_out;

-- Bad inputs.
SELECT rulake.bundle_witness('x', -1, 0, 1, '7');
SELECT rulake.bundle_witness('x', 1, 0, -20, '7');
SELECT rulake.bundle_witness('x', 1, -1, 1, '7');
SELECT rulake.bundle_witness('x', 1, 18446744073709551616, 1, '7');
SELECT rulake.bundle_witness('x', 1, 1.5, 1, '7');
SELECT rulake.bundle_witness('x', 1, 'NaN', 1, '7');
SELECT rulake.bundle_witness('x', 1, 0, 1, '7.5');
SELECT rulake.bundle_witness('x', 1, 0, 1, '-1');
SELECT rulake.bundle_witness('x', 1, 0, 1, '18446744073709551616');
SELECT rulake.bundle_witness('x', 1, 0, 1, 'true');
SELECT rulake.bundle_witness('x', 1, 0, 1, 'null');
SELECT rulake.bundle_witness('x', 1, 0, 1, '[7]');
SELECT rulake.bundle_witness('x', 1, 0, 1, '{"n": 7}');

-- Reading sidecars. RULAKE_FIXTURES is the absolute path of this repository's test/fixtures.
\getenv fixtures RULAKE_FIXTURES
SELECT jsonb_pretty(rulake.read_bundle(:'fixtures' || '/table.rulake.json'));
-- The witness a sidecar carries is the one bundle_witness computes from its fields.
SELECT b->>'rvf_witness' = rulake.bundle_witness(b->>'data_ref', (b->>'dim')::bigint, (b->>'rotation_seed')::numeric,
                                                 (b->>'rerank_factor')::bigint, b->'generation') AS consistent
FROM rulake.read_bundle(:'fixtures' || '/table.rulake.json') AS b;
-- Every field set, a u64-max seed kept to the last digit, an opaque generation.
SELECT b->'rotation_seed' AS rotation_seed, b->'generation' AS generation, b->>'memory_class' AS memory_class,
       b->>'pii_policy' AS pii_policy, b->>'lineage_id' AS lineage_id,
       b->>'rvf_witness' = rulake.bundle_witness(b->>'data_ref', (b->>'dim')::bigint, (b->>'rotation_seed')::numeric,
                                                 (b->>'rerank_factor')::bigint, b->'generation') AS consistent
FROM rulake.read_bundle(:'fixtures' || '/maxseed.table.rulake.json') AS b;
-- A sidecar whose dim was changed after its witness was computed is rejected, naming both witnesses.
-- (terse: the detail names the file, whose location differs between machines)
\set VERBOSITY terse
SELECT rulake.read_bundle(:'fixtures' || '/tampered.table.rulake.json');
\set VERBOSITY default
SELECT rulake.read_bundle('/nonexistent/rulake/table.rulake.json');
SELECT rulake.read_bundle('/');
SELECT rulake.read_bundle('relative/table.rulake.json');

-- Only superusers and members of pg_read_server_files may read server files.
CREATE ROLE regress_lake_reader;
GRANT USAGE ON SCHEMA rulake TO regress_lake_reader;
SET ROLE regress_lake_reader;
SELECT rulake.read_bundle('/nonexistent/rulake/table.rulake.json');
RESET ROLE;
GRANT pg_read_server_files TO regress_lake_reader;
SET ROLE regress_lake_reader;
SELECT rulake.read_bundle(:'fixtures' || '/table.rulake.json') ->> 'rvf_witness' AS witness;
RESET ROLE;
REVOKE USAGE ON SCHEMA rulake FROM regress_lake_reader;
DROP ROLE regress_lake_reader;
