-- ruLake and server files: fs backends on ruvec1 files, warm restart from .rbpx files (the reference's
-- sample.rbpx included), bundles, and every rule about paths, names and hostile files.
\set SHOW_CONTEXT never
SET extra_float_digits = 0;
-- RULAKE_FIXTURES is the absolute path of this repository's test/fixtures (a copy the server can read
-- and write). Errors naming paths are shown with that prefix replaced by <fixtures>.
\getenv fixtures RULAKE_FIXTURES
SELECT set_config('lake.fixtures', :'fixtures', false) IS NOT NULL AS fixtures_set;
CREATE FUNCTION lake_error(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_message text;
    v_detail text;
    v_hint text;
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_message = MESSAGE_TEXT, v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT;
    RETURN replace(SQLSTATE || ': ' || v_message || coalesce(nullif(' DETAIL: ' || v_detail, ' DETAIL: '), '')
                   || coalesce(nullif(' HINT: ' || v_hint, ' HINT: '), ''),
                   current_setting('lake.fixtures'), '<fixtures>');
END
$$;
-- The vectors of a collection seen through search: every row, nearest first to a fixed query.
CREATE FUNCTION lake_all(collection text) RETURNS TABLE (id bigint, distance numeric) LANGUAGE sql AS $$
    SELECT id, round(distance::numeric, 5) FROM rulake.search(collection, '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]', 1000)
$$;

-- ---- directories must be inside rulake.allowed_dirs --------------------------------------------------
SELECT lake_error(format('SELECT rulake.create_backend(%L, %L, %L)', 'files', 'fs', jsonb_build_object('root', :'fixtures')));
SET rulake.allowed_dirs = '/nonexistent/rulake';
SELECT lake_error(format('SELECT rulake.create_backend(%L, %L, %L)', 'files', 'fs', jsonb_build_object('root', :'fixtures')));
SET rulake.allowed_dirs = :'fixtures';
SELECT lake_error($$SELECT rulake.create_backend('files', 'fs', '{"root": "/etc"}')$$);
SELECT lake_error($$SELECT rulake.create_backend('files', 'fs', '{"root": "relative/dir"}')$$);
SELECT lake_error($$SELECT rulake.create_backend('files', 'fs', '{}')$$);
SELECT lake_error(format('SELECT rulake.create_backend(%L, %L, %L)', 'files', 'fs', jsonb_build_object('root', :'fixtures' || '/..')));
SELECT lake_error(format('SELECT rulake.create_backend(%L, %L, %L)', 'files', 'fs', jsonb_build_object('root', :'fixtures' || '/missing')));
SELECT lake_error(format('SELECT rulake.create_backend(%L, %L, %L)', 'files', 'fs', jsonb_build_object('root', :'fixtures' || '/sample.ruvec1')));
SELECT lake_error(format('SELECT rulake.create_backend(%L, %L, %L)', 'files', 'fs', jsonb_build_object('root', :'fixtures', 'colour', 'blue')));
SELECT rulake.create_backend('files', 'fs', jsonb_build_object('root', :'fixtures' || '/'));
-- The reference names its sample file:///srv/rulake/sample.ruvec1: a data_ref_prefix says so.
SELECT rulake.create_backend('reference', 'fs', jsonb_build_object('root', :'fixtures', 'data_ref_prefix', 'file:///srv/rulake'));
SELECT rulake.create_backend('hostile', 'fs', jsonb_build_object('root', :'fixtures' || '/hostile'));
SELECT name, kind, replace(root, :'fixtures', '<fixtures>') AS root, data_ref_prefix FROM rulake.backends ORDER BY name;

-- ---- the reference sample through an fs backend ------------------------------------------------------
SELECT rulake.create_collection('sample', 'files', 'sample.ruvec1');
SELECT dim, data_ref = 'file://' || :'fixtures' || '/sample.ruvec1' AS data_ref_is_file_path FROM rulake.collections
 WHERE name = 'sample';
SELECT rulake.refresh('sample');
-- 100 vectors, ids 13 i + 7 kept exactly (not renumbered).
SELECT count(*), count(DISTINCT id), min(id), max(id), bool_and((id - 7) % 13 = 0) AS ids_13i_plus_7 FROM lake_all('sample');
SELECT * FROM lake_all('sample') ORDER BY distance, id LIMIT 3;
-- The generation is the file's modification time in seconds, and the witness covers it.
SELECT jsonb_typeof(generation) AS generation_type, (generation)::text::bigint > 1600000000 AS plausible_mtime,
       witness = rulake.bundle_witness(data_ref, dim, rotation_seed, rerank_factor, generation) AS witness_ok
  FROM rulake.collections WHERE name = 'sample';
SELECT rulake.refresh('sample');

-- ---- warm restart from the reference's sample.rbpx (version 1) ---------------------------------------
SELECT rulake.create_collection('sample_ref', 'reference', 'sample.ruvec1', consistency => 'frozen');
SELECT data_ref FROM rulake.collections WHERE name = 'sample_ref';
SELECT rulake.warm_from_dir('sample_ref', :'fixtures' || '/reference_cache');
SELECT witness, generation FROM rulake.collections WHERE name = 'sample_ref';
SELECT origin, row_count, ref_count FROM rulake.cache_entries e JOIN rulake.collections c USING (cache_relation)
 WHERE c.name = 'sample_ref';
-- The same ids and distances as the cache primed from sample.ruvec1.
SELECT (SELECT array_agg(row(id, distance) ORDER BY distance, id) FROM lake_all('sample_ref'))
     = (SELECT array_agg(row(id, distance) ORDER BY distance, id) FROM lake_all('sample')) AS identical;
-- A frozen collection does not look at its file again: it searches even when no directory is allowed.
RESET rulake.allowed_dirs;
SELECT count(*) FROM lake_all('sample_ref');
SELECT lake_error($$SELECT count(*) FROM rulake.search('sample', '[0,0,0,0,0,0,0,0]', 1)$$);
SET rulake.allowed_dirs = :'fixtures';
-- Saved caches are checked against the collection before anything is installed.
SELECT lake_error(format('SELECT rulake.warm_from_dir(%L, %L)', 'sample', :'fixtures' || '/reference_cache'));
SELECT rulake.create_collection('sample_seed', 'reference', 'sample.ruvec1', rotation_seed => 43);
SELECT rulake.create_collection('sample_rerank', 'reference', 'sample.ruvec1', rerank_factor => 5);
SELECT lake_error(format('SELECT rulake.warm_from_dir(%L, %L)', 'sample_seed', :'fixtures' || '/reference_cache'));
SELECT lake_error(format('SELECT rulake.warm_from_dir(%L, %L)', 'sample_rerank', :'fixtures' || '/reference_cache'));
SELECT lake_error(format('SELECT rulake.warm_from_dir(%L, %L)', 'sample_ref', :'fixtures' || '/rbpx_future'));
SELECT lake_error(format('SELECT rulake.warm_from_dir(%L, %L)', 'sample_ref', :'fixtures' || '/rbpx_truncated'));
SELECT lake_error(format('SELECT rulake.warm_from_dir(%L, %L)', 'sample_ref', :'fixtures' || '/two_caches'));
SELECT lake_error(format('SELECT rulake.warm_from_dir(%L, %L)', 'sample_ref', :'fixtures' || '/hostile'));
SELECT lake_error(format('SELECT rulake.warm_from_dir(%L, %L)', 'sample_ref', :'fixtures' || '/oversize_bundle'));
SELECT lake_error(format('SELECT rulake.warm_from_dir(%L, %L)', 'sample_ref', :'fixtures' || '/missing'));
-- Symbolic links in a bundle directory are refused, never followed: link_sidecar's table.rulake.json
-- and link_rbpx's sample.rbpx point to valid files outside rulake.allowed_dirs.
SELECT lake_error(format('SELECT rulake.warm_from_dir(%L, %L)', 'sample_ref', :'fixtures' || '/link_sidecar'));
SELECT lake_error(format('SELECT rulake.warm_from_dir(%L, %L)', 'sample_ref', :'fixtures' || '/link_rbpx'));
SELECT lake_error(format('SELECT rulake.refresh_from_bundle_dir(%L, %L)', 'sample_ref', :'fixtures' || '/link_sidecar'));
SELECT lake_error(format('SELECT rulake.read_bundle(%L)', :'fixtures' || '/link_sidecar/table.rulake.json'));
SELECT lake_error($$SELECT rulake.warm_from_dir('sample_ref', '/etc')$$);
SELECT lake_error($$SELECT rulake.warm_from_dir('nope', '/etc')$$);
-- Nothing was left behind by the failures.
SELECT count(*) AS entries, count(*) FILTER (WHERE origin = 'warm') AS warm FROM rulake.cache_entries;

-- ---- save_cache and warm_from_dir (version 2 files) ---------------------------------------------------
CREATE TEMP TABLE lake_before AS SELECT * FROM lake_all('sample');
SELECT rulake.save_cache('sample', :'fixtures' || '/out_saved');
SELECT (rulake.read_bundle(:'fixtures' || '/out_saved/table.rulake.json') ->> 'rvf_witness')
       = (SELECT witness FROM rulake.collections WHERE name = 'sample') AS sidecar_is_the_caches;
-- The sidecar names the payload after the witness and records its size and digest.
SELECT b ->> 'payload_file' = 'cache-' || left(b ->> 'rvf_witness', 16) || '.rbpx' AS payload_named_after_witness,
       b -> 'payload_bytes' AS payload_bytes, b ->> 'payload_shake256' ~ '^[0-9a-f]{64}$' AS payload_digest_is_hex
  FROM rulake.read_bundle(:'fixtures' || '/out_saved/table.rulake.json') b;
SELECT rulake.invalidate('sample');
SELECT witness IS NULL AS no_cache FROM rulake.collections WHERE name = 'sample';
SELECT rulake.warm_from_dir('sample', :'fixtures' || '/out_saved');
SELECT origin FROM rulake.cache_entries e JOIN rulake.collections c USING (cache_relation) WHERE c.name = 'sample';
SELECT (SELECT array_agg(row(id, distance) ORDER BY distance, id) FROM lake_all('sample'))
     = (SELECT array_agg(row(id, distance) ORDER BY distance, id) FROM lake_before) AS identical;
SELECT rulake.refresh('sample');  -- same file, same generation: the warm cache is current

-- ---- publish_bundle and refresh_from_bundle_dir ---------------------------------------------------------
SELECT rulake.publish_bundle('sample', :'fixtures' || '/out_published')
       = (SELECT witness FROM rulake.collections WHERE name = 'sample') AS published_the_caches_witness;
SELECT rulake.refresh_from_bundle_dir('sample', :'fixtures' || '/out_published');
SELECT rulake.refresh_from_bundle_dir('sample', :'fixtures' || '/out_not_yet');
SELECT lake_error(format('SELECT rulake.refresh_from_bundle_dir(%L, %L)', 'sample', :'fixtures' || '/reference_cache'));
SELECT lake_error(format('SELECT rulake.refresh_from_bundle_dir(%L, %L)', 'sample', :'fixtures' || '/oversize_bundle'));
SELECT lake_error($$SELECT rulake.refresh_from_bundle_dir('sample', '/etc')$$);
SELECT lake_error(format('SELECT rulake.publish_bundle(%L, %L)', 'sample', :'fixtures' || '/../escape'));
SELECT lake_error(format('SELECT rulake.publish_bundle(%L, %L)', 'sample', :'fixtures' || '/a/b/c'));
SELECT lake_error(format('SELECT rulake.publish_bundle(%L, %L)', 'sample_seed', :'fixtures' || '/out_x'));
-- Another collection on the reference's data_ref publishes a newer bundle: the warm-loaded cache of
-- sample_ref is then stale, and refresh_from_bundle_dir drops it.
SELECT rulake.refresh('sample_seed');
SELECT rulake.create_collection('sample_ref_fresh', 'reference', 'sample.ruvec1');
SELECT rulake.refresh('sample_ref_fresh');
SELECT rulake.publish_bundle('sample_ref_fresh', :'fixtures' || '/out_newer') IS NOT NULL AS published;
SELECT rulake.refresh_from_bundle_dir('sample_ref', :'fixtures' || '/out_newer');
SELECT witness IS NULL AS no_cache FROM rulake.collections WHERE name = 'sample_ref';
SELECT count(*) FROM lake_all('sample_ref');  -- frozen, but without a cache: primed (shared) from the file
SELECT rulake.refresh_from_bundle_dir('sample_ref', :'fixtures' || '/out_newer');
SELECT collection, hits, misses, primes, shared_hits, invalidations, warm_installs FROM rulake.collection_stats
 ORDER BY collection;
SELECT backend, primes, shared_hits, invalidations, warm_installs FROM rulake.backend_stats ORDER BY backend;

-- ---- file names and hostile files -------------------------------------------------------------------------
SELECT lake_error($$SELECT rulake.create_collection('x', 'files', '../sample.ruvec1')$$);
SELECT lake_error($$SELECT rulake.create_collection('x', 'files', 'hostile/truncated.ruvec1')$$);
SELECT lake_error($$SELECT rulake.create_collection('x', 'files', 'back\slash')$$);
SELECT lake_error($$SELECT rulake.create_collection('x', 'files', 'c:sample')$$);
SELECT lake_error($$SELECT rulake.create_collection('x', 'files', '..')$$);
SELECT lake_error($$SELECT rulake.create_collection('x', 'files', '.')$$);
SELECT lake_error(format('SELECT rulake.create_collection(%L, %L, %L)', 'x', 'files', E'bell\x07.ruvec1'));
SELECT lake_error(format('SELECT rulake.create_collection(%L, %L, %L)', 'x', 'files', repeat('n', 256)));
SELECT lake_error($$SELECT rulake.create_collection('x', 'files', 'missing.ruvec1')$$);
SELECT lake_error($$SELECT rulake.create_collection('x', 'files', 'sample.ruvec1', generation_sql => 'SELECT 1')$$);
SELECT lake_error($$SELECT rulake.create_collection('x', 'hostile', 'truncated.ruvec1')$$);
SELECT lake_error($$SELECT rulake.create_collection('x', 'hostile', 'bad_magic.ruvec1')$$);
SELECT lake_error($$SELECT rulake.create_collection('x', 'hostile', 'huge_count.ruvec1')$$);
SELECT lake_error($$SELECT rulake.create_collection('x', 'hostile', 'escape.ruvec1')$$);
SELECT count(*) AS collections_named_x FROM rulake.collections WHERE name = 'x';

-- ---- who may touch files ------------------------------------------------------------------------------------
CREATE ROLE regress_lake_files;
GRANT USAGE ON SCHEMA rulake TO regress_lake_files;
GRANT pg_read_server_files TO regress_lake_files;
SET ROLE regress_lake_files;
-- Another role's backend (its directory) is not ours to use; our own on the same directory is.
SELECT lake_error($$SELECT rulake.create_collection('files_reader', 'files', 'sample.ruvec1')$$);
SELECT rulake.create_backend('files_mine', 'fs', jsonb_build_object('root', :'fixtures'));
SELECT rulake.create_collection('files_reader', 'files_mine', 'sample.ruvec1', consistency => 'frozen');
SELECT count(*) FROM lake_all('files_reader');
-- refresh_from_bundle_dir may drop a cache other collections share: only the collection's owner.
SELECT lake_error(format('SELECT rulake.refresh_from_bundle_dir(%L, %L)', 'sample', :'fixtures' || '/out_published'));
SELECT lake_error(format('SELECT rulake.save_cache(%L, %L)', 'files_reader', :'fixtures' || '/out_reader'));
SELECT lake_error(format('SELECT rulake.publish_bundle(%L, %L)', 'files_reader', :'fixtures' || '/out_reader'));
SELECT rulake.refresh_from_bundle_dir('files_reader', :'fixtures' || '/out_published');
SELECT lake_error(format('SELECT rulake.warm_from_dir(%L, %L)', 'sample', :'fixtures' || '/out_saved'));
RESET ROLE;
REVOKE pg_read_server_files FROM regress_lake_files;
SET ROLE regress_lake_files;
SELECT count(*) FROM lake_all('files_reader');  -- searching needs no file privilege
SELECT lake_error(format('SELECT rulake.warm_from_dir(%L, %L)', 'files_reader', :'fixtures' || '/out_saved'));
SELECT lake_error(format('SELECT rulake.refresh_from_bundle_dir(%L, %L)', 'files_reader', :'fixtures' || '/out_saved'));
SELECT lake_error($$SELECT rulake.create_collection('y', 'files_mine', 'sample.ruvec1')$$);
SELECT rulake.drop_collection('files_reader');
SELECT rulake.drop_backend('files_mine');
RESET ROLE;

-- ---- clean up --------------------------------------------------------------------------------------------------
SET rulake.max_cache_entries = 0;
SELECT rulake.drop_collection(name) FROM rulake.collections ORDER BY name;
SELECT rulake.drop_backend(name) FROM rulake.backends ORDER BY name;
SELECT count(*) AS entries FROM rulake.cache_entries;
SELECT count(*) AS cache_relations FROM pg_class WHERE relnamespace = 'rulake_cache'::regnamespace AND relkind = 'r';
RESET rulake.max_cache_entries;
RESET rulake.allowed_dirs;
REVOKE USAGE ON SCHEMA rulake FROM regress_lake_files;
DROP ROLE regress_lake_files;
DROP FUNCTION lake_all(text), lake_error(text);
