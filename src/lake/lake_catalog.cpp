// Collections as the C++ side sees them (see lake_catalog.hpp).
#include <sys/stat.h>

#include <cerrno>
#include <string>

#include "rulake/core/metric.hpp"
#include "rulake/core/posix_file.hpp"
#include "lake_values.hpp"
#include "lake_catalog.hpp"
#include "lake_catalog_rows.hpp"
#include "lake_paths.hpp"
#include "lake_roles.hpp"
#include "lake_spi.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/timestamp.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
}

namespace rulake::lake {

using pg::pg_call;
using pg::SqlError;

namespace {

core::Metric metric_of(const std::string& name) {
    if (name == "ip") return core::Metric::InnerProduct;
    if (name == "cosine") return core::Metric::Cosine;
    return core::Metric::L2;
}

Consistency consistency_of(const std::string& name) {
    if (name == "eventual") return Consistency::Eventual;
    if (name == "frozen") return Consistency::Frozen;
    return Consistency::Fresh;
}

}  // namespace

namespace {

std::string text_of(const CatalogValue& value) {
    if (value.is_null) return {};
    const char* chars = pg_call([&] { return TextDatumGetCString(value.datum); });
    return std::string(chars);
}

}  // namespace

CollectionInfo load_collection(const std::string& name) {
    static const std::vector<const char*> kCollectionColumns = {
        "id",          "name",          "backend",        "source",      "source_relation", "id_column",
        "vector_column", "dim",         "metric",         "consistency", "ttl",             "last_check",
        "rotation_seed", "rerank_factor", "generation_sql", "search_path", "data_ref",       "owner",
        "witness",     "cache_relation"};
    std::vector<CatalogValue> row;
    if (!read_catalog_row("collections", text_datum(name), true, kCollectionColumns, &row)) {
        throw SqlError(ERRCODE_UNDEFINED_OBJECT, "collection \"" + name + "\" does not exist");
    }
    CollectionInfo c;
    c.id = DatumGetInt64(row[0].datum);
    c.name = text_of(row[1]);
    const std::string backend = text_of(row[2]);
    c.source = text_of(row[3]);
    if (!row[4].is_null) c.source_relation = DatumGetObjectId(row[4].datum);
    c.id_column = text_of(row[5]);
    c.vector_column = text_of(row[6]);
    c.dim = DatumGetInt32(row[7].datum);
    c.metric_name = text_of(row[8]);
    c.metric = metric_of(c.metric_name);
    c.consistency = consistency_of(text_of(row[9]));
    if (!row[10].is_null && !row[11].is_null) {
        c.within_ttl = pg_call([&] {
            const TimestampTz expires =
                DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval, row[11].datum, row[10].datum));
            return expires > GetCurrentTimestamp();
        });
    }
    c.rotation_seed = DatumGetInt64(row[12].datum);
    c.rerank_factor = DatumGetInt32(row[13].datum);
    if (!row[14].is_null) c.generation_sql = text_of(row[14]);
    c.search_path = text_of(row[15]);
    const std::string data_ref = text_of(row[16]);
    c.data_ref = to_utf8(data_ref.data(), static_cast<int>(data_ref.size()));
    c.owner = DatumGetObjectId(row[17].datum);
    if (!row[18].is_null) c.witness = text_of(row[18]);
    const std::string cache_relation = text_of(row[19]);

    std::vector<CatalogValue> backend_row;
    if (!read_catalog_row("backends", text_datum(backend), true, {"kind", "root"}, &backend_row)) {
        throw SqlError(ERRCODE_UNDEFINED_OBJECT, "backend \"" + backend + "\" does not exist");
    }
    c.backend_kind = text_of(backend_row[0]);
    c.root = text_of(backend_row[1]);

    if (!cache_relation.empty()) {
        std::vector<CatalogValue> entry;
        if (read_catalog_row("cache_entries", text_datum(cache_relation), true, {"reader"}, &entry) &&
            !entry[0].is_null) {
            c.cache_reader = DatumGetObjectId(entry[0].datum);
        }
    }
    // Cache relations and counters live in rulake's own schemas under names that need no quoting.
    const std::string hits = "_hits_" + std::to_string(c.id);
    const std::string misses = "_misses_" + std::to_string(c.id);
    pg_call([&] {
        const Oid lake_schema = get_namespace_oid("rulake", false);
        c.hits_counter = get_relname_relid(hits.c_str(), lake_schema);
        c.misses_counter = get_relname_relid(misses.c_str(), lake_schema);
        const char* dot = strchr(cache_relation.c_str(), '.');
        if (dot != nullptr) c.cache_relation = get_relname_relid(dot + 1, get_namespace_oid("rulake_cache", false));
    });
    return c;
}

