// Text and binary input/output of the vector type.
//   text    "[1,2.5,3]": parsed by core::parse_vector_text, printed with Postgres' shortest round-trip
//           float formatting (as float4out prints with extra_float_digits > 0)
//   binary  big-endian int16 dim, int16 unused (0), float4 x[dim] (pgvector's wire format)
// Input checks the dimension count against the type modifier when one is given (COPY passes it).
#include <cstring>
#include <string>

#include "rulake/core/vector_rules.hpp"
#include "rulake/core/vector_text.hpp"
#include "rulake/pg/boundary.hpp"
#include "rulake/pg/vector_datum.hpp"

extern "C" {
#include "common/shortest_dec.h"
#include "libpq/pqformat.h"
}

namespace core = rulake::core;
namespace pg = rulake::pg;

static_assert(pg::kVectorMaxDim == core::kVectorMaxDim, "one dimension limit");

// vector_in(cstring, oid, typmod integer) -> vector
RULAKE_FUNCTION(rulake_vector_in) {
    const char* literal = PG_GETARG_CSTRING(0);
    int32 typmod = PG_GETARG_INT32(2);
    float values[core::kVectorMaxDim];  // 64 KiB of stack, like float4 array input's worst case
    size_t dim = core::parse_vector_text(literal, values);
    core::check_expected_dim(typmod, static_cast<long>(dim));
    pg::VectorDatum* result = pg::new_vector(dim);
    std::memcpy(result->x, values, dim * sizeof(float));
    PG_RETURN_VECTOR_P(result);
}

// vector_out(vector) -> cstring
RULAKE_FUNCTION(rulake_vector_out) {
    pg::VectorDatum* v = PG_GETARG_VECTOR_P(0);
    // Each element takes at most FLOAT_SHORTEST_DECIMAL_LEN - 1 characters plus a separator; add the
    // brackets and the terminator.
    char* text = static_cast<char*>(palloc(FLOAT_SHORTEST_DECIMAL_LEN * static_cast<size_t>(v->dim) + 2));
    char* p = text;
    *p++ = '[';
    for (int i = 0; i < v->dim; ++i) {
        if (i > 0) *p++ = ',';
        p += float_to_shortest_decimal_bufn(v->x[i], p);
    }
    *p++ = ']';
    *p = '\0';
    PG_FREE_IF_COPY(v, 0);
    PG_RETURN_CSTRING(text);
}

// vector_recv(internal, oid, typmod integer) -> vector. Errors: pgvector's for the dimension count, the
// type modifier, a non-zero unused field and non-finite elements; Postgres' own for a short message.
RULAKE_FUNCTION(rulake_vector_recv) {
    StringInfo buf = reinterpret_cast<StringInfo>(PG_GETARG_POINTER(0));
    int32 typmod = PG_GETARG_INT32(2);
    auto dim = static_cast<int16>(pq_getmsgint(buf, sizeof(int16)));
    auto unused = static_cast<int16>(pq_getmsgint(buf, sizeof(int16)));
    core::check_vector_dim(dim);
    core::check_expected_dim(typmod, dim);
    if (unused != 0)
        throw pg::SqlError(ERRCODE_DATA_EXCEPTION, "expected unused to be 0, not " + std::to_string(unused));
    pg::VectorDatum* result = pg::new_vector(static_cast<size_t>(dim));
    for (int i = 0; i < dim; ++i) {
        result->x[i] = pq_getmsgfloat4(buf);
        core::check_element(result->x[i]);
    }
    PG_RETURN_VECTOR_P(result);
}

// vector_send(vector) -> bytea
RULAKE_FUNCTION(rulake_vector_send) {
    pg::VectorDatum* v = PG_GETARG_VECTOR_P(0);
    StringInfoData buf;
    pq_begintypsend(&buf);
    pq_sendint16(&buf, static_cast<uint16>(v->dim));
    pq_sendint16(&buf, static_cast<uint16>(v->unused));
    for (int i = 0; i < v->dim; ++i) pq_sendfloat4(&buf, v->x[i]);
    PG_FREE_IF_COPY(v, 0);
    PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}
