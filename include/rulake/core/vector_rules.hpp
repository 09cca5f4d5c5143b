// The validity rules of the `vector` type, shared by every path that makes a vector (text and binary
// input, casts, arithmetic, aggregates). Each check throws core::Error with the message and the kind
// (hence the SQLSTATE) that pgvector reports for the same mistake, so applications see the same errors.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rulake::core {

// The most dimensions a vector may have (pgvector's limit).
constexpr long kVectorMaxDim = 16000;

// dim must be in [1, kVectorMaxDim]. Data "vector must have at least 1 dimension" (22000) or Limit
// "vector cannot have more than 16000 dimensions" (54000).
void check_vector_dim(long dim);

// A declared dimension count (a type modifier; -1 means "any") must equal dim. Data "expected T
// dimensions, not D".
void check_expected_dim(int32_t typmod, long dim);

// Two operands of a binary operation must have as many dimensions. Data "different vector dimensions
// A and B".
void check_same_dims(long a, long b);

// A stored element must be finite. Data "NaN not allowed in vector" or "infinite value not allowed in
// vector".
void check_element(float value);
void check_elements(const float* values, size_t n);

// OutOfRange "value out of range: overflow" / "value out of range: underflow" (22003), as Postgres'
// float arithmetic reports them.
[[noreturn]] void throw_overflow();
[[noreturn]] void throw_underflow();

}  // namespace rulake::core

#ifdef POSTGRES_H
#error "core headers are pure C++: include them before postgres.h"
#endif
