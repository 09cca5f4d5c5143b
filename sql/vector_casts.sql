-- Casts between arrays and vectors.
SELECT ARRAY[1,2,3]::vector, ARRAY[1.0,2.0,3.0]::vector, ARRAY[1,2,3]::float4[]::vector;
SELECT ARRAY[1,2,3]::float8[]::vector, ARRAY[1,2,3]::numeric[]::vector;
SELECT '{1,2,3}'::real[]::vector(3), '{1.5,2.25,-3}'::double precision[]::vector(3);
SELECT ARRAY[16777217]::vector, ARRAY[0.1]::float8[]::vector, ARRAY[0.1]::numeric[]::vector;
SELECT array_to_vector('{4,5}'::int[], -1, true), array_to_vector('{4,5}'::real[], 2, false);
SELECT '[1,2,3]'::vector::real[], '[1.5,-0,1e-45]'::vector::real[];
-- vector -> real[] is implicit; arrays -> vector apply on assignment.
CREATE FUNCTION pg_temp.second_real(r real[]) RETURNS real LANGUAGE sql AS 'SELECT r[2]';
CREATE FUNCTION pg_temp.dims_of(v vector) RETURNS integer LANGUAGE sql AS 'SELECT vector_dims(v)';
SELECT pg_temp.second_real('[7,8.5]'::vector) AS implicit_to_real_array;
-- integer[] -> vector is an assignment cast only: not used to resolve a function call.
SELECT pg_temp.dims_of(ARRAY[1,2]);
CREATE TABLE vec_casts (v vector(3), r real[]);
INSERT INTO vec_casts VALUES (ARRAY[1,2,3], '[4,5,6]'::vector);
INSERT INTO vec_casts (v) VALUES ('{1.5,2.5,3.5}'::float8[]), ('{7,8,9}'::numeric[]), ('{1,1,1}'::real[]);
SELECT * FROM vec_casts ORDER BY v;
DROP TABLE vec_casts;
-- Array comparisons stay unambiguous next to these casts.
SELECT ARRAY[1,2,3] = ARRAY[1,2,3] AS int_arrays, ARRAY[1.5,2] = ARRAY[1.5,2] AS numeric_arrays;
-- Limits and rejected arrays.
SELECT vector_dims(array_fill(1.5::float8, ARRAY[16000])::vector);
SELECT array_agg(n)::vector FROM generate_series(1, 16001) n;
SELECT array_to_vector(array_agg(n), 16001, false) FROM generate_series(1, 16001) n;
SELECT '{1,2,3}'::real[]::vector(2);
SELECT '{1,2,3}'::double precision[]::vector(2);
SELECT ARRAY[1,2]::vector(3);
SELECT '{NULL}'::real[]::vector;
SELECT ARRAY[1,NULL,3]::vector;
SELECT '{NaN}'::real[]::vector;
SELECT '{NaN}'::numeric[]::vector;
SELECT '{Infinity}'::real[]::vector;
SELECT '{-Infinity}'::double precision[]::vector;
SELECT '{4e38,-4e38}'::double precision[]::vector;
SELECT '{1e-46,-1e-46}'::double precision[]::vector;
SELECT '{}'::real[]::vector;
SELECT '{{1}}'::real[]::vector;
SELECT '{{1,2},{3,4}}'::int[]::vector;
-- numeric values beyond the float range are refused by Postgres' own numeric -> real conversion.
SELECT ARRAY[1e39]::numeric[]::vector;
-- Only the four element types have casts; the C function refuses any other element type.
CREATE FUNCTION pg_temp.text_array_to_vector(text[], integer, boolean) RETURNS vector
    AS '$libdir/rulake', 'rulake_array_to_vector' LANGUAGE C IMMUTABLE STRICT;
SELECT pg_temp.text_array_to_vector('{1,2}', -1, false);
SELECT ARRAY['1','2']::text[]::vector;
