// A collection as the C++ side of ruLake sees it: one row of rulake.collections with its backend, its
// cache entry and (for tables watched by rulake's trigger) the source's generation counter, read in one
// query. Also: the source's current generation, the witness it implies, and the caller's right to read
// the collection.
//
// Contract: every function here runs under a RoleScope of the extension owner (the catalog belongs to
// it); they open their own SPI connection and nested RoleScope where user code runs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "rulake/core/metric.hpp"
#include "rulake/core/witness.hpp"
#include "rulake/pg/boundary.hpp"

namespace rulake::lake {

enum class Consistency { Fresh, Eventual, Frozen };

struct CollectionInfo {
    int64_t id = 0;
    std::string name;
    std::string backend_kind;  // "local" or "fs"
    std::string root;          // fs: the backend's canonical directory
    std::string source;        // fs: file name; local: qualified relation name (display only)
    Oid source_relation = InvalidOid;  // local
    std::string id_column, vector_column;
    int32_t dim = 0;
    core::Metric metric = core::Metric::L2;
    std::string metric_name;  // "l2", "ip", "cosine"
    Consistency consistency = Consistency::Fresh;
    bool within_ttl = false;  // eventual: the last check is younger than the ttl
    int64_t rotation_seed = 0;
    int32_t rerank_factor = 0;
    std::optional<std::string> generation_sql;
    std::string search_path;  // the creator's, for generation_sql
    std::string data_ref;     // UTF-8
    Oid owner = InvalidOid;
    std::optional<std::string> witness;  // the cache the collection points to
    Oid cache_relation = InvalidOid;     // that cache's relation
    std::optional<int64_t> counter;      // tables watched by the trigger: the generation counter
    Oid hits_counter = InvalidOid;       // the sequences counting searches (lake_stats.hpp)
    Oid misses_counter = InvalidOid;

    bool is_local() const { return backend_kind == "local"; }
    bool watched_by_trigger() const { return is_local() && !generation_sql; }
};

// Loads collection `name`. Throws 42704 "collection "<name>" does not exist".
CollectionInfo load_collection(const std::string& name);

// Raises 42501 ("permission denied for table <name>") unless `role` may read the collection: for local
// collections SELECT on the source relation, or on both its id and vector columns. fs collections are
// readable by every role that may call ruLake's functions. Also raises if the source relation is gone.
void require_read_permission(const CollectionInfo& collection, Oid role);

// The source's generation now: the trigger's counter (from `collection`, read with it), the value of
// generation_sql (run as the collection's owner, read-only, restricted), or the fs file's
// modification time. Raises if the source cannot be reached or the trigger is missing or disabled.
core::Generation current_generation(const CollectionInfo& collection);

// The witness of the collection's fields with `generation`.
std::string witness_for(const CollectionInfo& collection, const core::Generation& generation);

// The value of a generation query (one row, one column): integers and integral numerics are numeric
// generations, any other value is the opaque generation of its text. Runs as `owner` with search_path
// `search_path`, read-only, under SECURITY_RESTRICTED_OPERATION.
core::Generation evaluate_generation_sql(const std::string& sql, Oid owner, const std::string& search_path);

// The canonical path of an fs collection's file, checked against rulake.allowed_dirs now.
std::string fs_source_path(const CollectionInfo& collection);

// The name of rulake's trigger on watched tables.
inline constexpr const char* kGenerationTrigger = "rulake_generation";

}  // namespace rulake::lake
