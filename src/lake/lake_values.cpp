// Conversions between SQL values and the core's types (see lake_values.hpp).
#include <cstring>
#include <string>

#include "rulake/core/decimal_text.hpp"
#include "lake_values.hpp"

extern "C" {
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/numeric.h"
}

namespace rulake::lake {

using pg::pg_call;
using pg::SqlError;

std::string to_utf8(const char* data, int length) {
    const char* converted = pg_call([&] { return pg_server_to_any(data, length, PG_UTF8); });
    return std::string(converted, converted == data ? static_cast<size_t>(length) : strlen(converted));
}

std::string from_utf8(const std::string& utf8) {
    const char* converted =
        pg_call([&] { return pg_any_to_server(utf8.c_str(), static_cast<int>(utf8.size()), PG_UTF8); });
    return converted == utf8.c_str() ? utf8 : std::string(converted);
}

std::string text_argument(FunctionCallInfo fcinfo, int argno) {
    text* value = pg_call([&] { return PG_GETARG_TEXT_PP(argno); });
    return std::string(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));
}

std::string text_argument_utf8(FunctionCallInfo fcinfo, int argno) {
    text* value = pg_call([&] { return PG_GETARG_TEXT_PP(argno); });
    return to_utf8(VARDATA_ANY(value), static_cast<int>(VARSIZE_ANY_EXHDR(value)));
}

void require_argument(FunctionCallInfo fcinfo, int argno, const char* name) {
    if (PG_ARGISNULL(argno)) {
        throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, std::string(name) + " must not be NULL");
    }
}

uint64_t numeric_to_u64(Numeric value, const std::string& subject) {
    const char* text =
        pg_call([&] { return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(value))); });
    return core::parse_unsigned_decimal(text, subject);
}

namespace {
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
}  // namespace

core::Generation jsonb_to_generation(Jsonb* value) {
    JsonbValue scalar;
    if (JsonContainerIsScalar(&value->root) && JsonbExtractScalar(&value->root, &scalar)) {
        if (scalar.type == jbvNumeric) return core::Generation::number(numeric_to_u64(scalar.val.numeric, "generation"));
        if (scalar.type == jbvString) {
            return core::Generation::opaque(to_utf8(scalar.val.string.val, scalar.val.string.len));
        }
    }
    throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                   std::string("generation must be a JSON number or string, not ") + jsonb_type_name(value), {},
                   "A number is a numeric generation, a string an opaque one.");
}

Datum json_text_to_jsonb(const std::string& utf8_json) {
    const std::string server_text = from_utf8(utf8_json);
    return pg_call([&] { return DirectFunctionCall1(jsonb_in, CStringGetDatum(server_text.c_str())); });
}

Datum generation_to_jsonb(const core::Generation& generation) {
    if (generation.is_number()) return json_text_to_jsonb(std::to_string(generation.number_value()));
    // An opaque generation as a JSON string: quote and backslash escaped, control characters as \u00XX.
    std::string json = "\"";
    for (unsigned char c : generation.opaque_value()) {
        if (c == '"' || c == '\\') {
            json += '\\';
            json += static_cast<char>(c);
        } else if (c < 0x20) {
            static const char hex[] = "0123456789abcdef";
            json += "\\u00";
            json += hex[c >> 4];
            json += hex[c & 15];
        } else {
            json += static_cast<char>(c);
        }
    }
    json += '"';
    return json_text_to_jsonb(json);
}

core::Bundle jsonb_to_bundle(Jsonb* value) {
    const char* text = pg_call([&] { return JsonbToCString(nullptr, &value->root, VARSIZE(value)); });
    return core::parse_bundle_json(to_utf8(text, static_cast<int>(strlen(text))));
}

Datum bundle_to_jsonb(const core::Bundle& bundle) { return json_text_to_jsonb(core::serialize_bundle_json(bundle)); }

Datum text_datum(const std::string& value) {
    return pg_call([&] { return PointerGetDatum(cstring_to_text_with_len(value.data(), static_cast<int>(value.size()))); });
}

void MaterializedResult::add(Datum* values, bool* nulls) const {
    pg_call([&] { tuplestore_putvalues(store, descriptor, values, nulls); });
}

MaterializedResult begin_materialized_result(FunctionCallInfo fcinfo) {
    auto* info = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    if (info == nullptr || !IsA(info, ReturnSetInfo) || (info->allowedModes & SFRM_Materialize) == 0) {
        throw SqlError(ERRCODE_FEATURE_NOT_SUPPORTED, "set-valued function called in context that cannot accept a set");
    }
    MaterializedResult result;
    pg_call([&] {
        MemoryContext old = MemoryContextSwitchTo(info->econtext->ecxt_per_query_memory);
        TupleDesc descriptor;
        if (get_call_result_type(fcinfo, nullptr, &descriptor) != TYPEFUNC_COMPOSITE) {
            elog(ERROR, "return type must be a row type");
        }
        result.descriptor = CreateTupleDescCopy(descriptor);
        result.store = tuplestore_begin_heap(true, false, work_mem);
        info->returnMode = SFRM_Materialize;
        info->setResult = result.store;
        info->setDesc = result.descriptor;
        MemoryContextSwitchTo(old);
    });
    return result;
}

}  // namespace rulake::lake
