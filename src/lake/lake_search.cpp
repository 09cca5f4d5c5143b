// ruLake's searches (public SQL functions, run as the caller):
//   rulake.search(collection text, query vector, k int DEFAULT 10) -> TABLE(id bigint, distance float8)
//   rulake.search_batch(collection text, queries vector[], k int DEFAULT 10)
//       -> TABLE(query_no int, id bigint, distance float8)
//   rulake.search_federated(collections text[], query vector, k int DEFAULT 10)
//       -> TABLE(collection text, id bigint, distance float8)
//
// Each collection is first made ready (prepare_collection): the caller's right to search it is checked
// (lake_access.hpp: SELECT on the source, and private sources only for their owner), then its
// consistency mode decides whether the source's generation is checked - fresh: always; eventual: when
// the last check is older than the ttl; frozen: only while there is no cache at all - and a changed
// generation (or no cache, or a cache loaded for another reader) runs rulake._refresh_collection, which
// primes or shares a cache under the collection's and the cache's locks. Then the cache
// relation's rabitq index for the collection's metric is scanned for the k nearest rows, in exact
// distance order (as ORDER BY <metric operator> LIMIT k would, without planner or executor); caches of
// fewer than 10000 rows, and k above a tenth of the rows, are answered exactly by reading every row.
// distance is the value of the metric's operator (<->, <#> or <=>). The catalog and the cache are read
// as the extension owner (RoleScope); generation_sql runs as the collection's owner.
//
// This is the hot path, so it keeps the caller's search_path (changing it costs a search path
// recomputation per call): the catalog is read by index without SQL (lake_catalog_rows.hpp), the cache
// through its index or a scan, and the only SQL run here is the call of rulake._refresh_collection,
// named with its schema, so no object a caller creates can be picked.
//
// Counters (lake_stats.hpp): a query served without priming or sharing is a hit, otherwise a miss
// (search_batch counts every query of the batch; only the first can be a miss).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "rulake/core/metric.hpp"
#include "lake_values.hpp"
#include "lake_access.hpp"
#include "lake_catalog.hpp"
#include "lake_roles.hpp"
#include "lake_spi.hpp"
#include "lake_stats.hpp"
#include "rulake/pg/vector_datum.hpp"

extern "C" {
#include "access/genam.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
}

namespace rulake::lake {
namespace {

using pg::pg_call;
using pg::SqlError;

struct Neighbor {
    int64_t id = 0;
    double distance = 0;
};

// A collection whose cache is ready to search, its relation locked (AccessShareLock) for the rest of the
// transaction.
struct ReadyCollection {
    CollectionInfo info;
    bool hit = true;  // served without priming or sharing
};

// The most rows one search returns per query: answers are collected in memory before they reach the
// result set, so k is bounded (16 bytes per row, plus the search's own candidate lists).
constexpr int32 kMaxK = 100000;

void require_valid_k(FunctionCallInfo fcinfo, int argno) {
    require_argument(fcinfo, argno, "k");
    const int32 k = PG_GETARG_INT32(argno);
    if (k < 1 || k > kMaxK) {
        throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "k must be between 1 and " + std::to_string(kMaxK),
                       "k is " + std::to_string(k) + ".");
    }
}

void require_query_dim(const CollectionInfo& collection, int query_dim) {
    if (query_dim != collection.dim) {
        throw SqlError(ERRCODE_DATA_EXCEPTION,
                       "query vector has " + std::to_string(query_dim) + " dimensions, collection \"" +
                           collection.name + "\" has " + std::to_string(collection.dim));
    }
}

// Locks a cache relation for reading; false if it was dropped meanwhile (the try_relation_open pattern).
bool lock_cache_relation(Oid relation) {
    return pg_call([&] {
        LockRelationOid(relation, AccessShareLock);
        if (SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relation))) return true;
        UnlockRelationOid(relation, AccessShareLock);
        return false;
    });
}

// Runs rulake._refresh_collection(name) and returns its outcome.
std::string refresh_collection(const std::string& name) {
    if (XactReadOnly || RecoveryInProgress()) {
        throw SqlError(ERRCODE_READ_ONLY_SQL_TRANSACTION,
                       "cache of collection \"" + name + "\" must be refreshed, which a read-only transaction cannot do",
                       {}, "Search in a read-write transaction, or use consistency 'frozen' or 'eventual'.");
    }
    SpiSession spi;
    Datum argument = text_datum(name);
    spi.execute(kept_plan("SELECT rulake._refresh_collection($1)", {TEXTOID}), &argument, nullptr, false, 1);
    std::string outcome = spi.text_value(0, 1);
    spi.finish();
    return outcome;
}

