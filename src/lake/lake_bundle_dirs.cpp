// Files in server directories (internal SQL functions used by the ruLake SQL as the extension owner; not
// executable by PUBLIC; callers check the invoking role's rights first). Every directory is checked
// against rulake.allowed_dirs when it is used, then opened, and files are opened and written relative
// to it without following symbolic links (lake_paths.hpp).
//   rulake._allowed_directory(path text, create_leaf boolean) -> text      canonical allowed directory
//   rulake._validate_file_name(name text) -> void                         the reference's name rules
//   rulake._ruvec1_info(root text, file text) -> jsonb                    {path, dim, count, generation}
//   rulake._read_bundle_in_dir(dir text) -> jsonb                         verified sidecar, NULL if none
//                                                                        (or if dir does not exist yet)
//   rulake._write_bundle_in_dir(dir text, bundle jsonb) -> text           writes table.rulake.json
//   rulake._save_cache_files(relation regclass, dir text, bundle jsonb) -> bigint
//          writes cache-<witness>.rbpx (version 2) from the cache relation, then table.rulake.json
//          naming it (lake_saved_cache.hpp)
//   rulake._inspect_warm_dir(dir text) -> jsonb                          {bundle, rbpx: {path, version,
//          dim, rotation_seed, rerank_factor, rotation, count}} of a saved cache
#include <sys/stat.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "rulake/core/atomic_file.hpp"
#include "rulake/core/bundle_json.hpp"
#include "rulake/core/directory_handle.hpp"
#include "rulake/core/error.hpp"
#include "rulake/core/file_names.hpp"
#include "rulake/core/posix_file.hpp"
#include "rulake/core/rbpx_file.hpp"
#include "rulake/core/ruvec1_file.hpp"
#include "lake_values.hpp"
#include "lake_paths.hpp"
#include "lake_saved_cache.hpp"
#include "rulake/pg/vector_datum.hpp"

extern "C" {
#include "access/table.h"
#include "access/tableam.h"
#include "executor/tuptable.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
}

