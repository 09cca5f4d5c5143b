// A collection as the C++ side of ruLake sees it: one row of rulake.collections with its backend and its
// cache entry. Also: the source's current generation and the witness it implies. (Who may read a
// collection: lake_access.hpp.)
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
    Oid cache_reader = InvalidOid;       // the role that cache was loaded as (InvalidOid: a shared cache)
    Oid hits_counter = InvalidOid;       // the sequences counting searches (lake_stats.hpp)
    Oid misses_counter = InvalidOid;

    bool is_local() const { return backend_kind == "local"; }
    bool watched_by_trigger() const { return is_local() && !generation_sql; }
};

// Loads collection `name`. Throws 42704 "collection "<name>" does not exist".
CollectionInfo load_collection(const std::string& name);

// The source's generation now: the fingerprint of the table's change log (change_log_generation), the
// value of generation_sql (run as the collection's owner under UserCodeScope), or the fs file's
// modification time. Raises if the source cannot be reached or the trigger is missing or disabled.
core::Generation current_generation(const CollectionInfo& collection);

// The witness of the collection's fields with `generation`.
std::string witness_for(const CollectionInfo& collection, const core::Generation& generation);

// The value of a generation query (one row, one column): integers and integral numerics are numeric
// generations, any other value is the opaque generation of its text. Runs as `owner` under
// UserCodeScope with its creator's `search_path` (pg_temp last).
core::Generation evaluate_generation_sql(const std::string& sql, Oid owner, const std::string& search_path);

// The canonical path of an fs collection's file, checked against rulake.allowed_dirs now.
std::string fs_source_path(const CollectionInfo& collection);

// The generation of a table watched by rulake's trigger: the XOR of the stamps of the rows of
// rulake.source_changes for it that the transaction's snapshot sees. Every writing statement adds a row
// with a new stamp (so a committed write changes the value, and a transaction sees its own writes);
// compaction replaces rows by one row holding their XOR (so the value stays). Reads by index, without
// SQL; `rows` (optional) receives the number of log rows seen.
uint64_t change_log_generation(Oid source, int64_t* rows = nullptr);

// The name of rulake's trigger on watched tables.
inline constexpr const char* kGenerationTrigger = "rulake_generation";

}  // namespace rulake::lake