// Does the collection's consistency mode call for a refresh before this search? Also true when there
// is no cache, or when the cache was loaded for another reader than the source now calls for
// (lake_access.hpp: e.g. row-level security was enabled since): such a cache is never searched.
// `reader` is the reader the source now calls for (require_search_access).
bool needs_refresh(const CollectionInfo& collection, Oid reader) {
    if (!OidIsValid(collection.cache_relation) || !collection.witness) return true;
    if (collection.cache_reader != reader) return true;
    switch (collection.consistency) {
        case Consistency::Frozen: return false;
        case Consistency::Eventual:
            if (collection.within_ttl) return false;
            break;
        case Consistency::Fresh: break;
    }
    if (witness_for(collection, current_generation(collection)) != *collection.witness) return true;
    // An eventual collection past its ttl whose source did not change needs only its check recorded,
    // which a read-only transaction (or a standby) skips: the cache is current.
    return collection.consistency == Consistency::Eventual && !XactReadOnly && !RecoveryInProgress();
}

// Whether the cache that a refresh left behind may be searched as it is.
bool usable_after_refresh(const CollectionInfo& collection, Oid reader) {
    return OidIsValid(collection.cache_relation) && collection.cache_reader == reader;
}

// query_dim < 0 skips the dimension check (an empty batch).
ReadyCollection prepare_collection(const std::string& name, Oid caller, int query_dim) {
    constexpr int kAttempts = 4;
    bool refreshed = false;
    std::string outcome;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
        CollectionInfo collection = load_collection(name);
        if (attempt == 0 && query_dim >= 0) require_query_dim(collection, query_dim);
        // Checked on every attempt: the source may have changed kind (or privileges) meanwhile.
        const Oid reader = require_search_access(collection, caller);
        // After one refresh the cache is used as it is, even if the source changed again meanwhile.
        if (!refreshed ? needs_refresh(collection, reader) : !usable_after_refresh(collection, reader)) {
            outcome = refresh_collection(name);
            refreshed = true;
            continue;
        }
        if (lock_cache_relation(collection.cache_relation)) {
            return ReadyCollection{std::move(collection), !refreshed || outcome == "up_to_date"};
        }
        // Evicted or invalidated between reading the catalog and locking: read the catalog again.
    }
    throw SqlError(ERRCODE_LOCK_NOT_AVAILABLE, "cache of collection \"" + name + "\" changed during the search",
                   {}, "Try again.");
}

const char* metric_suffix(core::Metric metric) {
    switch (metric) {
        case core::Metric::InnerProduct: return "_ip";
        case core::Metric::Cosine: return "_cosine";
        case core::Metric::L2: break;
    }
    return "_l2";
}

// Caches with fewer rows than this, or asked for more than a tenth of their rows, are read whole and
// answered exactly: for them a scan of every row costs about what the index costs, and an index scan may
// skip a row whose estimated distance misleads it, which matters when most rows are asked for.
constexpr double kIndexScanMinRows = 10000;