namespace rulake::lake {
namespace {

using pg::pg_call;
using pg::SqlError;

std::string dump_json(const nlohmann::json& value) {
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool path_exists(const std::string& path) {
    struct stat status;
    return ::lstat(path.c_str(), &status) == 0;
}

// The verified sidecar of dir if it can be read; nullopt if there is none or it is unreadable (a
// damaged sidecar is about to be replaced).
std::optional<core::Bundle> previous_sidecar(const core::DirectoryHandle& dir) {
    try {
        return core::read_bundle_in(dir);
    } catch (const core::Error&) {
        return std::nullopt;
    }
}

std::string rotation_name(const std::optional<core::RotationKind>& kind) {
    if (!kind) return {};
    return *kind == core::RotationKind::Haar ? "haar" : "hadamard";
}

// Writes every row of a cache relation (in physical order, without synchronized scans, so that a
// reload inserts the rows in the order the original was built from) to an .rbpx writer.
uint64_t write_cache_rows(Oid relation, core::RbpxWriter& writer, int32_t dim) {
    Relation rel = nullptr;
    TableScanDesc scan = nullptr;
    TupleTableSlot* slot = nullptr;
    MemoryContext rows_context = nullptr;
    pg_call([&] {
        rel = table_open(relation, AccessShareLock);
        scan = table_beginscan_strat(rel, GetActiveSnapshot(), 0, nullptr, true, false);
        slot = table_slot_create(rel, nullptr);
        rows_context = AllocSetContextCreate(CurrentMemoryContext, "ruLake cache rows", ALLOCSET_DEFAULT_SIZES);
    });
    uint64_t rows = 0;
    for (;;) {
        int64 id = 0;
        const pg::VectorDatum* vector = nullptr;
        const bool found = pg_call([&] {
            if ((rows & 1023) == 0) {
                CHECK_FOR_INTERRUPTS();
                MemoryContextReset(rows_context);
            }
            if (!table_scan_getnextslot(scan, ForwardScanDirection, slot)) return false;
            bool id_null, vector_null;
            id = DatumGetInt64(slot_getattr(slot, 1, &id_null));
            const Datum vector_datum = slot_getattr(slot, 2, &vector_null);
            if (id_null || vector_null) elog(ERROR, "cache relation has a NULL value");
            MemoryContext old = MemoryContextSwitchTo(rows_context);
            vector = pg::datum_get_vector(vector_datum);
            MemoryContextSwitchTo(old);
            return true;
        });
        if (!found) break;
        if (vector->dim != dim) throw SqlError(ERRCODE_DATA_CORRUPTED, "cache relation holds a vector of another dimension");
        writer.append(static_cast<uint64_t>(id), vector->x);
        ++rows;
    }
    pg_call([&] {
        ExecDropSingleTupleTableSlot(slot);
        table_endscan(scan);
        table_close(rel, NoLock);
        MemoryContextDelete(rows_context);
    });
    return rows;
}

}  // namespace
}  // namespace rulake::lake

using namespace rulake::lake;
namespace core = rulake::core;
using rulake::pg::SqlError;

// rulake._allowed_directory(path text, create_leaf boolean) -> text
RULAKE_FUNCTION(rulake_internal_allowed_directory) {
    require_argument(fcinfo, 0, "directory");
    const bool create = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
    return text_datum(allowed_directory(text_argument(fcinfo, 0), create));
}

// rulake._validate_file_name(name text) -> void
RULAKE_FUNCTION(rulake_internal_validate_file_name) {
    require_argument(fcinfo, 0, "file name");
    core::validate_file_name(text_argument(fcinfo, 0));
    PG_RETURN_VOID();
}

// rulake._ruvec1_info(root text, file text) -> jsonb
RULAKE_FUNCTION(rulake_internal_ruvec1_info) {
    require_argument(fcinfo, 0, "root");
    require_argument(fcinfo, 1, "file name");
    const core::Ruvec1Reader reader(
        open_file_in_directory(text_argument(fcinfo, 0), text_argument(fcinfo, 1), "ruvec1 file"));
    nlohmann::json info = {{"path", reader.path()},
                           {"dim", reader.dim()},
                           {"count", reader.count()},
                           {"generation", reader.generation()}};
    return json_text_to_jsonb(dump_json(info));
}

// rulake._read_bundle_in_dir(dir text) -> jsonb (NULL when the directory has no table.rulake.json)
RULAKE_FUNCTION(rulake_internal_read_bundle_in_dir) {
    require_argument(fcinfo, 0, "directory");
    const std::string requested = text_argument(fcinfo, 0);
    // A directory nobody has published to yet holds no bundle, if it would be allowed.
    if (!requested.empty() && requested[0] == '/' && !path_exists(requested)) {
        allowed_directory(core::directory_of(requested), false);
        PG_RETURN_NULL();
    }
    const std::optional<core::Bundle> bundle = core::read_bundle_in(open_allowed_directory(requested, false));
    if (!bundle) PG_RETURN_NULL();
    return bundle_to_jsonb(*bundle);
}

// rulake._write_bundle_in_dir(dir text, bundle jsonb) -> text (the witness written)
RULAKE_FUNCTION(rulake_internal_write_bundle_in_dir) {
    require_argument(fcinfo, 0, "directory");
    require_argument(fcinfo, 1, "bundle");
    Jsonb* json = rulake::pg::pg_call([&] { return PG_GETARG_JSONB_P(1); });
    const core::Bundle bundle = jsonb_to_bundle(json);
    core::write_bundle_in(open_allowed_directory(text_argument(fcinfo, 0), true), bundle);
    return text_datum(bundle.rvf_witness);
}

// rulake._save_cache_files(relation regclass, dir text, bundle jsonb) -> bigint
RULAKE_FUNCTION(rulake_internal_save_cache_files) {
    require_argument(fcinfo, 0, "relation");
    require_argument(fcinfo, 1, "directory");
    require_argument(fcinfo, 2, "bundle");
    const Oid relation = PG_GETARG_OID(0);
    Jsonb* json = rulake::pg::pg_call([&] { return PG_GETARG_JSONB_P(2); });
    core::Bundle bundle = jsonb_to_bundle(json);
    const core::DirectoryHandle dir = open_allowed_directory(text_argument(fcinfo, 1), true);
    if (bundle.fields.rerank_factor > core::kMaxRbpxRerankFactor || bundle.fields.dim > core::kMaxFileVectorDim) {
        throw SqlError(ERRCODE_PROGRAM_LIMIT_EXCEEDED, "this cache cannot be saved as an .rbpx file",
                       ".rbpx files hold at most 8192 dimensions and a rerank factor of at most 1024.");
    }
    const std::optional<core::Bundle> previous = previous_sidecar(dir);
    const std::string name = saved_payload_name(bundle.rvf_witness);
    const auto dim = static_cast<uint32_t>(bundle.fields.dim);
    // The payload first, under a name of its own witness, then the sidecar that vouches for it: a
    // crash in between leaves the previous sidecar, which names (and checks) its own payload.
    core::RbpxWriter writer(dir, name, dim, bundle.fields.rotation_seed,
                            static_cast<uint32_t>(bundle.fields.rerank_factor), core::RotationKind::Hadamard);
    const uint64_t rows = write_cache_rows(relation, writer, static_cast<int32_t>(dim));
    writer.commit();
    bundle.payload = core::BundlePayload{name, writer.file_bytes(), writer.shake256_hex()};
    core::write_bundle_in(dir, bundle);
    if (previous && previous->payload && previous->payload->file != name &&
        is_saved_payload_name(previous->payload->file)) {
        dir.remove_file(previous->payload->file);
    }
    return Int64GetDatum(static_cast<int64>(rows));
}

// rulake._inspect_warm_dir(dir text) -> jsonb
RULAKE_FUNCTION(rulake_internal_inspect_warm_dir) {
    require_argument(fcinfo, 0, "directory");
    const core::DirectoryHandle dir = open_allowed_directory(text_argument(fcinfo, 0), false);
    const std::optional<core::Bundle> bundle = core::read_bundle_in(dir);
    if (!bundle) {
        throw SqlError(ERRCODE_UNDEFINED_FILE, "no bundle (" + std::string(core::kBundleFileName) +
                                                   ") in directory \"" + dir.path() + "\"");
    }
    SavedPayload payload(dir, *bundle);
    const core::RbpxHeader& header = payload.reader().header();
    nlohmann::json rbpx = {{"path", payload.path()},
                           {"version", header.version},
                           {"dim", header.dim},
                           {"rotation_seed", header.rotation_seed},
                           {"rerank_factor", header.rerank_factor},
                           {"count", header.count}};
    const std::string rotation = rotation_name(header.rotation_kind);
    rbpx["rotation"] = rotation.empty() ? nlohmann::json(nullptr) : nlohmann::json(rotation);
    const std::string text = "{\"bundle\": " + core::serialize_bundle_json(*bundle) + ", \"rbpx\": " + dump_json(rbpx) + "}";
    return json_text_to_jsonb(text);
}
