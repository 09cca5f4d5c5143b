// ruLake's counters, added up by the views rulake.collection_stats, rulake.backend_stats and
// rulake.cache_stats:
//  * hits and misses of searches: two sequences per collection (rulake._hits_<id>, rulake._misses_<id>)
//    advanced with nextval, which takes no transaction id, writes no row and waits for nobody, so
//    counting costs a search almost nothing; like sequences, these counts survive a rollback;
//  * primes (with their duration), shared hits, invalidations and warm installs: rows of the unlogged
//    table rulake.stat_counters, one per (collection, backend slot) so that backends never update each
//    other's rows; these events happen in transactions that write the catalog anyway, and their counts
//    roll back with them. A crash resets this table (unlogged).
// Counts survive sessions and restarts. Nothing is counted in read-only transactions or during recovery.
#pragma once

#include <cstdint>
#include <optional>

#include "lake_spi.hpp"

namespace rulake::lake {

struct StatDeltas {
    int64_t primes = 0;
    int64_t shared_hits = 0;
    int64_t invalidations = 0;
    int64_t warm_installs = 0;
    std::optional<double> prime_ms;  // a prime's duration: added to the total, becomes the last
};

// Adds deltas to the counters of collection `collection_id`. Runs inside a SpiSession as the extension
// owner (who owns the table).
void count_events(SpiSession& spi, int64_t collection_id, const StatDeltas& deltas);

// Counts searches with the collection's two sequences (their OIDs; InvalidOid skips). Needs no SPI.
void count_searches(Oid hits_counter, Oid misses_counter, int64_t hits, int64_t misses);

}  // namespace rulake::lake
