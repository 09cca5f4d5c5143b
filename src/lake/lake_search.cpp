// ruLake's searches (public SQL functions, run as the caller):
//   rulake.search(collection text, query vector, k int DEFAULT 10) -> TABLE(id bigint, distance float8)
//   rulake.search_batch(collection text, queries vector[], k int DEFAULT 10)
//       -> TABLE(query_no int, id bigint, distance float8)
//   rulake.search_federated(collections text[], query vector, k int DEFAULT 10)
//       -> TABLE(collection text, id bigint, distance float8)
//
// Each collection is first made ready (prepare_collection): the caller's right to read its source is
// checked (a cache is no way around a missing SELECT privilege), then its consistency mode decides
// whether the source's generation is checked - fresh: always; eventual: when the last check is older
// than the ttl; frozen: only while there is no cache at all - and a changed generation (or no cache)
// runs rulake._refresh_collection, which primes or shares a cache under the refresh lock. Then the cache
// relation is searched with ORDER BY <metric operator> LIMIT k, which its rabitq index answers; distance
// is the value of the metric's operator (<->, <#> or <=>). The catalog and the cache are read as the
// extension owner (RoleScope); generation_sql runs as the collection's owner.
//
// This is the hot path, so it keeps the caller's search_path (changing it costs a search path
// recomputation per call): the catalog is read by index without SQL (lake_catalog_rows.hpp), and the
// only SQL run here - the cache query and the call of rulake._refresh_collection - names its
// relation, operator and function with their schemas, so no object a caller creates can be picked.
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
#include "lake_catalog.hpp"
#include "lake_roles.hpp"
#include "lake_spi.hpp"
#include "lake_stats.hpp"
#include "rulake/pg/vector_datum.hpp"