// The k nearest rows by the cache's rabitq index for the collection's metric, read directly through the
// index access method: the index returns rows in exact distance order with the distance as its
// order-by value - what ORDER BY <operator> LIMIT k does with the same index, without planner or
// executor. Returns false (and nothing) for small caches and large k (kIndexScanMinRows) and if the
// index is missing; the caller then reads the cache exactly.
bool nearest_by_index(const ReadyCollection& ready, Datum query, int k, std::vector<Neighbor>* result) {
    const Oid heap_oid = ready.info.cache_relation;
    return pg_call([&] {
        const char* heap_name = get_rel_name(heap_oid);
        if (heap_name == nullptr) return false;
        char index_name[NAMEDATALEN * 2];
        snprintf(index_name, sizeof(index_name), "%s%s", heap_name, metric_suffix(ready.info.metric));
        const Oid index_oid = get_relname_relid(index_name, get_rel_namespace(heap_oid));
        if (!OidIsValid(index_oid)) return false;
        Relation heap = table_open(heap_oid, AccessShareLock);
        const double rows = heap->rd_rel->reltuples;
        if (rows < kIndexScanMinRows || static_cast<double>(k) * 10 > rows) {
            table_close(heap, NoLock);
            return false;
        }
        Relation index = index_open(index_oid, AccessShareLock);
        Snapshot snapshot = RegisterSnapshot(GetTransactionSnapshot());
        IndexScanDesc scan = index_beginscan(heap, index, snapshot, 0, 1);
        ScanKeyData order_by;
        ScanKeyEntryInitialize(&order_by, SK_ORDER_BY, 1, 1, InvalidOid, InvalidOid, InvalidOid, query);
        index_rescan(scan, nullptr, 0, &order_by, 1);
        TupleTableSlot* slot = table_slot_create(heap, nullptr);
        int found = 0;
        while (found < k && index_getnext_slot(scan, ForwardScanDirection, slot)) {
            bool id_is_null;
            const Datum id = slot_getattr(slot, 1, &id_is_null);
            if (scan->xs_orderbynulls[0] || id_is_null) elog(ERROR, "rabitq index scan returned no distance");
            result->push_back({DatumGetInt64(id), DatumGetFloat8(scan->xs_orderbyvals[0])});
            ++found;
        }
        ExecDropSingleTupleTableSlot(slot);
        index_endscan(scan);
        UnregisterSnapshot(snapshot);
        index_close(index, NoLock);
        table_close(heap, NoLock);
        return true;
    });
}

// The exact k nearest rows: every row of the cache is read and scored with the SQL operator's own
// arithmetic (core::exact_order_key); ties go to the smaller id, NaN distances (cosine of a zero
// vector) sort last, as ORDER BY sorts them.
std::vector<Neighbor> nearest_exact(const ReadyCollection& ready, Datum query, int k) {
    const core::Metric metric = ready.info.metric;
    const auto dim = static_cast<size_t>(ready.info.dim);
    const float* q = pg_call([&] { return pg::datum_get_vector(query)->x; });
    struct Scored {
        double key;
        int64_t id;
        bool operator<(const Scored& o) const {  // "worse than": the max-heap keeps the k best
            const bool nan = std::isnan(key), other_nan = std::isnan(o.key);
            if (nan != other_nan) return other_nan;
            if (!nan && key != o.key) return key < o.key;
            return id < o.id;
        }
    };
    std::vector<Scored> best;  // a max-heap of at most k entries
    best.reserve(static_cast<size_t>(k) + 1);
    Relation heap = nullptr;
    Snapshot snapshot = nullptr;
    TableScanDesc scan = nullptr;
    TupleTableSlot* slot = nullptr;
    MemoryContext rows_context = nullptr;
    pg_call([&] {
        heap = table_open(ready.info.cache_relation, AccessShareLock);
        snapshot = RegisterSnapshot(GetTransactionSnapshot());
        scan = table_beginscan(heap, snapshot, 0, nullptr);
        slot = table_slot_create(heap, nullptr);
        rows_context = AllocSetContextCreate(CurrentMemoryContext, "ruLake exact search", ALLOCSET_DEFAULT_SIZES);
    });
    for (uint64_t row = 0;; ++row) {
        int64_t id = 0;
        const pg::VectorDatum* vector = nullptr;
        const bool more = pg_call([&] {
            if ((row & 1023) == 0) {
                CHECK_FOR_INTERRUPTS();
                MemoryContextReset(rows_context);
            }
            if (!table_scan_getnextslot(scan, ForwardScanDirection, slot)) return false;
            bool id_is_null, vector_is_null;
            id = DatumGetInt64(slot_getattr(slot, 1, &id_is_null));
            const Datum datum = slot_getattr(slot, 2, &vector_is_null);
            if (id_is_null || vector_is_null) elog(ERROR, "cache relation has a NULL value");
            MemoryContext old = MemoryContextSwitchTo(rows_context);
            vector = pg::datum_get_vector(datum);
            MemoryContextSwitchTo(old);
            return true;
        });
        if (!more) break;
        if (static_cast<size_t>(vector->dim) != dim) {
            throw SqlError(ERRCODE_DATA_CORRUPTED, "cache relation holds a vector of another dimension");
        }
        const Scored candidate{core::exact_order_key(metric, q, vector->x, dim), id};
        if (best.size() < static_cast<size_t>(k)) {
            best.push_back(candidate);
            std::push_heap(best.begin(), best.end());
        } else if (candidate < best.front()) {
            std::pop_heap(best.begin(), best.end());
            best.back() = candidate;
            std::push_heap(best.begin(), best.end());
        }
    }
    pg_call([&] {
        ExecDropSingleTupleTableSlot(slot);
        table_endscan(scan);
        UnregisterSnapshot(snapshot);
        table_close(heap, NoLock);
        MemoryContextDelete(rows_context);
    });
    std::sort_heap(best.begin(), best.end());
    std::vector<Neighbor> result;
    result.reserve(best.size());
    for (const Scored& s : best) result.push_back({s.id, core::order_key_to_distance(metric, s.key)});
    return result;
}

