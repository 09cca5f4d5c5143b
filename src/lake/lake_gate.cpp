// The gate between ruLake's public management functions and their implementations.
//
// A public function such as rulake.refresh(collection text) is declared LANGUAGE C with this file's
// rulake_gate as its symbol. It runs as its caller, so GetUserId() is the role whose rights count. The
// gate calls rulake._refresh(caller oid, collection text) - the implementation in PL/pgSQL, same name
// with a leading underscore, the caller's OID first, then the public function's arguments unchanged -
// as the extension's owner with search_path pinned (RoleScope). The implementations are not executable
// by PUBLIC, so the caller OID they receive is always the gate's, and they check the caller's rights
// with it (ownership, SELECT on sources, pg_read_server_files, ...). Scalar results are copied out of
// SPI; set results are materialized.
//
// rulake.create_collection has its own entry, rulake_create_collection_gate: a relation name must be
// resolved with the caller's search_path and schema privileges, which the implementation (running as
// the owner with a pinned search_path) cannot do. It appends the resolved relation (NULL when the
// backend is not local or no such relation exists) and the caller's search_path.
#include <memory>
#include <string>
#include <vector>

#include "lake_values.hpp"
#include "lake_roles.hpp"
#include "lake_spi.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
#include "utils/varlena.h"
}

namespace rulake::lake {
namespace {

using pg::pg_call;
using pg::SqlError;

struct ExtraArgument {
    Oid type = InvalidOid;
    Datum value = 0;
    bool is_null = true;
};

struct PublicFunction {
    std::string name;
    std::vector<Oid> argument_types;
    bool returns_set = false;
    Oid result_type = InvalidOid;
};

PublicFunction describe(Oid function) {
    PublicFunction result;
    pg_call([&] {
        HeapTuple tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(function));
        if (!HeapTupleIsValid(tuple)) elog(ERROR, "cache lookup failed for function %u", function);
        const auto* form = reinterpret_cast<Form_pg_proc>(GETSTRUCT(tuple));
        result.name = NameStr(form->proname);
        result.argument_types.assign(form->proargtypes.values, form->proargtypes.values + form->pronargs);
        result.returns_set = form->proretset;
        result.result_type = form->prorettype;
        ReleaseSysCache(tuple);
    });
    return result;
}

// Calls rulake._<name>(caller, arguments..., extras...) as the extension owner and returns its result.
Datum forward(FunctionCallInfo fcinfo, const std::vector<ExtraArgument>& extras) {
    const Oid caller = GetUserId();
    const PublicFunction function = describe(fcinfo->flinfo->fn_oid);

    std::vector<Oid> types = {OIDOID};
    std::vector<Datum> values = {ObjectIdGetDatum(caller)};
    std::string nulls = " ";
    for (size_t i = 0; i < function.argument_types.size(); ++i) {
        types.push_back(function.argument_types[i]);
        values.push_back(fcinfo->args[i].value);
        nulls += fcinfo->args[i].isnull ? 'n' : ' ';
    }
    for (const ExtraArgument& extra : extras) {
        types.push_back(extra.type);
        values.push_back(extra.value);
        nulls += extra.is_null ? 'n' : ' ';
    }
    const std::string internal_name = "_" + function.name;
    std::string call = "rulake." + std::string(pg_call([&] { return quote_identifier(internal_name.c_str()); })) + "(";
    for (size_t i = 1; i <= types.size(); ++i) call += (i > 1 ? ", $" : "$") + std::to_string(i);
    call += ")";
    const std::string sql = function.returns_set ? "SELECT * FROM " + call : "SELECT " + call;

    MaterializedResult set_result;
    if (function.returns_set) set_result = begin_materialized_result(fcinfo);

    RoleScope as_extension_owner(extension_owner());
    SpiSession spi;
    const uint64_t rows = spi.execute(kept_plan(sql, types), values.data(), nulls.c_str(), false);
    Datum result = 0;
    bool result_is_null = true;
    if (function.returns_set) {
        const int columns = set_result.descriptor->natts;
        std::vector<Datum> row_values(static_cast<size_t>(columns));
        std::unique_ptr<bool[]> row_nulls(new bool[static_cast<size_t>(columns)]);
        for (uint64_t row = 0; row < rows; ++row) {
            for (int column = 0; column < columns; ++column) {
                row_values[static_cast<size_t>(column)] = spi.value(row, column + 1, &row_nulls[static_cast<size_t>(column)]);
            }
            set_result.add(row_values.data(), row_nulls.get());
        }
    } else if (function.result_type != VOIDOID && rows == 1) {
        const Datum value = spi.value(0, 1, &result_is_null);
        if (!result_is_null) {
            result = pg_call([&] {
                int16 length;
                bool by_value;
                get_typlenbyval(function.result_type, &length, &by_value);
                return SPI_datumTransfer(value, by_value, length);
            });
        }
    }
    spi.finish();
    if (function.returns_set || function.result_type == VOIDOID || result_is_null) {
        if (!function.returns_set && function.result_type != VOIDOID) fcinfo->isnull = true;
        return 0;
    }
    return result;
}

// The kind of backend `name`, or "" if there is none.
std::string backend_kind(const std::string& name) {
    RoleScope as_extension_owner(extension_owner());
    SpiSession spi;
    Datum argument = text_datum(name);
    spi.execute(kept_plan("SELECT kind FROM rulake.backends WHERE name = $1", {TEXTOID}), &argument, nullptr, false, 1);
    const std::string kind = spi.rows() == 1 ? spi.text_value(0, 1) : std::string();
    spi.finish();
    return kind;
}

}  // namespace
}  // namespace rulake::lake

using namespace rulake::lake;

// Every public management function except create_collection (see the file comment).
RULAKE_FUNCTION(rulake_gate) {
    return forward(fcinfo, {});
}

// rulake.create_collection(name, backend, source, ...): resolves source as a relation in the caller's
// context when the backend is local, then forwards with the relation and the caller's search_path.
RULAKE_FUNCTION(rulake_create_collection_gate) {
    ExtraArgument relation{REGCLASSOID, 0, true};
    const std::string source = PG_ARGISNULL(2) ? std::string() : text_argument(fcinfo, 2);
    if (!PG_ARGISNULL(1) && !source.empty() && backend_kind(text_argument(fcinfo, 1)) == "local") {
        const Oid relid = rulake::pg::pg_call([&] {
            List* names = stringToQualifiedNameList(source.c_str());
            return RangeVarGetRelid(makeRangeVarFromNameList(names), NoLock, true);
        });
        if (OidIsValid(relid)) relation = {REGCLASSOID, ObjectIdGetDatum(relid), false};
    }
    const std::string search_path = rulake::pg::pg_call([] {
        return std::string(GetConfigOption("search_path", false, false));
    });
    const ExtraArgument path{TEXTOID, text_datum(search_path), false};
    return forward(fcinfo, {relation, path});
}
