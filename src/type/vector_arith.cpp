// Element-wise operators and whole-vector functions of the vector type:
//   + - * (vector_add, vector_sub, vector_mul), || (vector_concat), vector_dims, vector_norm,
//   l2_normalize, subvector, binary_quantize.
// The arithmetic is in core/vector_math.cpp; this file only moves datums.
#include <cstring>

#include "rulake/core/vector_math.hpp"
#include "rulake/core/vector_rules.hpp"
#include "rulake/pg/boundary.hpp"
#include "rulake/pg/vector_datum.hpp"

extern "C" {
#include "utils/varbit.h"
}

namespace core = rulake::core;
namespace pg = rulake::pg;

namespace {

using ElementwiseFn = void (*)(const float*, const float*, float*, size_t);

// The body shared by + - *: both arguments, same dimensions, a new vector of the results.
// Called from entry points only (it relies on their guard).
Datum elementwise(FunctionCallInfo fcinfo, ElementwiseFn op) {
    pg::VectorDatum* a = PG_GETARG_VECTOR_P(0);
    pg::VectorDatum* b = PG_GETARG_VECTOR_P(1);
    core::check_same_dims(a->dim, b->dim);
    pg::VectorDatum* result = pg::new_vector(static_cast<size_t>(a->dim));
    op(a->x, b->x, result->x, static_cast<size_t>(a->dim));
    PG_RETURN_VECTOR_P(result);
}

}  // namespace

RULAKE_FUNCTION(rulake_vector_add) { return elementwise(fcinfo, core::add); }
RULAKE_FUNCTION(rulake_vector_sub) { return elementwise(fcinfo, core::subtract); }
RULAKE_FUNCTION(rulake_vector_mul) { return elementwise(fcinfo, core::multiply); }

// vector_concat(vector, vector) -> vector: a's elements followed by b's (at most 16000 in all).
RULAKE_FUNCTION(rulake_vector_concat) {
    pg::VectorDatum* a = PG_GETARG_VECTOR_P(0);
    pg::VectorDatum* b = PG_GETARG_VECTOR_P(1);
    long dim = static_cast<long>(a->dim) + b->dim;
    core::check_vector_dim(dim);
    pg::VectorDatum* result = pg::new_vector(static_cast<size_t>(dim));
    std::memcpy(result->x, a->x, sizeof(float) * static_cast<size_t>(a->dim));
    std::memcpy(result->x + a->dim, b->x, sizeof(float) * static_cast<size_t>(b->dim));
    PG_RETURN_VECTOR_P(result);
}

// vector_dims(vector) -> integer
RULAKE_FUNCTION(rulake_vector_dims) {
    pg::VectorDatum* v = PG_GETARG_VECTOR_P(0);
    int32 dim = v->dim;
    PG_FREE_IF_COPY(v, 0);
    PG_RETURN_INT32(dim);
}

// vector_norm(vector) -> float8: the Euclidean norm, accumulated in double.
RULAKE_FUNCTION(rulake_vector_norm) {
    pg::VectorDatum* v = PG_GETARG_VECTOR_P(0);
    double norm = core::norm(v->x, static_cast<size_t>(v->dim));
    PG_FREE_IF_COPY(v, 0);
    PG_RETURN_FLOAT8(norm);
}

// l2_normalize(vector) -> vector: v / |v|; the zero vector stays zero.
RULAKE_FUNCTION(rulake_l2_normalize) {
    pg::VectorDatum* v = PG_GETARG_VECTOR_P(0);
    pg::VectorDatum* result = pg::new_vector(static_cast<size_t>(v->dim));
    core::l2_normalize(v->x, result->x, static_cast<size_t>(v->dim));
    PG_RETURN_VECTOR_P(result);
}

// subvector(vector, start integer, count integer) -> vector: count elements from 1-based position
// start, clipped to the vector like substring; an empty result is an error.
RULAKE_FUNCTION(rulake_subvector) {
    pg::VectorDatum* v = PG_GETARG_VECTOR_P(0);
    core::ElementRange range = core::subvector_range(v->dim, PG_GETARG_INT32(1), PG_GETARG_INT32(2));
    pg::VectorDatum* result = pg::new_vector(range.length);
    std::memcpy(result->x, v->x + range.offset, sizeof(float) * range.length);
    PG_RETURN_VECTOR_P(result);
}

// binary_quantize(vector) -> bit: bit i is 1 where element i is positive.
RULAKE_FUNCTION(rulake_binary_quantize) {
    pg::VectorDatum* v = PG_GETARG_VECTOR_P(0);
    size_t size = VARBITTOTALLEN(v->dim);
    auto* result = static_cast<VarBit*>(palloc0(size));
    SET_VARSIZE(result, size);
    VARBITLEN(result) = v->dim;
    core::binary_quantize(v->x, static_cast<size_t>(v->dim), VARBITS(result));
    PG_RETURN_VARBIT_P(result);
}
