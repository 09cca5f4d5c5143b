// Filling cache relations from a collection's source (internal SQL functions, called by the refresh and
// warm-restart code in src/sql/31_lake_internal.sql and 32_lake_admin.sql as the extension owner; not executable by PUBLIC):
//   rulake._load_cache(collection text, relation regclass) -> bigint
//       copies the collection's source (a relation of this database, read as the collection's owner
//       under UserCodeScope, or its ruvec1 file) into the empty cache relation
//   rulake._load_rbpx(relation regclass, path text, dim int, rotation_seed bigint, rerank_factor int,
//                     count bigint) -> bigint
//       copies a .rbpx file whose header must still say what the caller checked, and whose digest
//       must be the one its directory's sidecar records (lake_saved_cache.hpp)
//   rulake._probe_source_dim(relation regclass, vector_column text, owner oid, search_path text) -> integer
//       the dimension of the first non-NULL vector of a relation (NULL if there is none)
// Row ids are kept exactly; dimensions are checked row by row; NULL vectors are skipped, NULL ids are
// an error. A failure leaves nothing behind: the caller's transaction rolls the relation back.
#include <cstdint>
#include <string>

#include "rulake/core/metric.hpp"
#include "rulake/core/posix_file.hpp"
#include "rulake/core/rbpx_file.hpp"
#include "rulake/core/ruvec1_file.hpp"
#include "lake_values.hpp"
#include "lake_cache_writer.hpp"
#include "lake_catalog.hpp"
#include "lake_paths.hpp"
#include "lake_roles.hpp"
#include "lake_saved_cache.hpp"
#include "lake_spi.hpp"
#include "rulake/pg/vector_datum.hpp"

extern "C" {
#include "catalog/pg_class.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

namespace rulake::lake {
namespace {

using pg::pg_call;
using pg::SqlError;

constexpr size_t kFileBatchRecords = 1024;
constexpr long kCursorBatchRows = 1000;

// "schema"."relation" of an existing relation.
std::string qualified_relation_name(Oid relation) {
    return pg_call([&] {
        const char* name = get_rel_name(relation);
        if (name == nullptr) {
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("relation with OID %u does not exist", relation)));
        }
        return std::string(quote_qualified_identifier(get_namespace_name(get_rel_namespace(relation)), name));
    });
}

[[noreturn]] void throw_dim_mismatch(const std::string& what, int64_t id, long dim, int32_t expected) {
    throw SqlError(ERRCODE_DATA_EXCEPTION,
                   what + " has a vector of " + std::to_string(dim) + " dimensions, the collection " +
                       std::to_string(expected),
                   "The row's id is " + std::to_string(id) + ".");
}

// "ONLY " for ordinary tables: rulake's trigger sees writes to the table itself, not to inheritance
// children, so the cache holds the table's own rows. Empty for other relations (partitioned tables
// are read with their partitions, views and foreign tables as they are).
std::string only_keyword(Oid relation) {
    return pg_call([&] { return get_rel_relkind(relation) == RELKIND_RELATION; }) ? "ONLY " : "";
}

// Copies (id, vector) of every row of the collection's source relation. The source's query (and the
// views, functions and user mappings behind it) runs as the collection's owner under UserCodeScope,
// one batch at a time; the rows are written to the cache as the extension owner in between.
void load_from_relation(const CollectionInfo& collection, CacheRelationWriter& writer) {
    const std::string schema = extension_schema_sql();
    const std::string relation = qualified_relation_name(collection.source_relation);
    const std::string sql = "SELECT (" + std::string(quote_identifier(collection.id_column.c_str())) +
                            ")::pg_catalog.int8, (" + quote_identifier(collection.vector_column.c_str()) + ")::" +
                            schema + ".vector FROM " + only_keyword(collection.source_relation) + relation;
    SpiSession spi;
    Portal portal = nullptr;
    {
        UserCodeScope as_owner(collection.owner, collection.search_path);
        portal = pg_call([&] {
            return SPI_cursor_open_with_args(nullptr, sql.c_str(), 0, nullptr, nullptr, nullptr, true, 0);
        });
    }
    // Detoasted vectors of one fetched batch; reset after each batch so memory stays bounded.
    MemoryContext rows_context = pg_call([] {
        return AllocSetContextCreate(CurrentMemoryContext, "ruLake source rows", ALLOCSET_DEFAULT_SIZES);
    });
    for (;;) {
        {
            UserCodeScope as_owner(collection.owner, collection.search_path);
            pg_call([&] { SPI_cursor_fetch(portal, true, kCursorBatchRows); });
        }
        const uint64_t rows = SPI_processed;
        if (rows == 0) break;
        for (uint64_t row = 0; row < rows; ++row) {
            if (spi.is_null(row, 1)) {
                throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED,
                               "source of collection \"" + collection.name + "\" has a row whose id is NULL");
            }
            bool vector_is_null = false;
            const Datum vector_datum = spi.value(row, 2, &vector_is_null);
            if (vector_is_null) continue;  // nothing to search for, as an index skips NULLs
            const int64_t id = spi.int64_value(row, 1);
            const pg::VectorDatum* vector = pg_call([&] {
                MemoryContext old = MemoryContextSwitchTo(rows_context);
                pg::VectorDatum* detoasted = pg::datum_get_vector(vector_datum);
                MemoryContextSwitchTo(old);
                return detoasted;
            });
            if (vector->dim != writer.dim()) throw_dim_mismatch("source row", id, vector->dim, writer.dim());
            writer.append(id, vector->x);
        }
        pg_call([&] {
            SPI_freetuptable(SPI_tuptable);
            MemoryContextReset(rows_context);
        });
    }
    pg_call([&] { SPI_cursor_close(portal); });
    spi.finish();
}

