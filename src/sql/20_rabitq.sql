-- The rabitq index access method: IVF lists of RaBitQ codes, scanned in exact distance order for
-- ORDER BY <distance> LIMIT k queries (src/am/).

CREATE FUNCTION rabitq_handler(internal) RETURNS index_am_handler
    AS 'MODULE_PATHNAME', 'rabitq_handler' LANGUAGE C;

CREATE ACCESS METHOD rabitq TYPE INDEX HANDLER rabitq_handler;
COMMENT ON ACCESS METHOD rabitq IS 'IVF index of RaBitQ codes with exact rerank, for ORDER BY distance LIMIT k';

-- Support function 1 of each operator class: the metric the class orders by (1 = L2, 2 = inner product,
-- 3 = cosine).
CREATE FUNCTION rabitq_metric_l2() RETURNS integer
    AS 'MODULE_PATHNAME', 'rabitq_metric_l2' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rabitq_metric_ip() RETURNS integer
    AS 'MODULE_PATHNAME', 'rabitq_metric_ip' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rabitq_metric_cosine() RETURNS integer
    AS 'MODULE_PATHNAME', 'rabitq_metric_cosine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR CLASS vector_l2_ops DEFAULT FOR TYPE vector USING rabitq AS
    OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 rabitq_metric_l2();

CREATE OPERATOR CLASS vector_ip_ops FOR TYPE vector USING rabitq AS
    OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 rabitq_metric_ip();

CREATE OPERATOR CLASS vector_cosine_ops FOR TYPE vector USING rabitq AS
    OPERATOR 1 <=> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 rabitq_metric_cosine();

-- Structure of a rabitq index as jsonb: dimensions, metric, seed, rotation, lists, per-list counts,
-- pages, format version.
CREATE FUNCTION rabitq_index_summary(regclass) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'rabitq_index_summary' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

-- SHA-256 (hex) of every page of a rabitq index with the page LSN and checksum fields zeroed: two
-- indexes built from the same rows with the same options have the same checksum.
CREATE FUNCTION rabitq_index_checksum(regclass) RETURNS text
    AS 'MODULE_PATHNAME', 'rabitq_index_checksum' LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
