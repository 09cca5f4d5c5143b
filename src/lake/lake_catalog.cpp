// Collections as the C++ side sees them (see lake_catalog.hpp).
#include <sys/stat.h>

#include <cerrno>
#include <string>

#include "rulake/core/metric.hpp"
#include "rulake/core/posix_file.hpp"
#include "lake_values.hpp"
#include "lake_catalog.hpp"
#include "lake_paths.hpp"
#include "lake_roles.hpp"

extern "C" {
#include "access/relation.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/syscache.h"
}

namespace rulake::lake {

using pg::pg_call;
using pg::SqlError;

namespace {

constexpr const char* kLoadCollectionSql =
    "SELECT c.id, c.name, b.kind, b.root, c.source, c.source_relation::pg_catalog.oid, c.id_column, c.vector_column,"
    "       c.dim, c.metric, c.consistency,"
    "       c.last_check IS NOT NULL AND c.ttl IS NOT NULL AND c.last_check + c.ttl > pg_catalog.clock_timestamp(),"
    "       c.rotation_seed, c.rerank_factor, c.generation_sql, c.search_path, c.data_ref, c.owner::pg_catalog.oid,"
    "       c.witness, e.cache_relation::pg_catalog.oid, g.generation"
    "  FROM rulake.collections c"
    "  JOIN rulake.backends b ON b.name = c.backend"
    "  LEFT JOIN rulake.cache_entries e ON e.witness = c.witness"
    "  LEFT JOIN rulake.source_generations g ON g.source = c.source_relation"
    " WHERE c.name = $1";

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

CollectionInfo load_collection(SpiSession& spi, const std::string& name) {
    SPIPlanPtr plan = kept_plan(kLoadCollectionSql, {TEXTOID});
    Datum argument = text_datum(name);
    if (spi.execute(plan, &argument, nullptr, false, 1) == 0) {
        throw SqlError(ERRCODE_UNDEFINED_OBJECT, "collection \"" + name + "\" does not exist");
    }
    CollectionInfo c;
    c.id = spi.int64_value(0, 1);
    c.name = spi.text_value(0, 2);
    c.backend_kind = spi.text_value(0, 3);
    c.root = spi.text_value(0, 4);
    c.source = spi.text_value(0, 5);
    if (!spi.is_null(0, 6)) c.source_relation = static_cast<Oid>(spi.int64_value(0, 6));
    c.id_column = spi.text_value(0, 7);
    c.vector_column = spi.text_value(0, 8);
    c.dim = static_cast<int32_t>(spi.int64_value(0, 9));
    c.metric_name = spi.text_value(0, 10);
    c.metric = metric_of(c.metric_name);
    c.consistency = consistency_of(spi.text_value(0, 11));
    c.within_ttl = spi.bool_value(0, 12);
    c.rotation_seed = spi.int64_value(0, 13);
    c.rerank_factor = static_cast<int32_t>(spi.int64_value(0, 14));
    if (!spi.is_null(0, 15)) c.generation_sql = spi.text_value(0, 15);
    c.search_path = spi.text_value(0, 16);
    const std::string data_ref = spi.text_value(0, 17);
    c.data_ref = to_utf8(data_ref.data(), static_cast<int>(data_ref.size()));
    c.owner = static_cast<Oid>(spi.int64_value(0, 18));
    if (!spi.is_null(0, 19)) c.witness = spi.text_value(0, 19);
    if (!spi.is_null(0, 20)) c.cache_relation = static_cast<Oid>(spi.int64_value(0, 20));
    if (!spi.is_null(0, 21)) c.counter = spi.int64_value(0, 21);
    return c;
}

void require_read_permission(const CollectionInfo& collection, Oid role) {
    if (!collection.is_local()) return;
    const Oid relation = collection.source_relation;
    const std::string missing = "source relation of collection \"" + collection.name + "\" no longer exists";
    pg_call([&] {
        if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relation))) {
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("%s", missing.c_str())));
        }
        const AclResult table_result = pg_class_aclcheck(relation, role, ACL_SELECT);
        if (table_result == ACLCHECK_OK) return;
        // Column privileges on both columns the collection reads are enough, as for a SELECT of them.
        const AttrNumber id_attnum = get_attnum(relation, collection.id_column.c_str());
        const AttrNumber vector_attnum = get_attnum(relation, collection.vector_column.c_str());
        if (id_attnum != InvalidAttrNumber && vector_attnum != InvalidAttrNumber &&
            pg_attribute_aclcheck(relation, id_attnum, role, ACL_SELECT) == ACLCHECK_OK &&
            pg_attribute_aclcheck(relation, vector_attnum, role, ACL_SELECT) == ACLCHECK_OK) {
            return;
        }
        aclcheck_error(table_result, get_relkind_objtype(get_rel_relkind(relation)), get_rel_name(relation));
    });
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

core::Generation evaluate_generation_sql(SpiSession& spi, const std::string& sql, Oid owner, const std::string& search_path) {
    RoleScope as_owner(owner, /*restricted=*/true, search_path);
    const uint64_t rows = spi.execute(sql, /*read_only=*/true, 2);
    if (spi.columns() != 1 || rows != 1) {
        throw SqlError(ERRCODE_CARDINALITY_VIOLATION, "generation_sql must return one row of one column",
                       "It returned " + std::to_string(rows) + (rows == 2 ? " or more" : "") + " rows of " +
                           std::to_string(spi.columns()) + " columns.");
    }
    bool is_null = false;
    const Datum value = spi.value(0, 1, &is_null);
    if (is_null) throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "generation_sql returned NULL");
    int64_t integer = 0;
    switch (spi.column_type(1)) {
        case INT2OID: integer = DatumGetInt16(value); break;
        case INT4OID: integer = DatumGetInt32(value); break;
        case INT8OID: integer = DatumGetInt64(value); break;
        case NUMERICOID: return core::Generation::number(numeric_to_u64(DatumGetNumeric(value), "generation"));
        default: {
            const std::string text = spi.text_value(0, 1);
            return core::Generation::opaque(to_utf8(text.data(), static_cast<int>(text.size())));
        }
    }
    if (integer < 0) {
        throw SqlError(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, "generation_sql returned a negative number",
                       "It returned " + std::to_string(integer) + "; numeric generations are between 0 and 2^64-1.");
    }
    return core::Generation::number(static_cast<uint64_t>(integer));
}

std::string fs_source_path(const CollectionInfo& collection) {
    return file_in_directory(collection.root, collection.source, "ruvec1 file");
}

core::Generation current_generation(SpiSession& spi, const CollectionInfo& collection) {
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
        return evaluate_generation_sql(spi, *collection.generation_sql, collection.owner, collection.search_path);
    }
    require_generation_trigger(collection);
    if (!collection.counter) {
        throw SqlError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                       "generation counter of collection \"" + collection.name + "\" is missing",
                       {}, "Drop and create the collection again.");
    }
    return core::Generation::number(static_cast<uint64_t>(*collection.counter));
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