// The k nearest rows of a ready collection's cache to query (a vector datum), nearest first.
std::vector<Neighbor> nearest(const ReadyCollection& ready, Datum query, int k) {
    std::vector<Neighbor> result;
    if (nearest_by_index(ready, query, k, &result)) return result;
    return nearest_exact(ready, query, k);
}

int vector_dim(Datum value) {
    return pg_call([&] { return static_cast<int>(pg::datum_get_vector(value)->dim); });
}

void count_queries(const ReadyCollection& ready, int64_t queries) {
    if (queries == 0) return;
    count_searches(ready.info.hits_counter, ready.info.misses_counter, ready.hit ? queries : queries - 1,
                   ready.hit ? 0 : 1);
}

// Per-collection over-request of a federated search over `collections` collections:
// k' = min(k + ceil(sqrt(k ln S)), 4k), computed in double and converted only once it is known to be at
// most 4 * kMaxK (k is at most kMaxK), so it always fits an int.
int federated_request(int k, size_t collections) {
    const double extra = std::ceil(std::sqrt(static_cast<double>(k) * std::log(static_cast<double>(collections))));
    const double wanted = std::min(static_cast<double>(k) + extra, 4.0 * static_cast<double>(k));
    static_assert(4.0 * kMaxK < 2147483647.0, "federated requests must fit an int");
    return static_cast<int>(wanted);
}

}  // namespace
}  // namespace rulake::lake

using namespace rulake::lake;
using rulake::pg::pg_call;
using rulake::pg::SqlError;

// rulake.search(collection text, query vector, k int) -> TABLE(id bigint, distance float8)
RULAKE_FUNCTION(rulake_search) {
    require_argument(fcinfo, 0, "collection");
    require_argument(fcinfo, 1, "query");
    require_valid_k(fcinfo, 2);
    const std::string name = text_argument(fcinfo, 0);
    const Datum query = PG_GETARG_DATUM(1);
    const int k = PG_GETARG_INT32(2);
    const Oid caller = GetUserId();
    const MaterializedResult result = begin_materialized_result(fcinfo);

    RoleScope as_extension_owner(extension_owner(), nullptr);
    const ReadyCollection ready = prepare_collection(name, caller, vector_dim(query));
    const std::vector<Neighbor> neighbors = nearest(ready, query, k);
    count_queries(ready, 1);
    for (const Neighbor& n : neighbors) {
        Datum values[2] = {Int64GetDatum(n.id), Float8GetDatum(n.distance)};
        bool nulls[2] = {false, false};
        result.add(values, nulls);
    }
    return Datum(0);
}

// rulake.search_batch(collection text, queries vector[], k int)
//     -> TABLE(query_no int, id bigint, distance float8); query_no counts from 1 in array order.
RULAKE_FUNCTION(rulake_search_batch) {
    require_argument(fcinfo, 0, "collection");
    require_argument(fcinfo, 1, "queries");
    require_valid_k(fcinfo, 2);
    const std::string name = text_argument(fcinfo, 0);
    const int k = PG_GETARG_INT32(2);
    const Oid caller = GetUserId();
    const Oid vector_type = vector_type_oid();

    Datum* elements = nullptr;
    bool* element_nulls = nullptr;
    int count = 0;
    pg_call([&] {
        ArrayType* array = PG_GETARG_ARRAYTYPE_P(1);
        if (ARR_NDIM(array) > 1) {
            ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR), errmsg("queries must be a one-dimensional array")));
        }
        if (ARR_ELEMTYPE(array) != vector_type) elog(ERROR, "queries must be an array of vectors");
        int16 length;
        bool by_value;
        char alignment;
        get_typlenbyvalalign(vector_type, &length, &by_value, &alignment);
        deconstruct_array(array, vector_type, length, by_value, alignment, &elements, &element_nulls, &count);
    });
    for (int i = 0; i < count; ++i) {
        if (element_nulls[i]) {
            throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "query " + std::to_string(i + 1) + " of the batch is NULL");
        }
    }
    const MaterializedResult result = begin_materialized_result(fcinfo);
    const int query_dim = count > 0 ? vector_dim(elements[0]) : -1;

    RoleScope as_extension_owner(extension_owner(), nullptr);
    const ReadyCollection ready = prepare_collection(name, caller, query_dim);
    // Each query's answer goes to the result set (a tuplestore, which spills beyond work_mem) before
    // the next query runs: memory holds one answer at a time.
    for (int i = 0; i < count; ++i) {
        require_query_dim(ready.info, vector_dim(elements[i]));
        for (const Neighbor& n : nearest(ready, elements[i], k)) {
            Datum values[3] = {Int32GetDatum(i + 1), Int64GetDatum(n.id), Float8GetDatum(n.distance)};
            bool nulls[3] = {false, false, false};
            result.add(values, nulls);
        }
    }
    count_queries(ready, count);
    return Datum(0);
}

