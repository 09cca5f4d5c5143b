// ruLake's read rule (see lake_access.hpp) and its SQL entry points:
//   rulake._require_read(caller oid, collection text) -> void      raises 42501 unless caller may search
//   rulake._may_read(caller oid, collection text) -> boolean
//   rulake._may_refresh(caller oid, collection text) -> boolean
//   rulake._cache_reader(collection text) -> oid                    0 (shared) or the owner (private)
//   rulake.may_see(collection text) -> boolean                     for the current role (PUBLIC)
#include <string>

#include "rulake/core/metric.hpp"  // before any Postgres header (lake_values.hpp)
#include "lake_values.hpp"
#include "lake_access.hpp"
#include "lake_roles.hpp"

extern "C" {
#include "catalog/catalog.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "nodes/pg_list.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

namespace rulake::lake {

using pg::pg_call;
using pg::SqlError;

namespace {

// Raises 42P01 if the collection's source relation no longer exists.
void require_source_exists(const CollectionInfo& collection) {
    const bool exists = pg_call([&] { return SearchSysCacheExists1(RELOID, ObjectIdGetDatum(collection.source_relation)); });
    if (!exists) {
        throw SqlError(ERRCODE_UNDEFINED_TABLE, "source relation of collection \"" + collection.name + "\" no longer exists",
                       {}, "Drop the collection with rulake.drop_collection.");
    }
}

// True if role has SELECT on the source relation, or on both the id and the vector column (as for
// SELECT id, vector FROM source).
bool has_select(const CollectionInfo& collection, Oid role) {
    const Oid relation = collection.source_relation;
    return pg_call([&] {
        if (pg_class_aclcheck(relation, role, ACL_SELECT) == ACLCHECK_OK) return true;
        const AttrNumber id_attnum = get_attnum(relation, collection.id_column.c_str());
        const AttrNumber vector_attnum = get_attnum(relation, collection.vector_column.c_str());
        return id_attnum != InvalidAttrNumber && vector_attnum != InvalidAttrNumber &&
               pg_attribute_aclcheck(relation, id_attnum, role, ACL_SELECT) == ACLCHECK_OK &&
               pg_attribute_aclcheck(relation, vector_attnum, role, ACL_SELECT) == ACLCHECK_OK;
    });
}

// Raises "permission denied for <kind> <name>" as Postgres words it.
[[noreturn]] void raise_no_select(const CollectionInfo& collection) {
    const Oid relation = collection.source_relation;
    pg_call([&] {
        aclcheck_error(ACLCHECK_NO_PRIV, get_relkind_objtype(get_rel_relkind(relation)), get_rel_name(relation));
    });
    throw SqlError(ERRCODE_INSUFFICIENT_PRIVILEGE, "permission denied");  // not reached
}

std::string role_name(Oid role) {
    return pg_call([&] {
        const char* name = GetUserNameFromId(role, true);
        return name != nullptr ? std::string(name) : "role " + std::to_string(role);
    });
}

[[noreturn]] void raise_private(const CollectionInfo& collection, const std::string& reason) {
    const std::string owner = role_name(collection.owner);
    throw SqlError(ERRCODE_INSUFFICIENT_PRIVILEGE,
                   "collection \"" + collection.name + "\" can only be searched by its owner, role \"" + owner + "\"",
                   "Its source " + reason + ", so the rows it shows depend on who reads it; the cache holds the rows \"" +
                       owner + "\" reads.",
                   "Create a collection of your own on the same source.");
}

// True if some partition (at any level) of a partitioned table is a foreign table.
bool has_foreign_partition(Oid relation) {
    return pg_call([&] {
        List* members = find_all_inheritors(relation, NoLock, nullptr);
        ListCell* cell;
        foreach (cell, members) {
            if (get_rel_relkind(lfirst_oid(cell)) == RELKIND_FOREIGN_TABLE) return true;
        }
        return false;
    });
}

}  // namespace

std::optional<std::string> reader_dependence(const CollectionInfo& collection) {
    if (!collection.is_local()) return std::nullopt;
    require_source_exists(collection);
    char relkind = 0;
    bool row_security = false;
    pg_call([&] {
        HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(collection.source_relation));
        if (!HeapTupleIsValid(tuple)) elog(ERROR, "cache lookup failed for relation %u", collection.source_relation);
        const auto* form = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple));
        relkind = form->relkind;
        row_security = form->relrowsecurity;
        ReleaseSysCache(tuple);
    });
    if (relkind == RELKIND_VIEW) return std::string("is a view");
    if (relkind == RELKIND_FOREIGN_TABLE) return std::string("is a foreign table (read through the reader's user mapping)");
    if (row_security) return std::string("has row-level security");
    if (relkind == RELKIND_PARTITIONED_TABLE && has_foreign_partition(collection.source_relation)) {
        return std::string("has foreign partitions (read through the reader's user mappings)");
    }
    return std::nullopt;
}

