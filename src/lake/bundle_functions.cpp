// SQL functions over bundle sidecars and witnesses:
//   rulake.bundle_witness(data_ref, dim, rotation_seed, rerank_factor, generation jsonb) -> text
//   rulake.read_bundle(path) -> jsonb
// The work is done by the core (witness.hpp, bundle_json.hpp); this file converts arguments and results.
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "rulake/core/bundle_json.hpp"
#include "rulake/core/decimal_text.hpp"
#include "rulake/core/error.hpp"
#include "rulake/core/witness.hpp"
#include "rulake/pg/boundary.hpp"

extern "C" {
#include "catalog/pg_authid.h"
#include "mb/pg_wchar.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
}

#if PG_VERSION_NUM < 140000
#define ROLE_PG_READ_SERVER_FILES DEFAULT_ROLE_READ_SERVER_FILES
#endif

namespace {

using rulake::pg::pg_call;
using rulake::pg::SqlError;

// Text in the database encoding, converted to UTF-8 (the encoding of witnesses and sidecars).
std::string to_utf8(const char* data, int length) {
    const char* converted = pg_call([&] { return pg_server_to_any(data, length, PG_UTF8); });
    return std::string(converted, converted == data ? static_cast<size_t>(length) : strlen(converted));
}

// A text argument as UTF-8.
std::string text_argument_utf8(FunctionCallInfo fcinfo, int argno) {
    text* value = pg_call([&] { return PG_GETARG_TEXT_PP(argno); });
    return to_utf8(VARDATA_ANY(value), static_cast<int>(VARSIZE_ANY_EXHDR(value)));
}

// A bigint argument that must not be negative.
uint64_t non_negative_argument(FunctionCallInfo fcinfo, int argno, const char* name) {
    const int64 value = PG_GETARG_INT64(argno);
    if (value < 0) {
        throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, std::string(name) + " must not be negative",
                       std::string(name) + " is " + std::to_string(value) + ".");
    }
    return static_cast<uint64_t>(value);
}

// A numeric value that must be an integer in 0 .. 2^64-1.
uint64_t numeric_to_u64(Numeric value, const std::string& subject) {
    const char* text = pg_call([&] { return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(value))); });
    return rulake::core::parse_unsigned_decimal(text, subject);
}

const char* jsonb_type_name(Jsonb* value) {
    if (JsonContainerIsScalar(&value->root)) {
        JsonbValue scalar;
        JsonbExtractScalar(&value->root, &scalar);
        switch (scalar.type) {
            case jbvNull: return "null";
            case jbvBool: return "boolean";
            default: return "scalar";
        }
    }
    return JsonContainerIsArray(&value->root) ? "array" : "object";
}

// A generation given as jsonb: a number (a non-negative integer up to 2^64-1) is numeric, a string is
// opaque; anything else is an error.
rulake::core::Generation jsonb_to_generation(Jsonb* value) {
    JsonbValue scalar;
    if (JsonContainerIsScalar(&value->root) && JsonbExtractScalar(&value->root, &scalar)) {
        if (scalar.type == jbvNumeric) return rulake::core::Generation::number(numeric_to_u64(scalar.val.numeric, "generation"));
        if (scalar.type == jbvString) {
            return rulake::core::Generation::opaque(to_utf8(scalar.val.string.val, scalar.val.string.len));
        }
    }
    throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                   std::string("generation must be a JSON number or string, not ") + jsonb_type_name(value),
                   {}, "A number is a numeric generation, a string an opaque one.");
}

// Raises unless the current user may read files on the server (superuser or pg_read_server_files).
void require_server_file_access() {
    const bool allowed = pg_call([] { return has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES); });
    if (!allowed) {
        throw SqlError(ERRCODE_INSUFFICIENT_PRIVILEGE, "permission denied to read bundle files",
                       "Only roles with privileges of the \"pg_read_server_files\" role may read files on the server.");
    }
}

}  // namespace

// rulake.bundle_witness(data_ref text, dim bigint, rotation_seed numeric, rerank_factor bigint,
//                       generation jsonb) RETURNS text: the 64-hex-character witness of those fields.
RULAKE_FUNCTION(rulake_bundle_witness) {
    return rulake::pg::guard_entry([&]() -> Datum {
        rulake::core::WitnessFields fields;
        fields.data_ref = text_argument_utf8(fcinfo, 0);
        fields.dim = non_negative_argument(fcinfo, 1, "dim");
        Numeric seed = pg_call([&] { return PG_GETARG_NUMERIC(2); });
        fields.rotation_seed = numeric_to_u64(seed, "rotation_seed");
        fields.rerank_factor = non_negative_argument(fcinfo, 3, "rerank_factor");
        Jsonb* generation = pg_call([&] { return PG_GETARG_JSONB_P(4); });
        fields.generation = jsonb_to_generation(generation);
        const std::string witness = rulake::core::compute_witness(fields);
        return pg_call([&] { return PointerGetDatum(cstring_to_text_with_len(witness.data(), static_cast<int>(witness.size()))); });
    });
}

// rulake.read_bundle(path text) RETURNS jsonb: the verified sidecar at an absolute server path.
// Requires superuser or pg_read_server_files. Errors: missing or unreadable file, caps exceeded,
// malformed sidecar, witness mismatch (see rulake::core::parse_bundle_json).
RULAKE_FUNCTION(rulake_read_bundle) {
    return rulake::pg::guard_entry([&]() -> Datum {
        require_server_file_access();
        const char* path_cstr = pg_call([&] { return text_to_cstring(PG_GETARG_TEXT_PP(0)); });
        const std::string path(path_cstr);
        if (path.empty() || path[0] != '/') {
            throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "bundle path must be absolute", "The path is \"" + path + "\".");
        }
        const rulake::core::Bundle bundle = rulake::core::read_bundle_file(path);
        const std::string json = rulake::core::serialize_bundle_json(bundle);  // UTF-8
        return pg_call([&] {
            char* server_text = pg_any_to_server(json.c_str(), static_cast<int>(json.size()), PG_UTF8);
            return DirectFunctionCall1(jsonb_in, CStringGetDatum(server_text));
        });
    });
}
