// The vector type modifier: vector(n) declares n dimensions.
//   vector_typmod_in / vector_typmod_out  parse and print "(n)";
//   vector(vector, integer, boolean)      the length-coercion cast Postgres applies when a value is
//                                         stored into or cast to vector(n): checks the dimension count.
#include "rulake/core/vector_rules.hpp"
#include "rulake/pg/boundary.hpp"
#include "rulake/pg/vector_datum.hpp"

extern "C" {
#include "utils/array.h"
}

namespace core = rulake::core;
namespace pg = rulake::pg;

// vector_typmod_in(cstring[]) -> integer. Exactly one integer in [1, 16000].
RULAKE_FUNCTION(rulake_vector_typmod_in) {
    ArrayType* modifiers = PG_GETARG_ARRAYTYPE_P(0);
    int count = 0;
    int32* values = ArrayGetIntegerTypmods(modifiers, &count);  // errors on non-integers
    if (count != 1) throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "invalid type modifier");
    if (values[0] < 1)
        throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "dimensions for type vector must be at least 1");
    if (values[0] > pg::kVectorMaxDim)
        throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "dimensions for type vector cannot exceed 16000");
    PG_RETURN_INT32(values[0]);
}

// vector_typmod_out(integer) -> cstring: "(n)", or "" for no modifier.
RULAKE_FUNCTION(rulake_vector_typmod_out) {
    int32 typmod = PG_GETARG_INT32(0);
    PG_RETURN_CSTRING(typmod >= 0 ? psprintf("(%d)", typmod) : pstrdup(""));
}

// vector(vector, typmod integer, explicit boolean) -> vector: the value itself if its dimension count
// matches the modifier; "expected N dimensions, not M" otherwise.
RULAKE_FUNCTION(rulake_vector_typmod_cast) {
    pg::VectorDatum* v = PG_GETARG_VECTOR_P(0);
    core::check_expected_dim(PG_GETARG_INT32(1), v->dim);
    PG_RETURN_VECTOR_P(v);
}