uint64_t change_log_generation(Oid source, int64_t* rows) {
    uint64_t fingerprint = 0;
    int64_t count = 0;
    pg_call([&] {
        const Oid lake_schema = get_namespace_oid("rulake", false);
        const Oid log_oid = get_relname_relid("source_changes", lake_schema);
        const Oid index_oid = get_relname_relid("source_changes_source", lake_schema);
        if (!OidIsValid(log_oid) || !OidIsValid(index_oid)) elog(ERROR, "rulake.source_changes or its index is missing");
        Relation log = table_open(log_oid, AccessShareLock);
        ScanKeyData key;
        ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(source));
        CommandCounterIncrement();  // see this transaction's own writes, as an SPI query would
        Snapshot snapshot = RegisterSnapshot(GetTransactionSnapshot());
        SysScanDesc scan = systable_beginscan(log, index_oid, true, snapshot, 1, &key);
        TupleDesc descriptor = RelationGetDescr(log);
        HeapTuple tuple;
        while (HeapTupleIsValid(tuple = systable_getnext(scan))) {
            bool is_null;
            const Datum stamp = heap_getattr(tuple, 2, descriptor, &is_null);
            if (!is_null) fingerprint ^= static_cast<uint64_t>(DatumGetInt64(stamp));
            ++count;
        }
        systable_endscan(scan);
        UnregisterSnapshot(snapshot);
        table_close(log, NoLock);
    });
    if (rows != nullptr) *rows = count;
    return fingerprint;
}

namespace {

// Raises unless rulake's trigger is on the relation and enabled: without it, changes go unseen.
void require_generation_trigger(const CollectionInfo& collection) {
    const std::string missing = "source relation of collection \"" + collection.name + "\" no longer exists";
    const std::string untriggered = "collection \"" + collection.name + "\" cannot see changes of its source";
    pg_call([&] {
        Relation relation = try_relation_open(collection.source_relation, AccessShareLock);
        if (relation == nullptr) ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("%s", missing.c_str())));
        bool found = false;
        if (relation->trigdesc != nullptr) {
            for (int i = 0; i < relation->trigdesc->numtriggers; ++i) {
                const Trigger& trigger = relation->trigdesc->triggers[i];
                if (strcmp(trigger.tgname, kGenerationTrigger) == 0 && trigger.tgenabled != TRIGGER_DISABLED) found = true;
            }
        }
        relation_close(relation, NoLock);
        if (!found) {
            ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE), errmsg("%s", untriggered.c_str()),
                            errdetail("Trigger \"%s\" on its source relation is missing or disabled.", kGenerationTrigger),
                            errhint("Enable the trigger, or drop and create the collection again.")));
        }
    });
}

}  // namespace

core::Generation evaluate_generation_sql(const std::string& sql, Oid owner, const std::string& search_path) {
    UserCodeScope as_owner(owner, search_path);
    SpiSession spi;
    const uint64_t rows = spi.execute(sql, /*read_only=*/true, 2);
    if (spi.columns() != 1 || rows != 1) {
        throw SqlError(ERRCODE_CARDINALITY_VIOLATION, "generation_sql must return one row of one column",
                       "It returned " + std::to_string(rows) + (rows == 2 ? " or more" : "") + " rows of " +
                           std::to_string(spi.columns()) + " columns.");
    }
    bool is_null = false;
    const Datum value = spi.value(0, 1, &is_null);
    if (is_null) throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "generation_sql returned NULL");
    std::optional<int64_t> integer;
    core::Generation generation;
    switch (spi.column_type(1)) {
        case INT2OID: integer = DatumGetInt16(value); break;
        case INT4OID: integer = DatumGetInt32(value); break;
        case INT8OID: integer = DatumGetInt64(value); break;
        case NUMERICOID: generation = core::Generation::number(numeric_to_u64(DatumGetNumeric(value), "generation")); break;
        default: {
            const std::string text = spi.text_value(0, 1);
            generation = core::Generation::opaque(to_utf8(text.data(), static_cast<int>(text.size())));
        }
    }
    spi.finish();
    if (integer) {
        if (*integer < 0) {
            throw SqlError(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, "generation_sql returned a negative number",
                           "It returned " + std::to_string(*integer) +
                               "; numeric generations are between 0 and 2^64-1.");
        }
        generation = core::Generation::number(static_cast<uint64_t>(*integer));
    }
    return generation;
}

std::string fs_source_path(const CollectionInfo& collection) {
    return file_in_directory(collection.root, collection.source, "ruvec1 file");
}

core::Generation current_generation(const CollectionInfo& collection) {
    if (!collection.is_local()) {
        const std::string path = fs_source_path(collection);
        struct stat status;
        if (::stat(path.c_str(), &status) != 0) core::throw_io_error("stat", "ruvec1 file", path, errno);
        if (status.st_mtime < 0) {
            throw SqlError(ERRCODE_DATA_EXCEPTION, "ruvec1 file \"" + path + "\" has a modification time before 1970");
        }
        return core::Generation::number(static_cast<uint64_t>(status.st_mtime));
    }
    if (collection.generation_sql) {
        return evaluate_generation_sql(*collection.generation_sql, collection.owner, collection.search_path);
    }
    require_generation_trigger(collection);
    int64_t rows = 0;
    const uint64_t generation = change_log_generation(collection.source_relation, &rows);
    if (rows == 0) {
        throw SqlError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                       "change log of collection \"" + collection.name + "\"'s source is missing",
                       {}, "Drop and create the collection again.");
    }
    return core::Generation::number(generation);
}

std::string witness_for(const CollectionInfo& collection, const core::Generation& generation) {
    core::WitnessFields fields;
    fields.data_ref = collection.data_ref;
    fields.dim = static_cast<uint64_t>(collection.dim);
    fields.rotation_seed = static_cast<uint64_t>(collection.rotation_seed);
    fields.rerank_factor = static_cast<uint64_t>(collection.rerank_factor);
    fields.generation = generation;
    return core::compute_witness(fields);
}

}  // namespace rulake::lake
