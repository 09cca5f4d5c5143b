// Distance metrics and "order keys".
//
// The index orders rows by an order key, a monotone function of the SQL operator's distance chosen to
// be cheap: L2 uses the squared distance (the operator <-> returns its square root), inner product uses
// the operator's own value -<a,b> (<#>), cosine uses the operator's own cosine distance (<=>).
// exact_order_key() computes the key with the same kernels as the SQL operators, so an index scan
// orders rows exactly as ORDER BY over a sequential scan does.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rulake::core {

enum class Metric : uint8_t { L2 = 1, InnerProduct = 2, Cosine = 3 };

// SQL operator distances, as pgvector defines them (float accumulation, double result).
double l2_distance(const float* a, const float* b, size_t n);
double negative_inner_product(const float* a, const float* b, size_t n);
// 1 - cos(a,b), clamped to [0, 2]; NaN when either vector has zero norm (as pgvector).
double cosine_distance(const float* a, const float* b, size_t n);
double l1_distance(const float* a, const float* b, size_t n);

// The order key of (a, b) under metric: see the file comment.
double exact_order_key(Metric metric, const float* a, const float* b, size_t n);
// The SQL operator's distance for an order key (sqrt for L2, identity otherwise).
double order_key_to_distance(Metric metric, double key);

}  // namespace rulake::core

#ifdef POSTGRES_H
#error "core headers are pure C++: include them before postgres.h"
#endif
