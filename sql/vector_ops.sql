-- Operators and functions of the vector type. Values are small integers wherever a float sum is
-- involved, so results are exact whatever order a SIMD kernel adds in.

-- Distances.
SELECT l2_distance('[0,0]', '[3,4]'), '[0,0]'::vector <-> '[3,4]', '[3,4]'::vector <-> '[0,0]';
SELECT l2_distance('[0,0]', '[0,1]'), l2_distance('[1,1,1,1,1,1,1,1,1]', '[1,1,1,1,1,1,1,4,5]');
SELECT vector_l2_squared_distance('[0,0]', '[3,4]');
SELECT inner_product('[1,2]', '[3,4]'), '[1,2]'::vector <#> '[3,4]', vector_negative_inner_product('[1,2]', '[3,4]');
SELECT inner_product('[1,1,1,1,1,1,1,1,1]', '[1,2,3,4,5,6,7,8,9]');
SELECT cosine_distance('[1,2]', '[2,4]'), '[1,2]'::vector <=> '[2,4]';
SELECT cosine_distance('[1,0]', '[0,2]'), cosine_distance('[1,1]', '[-1,-1]'), cosine_distance('[1,1]', '[1.1,1.1]');
SELECT cosine_distance('[1,2,3,4,5,6,7,8,9]', '[-1,-2,-3,-4,-5,-6,-7,-8,-9]');
SELECT round(cosine_distance('[1,2]', '[2,1]')::numeric, 6);
-- A zero vector has no direction.
SELECT cosine_distance('[1,2]', '[0,0]'), '[0,0]'::vector <=> '[0,0]';
SELECT l1_distance('[0,0]', '[3,4]'), '[0,0]'::vector <+> '[3,4]', l1_distance('[1,2,3,4,5,6,7,8,9]', '[0,3,2,5,4,7,6,9,8]');
-- Float accumulation overflows to infinity (distances are not range-checked, as in pgvector).
SELECT l2_distance('[3e38]', '[-3e38]'), inner_product('[3e38]', '[3e38]'), l1_distance('[3e38]', '[-3e38]');
SELECT cosine_distance('[3e38]', '[3e38]');
-- Long vectors: every SIMD width and tail length.
SELECT n, vector_l2_squared_distance(array_fill(1, ARRAY[n])::vector, array_fill(3, ARRAY[n])::vector) AS l2_squared,
       inner_product(array_fill(2, ARRAY[n])::vector, array_fill(3, ARRAY[n])::vector) AS ip,
       l1_distance(array_fill(-1, ARRAY[n])::vector, array_fill(2, ARRAY[n])::vector) AS l1,
       cosine_distance(array_fill(2, ARRAY[n])::vector, array_fill(5, ARRAY[n])::vector) AS cos
FROM unnest(ARRAY[1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1536, 16000]) AS n;
SELECT l2_distance('[1,2]', '[3]');
SELECT '[1,2]'::vector <#> '[3]';
SELECT '[1,2]'::vector <=> '[3]';
SELECT '[1,2]'::vector <+> '[3]';
SELECT vector_l2_squared_distance('[1,2]', '[3]');