// Copies every record of a vector file stream (ruvec1 or .rbpx).
template <typename Reader>
void load_from_file(Reader& reader, CacheRelationWriter& writer) {
    core::VectorBatch batch;
    while (reader.next(batch, kFileBatchRecords) > 0) {
        for (size_t i = 0; i < batch.size(); ++i) {
            if (batch.ids[i] > static_cast<uint64_t>(INT64_MAX)) {
                throw SqlError(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                               "vector id " + std::to_string(batch.ids[i]) + " does not fit in bigint");
            }
            writer.append(static_cast<int64_t>(batch.ids[i]), batch.vector(i));
        }
    }
}

}  // namespace
}  // namespace rulake::lake

using namespace rulake::lake;
using rulake::pg::pg_call;
using rulake::pg::SqlError;

// rulake._load_cache(collection text, relation regclass) -> bigint
RULAKE_FUNCTION(rulake_internal_load_cache) {
    require_argument(fcinfo, 0, "collection");
    require_argument(fcinfo, 1, "relation");
    const std::string name = text_argument(fcinfo, 0);
    const Oid relation = PG_GETARG_OID(1);
    RoleScope as_extension_owner(extension_owner());
    const CollectionInfo collection = load_collection(name);
    CacheRelationWriter writer(relation, collection.dim);
    if (collection.is_local()) {
        load_from_relation(collection, writer);
    } else {
        rulake::core::Ruvec1Reader reader(open_file_in_directory(collection.root, collection.source, "ruvec1 file"));
        if (reader.dim() != static_cast<uint32_t>(collection.dim)) {
            throw SqlError(ERRCODE_DATA_EXCEPTION,
                           "ruvec1 file \"" + reader.path() + "\" has " + std::to_string(reader.dim()) +
                               " dimensions, collection \"" + name + "\" " + std::to_string(collection.dim));
        }
        load_from_file(reader, writer);
    }
    return Int64GetDatum(static_cast<int64>(writer.finish()));
}

// rulake._load_rbpx(relation regclass, path text, dim int, rotation_seed bigint, rerank_factor int,
//                   count bigint) -> bigint
RULAKE_FUNCTION(rulake_internal_load_rbpx) {
    for (int i = 0; i < 6; ++i) require_argument(fcinfo, i, "argument");
    const Oid relation = PG_GETARG_OID(0);
    const std::string path = text_argument(fcinfo, 1);
    const int32 dim = PG_GETARG_INT32(2);
    const int64 seed = PG_GETARG_INT64(3);
    const int32 rerank_factor = PG_GETARG_INT32(4);
    const int64 count = PG_GETARG_INT64(5);
    SavedPayload payload = open_saved_payload(path);
    const rulake::core::RbpxHeader& header = payload.reader().header();
    if (header.dim != static_cast<uint32_t>(dim) || header.rotation_seed != static_cast<uint64_t>(seed) ||
        header.rerank_factor != static_cast<uint32_t>(rerank_factor) || header.count != static_cast<uint64_t>(count)) {
        throw SqlError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "cache file \"" + payload.path() + "\" changed while it was read");
    }
    CacheRelationWriter writer(relation, dim);
    load_from_file(payload.reader(), writer);
    payload.verify();  // before anything is returned: a mismatch rolls the rows back
    return Int64GetDatum(static_cast<int64>(writer.finish()));
}

// rulake._probe_source_dim(relation regclass, vector_column text, owner oid, search_path text) -> integer
RULAKE_FUNCTION(rulake_internal_probe_source_dim) {
    for (int i = 0; i < 4; ++i) require_argument(fcinfo, i, "argument");
    const Oid relation = PG_GETARG_OID(0);
    const std::string column = text_argument(fcinfo, 1);
    const Oid owner = PG_GETARG_OID(2);
    const std::string search_path = text_argument(fcinfo, 3);
    const std::string schema = extension_schema_sql();
    const std::string relation_name = qualified_relation_name(relation);
    const std::string quoted_column = pg_call([&] { return std::string(quote_identifier(column.c_str())); });
    const std::string sql = "SELECT " + schema + ".vector_dims((" + quoted_column + ")::" + schema +
                            ".vector) FROM " + only_keyword(relation) + relation_name + " WHERE " + quoted_column +
                            " IS NOT NULL LIMIT 1";
    UserCodeScope as_owner(owner, search_path);
    SpiSession spi;
    spi.execute(sql, true, 1);
    const bool found = spi.rows() == 1;
    const int64_t dim = found ? spi.int64_value(0, 1) : 0;
    spi.finish();
    if (!found) PG_RETURN_NULL();
    return Int32GetDatum(static_cast<int32>(dim));
}
