// The on-disk / in-memory layout of the vector type, identical to pgvector's:
// varlena header, int16 dim, int16 unused (always 0), float4 x[dim].
#pragma once

#include "rulake/pg/postgres.hpp"

namespace rulake::pg {

constexpr int kVectorMaxDim = 16000;

struct VectorDatum {
    int32 vl_len_;  // varlena header (do not touch directly)
    int16 dim;
    int16 unused;   // always zero
    float x[FLEXIBLE_ARRAY_MEMBER];
};

inline size_t vector_size(int dim) { return offsetof(VectorDatum, x) + sizeof(float) * static_cast<size_t>(dim); }

// Detoasts a vector argument (may palloc in the current memory context).
inline VectorDatum* datum_get_vector(Datum d) { return reinterpret_cast<VectorDatum*>(PG_DETOAST_DATUM(d)); }

}  // namespace rulake::pg

#define PG_GETARG_VECTOR_P(n) (rulake::pg::datum_get_vector(PG_GETARG_DATUM(n)))