extern "C" {
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
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

const char* metric_operator(core::Metric metric) {
    switch (metric) {
        case core::Metric::InnerProduct: return "<#>";
        case core::Metric::Cosine: return "<=>";
        case core::Metric::L2: break;
    }
    return "<->";
}

void require_positive_k(FunctionCallInfo fcinfo, int argno) {
    require_argument(fcinfo, argno, "k");
    const int32 k = PG_GETARG_INT32(argno);
    if (k < 1) {
        throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "k must be at least 1", "k is " + std::to_string(k) + ".");
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
std::string refresh_collection(SpiSession& spi, const std::string& name) {
    if (XactReadOnly || RecoveryInProgress()) {
        throw SqlError(ERRCODE_READ_ONLY_SQL_TRANSACTION,
                       "cache of collection \"" + name + "\" must be refreshed, which a read-only transaction cannot do",
                       {}, "Search in a read-write transaction, or use consistency 'frozen' or 'eventual'.");
    }
    Datum argument = text_datum(name);
    spi.execute(kept_plan("SELECT rulake._refresh_collection($1)", {TEXTOID}), &argument, nullptr, false, 1);
    return spi.text_value(0, 1);
}

// Does the collection's consistency mode call for a refresh before this search?
bool needs_refresh(SpiSession& spi, const CollectionInfo& collection) {
    if (!OidIsValid(collection.cache_relation) || !collection.witness) return true;
    switch (collection.consistency) {
        case Consistency::Frozen: return false;
        case Consistency::Eventual: return !collection.within_ttl;
        case Consistency::Fresh: break;
    }
    return witness_for(collection, current_generation(spi, collection)) != *collection.witness;
}

// query_dim < 0 skips the dimension check (an empty batch).
ReadyCollection prepare_collection(SpiSession& spi, const std::string& name, Oid caller, int query_dim) {
    constexpr int kAttempts = 4;
    bool refreshed = false;
    std::string outcome;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
        CollectionInfo collection = load_collection(spi, name);
        if (attempt == 0) {
            require_read_permission(collection, caller);
            if (query_dim >= 0) require_query_dim(collection, query_dim);
        }
        // After one refresh the cache is used as it is, even if the source changed again meanwhile.
        if (!refreshed ? needs_refresh(spi, collection) : !OidIsValid(collection.cache_relation)) {
            outcome = refresh_collection(spi, name);
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

// The k nearest rows of a ready collection's cache to query (a vector datum).
std::vector<Neighbor> nearest(SpiSession& spi, const ReadyCollection& ready, Datum query, int k) {
    const std::string schema = extension_schema_sql();
    const std::string relation = pg_call([&] {
        const Oid oid = ready.info.cache_relation;
        return std::string(quote_qualified_identifier(get_namespace_name(get_rel_namespace(oid)), get_rel_name(oid)));
    });
    const std::string distance = "embedding OPERATOR(" + schema + "." + metric_operator(ready.info.metric) + ") $1";
    const std::string sql = "SELECT id, " + distance + " FROM " + relation + " ORDER BY " + distance +
                            " LIMIT " + std::to_string(k);
    const uint64_t rows = spi.execute(kept_plan(sql, {vector_type_oid()}), &query, nullptr, false);
    std::vector<Neighbor> result;
    result.reserve(rows);
    for (uint64_t row = 0; row < rows; ++row) result.push_back({spi.int64_value(row, 1), spi.float_value(row, 2)});
    return result;
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
// k' = min(k + ceil(sqrt(k ln S)), 4k).
int federated_request(int k, size_t collections) {
    const double extra = std::ceil(std::sqrt(static_cast<double>(k) * std::log(static_cast<double>(collections))));
    const double wanted = static_cast<double>(k) + extra;
    return static_cast<int>(std::min(wanted, 4.0 * static_cast<double>(k)));
}

}  // namespace
}  // namespace rulake::lake

using namespace rulake::lake;
using rulake::pg::guard_entry;
using rulake::pg::pg_call;
using rulake::pg::SqlError;

// rulake.search(collection text, query vector, k int) -> TABLE(id bigint, distance float8)
RULAKE_FUNCTION(rulake_search) {
    return guard_entry([&]() -> Datum {
        require_argument(fcinfo, 0, "collection");
        require_argument(fcinfo, 1, "query");
        require_positive_k(fcinfo, 2);
        const std::string name = text_argument(fcinfo, 0);
        const Datum query = PG_GETARG_DATUM(1);
        const int k = PG_GETARG_INT32(2);
        const Oid caller = GetUserId();
        const MaterializedResult result = begin_materialized_result(fcinfo);

        RoleScope as_extension_owner(extension_owner(), false, nullptr);
        SpiSession spi;
        const ReadyCollection ready = prepare_collection(spi, name, caller, vector_dim(query));
        const std::vector<Neighbor> neighbors = nearest(spi, ready, query, k);
        count_queries(ready, 1);
        spi.finish();
        for (const Neighbor& n : neighbors) {
            Datum values[2] = {Int64GetDatum(n.id), Float8GetDatum(n.distance)};
            bool nulls[2] = {false, false};
            result.add(values, nulls);
        }
        return Datum(0);
    });
}

// rulake.search_batch(collection text, queries vector[], k int)
//     -> TABLE(query_no int, id bigint, distance float8); query_no counts from 1 in array order.
RULAKE_FUNCTION(rulake_search_batch) {
    return guard_entry([&]() -> Datum {
        require_argument(fcinfo, 0, "collection");
        require_argument(fcinfo, 1, "queries");
        require_positive_k(fcinfo, 2);
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

        RoleScope as_extension_owner(extension_owner(), false, nullptr);
        SpiSession spi;
        const ReadyCollection ready = prepare_collection(spi, name, caller, query_dim);
        std::vector<std::vector<Neighbor>> answers;
        answers.reserve(static_cast<size_t>(count));
        for (int i = 0; i < count; ++i) {
            require_query_dim(ready.info, vector_dim(elements[i]));
            answers.push_back(nearest(spi, ready, elements[i], k));
        }
        count_queries(ready, count);
        spi.finish();
        for (int i = 0; i < count; ++i) {
            for (const Neighbor& n : answers[static_cast<size_t>(i)]) {
                Datum values[3] = {Int32GetDatum(i + 1), Int64GetDatum(n.id), Float8GetDatum(n.distance)};
                bool nulls[3] = {false, false, false};
                result.add(values, nulls);
            }
        }
        return Datum(0);
    });
}

// rulake.search_federated(collections text[], query vector, k int)
//     -> TABLE(collection text, id bigint, distance float8)
// Each collection is asked for k' = min(k + ceil(sqrt(k ln S)), 4k) neighbors (S collections), and the
// union is merged by exact distance (ties: collection order in the array, then id). All collections
// must use one metric; an error in any of them fails the call.
RULAKE_FUNCTION(rulake_search_federated) {
    return guard_entry([&]() -> Datum {
        require_argument(fcinfo, 0, "collections");
        require_argument(fcinfo, 1, "query");
        require_positive_k(fcinfo, 2);
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
        RoleScope as_extension_owner(extension_owner(), false, nullptr);
        SpiSession spi;
        std::string first_metric;
        for (size_t c = 0; c < names.size(); ++c) {
            const ReadyCollection ready = prepare_collection(spi, names[c], caller, query_dim);
            if (c == 0) first_metric = ready.info.metric_name;
            if (ready.info.metric_name != first_metric) {
                throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "collections of a federated search must share one metric",
                               "\"" + names[0] + "\" uses " + first_metric + ", \"" + names[c] + "\" uses " +
                                   ready.info.metric_name + ".");
            }
            for (const Neighbor& n : nearest(spi, ready, query, request)) candidates.push_back({c, n});
            count_queries(ready, 1);
        }
        spi.finish();
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
    });
}
