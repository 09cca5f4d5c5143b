// Who runs what. ruLake's public functions run as their caller (so GetUserId() is the role whose rights
// are checked), then do their catalog and cache work as the extension's owner, and read user data
// (source relations, views, foreign tables, generation_sql) as the collection's owner under
// SECURITY_RESTRICTED_OPERATION. RoleScope switches the user and pins search_path for a C++ scope.
#pragma once

#include <string>

#include "rulake/pg/boundary.hpp"

namespace rulake::lake {

// The search_path every privileged scope pins: nothing a caller can create is found by name.
inline constexpr const char* kPinnedSearchPath = "pg_catalog, pg_temp";

// Runs the rest of a C++ scope as `role`, with search_path set to `search_path` (GUC_ACTION_SAVE at a
// new GUC nest level, as a function's SET clause does), or left as it is when search_path is null -
// only for scopes whose SQL names every relation, function and operator with its schema. `restricted`
// adds SECURITY_RESTRICTED_OPERATION, for code the role's users wrote. The destructor restores the
// user; on the normal path it also pops the GUC level, and when an exception unwinds it leaves that to
// the (sub)transaction abort that follows, as fmgr does for SECURITY DEFINER functions. Scopes nest.
class RoleScope {
  public:
    RoleScope(Oid role, bool restricted, const char* search_path = kPinnedSearchPath);
    ~RoleScope();
    RoleScope(const RoleScope&) = delete;
    RoleScope& operator=(const RoleScope&) = delete;

  private:
    Oid saved_user_ = InvalidOid;
    int saved_context_ = 0;
    int guc_level_ = 0;  // 0: search_path untouched
    int uncaught_at_start_ = 0;
};

// The owner of schema rulake (the role that created the extension): owner of every catalog table,
// internal function and cache relation.
Oid extension_owner();

// The schema holding the vector type, its operators and the rabitq operator classes, quoted for SQL.
std::string extension_schema_sql();
// The OID of the vector type.
Oid vector_type_oid();

// True if role is a superuser or has the privileges of pg_read_server_files (or, for writing,
// pg_write_server_files).
bool may_access_server_files(Oid role, bool write);
// Throws 42501 unless may_access_server_files(role, write).
void require_server_file_access(Oid role, bool write);

}  // namespace rulake::lake
