// The text form of a vector: "[1,2.5,-3e-4]".
//
// Input follows pgvector: optional whitespace around the brackets, the numbers and the commas; each
// number is read with strtof (so exactly as float4 input rounds it; C locale, which Postgres
// guarantees for LC_NUMERIC); values too large for a float are an error, values too small become 0
// (or a subnormal); NaN and infinity are rejected. Output is done by the glue with Postgres' shortest
// round-trip float formatting, so it is not here.
#pragma once

#include <cstddef>

namespace rulake::core {

// Parses a NUL-terminated vector literal into out, which must have room for kVectorMaxDim floats, and
// returns the number of dimensions (at least 1). Throws core::Error with pgvector's messages:
//   InvalidText  invalid input syntax for type vector: "<text>"   (with a detail for a missing "[" and
//                for junk after "]")
//   Data         vector must have at least 1 dimension; NaN / infinite value not allowed in vector
//   OutOfRange   "<number>" is out of range for type vector
//   Limit        vector cannot have more than 16000 dimensions
size_t parse_vector_text(const char* text, float* out);

}  // namespace rulake::core

#ifdef POSTGRES_H
#error "core headers are pure C++: include them before postgres.h"
#endif
