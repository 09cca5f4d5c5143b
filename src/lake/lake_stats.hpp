// ruLake's counters: hits, misses, primes, shared hits, invalidations, warm installs and prime time per
// collection, kept in the unlogged table rulake.stat_counters with one row per (collection, backend
// slot). Each backend only ever updates its own rows, so concurrent searches never wait on each other
// and the rows stay few (HOT updates, no WAL); the views rulake.collection_stats, rulake.backend_stats
// and rulake.cache_stats add them up. Counts survive sessions and clean restarts; a crash resets them
// (unlogged). Nothing is counted in read-only transactions or during recovery, where no table can be
// written. Counts belong to the caller's transaction: a rolled-back search is not counted.
#pragma once

#include <cstdint>
#include <optional>

#include "lake_spi.hpp"

namespace rulake::lake {

struct StatDeltas {
    int64_t hits = 0;
    int64_t misses = 0;
    int64_t primes = 0;
    int64_t shared_hits = 0;
    int64_t invalidations = 0;
    int64_t warm_installs = 0;
    std::optional<double> prime_ms;  // a prime's duration: added to the total, becomes the last
};

// Adds deltas to the counters of collection `collection_id`. Runs inside a SpiSession as the extension
// owner (who owns the table).
void count_events(SpiSession& spi, int64_t collection_id, const StatDeltas& deltas);

}  // namespace rulake::lake
