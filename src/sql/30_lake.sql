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
