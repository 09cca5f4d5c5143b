// Role switching and the identity of the extension's owner and schema (see lake_roles.hpp).
#include <exception>
#include <string>

#include "lake_roles.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/varlena.h"
}

namespace rulake::lake {

using pg::pg_call;

RoleScope::RoleScope(Oid role, const char* search_path) : uncaught_at_start_(std::uncaught_exceptions()) {
    GetUserIdAndSecContext(&saved_user_, &saved_context_);
    // Set before switching the user: if this raises, there is nothing to restore but the GUC level,
    // which the abort pops.
    if (search_path != nullptr) set("search_path", search_path);
    switch_user(role, false);
}

void RoleScope::set(const char* name, const char* value) {
    if (guc_level_ == 0) guc_level_ = NewGUCNestLevel();
    pg_call([&] {
        (void)set_config_option(name, value, PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
    });
}

void RoleScope::switch_user(Oid role, bool restricted) {
    int context = saved_context_ | SECURITY_LOCAL_USERID_CHANGE;
    if (restricted) context |= SECURITY_RESTRICTED_OPERATION;
    SetUserIdAndSecContext(role, context);
}

RoleScope::~RoleScope() {
    SetUserIdAndSecContext(saved_user_, saved_context_);
    // isCommit = false: settings changed inside the scope, even non-local ones, are all undone.
    if (guc_level_ != 0 && std::uncaught_exceptions() == uncaught_at_start_) AtEOXact_GUC(false, guc_level_);
}

UserCodeScope::UserCodeScope(Oid owner, const std::string& search_path) : RoleScope(owner, nullptr) {
    // The constructor of RoleScope switched to owner without restriction; settings are changed as the
    // caller (still privileged enough to set them), then the restricted context is entered.
    const std::string path = search_path_with_temp_last(search_path);
    set("search_path", path.c_str());
    set("transaction_read_only", "on");
    switch_user(owner, true);
}

std::string search_path_with_temp_last(const std::string& search_path) {
    return pg_call([&] {
        char* copy = pstrdup(search_path.c_str());
        List* names = NIL;
        if (!SplitIdentifierString(copy, ',', &names)) {
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid search_path \"%s\"",
                                                                             search_path.c_str())));
        }
        std::string result;
        ListCell* cell;
        foreach (cell, names) {
            const char* name = static_cast<const char*>(lfirst(cell));
            if (strcmp(name, "pg_temp") == 0 || strncmp(name, "pg_temp_", 8) == 0) continue;
            result += quote_identifier(name);
            result += ", ";
        }
        return result + "pg_temp";
    });
}

Oid extension_owner() {
    return pg_call([] {
        const Oid namespace_oid = get_namespace_oid("rulake", false);
        HeapTuple tuple = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(namespace_oid));
        if (!HeapTupleIsValid(tuple)) elog(ERROR, "cache lookup failed for namespace %u", namespace_oid);
        const Oid owner = reinterpret_cast<Form_pg_namespace>(GETSTRUCT(tuple))->nspowner;
        ReleaseSysCache(tuple);
        return owner;
    });
}

namespace {

// The namespace of extension rulake, by a scan of pg_extension (Postgres 15 exports no lookup by oid).
Oid extension_namespace() {
    return pg_call([] {
        Relation rel = table_open(ExtensionRelationId, AccessShareLock);
        ScanKeyData key;
        ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ, CStringGetDatum("rulake"));
        SysScanDesc scan = systable_beginscan(rel, ExtensionNameIndexId, true, nullptr, 1, &key);
        HeapTuple tuple = systable_getnext(scan);
        const Oid namespace_oid =
            HeapTupleIsValid(tuple) ? reinterpret_cast<Form_pg_extension>(GETSTRUCT(tuple))->extnamespace : InvalidOid;
        systable_endscan(scan);
        table_close(rel, AccessShareLock);
        if (!OidIsValid(namespace_oid)) {
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("extension \"rulake\" is not installed")));
        }
        return namespace_oid;
    });
}

// The schema and type found last; revalidated by checking that the type still exists (a dropped and
// recreated extension gets new OIDs).
Oid cached_namespace = InvalidOid;
Oid cached_vector_type = InvalidOid;

void refresh_extension_identity() {
    if (OidIsValid(cached_vector_type) &&
        pg_call([] { return SearchSysCacheExists1(TYPEOID, ObjectIdGetDatum(cached_vector_type)); })) {
        return;
    }
    const Oid namespace_oid = extension_namespace();
    const Oid type = pg_call([&] {
        return GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum("vector"), ObjectIdGetDatum(namespace_oid));
    });
    if (!OidIsValid(type)) throw pg::SqlError(ERRCODE_UNDEFINED_OBJECT, "type \"vector\" of extension rulake is missing");
    cached_namespace = namespace_oid;
    cached_vector_type = type;
}

}  // namespace

std::string extension_schema_sql() {
    refresh_extension_identity();
    return pg_call([] {
        const char* name = get_namespace_name(cached_namespace);
        if (name == nullptr) elog(ERROR, "cache lookup failed for namespace %u", cached_namespace);
        return std::string(quote_identifier(name));
    });
}

Oid vector_type_oid() {
    refresh_extension_identity();
    return cached_vector_type;
}

bool may_access_server_files(Oid role, bool write) {
    return pg_call([&] {
        return has_privs_of_role(role, write ? ROLE_PG_WRITE_SERVER_FILES : ROLE_PG_READ_SERVER_FILES);
    });
}

void require_server_file_access(Oid role, bool write) {
    if (may_access_server_files(role, write)) return;
    const char* verb = write ? "write" : "read";
    const char* role_name = write ? "pg_write_server_files" : "pg_read_server_files";
    throw pg::SqlError(ERRCODE_INSUFFICIENT_PRIVILEGE, std::string("permission denied to ") + verb + " files on the server",
                       std::string("Only superusers and roles with privileges of the \"") + role_name + "\" role may " +
                           verb + " files on the server.");
}

}  // namespace rulake::lake
