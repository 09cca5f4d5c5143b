// The rulake.* settings (GUCs), defined by register_lake_settings() in lake_settings.cpp.
#pragma once

#include <string>
#include <vector>

namespace rulake::lake {

// rulake.allowed_dirs (superuser only): comma-separated absolute directories inside which fs backends
// and bundle directories may live. Empty by default: no directory is allowed.
extern char* guc_allowed_dirs;
// rulake.max_cache_entries (superuser only): cache entries kept before unreferenced ones are evicted,
// least recently used first.
extern int guc_max_cache_entries;
// rulake.cache_maintenance_work_mem (superuser only, kB): maintenance_work_mem of cache index builds.
extern int guc_cache_maintenance_work_mem;

// The entries of rulake.allowed_dirs, unquoted and with trailing slashes kept as given. Throws 22023 if
// the list cannot be parsed (it was checked when set, so only a broken configuration file gets here).
std::vector<std::string> allowed_directories();

}  // namespace rulake::lake
