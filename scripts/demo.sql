-- rulake demo, run by scripts/demo.sh on a throwaway cluster. Sections are independent blocks;
-- new ones (the rabitq index, ruLake) are appended at the end.
\pset footer off

-- ---------------------------------------------------------------------------------------------
\echo '== the vector type'
CREATE EXTENSION rulake;

CREATE TABLE items (id int PRIMARY KEY, name text, embedding vector(3));
INSERT INTO items VALUES
  (1, 'north',      '[0,1,0]'),
  (2, 'east',       '[1,0,0]'),
  (3, 'north-east', '[0.7,0.7,0]'),
  (4, 'up',         '[0,0,1]'),
  (5, 'far north',  '[0,10,0]');

SELECT id, name, embedding, vector_dims(embedding) AS dims, round(vector_norm(embedding)::numeric, 3) AS norm
FROM items ORDER BY id;

\echo '== nearest to [0.1, 0.9, 0] by L2 distance (<->)'
SELECT id, name, round((embedding <-> '[0.1,0.9,0]')::numeric, 4) AS l2
FROM items ORDER BY embedding <-> '[0.1,0.9,0]' LIMIT 3;

\echo '== largest inner product first (<#> is the negative inner product)'
SELECT id, name, round((embedding <#> '[0.1,0.9,0]')::numeric, 4) AS neg_inner_product
FROM items ORDER BY embedding <#> '[0.1,0.9,0]' LIMIT 3;

\echo '== cosine distance (<=>) ignores length: north and far north are equally close'
SELECT id, name, round((embedding <=> '[0.1,0.9,0]')::numeric, 4) AS cosine
FROM items ORDER BY embedding <=> '[0.1,0.9,0]' LIMIT 3;

\echo '== the same distances as functions'
SELECT round(l2_distance('[1,2,3]'::vector, '[4,6,3]')::numeric, 4) AS l2_distance,
       round(inner_product('[1,2,3]'::vector, '[4,6,3]')::numeric, 4) AS inner_product,
       round(cosine_distance('[1,0,0]'::vector, '[0,1,0]')::numeric, 4) AS cosine_distance;
