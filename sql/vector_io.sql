-- Text and binary input/output of the vector type.

-- Text input: whitespace is allowed around brackets, numbers and commas.
SELECT '[1,2,3]'::vector;
SELECT '[-1,-2,-3]'::vector;
SELECT '[1.,2.,3.]'::vector;
SELECT ' [ 1,  2 ,    3  ] '::vector;
SELECT (E'\t[\n1,\r2\f,' || chr(11) || E'3 ]\n')::vector;
SELECT '[+4,0x10,1e2]'::vector;
-- Text output is the shortest text that reads back as the same float (as float4 prints).
SELECT '[1.23456]'::vector;
SELECT '[0.1,1e-3,-2.5e10,123456789,100000]'::vector;
SELECT '[1.5e38,-1.5e38]'::vector;
SELECT '[1.5e-38,-1.5e-38]'::vector;
SELECT '[3.4028235e38,1e-45]'::vector;
-- Values too small for a float become zero, keeping the sign.
SELECT '[1e-46,-1e-46]'::vector;
-- Every element reads back exactly, and prints as float4 does.
SELECT v, v::text::vector = v AS round_trip, v::text = replace(replace(v::real[]::text, '{', '['), '}', ']') AS as_float4
FROM (VALUES ('[0.1,0.2,0.3]'::vector), ('[3.1415927,2.7182817,1.4142135]'),
             ('[1e-45,1.1754944e-38,-3.4028235e+38]'), ('[0.33333334,16777217,-0]')) AS t(v);
-- Up to 16000 dimensions.
SELECT vector_dims(('[' || repeat('1,', 15999) || '1]')::vector);
SELECT vector_dims(array_fill(1, ARRAY[16000])::vector);
-- Arrays of vectors and NULL.
SELECT unnest('{"[1,2,3]", "[4,5,6]"}'::vector[]);
SELECT NULL::vector IS NULL AS is_null;

-- Binary form: big-endian int16 dim, int16 unused (0), then big-endian float4 values.
SELECT vector_send('[1,2,-0.5]');
SELECT vector_send('[1e-45]');

-- COPY round trips, binary and text, through a file in the data directory.
SELECT setting AS datadir FROM pg_settings WHERE name = 'data_directory' \gset
\set binfile :datadir '/rulake_vector_binary.copy'
\set textfile :datadir '/rulake_vector_text.copy'
CREATE TABLE vec_io (id int, v vector(3));
INSERT INTO vec_io VALUES (1, '[1,2,3]'), (2, '[0.1,-0.2,3e38]'), (3, '[1e-45,0,-0]'), (4, NULL),
                          (5, '[-3.4028235e38,1.1754944e-38,0.33333334]');
CREATE TABLE vec_io_copy (LIKE vec_io);
COPY vec_io TO :'binfile' WITH (FORMAT binary);
COPY vec_io_copy FROM :'binfile' WITH (FORMAT binary);
SELECT a.id, b.v, a.v::text IS NOT DISTINCT FROM b.v::text AS same
FROM vec_io a JOIN vec_io_copy b USING (id) ORDER BY id;
TRUNCATE vec_io_copy;
COPY vec_io TO :'textfile';
COPY vec_io_copy FROM :'textfile';
SELECT a.id, b.v, a.v::text IS NOT DISTINCT FROM b.v::text AS same
FROM vec_io a JOIN vec_io_copy b USING (id) ORDER BY id;
COPY vec_io_copy FROM STDIN;
10	[7,8,9]
11	 [ 10 , 11 , 12 ] 
\.
SELECT * FROM vec_io_copy WHERE id >= 10 ORDER BY id;

-- COPY passes the column's type modifier to the input functions, which check it.
COPY vec_io_copy FROM STDIN;
12	[1,2]
\.
COPY (SELECT 13, '[1,2]'::vector) TO :'binfile' WITH (FORMAT binary);
COPY vec_io_copy FROM :'binfile' WITH (FORMAT binary);

-- Hand-made binary values (a bytea field carries its bytes unchanged, so COPY of a bytea writes them).
CREATE TABLE vec_raw (v vector);
COPY (SELECT '\x0002 0000 3f800000 c0000000'::bytea) TO :'binfile' WITH (FORMAT binary);
COPY vec_raw FROM :'binfile' WITH (FORMAT binary);
SELECT v FROM vec_raw;
-- unused must be 0
COPY (SELECT '\x0002 0001 3f800000 40000000'::bytea) TO :'binfile' WITH (FORMAT binary);
COPY vec_raw FROM :'binfile' WITH (FORMAT binary);
-- dimensions out of range: 0, negative, 16001
COPY (SELECT '\x0000 0000'::bytea) TO :'binfile' WITH (FORMAT binary);
COPY vec_raw FROM :'binfile' WITH (FORMAT binary);
COPY (SELECT '\xffff 0000 3f800000'::bytea) TO :'binfile' WITH (FORMAT binary);
COPY vec_raw FROM :'binfile' WITH (FORMAT binary);
COPY (SELECT '\x3e81 0000'::bytea) TO :'binfile' WITH (FORMAT binary);
COPY vec_raw FROM :'binfile' WITH (FORMAT binary);
-- NaN and infinities
COPY (SELECT '\x0002 0000 3f800000 7fc00000'::bytea) TO :'binfile' WITH (FORMAT binary);
COPY vec_raw FROM :'binfile' WITH (FORMAT binary);
COPY (SELECT '\x0001 0000 7f800000'::bytea) TO :'binfile' WITH (FORMAT binary);
COPY vec_raw FROM :'binfile' WITH (FORMAT binary);
COPY (SELECT '\x0001 0000 ff800000'::bytea) TO :'binfile' WITH (FORMAT binary);
COPY vec_raw FROM :'binfile' WITH (FORMAT binary);
-- too few and too many bytes for the declared dimensions
COPY (SELECT '\x0002 0000 3f800000'::bytea) TO :'binfile' WITH (FORMAT binary);
COPY vec_raw FROM :'binfile' WITH (FORMAT binary);
COPY (SELECT '\x0001 0000 3f800000 3f800000'::bytea) TO :'binfile' WITH (FORMAT binary);
COPY vec_raw FROM :'binfile' WITH (FORMAT binary);
SELECT count(*) AS rows_loaded FROM vec_raw;

-- Storage: varlena, int alignment, STORAGE external (never compressed, moved out of line when large).
SELECT typlen, typalign, typstorage FROM pg_type WHERE typname = 'vector' AND typnamespace = 'public'::regnamespace;
SELECT pg_column_size('[1,2,3]'::vector) AS header_dim_unused_and_3_floats;
CREATE TABLE vec_big (v vector);
INSERT INTO vec_big SELECT array_fill(1.5, ARRAY[16000])::vector;
SELECT vector_dims(v), pg_column_size(v) AS stored_bytes, pg_column_compression(v) AS compression,
       v = array_fill(1.5, ARRAY[16000])::vector AS same FROM vec_big;

DROP TABLE vec_io, vec_io_copy, vec_raw, vec_big;
