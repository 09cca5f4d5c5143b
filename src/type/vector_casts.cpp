// Casts between arrays and the vector type:
//   integer[], real[], double precision[], numeric[] -> vector   array_to_vector(array, typmod, explicit)
//   vector -> real[]                                             vector_to_float4(vector, typmod, explicit)
// Arrays must be one-dimensional, without NULLs, with 1..16000 finite elements (after rounding to
// float, so a double too large for a float is "infinite value not allowed in vector", as in pgvector).
#include "rulake/core/vector_rules.hpp"
#include "rulake/pg/boundary.hpp"
#include "rulake/pg/vector_datum.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

namespace core = rulake::core;
namespace pg = rulake::pg;

namespace {

// Converts element i of a numeric[] array; numeric_float4 reports values out of the float range.
float numeric_to_float(Datum numeric) { return DatumGetFloat4(DirectFunctionCall1(numeric_float4, numeric)); }

}  // namespace

RULAKE_FUNCTION(rulake_array_to_vector) {
    ArrayType* array = PG_GETARG_ARRAYTYPE_P(0);
    int32 typmod = PG_GETARG_INT32(1);
    if (ARR_NDIM(array) > 1) throw pg::SqlError(ERRCODE_DATA_EXCEPTION, "array must be 1-D");
    if (ARR_HASNULL(array) && array_contains_nulls(array))
        throw pg::SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "array must not contain nulls");
    Oid element_type = ARR_ELEMTYPE(array);
    if (element_type != INT4OID && element_type != FLOAT4OID && element_type != FLOAT8OID &&
        element_type != NUMERICOID)
        throw pg::SqlError(ERRCODE_DATA_EXCEPTION, "unsupported array type");

    int count = ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array));
    core::check_vector_dim(count);
    core::check_expected_dim(typmod, count);
    pg::VectorDatum* result = pg::new_vector(static_cast<size_t>(count));

    // Fixed-width element types without NULLs are stored as a plain C array.
    const char* data = ARR_DATA_PTR(array);
    switch (element_type) {
        case INT4OID:
            for (int i = 0; i < count; ++i) result->x[i] = static_cast<float>(reinterpret_cast<const int32*>(data)[i]);
            break;
        case FLOAT4OID:
            for (int i = 0; i < count; ++i) result->x[i] = reinterpret_cast<const float4*>(data)[i];
            break;
        case FLOAT8OID:
            for (int i = 0; i < count; ++i) result->x[i] = static_cast<float>(reinterpret_cast<const float8*>(data)[i]);
            break;
        default: {  // NUMERICOID: variable width
            Datum* elements = nullptr;
            int n = 0;
            deconstruct_array(array, NUMERICOID, -1, false, TYPALIGN_INT, &elements, nullptr, &n);
            for (int i = 0; i < n; ++i) result->x[i] = numeric_to_float(elements[i]);
            pfree(elements);
            break;
        }
    }
    core::check_elements(result->x, static_cast<size_t>(count));
    PG_RETURN_VECTOR_P(result);
}

RULAKE_FUNCTION(rulake_vector_to_float4) {
    pg::VectorDatum* v = PG_GETARG_VECTOR_P(0);
    auto* datums = static_cast<Datum*>(palloc(sizeof(Datum) * static_cast<size_t>(v->dim)));
    for (int i = 0; i < v->dim; ++i) datums[i] = Float4GetDatum(v->x[i]);
    ArrayType* result = construct_array(datums, v->dim, FLOAT4OID, sizeof(float4), true, TYPALIGN_INT);
    pfree(datums);
    PG_FREE_IF_COPY(v, 0);
    PG_RETURN_ARRAYTYPE_P(result);
}