// rulake.search_federated(collections text[], query vector, k int)
//     -> TABLE(collection text, id bigint, distance float8)
// Each collection is asked for k' = min(k + ceil(sqrt(k ln S)), 4k) neighbors (S collections), and the
// union is merged by exact distance (ties: collection order in the array, then id). All collections
// must use one metric; an error in any of them fails the call.
RULAKE_FUNCTION(rulake_search_federated) {
    require_argument(fcinfo, 0, "collections");
    require_argument(fcinfo, 1, "query");
    require_valid_k(fcinfo, 2);
    const Datum query = PG_GETARG_DATUM(1);
    const int k = PG_GETARG_INT32(2);
    const Oid caller = GetUserId();

    Datum* elements = nullptr;
    bool* element_nulls = nullptr;
    int count = 0;
    pg_call([&] {
        ArrayType* array = PG_GETARG_ARRAYTYPE_P(0);
        if (ARR_NDIM(array) > 1) {
            ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR), errmsg("collections must be a one-dimensional array")));
        }
        deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &elements, &element_nulls, &count);
    });
    if (count == 0) throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "collections must name at least one collection");
    std::vector<std::string> names;
    std::set<std::string> seen;
    for (int i = 0; i < count; ++i) {
        if (element_nulls[i]) throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "collection names must not be NULL");
        text* name = pg_call([&] { return DatumGetTextPP(elements[i]); });
        names.emplace_back(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name));
        if (!seen.insert(names.back()).second) {
            throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "collection \"" + names.back() + "\" is named twice");
        }
    }
    const int request = federated_request(k, names.size());
    const int query_dim = vector_dim(query);
    const MaterializedResult result = begin_materialized_result(fcinfo);

    struct Candidate {
        size_t collection;
        Neighbor neighbor;
    };
    std::vector<Candidate> candidates;
    RoleScope as_extension_owner(extension_owner(), nullptr);
    std::string first_metric;
    for (size_t c = 0; c < names.size(); ++c) {
        const ReadyCollection ready = prepare_collection(names[c], caller, query_dim);
        if (c == 0) first_metric = ready.info.metric_name;
        if (ready.info.metric_name != first_metric) {
            throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "collections of a federated search must share one metric",
                           "\"" + names[0] + "\" uses " + first_metric + ", \"" + names[c] + "\" uses " +
                               ready.info.metric_name + ".");
        }
        for (const Neighbor& n : nearest(ready, query, request)) candidates.push_back({c, n});
        count_queries(ready, 1);
    }
    // NaN (cosine distance to a zero vector) sorts last, as ORDER BY sorts it.
    const auto key = [](const Candidate& c) {
        return std::isnan(c.neighbor.distance) ? HUGE_VAL : c.neighbor.distance;
    };
    std::sort(candidates.begin(), candidates.end(), [&](const Candidate& a, const Candidate& b) {
        if (key(a) != key(b)) return key(a) < key(b);
        if (a.collection != b.collection) return a.collection < b.collection;
        return a.neighbor.id < b.neighbor.id;
    });
    if (candidates.size() > static_cast<size_t>(k)) candidates.resize(static_cast<size_t>(k));
    for (const Candidate& candidate : candidates) {
        Datum values[3] = {text_datum(names[candidate.collection]), Int64GetDatum(candidate.neighbor.id),
                           Float8GetDatum(candidate.neighbor.distance)};
        bool nulls[3] = {false, false, false};
        result.add(values, nulls);
    }
    return Datum(0);
}
