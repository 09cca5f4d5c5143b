// Comparison operators and the btree support function of the vector type: element by element, then
// the shorter vector first (core::compare). Vectors of different dimensions are comparable, as in
// pgvector. Arguments are freed when detoasting copied them, because btree sorts call these many times
// in one memory context.
#include "rulake/core/vector_math.hpp"
#include "rulake/pg/boundary.hpp"
#include "rulake/pg/vector_datum.hpp"

namespace core = rulake::core;
namespace pg = rulake::pg;

namespace {

int compare_arguments(FunctionCallInfo fcinfo) {
    pg::VectorDatum* a = PG_GETARG_VECTOR_P(0);
    pg::VectorDatum* b = PG_GETARG_VECTOR_P(1);
    int order = core::compare(a->x, static_cast<size_t>(a->dim), b->x, static_cast<size_t>(b->dim));
    PG_FREE_IF_COPY(a, 0);
    PG_FREE_IF_COPY(b, 1);
    return order;
}

}  // namespace

// The comparisons cannot throw; the guard is kept for uniformity (it costs nothing when nothing throws).
RULAKE_FUNCTION(rulake_vector_cmp) { PG_RETURN_INT32(compare_arguments(fcinfo)); }
RULAKE_FUNCTION(rulake_vector_lt) { PG_RETURN_BOOL(compare_arguments(fcinfo) < 0); }
RULAKE_FUNCTION(rulake_vector_le) { PG_RETURN_BOOL(compare_arguments(fcinfo) <= 0); }
RULAKE_FUNCTION(rulake_vector_eq) { PG_RETURN_BOOL(compare_arguments(fcinfo) == 0); }
RULAKE_FUNCTION(rulake_vector_ne) { PG_RETURN_BOOL(compare_arguments(fcinfo) != 0); }
RULAKE_FUNCTION(rulake_vector_ge) { PG_RETURN_BOOL(compare_arguments(fcinfo) >= 0); }
RULAKE_FUNCTION(rulake_vector_gt) { PG_RETURN_BOOL(compare_arguments(fcinfo) > 0); }
