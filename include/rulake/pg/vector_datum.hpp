// The on-disk / in-memory layout of the vector type, identical to pgvector's:
// varlena header, int16 dim, int16 unused (always 0), float4 x[dim].
#pragma once

#include "rulake/pg/postgres.hpp"

#if PG_VERSION_NUM >= 160000
extern "C" {
#include "varatt.h"
}
#endif

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

// A zero-filled vector of dim dimensions (1 <= dim <= kVectorMaxDim, checked by the caller), palloc'd in
// the current memory context. palloc may raise an ERROR: call it only when no C++ object with a
// destructor is alive in the calling frames (or under pg_call).
inline VectorDatum* new_vector(size_t dim) {
    size_t size = vector_size(static_cast<int>(dim));
    auto* v = static_cast<VectorDatum*>(palloc0(size));
    SET_VARSIZE(v, size);
    v->dim = static_cast<int16>(dim);
    return v;
}

}  // namespace rulake::pg

#define PG_GETARG_VECTOR_P(n) (rulake::pg::datum_get_vector(PG_GETARG_DATUM(n)))
#define PG_RETURN_VECTOR_P(v) PG_RETURN_POINTER(v)
