// Conversions between SQL values and the core's types for ruLake's functions: text in the database
// encoding <-> UTF-8, generations and bundles <-> jsonb, and the result set of materialized
// set-returning functions. Everything here may raise through pg_call (never with C++ objects of its
// own alive across a Postgres error).
#pragma once

#include <cstdint>
#include <string>

#include "rulake/core/bundle_json.hpp"
#include "rulake/core/witness.hpp"
#include "rulake/pg/boundary.hpp"

extern "C" {
#include "funcapi.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"
}

namespace rulake::lake {

// Text in the database encoding converted to UTF-8 (the encoding of witnesses and sidecars), and back.
std::string to_utf8(const char* data, int length);
std::string from_utf8(const std::string& utf8);

// Argument argno (not NULL: check first) as a std::string in the database encoding / as UTF-8.
std::string text_argument(FunctionCallInfo fcinfo, int argno);
std::string text_argument_utf8(FunctionCallInfo fcinfo, int argno);
// Argument argno, which must not be NULL: raises 22004 "<name> must not be NULL" otherwise.
void require_argument(FunctionCallInfo fcinfo, int argno, const char* name);

// A numeric value that must be an integer in 0 .. 2^64-1.
uint64_t numeric_to_u64(Numeric value, const std::string& subject);

// A generation as jsonb: a number (non-negative integer up to 2^64-1) is numeric, a string opaque;
// anything else raises 22023.
core::Generation jsonb_to_generation(Jsonb* value);
// The jsonb form of a generation (a number or a string).
Datum generation_to_jsonb(const core::Generation& generation);

// A jsonb object holding a sidecar's fields, verified like a sidecar file (core::parse_bundle_json):
// the witness must match the fields.
core::Bundle jsonb_to_bundle(Jsonb* value);
// The sidecar as jsonb (the fields of core::serialize_bundle_json).
Datum bundle_to_jsonb(const core::Bundle& bundle);
// JSON text (UTF-8) as a jsonb datum.
Datum json_text_to_jsonb(const std::string& utf8_json);

// Text as a text datum in the current memory context.
Datum text_datum(const std::string& value);

// The tuplestore and descriptor of a set-returning function called in materialize mode (the result
// type comes from the function's declaration). Allocated in the query's memory context.
struct MaterializedResult {
    Tuplestorestate* store = nullptr;
    TupleDesc descriptor = nullptr;
    void add(Datum* values, bool* nulls) const;
};
MaterializedResult begin_materialized_result(FunctionCallInfo fcinfo);

}  // namespace rulake::lake