-- The operators agree with the functions and the index support functions on arbitrary data.
CREATE TABLE vec_items (id int PRIMARY KEY, v vector(4));
INSERT INTO vec_items SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.7) * 3, i % 5 - 2]::vector FROM generate_series(1, 200) i;
SELECT bool_and(v <-> q = l2_distance(v, q)) AS l2, bool_and(v <-> q = sqrt(vector_l2_squared_distance(v, q))) AS l2_squared,
       bool_and(v <#> q = -inner_product(v, q)) AS ip, bool_and(v <#> q = vector_negative_inner_product(v, q)) AS neg_ip,
       bool_and(v <=> q = cosine_distance(v, q)) AS cos, bool_and(v <+> q = l1_distance(v, q)) AS l1,
       bool_and(v <-> q = q <-> v AND v <#> q = q <#> v AND v <=> q = q <=> v AND v <+> q = q <+> v) AS commute
FROM vec_items, (VALUES ('[0.5,-1,2,0]'::vector)) AS t(q);
-- Nearest neighbours by each metric.
SELECT id, v <-> '[0,0,0,0]' AS dist FROM (VALUES (1, '[1,0,0,0]'::vector), (2, '[3,4,0,0]'), (3, '[0,0,2,0]')) t(id, v)
ORDER BY v <-> '[0,0,0,0]' LIMIT 2;
SELECT id FROM (VALUES (1, '[1,0]'::vector), (2, '[3,4]'), (3, '[-2,0]')) t(id, v) ORDER BY v <#> '[1,1]';
SELECT id FROM (VALUES (1, '[1,0]'::vector), (2, '[3,4]'), (3, '[-2,0]')) t(id, v) ORDER BY v <=> '[1,1]';
SELECT id FROM (VALUES (1, '[1,0]'::vector), (2, '[3,4]'), (3, '[-2,0]')) t(id, v) ORDER BY v <+> '[1,1]';

-- Element-wise arithmetic.
SELECT '[1,2,3]'::vector + '[4,5,6]', '[1,2,3]'::vector - '[4,5,6]', '[1,2,3]'::vector * '[4,5,6]';
SELECT '[3e38]'::vector + '[3e38]';
SELECT '[-3e38]'::vector - '[3e38]';
SELECT '[1e37]'::vector * '[1e37]';
SELECT '[1e-37]'::vector * '[1e-37]';
SELECT '[1e-37,0]'::vector * '[0,5]';
SELECT '[1,2]'::vector + '[3]';
SELECT '[1,2]'::vector - '[3]';
SELECT '[1,2]'::vector * '[3]';
-- Concatenation.
SELECT '[1,2,3]'::vector || '[4,5]';
SELECT vector_dims(array_fill(0, ARRAY[15999])::vector || '[1]');
SELECT array_fill(0, ARRAY[16000])::vector || '[1]';

-- Comparison: element by element, then the shorter first.
SELECT a, b, a < b AS lt, a <= b AS le, a = b AS eq, a <> b AS ne, a >= b AS ge, a > b AS gt, vector_cmp(a, b) AS cmp
FROM (VALUES ('[1,2,3]'::vector, '[1,2,3]'::vector), ('[1,2,3]', '[1,2]'), ('[1,2]', '[1,2,3]'), ('[1,2,3]', '[0,0,0]'),
             ('[0,0,0]', '[1,2,3]'), ('[1,2]', '[2,3,4]'), ('[2,3]', '[1,2,3]'), ('[0]', '[-0]')) AS t(a, b);
-- A btree index orders and finds vectors; DISTINCT, GROUP BY and UNION work.
CREATE INDEX vec_items_btree ON vec_items (v);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT v FROM vec_items WHERE v = '[0,1,0,-2]' ;
SELECT id, v FROM vec_items WHERE v = (SELECT v FROM vec_items WHERE id = 10);
SELECT count(*) AS ordered FROM (SELECT v, lag(v) OVER (ORDER BY v) AS prev FROM vec_items) s WHERE prev IS NULL OR prev <= v;
RESET enable_seqscan;
SELECT v FROM (VALUES ('[2,1]'::vector), ('[1,2,3]'), ('[1,2]'), ('[2,1]'), ('[1,2]')) t(v) GROUP BY v ORDER BY v;
SELECT DISTINCT v FROM (VALUES ('[3]'::vector), ('[1,2,3]'), ('[3]')) t(v) ORDER BY v DESC;
SELECT '[1,2]'::vector UNION SELECT '[1,2]'::vector UNION SELECT '[1,3]'::vector ORDER BY 1;
DROP TABLE vec_items;

-- Whole-vector functions.
SELECT vector_dims('[1,2,3]'), vector_dims('[7]');
SELECT vector_norm('[3,4]'), vector_norm('[0,1]'), vector_norm('[0,0]'), vector_norm('[2]'), round(vector_norm('[1,1]')::numeric, 5);
SELECT vector_norm('[3e37,4e37]')::real;
SELECT l2_normalize('[3,4]'), l2_normalize('[3,0]'), l2_normalize('[0,0.1]'), l2_normalize('[0,0]'), l2_normalize('[3e38]');
SELECT vector_norm(l2_normalize('[1,2,3,4,5,6,7,8,9]'))::real;
SELECT binary_quantize('[1,0,-1]'), binary_quantize('[0,0.1,-0.2,-0.3,0.4,0.5,0.6,-0.7,0.8,-0.9,1]');
SELECT binary_quantize('[1,2,3,-4,5,6,-7,8,1,-2,-3,4,5,-6,7,8,-1,2,3]'), length(binary_quantize(array_fill(1, ARRAY[16000])::vector));
SELECT subvector('[1,2,3,4,5]', 1, 3), subvector('[1,2,3,4,5]', 3, 2), subvector('[1,2,3,4,5]', -1, 3), subvector('[1,2,3,4,5]', 3, 9);
SELECT subvector('[1,2,3,4,5]', 3, 2147483647), subvector('[1,2,3,4,5]', -2147483644, 2147483647), subvector('[1,2,3,4,5]', 5, 1);
SELECT subvector('[1,2,3,4,5]', 1, 0);
SELECT subvector('[1,2,3,4,5]', 3, -1);
SELECT subvector('[1,2,3,4,5]', -1, 2);
SELECT subvector('[1,2,3,4,5]', 6, 1);
SELECT subvector('[1,2,3,4,5]', 2147483647, 10);

-- Every function of the type is immutable, strict and parallel safe.
SELECT count(*) FILTER (WHERE p.prokind = 'f') AS functions,
       count(*) FILTER (WHERE p.prokind = 'f' AND (p.provolatile <> 'i' OR NOT p.proisstrict OR p.proparallel <> 's'))
           AS not_immutable_strict_safe,
       count(*) FILTER (WHERE p.prokind = 'a') AS aggregates,
       count(*) FILTER (WHERE p.prokind = 'a' AND p.proparallel <> 's') AS aggregates_not_parallel_safe
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'rulake'
WHERE p.prorettype = 'vector'::regtype OR 'vector'::regtype = ANY (p.proargtypes::oid[])
   OR p.proname IN ('vector_typmod_in', 'vector_typmod_out', 'vector_combine');