Oid required_cache_reader(const CollectionInfo& collection) {
    return reader_dependence(collection) ? collection.owner : InvalidOid;
}

namespace {

// Why role may not search the collection (raises for a missing source), or nothing; sets *reader to
// the reader the collection's cache must have been loaded as (required_cache_reader). One look at the
// source's kind serves both.
enum class Denial { None, NoSelect, Private };
Denial search_denial(const CollectionInfo& collection, Oid role, Oid* reader, std::string* reason) {
    *reader = InvalidOid;
    if (!collection.is_local()) return Denial::None;
    require_source_exists(collection);
    if (!has_select(collection, role)) return Denial::NoSelect;
    const auto dependence = reader_dependence(collection);
    if (!dependence) return Denial::None;
    *reader = collection.owner;
    *reason = *dependence;
    return role == collection.owner ? Denial::None : Denial::Private;
}

}  // namespace

Oid require_search_access(const CollectionInfo& collection, Oid role) {
    Oid reader = InvalidOid;
    std::string reason;
    switch (search_denial(collection, role, &reader, &reason)) {
        case Denial::NoSelect: raise_no_select(collection);
        case Denial::Private: raise_private(collection, reason);
        case Denial::None: break;
    }
    return reader;
}

bool may_search(const CollectionInfo& collection, Oid role) {
    Oid reader = InvalidOid;
    std::string reason;
    return search_denial(collection, role, &reader, &reason) == Denial::None;
}

bool may_refresh(const CollectionInfo& collection, Oid role) {
    if (pg_call([&] { return is_member_of_role(role, collection.owner); })) return true;
    return may_search(collection, role);
}

bool may_see(const std::string& name, Oid role) {
    try {
        return may_refresh(load_collection(name), role);
    } catch (const SqlError&) {
        return false;  // no such collection, or its source is gone
    }
}

}  // namespace rulake::lake

using namespace rulake::lake;

namespace {

// The collection named by argument argno, read as the extension owner.
CollectionInfo collection_argument(FunctionCallInfo fcinfo, int argno) {
    require_argument(fcinfo, argno, "collection");
    const std::string name = text_argument(fcinfo, argno);
    RoleScope as_extension_owner(extension_owner(), nullptr);
    return load_collection(name);
}

}  // namespace

RULAKE_FUNCTION(rulake_internal_require_read) {
    require_argument(fcinfo, 0, "caller");
    require_search_access(collection_argument(fcinfo, 1), PG_GETARG_OID(0));
    PG_RETURN_VOID();
}

RULAKE_FUNCTION(rulake_internal_may_read) {
    require_argument(fcinfo, 0, "caller");
    return BoolGetDatum(may_search(collection_argument(fcinfo, 1), PG_GETARG_OID(0)));
}

RULAKE_FUNCTION(rulake_internal_may_refresh) {
    require_argument(fcinfo, 0, "caller");
    return BoolGetDatum(may_refresh(collection_argument(fcinfo, 1), PG_GETARG_OID(0)));
}

RULAKE_FUNCTION(rulake_internal_cache_reader) {
    return ObjectIdGetDatum(required_cache_reader(collection_argument(fcinfo, 0)));
}

// rulake.may_see(collection text) -> boolean, for the current role (see may_see).
RULAKE_FUNCTION(rulake_may_see) {
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    const Oid caller = GetUserId();
    const std::string name = text_argument(fcinfo, 0);
    RoleScope as_extension_owner(extension_owner(), nullptr);
    return BoolGetDatum(may_see(name, caller));
}
