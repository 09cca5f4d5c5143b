-- Every error a user of the vector type can meet, with its SQLSTATE: the same message and code as
-- pgvector reports (or Postgres itself, where noted).
CREATE FUNCTION pg_temp.error_of(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
CREATE FUNCTION pg_temp.text_array_to_vector(text[], integer, boolean) RETURNS vector
    AS '$libdir/rulake', 'rulake_array_to_vector' LANGUAGE C IMMUTABLE STRICT;

SELECT query, pg_temp.error_of(query) AS error FROM (VALUES
    -- text input
    ($$SELECT '[hello,1]'::vector$$),
    ($$SELECT '1,2,3'::vector$$),
    ($$SELECT '[1,2,3]9'::vector$$),
    ($$SELECT '[1,2,3'::vector$$),
    ($$SELECT '[1,,3]'::vector$$),
    ($$SELECT '[]'::vector$$),
    ($$SELECT ('[' || repeat('1,', 16000) || '1]')::vector$$),
    ($$SELECT '[NaN,1]'::vector$$),
    ($$SELECT '[-Infinity,1]'::vector$$),
    ($$SELECT '[1e99]'::vector$$),
    ($$SELECT '[-4e38,1]'::vector$$),
    -- type modifier
    ($$SELECT '[1,2]'::vector(3)$$),
    ($$SELECT '[1,2]'::vector(3, 2)$$),
    ($$SELECT '[1,2]'::vector(0)$$),
    ($$SELECT '[1,2]'::vector(16001)$$),
    -- operators and functions
    ($$SELECT '[1,2,3]'::vector <-> '[1,2]'$$),
    ($$SELECT '[1,2,3]'::vector <#> '[1,2]'$$),
    ($$SELECT '[1,2,3]'::vector <=> '[1,2]'$$),
    ($$SELECT '[1,2,3]'::vector <+> '[1,2]'$$),
    ($$SELECT '[1,2,3]'::vector + '[1,2]'$$),
    ($$SELECT '[3e38]'::vector + '[3e38]'$$),
    ($$SELECT '[-3e38]'::vector - '[3e38]'$$),
    ($$SELECT '[1e20]'::vector * '[1e20]'$$),
    ($$SELECT '[1e-30]'::vector * '[1e-30]'$$),
    ($$SELECT array_fill(1, ARRAY[8000])::vector || array_fill(1, ARRAY[8001])::vector$$),
    ($$SELECT subvector('[1,2,3]', 4, 1)$$),
    ($$SELECT subvector('[1,2,3]', 1, 0)$$),
    -- casts
    ($$SELECT '{1,NULL}'::real[]::vector$$),
    ($$SELECT '{{1,2}}'::real[]::vector$$),
    ($$SELECT '{}'::int[]::vector$$),
    ($$SELECT '{1,2}'::int[]::vector(3)$$),
    ($$SELECT '{NaN}'::float8[]::vector$$),
    ($$SELECT '{1e39}'::float8[]::vector$$),
    ($$SELECT pg_temp.text_array_to_vector('{1}', -1, false)$$),
    -- aggregates
    ($$SELECT avg(v) FROM unnest(ARRAY['[1,2]'::vector, '[3]']) v$$),
    ($$SELECT sum(v) FROM unnest(ARRAY['[1,2]'::vector, '[3]']) v$$),
    ($$SELECT sum(v) FROM unnest(ARRAY['[3e38]'::vector, '[3e38]']) v$$),
    ($$SELECT vector_accum('{}', '[1]')$$),
    ($$SELECT vector_combine('{1,1.5e308}', '{1,1.5e308}')$$),
    ($$SELECT vector_avg('{1,1e39}')$$)
) AS t(query);
