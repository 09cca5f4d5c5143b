-- The type modifier vector(n): declared dimensions, checked on every way in.
SELECT '[1,2,3]'::vector(3);
SELECT '[1,2,3]'::vector(2);
SELECT '{"[1,2,3]"}'::vector(2)[];
SELECT '[1,2,3]'::vector(3, 2);
SELECT '[1,2,3]'::vector('a');
SELECT '[1,2,3]'::vector(0);
SELECT '[1,2,3]'::vector(16001);
SELECT vector_dims(array_fill(1, ARRAY[16000])::vector(16000));
CREATE TABLE vec_typmod (v vector(3), w vector(16000), u vector);
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = 'vec_typmod'::regclass AND attnum > 0 ORDER BY attnum;
INSERT INTO vec_typmod (v) VALUES ('[1,2,3]');
INSERT INTO vec_typmod (v) VALUES ('[1,2]');
INSERT INTO vec_typmod (v) VALUES ('[1,2,3]'::vector(3) || '[4]');
INSERT INTO vec_typmod (v) SELECT '[1,2,3,4]'::vector;
INSERT INTO vec_typmod (v) VALUES (ARRAY[4,5,6]);
INSERT INTO vec_typmod (v) VALUES (ARRAY[4,5]);
UPDATE vec_typmod SET v = v || '[1]';
INSERT INTO vec_typmod (u) VALUES ('[1]'), ('[1,2,3,4,5]');
SELECT v, u FROM vec_typmod ORDER BY v, u;
-- The length-coercion function itself.
SELECT vector('[1,2]', 2, false), vector('[1,2]', -1, true);
SELECT vector('[1,2]', 3, true);
-- A type modifier survives in views and casts of expressions.
CREATE VIEW vec_typmod_view AS SELECT v::vector(3) AS v3 FROM vec_typmod;
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'vec_typmod_view'::regclass;
SELECT ('[1,2]'::vector + '[3,4]')::vector(2);
SELECT ('[1,2]'::vector + '[3,4]')::vector(3);
DROP VIEW vec_typmod_view;
DROP TABLE vec_typmod;
