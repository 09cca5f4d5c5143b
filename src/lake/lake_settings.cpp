// rulake.* settings, registered once per backend by _PG_init (see lake_settings.hpp).
#include <climits>
#include <string>
#include <vector>

#include "lake_settings.hpp"
#include "rulake/pg/boundary.hpp"
#include "rulake/pg/module.hpp"

extern "C" {
#include "nodes/pg_list.h"
#include "utils/guc.h"
#include "utils/varlena.h"
}

namespace rulake::lake {

char* guc_allowed_dirs = nullptr;
int guc_max_cache_entries = 64;
int guc_cache_maintenance_work_mem = 65536;

namespace {

// Splits a copy of value into directories; false if the syntax is wrong. Runs in C only (GUC hooks
// may not throw).
bool split_directories(const char* value, List** directories) {
    char* copy = pstrdup(value != nullptr ? value : "");
    return SplitDirectoriesString(copy, ',', directories);
}

// Every entry must be an absolute path: a relative one would depend on the server's working directory.
bool check_allowed_dirs(char** newval, void** /*extra*/, GucSource /*source*/) {
    List* directories = NIL;
    if (!split_directories(*newval, &directories)) {
        GUC_check_errdetail("List syntax is invalid.");
        return false;
    }
    ListCell* cell;
    foreach (cell, directories) {
        const char* directory = static_cast<const char*>(lfirst(cell));
        if (directory[0] != '/') {
            GUC_check_errdetail("\"%s\" is not an absolute path.", directory);
            return false;
        }
    }
    return true;
}

}  // namespace

std::vector<std::string> allowed_directories() {
    List* directories = NIL;
    const bool ok = pg::pg_call([&] { return split_directories(guc_allowed_dirs, &directories); });
    if (!ok) throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "invalid list syntax in rulake.allowed_dirs");
    std::vector<std::string> result;
    ListCell* cell;
    foreach (cell, directories) result.emplace_back(static_cast<const char*>(lfirst(cell)));
    return result;
}

}  // namespace rulake::lake

namespace rulake::pg {

void register_lake_settings() {
    DefineCustomStringVariable(
        "rulake.allowed_dirs", "Directories inside which ruLake reads and writes files.",
        "Comma-separated absolute paths. fs backends, bundle directories and cache files must lie inside one "
        "of them; empty (the default) allows none. Only superusers may change it.",
        &lake::guc_allowed_dirs, "", PGC_SUSET, GUC_LIST_INPUT, lake::check_allowed_dirs, nullptr, nullptr);
    DefineCustomIntVariable(
        "rulake.max_cache_entries", "Cache entries ruLake keeps before evicting unreferenced ones.",
        "Beyond this many entries, caches no collection points to are dropped, least recently used first. "
        "Caches in use are never evicted.",
        &lake::guc_max_cache_entries, 64, 0, 1000000, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "rulake.cache_maintenance_work_mem", "maintenance_work_mem of the index builds of ruLake's caches.",
        "A cache serves every collection of its witness, so its index is built with this server setting rather "
        "than the session's maintenance_work_mem of whoever happens to prime it. Only superusers may change it.",
        &lake::guc_cache_maintenance_work_mem, 65536, 1024, MAX_KILOBYTES, PGC_SUSET, GUC_UNIT_KB, nullptr, nullptr,
        nullptr);
    MarkGUCPrefixReserved("rulake");
}

}  // namespace rulake::pg
