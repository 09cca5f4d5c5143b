// ruLake's counters (see lake_stats.hpp) and the internal SQL function
//   rulake._count_event(collection_id bigint, event text, prime_ms float8 DEFAULT NULL) -> void
// (event: 'prime', 'shared', 'invalidation', 'warm'), used by src/sql/31_lake_internal.sql, and
//   rulake._search_count(collection text, kind text) -> bigint, used by the statistics views.
#include <string>

#include "rulake/core/metric.hpp"  // before any Postgres header (lake_values.hpp)
#include "lake_values.hpp"
#include "lake_access.hpp"
#include "lake_roles.hpp"
#include "lake_stats.hpp"

extern "C" {
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#if PG_VERSION_NUM >= 170000
#include "storage/procnumber.h"
#else
#include "storage/backendid.h"
#endif
}

namespace rulake::lake {
namespace {

constexpr const char* kUpdateSql =
    "UPDATE rulake.stat_counters SET primes = primes + $3, shared_hits = shared_hits + $4,"
    "       invalidations = invalidations + $5, warm_installs = warm_installs + $6,"
    "       prime_ms_total = prime_ms_total + COALESCE($7, 0),"
    "       last_prime_ms = COALESCE($7, last_prime_ms),"
    "       last_prime_at = CASE WHEN $7 IS NULL THEN last_prime_at ELSE pg_catalog.clock_timestamp() END"
    " WHERE collection_id = $1 AND slot = $2";
constexpr const char* kInsertSql =
    "INSERT INTO rulake.stat_counters (collection_id, slot, primes, shared_hits, invalidations, warm_installs,"
    "                                  prime_ms_total, last_prime_ms, last_prime_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7, 0), $7,"
    "         CASE WHEN $7 IS NULL THEN NULL ELSE pg_catalog.clock_timestamp() END)";

// This backend's slot: its backend id, unique among live backends.
int32 backend_slot() {
#if PG_VERSION_NUM >= 170000
    return MyProcNumber;
#else
    return MyBackendId;
#endif
}

}  // namespace

void count_events(SpiSession& spi, int64_t collection_id, const StatDeltas& deltas) {
    if (XactReadOnly || RecoveryInProgress()) return;
    const std::vector<Oid> types = {INT8OID, INT4OID, INT8OID, INT8OID, INT8OID, INT8OID, FLOAT8OID};
    Datum values[7] = {Int64GetDatum(collection_id),        Int32GetDatum(backend_slot()),
                       Int64GetDatum(deltas.primes),        Int64GetDatum(deltas.shared_hits),
                       Int64GetDatum(deltas.invalidations), Int64GetDatum(deltas.warm_installs),
                       Float8GetDatum(deltas.prime_ms.value_or(0.0))};
    const char nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', deltas.prime_ms ? ' ' : 'n', '\0'};
    if (spi.execute(kept_plan(kUpdateSql, types), values, nulls, false) == 0) {
        spi.execute(kept_plan(kInsertSql, types), values, nulls, false);
    }
}

void count_searches(Oid hits_counter, Oid misses_counter, int64_t hits, int64_t misses) {
    if (XactReadOnly || RecoveryInProgress()) return;
    pg::pg_call([&] {
        if (OidIsValid(hits_counter)) {
            for (int64_t i = 0; i < hits; ++i) (void)nextval_internal(hits_counter, false);
        }
        if (OidIsValid(misses_counter)) {
            for (int64_t i = 0; i < misses; ++i) (void)nextval_internal(misses_counter, false);
        }
    });
}

}  // namespace rulake::lake

using namespace rulake::lake;

// rulake._count_event(collection_id bigint, event text, prime_ms float8) -> void
RULAKE_FUNCTION(rulake_internal_count_event) {
    require_argument(fcinfo, 0, "collection_id");
    require_argument(fcinfo, 1, "event");
    const int64 collection_id = PG_GETARG_INT64(0);
    const std::string event = text_argument(fcinfo, 1);
    StatDeltas deltas;
    if (event == "prime") deltas.primes = 1;
    else if (event == "shared") deltas.shared_hits = 1;
    else if (event == "invalidation") deltas.invalidations = 1;
    else if (event == "warm") deltas.warm_installs = 1;
    else throw rulake::pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "unknown ruLake event \"" + event + "\"");
    if (!PG_ARGISNULL(2)) deltas.prime_ms = PG_GETARG_FLOAT8(2);
    RoleScope as_extension_owner(extension_owner());
    SpiSession spi;
    count_events(spi, collection_id, deltas);
    spi.finish();
    PG_RETURN_VOID();
}

// rulake._search_count(collection text, kind text) -> bigint: the hits ('hits') or misses ('misses')
// counted for the collection, or NULL when the current role may not see it (lake_access.hpp). Executable
// by PUBLIC, for the statistics views; the sequences themselves are not readable by other roles.
RULAKE_FUNCTION(rulake_internal_search_count) {
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) PG_RETURN_NULL();
    const Oid caller = GetUserId();
    const std::string name = text_argument(fcinfo, 0);
    const std::string kind = text_argument(fcinfo, 1);
    if (kind != "hits" && kind != "misses") {
        throw rulake::pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "unknown counter \"" + kind + "\"");
    }
    RoleScope as_extension_owner(extension_owner());
    if (!may_see(name, caller)) PG_RETURN_NULL();
    const CollectionInfo collection = load_collection(name);
    const Oid counter = kind == "hits" ? collection.hits_counter : collection.misses_counter;
    if (!OidIsValid(counter)) return Int64GetDatum(0);
    SpiSession spi;
    Datum argument = ObjectIdGetDatum(counter);
    spi.execute(kept_plan("SELECT pg_catalog.pg_sequence_last_value($1)", {REGCLASSOID}), &argument, nullptr, true, 1);
    const int64_t value = spi.is_null(0, 1) ? 0 : spi.int64_value(0, 1);
    spi.finish();
    return Int64GetDatum(value);
}
