// Distance functions of the vector type. Every one computes through the core metrics
// (rulake/core/metric.hpp), the same code the rabitq index uses for exact distances, so an index scan
// and ORDER BY over a sequential scan agree to the last bit.
//   l2_distance (<->), inner_product, vector_negative_inner_product (<#>), cosine_distance (<=>),
//   l1_distance (<+>), vector_l2_squared_distance (the L2 order key an index sorts by).
#include <cstddef>

#include "rulake/core/metric.hpp"
#include "rulake/core/vector_rules.hpp"
#include "rulake/pg/boundary.hpp"
#include "rulake/pg/vector_datum.hpp"

namespace core = rulake::core;
namespace pg = rulake::pg;

namespace {

using DistanceFn = double (*)(const float*, const float*, size_t);

// The body shared by every distance function: both arguments, same dimensions, one float8 result.
// Called from entry points only (it relies on their guard).
Datum distance_between_arguments(FunctionCallInfo fcinfo, DistanceFn distance) {
    pg::VectorDatum* a = PG_GETARG_VECTOR_P(0);
    pg::VectorDatum* b = PG_GETARG_VECTOR_P(1);
    core::check_same_dims(a->dim, b->dim);
    double result = distance(a->x, b->x, static_cast<size_t>(a->dim));
    PG_FREE_IF_COPY(a, 0);
    PG_FREE_IF_COPY(b, 1);
    PG_RETURN_FLOAT8(result);
}

double inner_product(const float* a, const float* b, size_t n) { return -core::negative_inner_product(a, b, n); }

double l2_squared_distance(const float* a, const float* b, size_t n) {
    return core::exact_order_key(core::Metric::L2, a, b, n);
}

}  // namespace

RULAKE_FUNCTION(rulake_l2_distance) { return distance_between_arguments(fcinfo, core::l2_distance); }
RULAKE_FUNCTION(rulake_vector_l2_squared_distance) { return distance_between_arguments(fcinfo, l2_squared_distance); }
RULAKE_FUNCTION(rulake_inner_product) { return distance_between_arguments(fcinfo, inner_product); }
RULAKE_FUNCTION(rulake_vector_negative_inner_product) {
    return distance_between_arguments(fcinfo, core::negative_inner_product);
}
RULAKE_FUNCTION(rulake_cosine_distance) { return distance_between_arguments(fcinfo, core::cosine_distance); }
RULAKE_FUNCTION(rulake_l1_distance) { return distance_between_arguments(fcinfo, core::l1_distance); }
