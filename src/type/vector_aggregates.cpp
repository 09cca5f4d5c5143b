// avg(vector): transition, combine and final functions. (sum(vector) needs none of its own: its
// transition and combine function is vector_add, as in pgvector.)
//
// The transition state is a float8[] {count, sum_1, ..., sum_dim}, "{0}" before the first row, as in
// pgvector, so states are interchangeable with it and parallel workers can hand them to the leader.
// Sums are kept in double and checked for overflow. When called as an aggregate the functions update
// the state in place (it lives in the aggregate's memory context); called directly they never modify
// their arguments.
#include <cstring>
#include <string>

#include "rulake/core/vector_math.hpp"
#include "rulake/core/vector_rules.hpp"
#include "rulake/pg/boundary.hpp"
#include "rulake/pg/vector_datum.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
}

namespace core = rulake::core;
namespace pg = rulake::pg;

namespace {

// The state's values {count, sums...}; a malformed state (not a 1-D float8[] of at least one element
// without NULLs) is "<caller>: expected state array", as pgvector reports it.
double* state_values(ArrayType* state, const char* caller) {
    if (ARR_NDIM(state) != 1 || ARR_DIMS(state)[0] < 1 || ARR_HASNULL(state) || ARR_ELEMTYPE(state) != FLOAT8OID)
        throw pg::SqlError(ERRCODE_INTERNAL_ERROR, std::string(caller) + ": expected state array");
    return reinterpret_cast<double*>(ARR_DATA_PTR(state));
}

long state_dims(ArrayType* state) { return ARR_DIMS(state)[0] - 1; }

// A zero-filled state for dims dimensions, palloc'd in the current memory context.
ArrayType* new_state(long dims) {
    size_t size = ARR_OVERHEAD_NONULLS(1) + sizeof(double) * static_cast<size_t>(dims + 1);
    auto* state = static_cast<ArrayType*>(palloc0(size));
    SET_VARSIZE(state, size);
    state->ndim = 1;
    state->dataoffset = 0;  // no NULL bitmap
    state->elemtype = FLOAT8OID;
    ARR_DIMS(state)[0] = static_cast<int>(dims + 1);
    ARR_LBOUND(state)[0] = 1;
    return state;
}

ArrayType* copy_state(ArrayType* state) {
    auto* copy = static_cast<ArrayType*>(palloc(VARSIZE(state)));
    std::memcpy(copy, state, VARSIZE(state));
    return copy;
}

// The state to write a result into: the argument itself when running inside an aggregate (its state
// is ours to modify), a copy otherwise.
ArrayType* writable_state(FunctionCallInfo fcinfo, ArrayType* state) {
    return AggCheckCallContext(fcinfo, nullptr) ? state : copy_state(state);
}

double* values_of(ArrayType* state) { return reinterpret_cast<double*>(ARR_DATA_PTR(state)); }

}  // namespace

// vector_accum(float8[], vector) -> float8[]: adds one row.
RULAKE_FUNCTION(rulake_vector_accum) {
    ArrayType* state = PG_GETARG_ARRAYTYPE_P(0);
    pg::VectorDatum* v = PG_GETARG_VECTOR_P(1);
    double* values = state_values(state, "vector_accum");
    long dims = state_dims(state);
    ArrayType* next;
    if (dims == 0) {  // the first row fixes the dimensions
        next = new_state(v->dim);
    } else {
        core::check_expected_dim(static_cast<int32>(dims), v->dim);
        next = writable_state(fcinfo, state);
    }
    double* sums = values_of(next);
    sums[0] = values[0] + 1.0;
    core::accumulate(sums + 1, v->x, static_cast<size_t>(v->dim));
    PG_RETURN_ARRAYTYPE_P(next);
}

// vector_combine(float8[], float8[]) -> float8[]: merges two partial states (parallel aggregation).
// An empty state (count 0) contributes nothing, so two empty states give an empty state.
RULAKE_FUNCTION(rulake_vector_combine) {
    ArrayType* state1 = PG_GETARG_ARRAYTYPE_P(0);
    ArrayType* state2 = PG_GETARG_ARRAYTYPE_P(1);
    double* values1 = state_values(state1, "vector_combine");
    double* values2 = state_values(state2, "vector_combine");
    if (values1[0] == 0.0 || values2[0] == 0.0) {
        // Returning an argument is allowed; inside an aggregate Postgres copies state2 into its own
        // memory context when it becomes the state.
        ArrayType* kept = values1[0] == 0.0 ? state2 : state1;
        if (state_dims(kept) > core::kVectorMaxDim) core::check_vector_dim(state_dims(kept));
        PG_RETURN_ARRAYTYPE_P(kept);
    }
    long dims = state_dims(state1);
    if (dims > core::kVectorMaxDim) core::check_vector_dim(dims);
    core::check_expected_dim(static_cast<int32>(dims), state_dims(state2));
    ArrayType* next = writable_state(fcinfo, state1);
    double* sums = values_of(next);
    sums[0] = values1[0] + values2[0];
    core::accumulate(sums + 1, values2 + 1, static_cast<size_t>(dims));
    PG_RETURN_ARRAYTYPE_P(next);
}

// vector_avg(float8[]) -> vector: sums / count, or NULL when no row was aggregated.
RULAKE_FUNCTION(rulake_vector_avg) {
    ArrayType* state = PG_GETARG_ARRAYTYPE_P(0);
    double* values = state_values(state, "vector_avg");
    if (values[0] == 0.0) PG_RETURN_NULL();
    long dims = state_dims(state);
    core::check_vector_dim(dims);
    pg::VectorDatum* result = pg::new_vector(static_cast<size_t>(dims));
    core::average(values + 1, values[0], result->x, static_cast<size_t>(dims));
    PG_RETURN_VECTOR_P(result);
}
