// Element-wise arithmetic and small whole-vector computations behind the vector type's operators and
// functions (distances live in metric.hpp). Semantics follow pgvector: float arithmetic per element with
// Postgres' overflow / underflow errors (see vector_rules.hpp); norms accumulate in double.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rulake::core {

// out[i] = a[i] + b[i] (resp. -, *) for i < n; out may alias a or b. Throws OutOfRange
// "value out of range: overflow" if a result is infinite; multiply also throws "value out of range:
// underflow" if a product of two non-zero elements is zero. On error out holds partial results.
void add(const float* a, const float* b, float* out, size_t n);
void subtract(const float* a, const float* b, float* out, size_t n);
void multiply(const float* a, const float* b, float* out, size_t n);

// The Euclidean norm, accumulated in double.
double norm(const float* a, size_t n);

// out = a / |a| (each element rounded to float); a zero vector stays zero. Cannot overflow: every
// |a[i]| <= |a|. out may alias a.
void l2_normalize(const float* a, float* out, size_t n);

// Sets bit i (most significant bit first in each byte, as Postgres' bit type) when a[i] > 0. Writes
// all (n + 7) / 8 bytes of bits; trailing pad bits are zero.
void binary_quantize(const float* a, size_t n, uint8_t* bits);

// Total order of the btree operator class: element by element first, then the shorter vector first
// (like Postgres arrays). Returns -1, 0 or 1.
int compare(const float* a, size_t na, const float* b, size_t nb);

// The part of a vector of dim dimensions that subvector(v, start, count) selects: 1-based start, at
// most count elements, clipped to the vector (like substring). Throws Data "vector must have at least 1
// dimension" when nothing is left. Never overflows, whatever start and count are.
struct ElementRange {
    size_t offset;  // 0-based
    size_t length;  // >= 1
};
ElementRange subvector_range(long dim, int32_t start, int32_t count);

// Aggregate support: sums[i] += x[i] (resp. other[i]) in double for i < n. Throws OutOfRange
// "value out of range: overflow" if a sum becomes infinite.
void accumulate(double* sums, const float* x, size_t n);
void accumulate(double* sums, const double* other, size_t n);

// out[i] = sums[i] / count rounded to float; throws Data (vector_rules.hpp) if a result is not finite.
void average(const double* sums, double count, float* out, size_t n);

}  // namespace rulake::core

#ifdef POSTGRES_H
#error "core headers are pure C++: include them before postgres.h"
#endif
