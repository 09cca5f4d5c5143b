// Who runs what. ruLake's public functions run as their caller (so GetUserId() is the role whose rights
// are checked), then do their catalog and cache work as the extension's owner (RoleScope), and run code
// that users wrote - source relations and the views, functions and user mappings behind them,
// generation_sql - as the collection's owner under UserCodeScope (docs/security.md).
#pragma once

#include <string>

#include "rulake/pg/boundary.hpp"

namespace rulake::lake {

// The search_path every privileged scope pins: nothing a caller can create is found by name.
inline constexpr const char* kPinnedSearchPath = "pg_catalog, pg_temp";

// Runs the rest of a C++ scope as `role`, with search_path set to `search_path` (GUC_ACTION_SAVE at a
// new GUC nest level, as a function's SET clause does), or left as it is when search_path is null -
// only for scopes whose SQL names every relation, function and operator with its schema. The
// destructor restores the user and, on the normal path, rolls back every setting changed inside the
// scope (AtEOXact_GUC(false), as Postgres does after index builds and ANALYZE, so nothing done inside
// survives into the caller's session); when an exception unwinds it leaves the GUC level to the
// (sub)transaction abort that follows. Scopes nest.
class RoleScope {
  public:
    RoleScope(Oid role, const char* search_path = kPinnedSearchPath);
    ~RoleScope();
    RoleScope(const RoleScope&) = delete;
    RoleScope& operator=(const RoleScope&) = delete;

  protected:
    // Sets a setting for the rest of the scope (opens the GUC level if the constructor did not).
    void set(const char* name, const char* value);
    void switch_user(Oid role, bool restricted);

  private:
    Oid saved_user_ = InvalidOid;
    int saved_context_ = 0;
    int guc_level_ = 0;  // 0: no setting changed
    int uncaught_at_start_ = 0;
};

// Runs code that `owner` wrote (a source relation's query, generation_sql) as `owner` under
// SECURITY_RESTRICTED_OPERATION, read-only for the whole evaluation (transaction_read_only on, so
// volatile functions cannot write either), with search_path `search_path` followed by pg_temp (any
// pg_temp the path names is removed: the caller's temporary objects are never found first). Every
// setting the code changes, with or without SET LOCAL, is rolled back when the scope ends.
class UserCodeScope : public RoleScope {
  public:
    UserCodeScope(Oid owner, const std::string& search_path);
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

// search_path with every pg_temp entry removed and pg_temp appended (see UserCodeScope).
std::string search_path_with_temp_last(const std::string& search_path);

}  // namespace rulake::lake
