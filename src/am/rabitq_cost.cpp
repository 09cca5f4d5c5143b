// amcostestimate of rabitq.
//
// Without an ORDER BY on the index's operator the index is useless (it answers no quals): infinite cost,
// so the planner never picks it. With one, the scan reads the probed lists (probes / lists of the index)
// before it returns its first row, so all of that is startup cost; rows after the first are cheap. The
// planner then compares startup + LIMIT's share of the heap fetches with a sequential scan plus a top-N
// sort, which the index wins beyond a few hundred rows.
#include <algorithm>
#include <cmath>

#include "rabitq_am.hpp"

extern "C" {
#include "access/relation.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "utils/float.h"
#include "utils/selfuncs.h"
}

namespace rulake::am {

void rabitq_cost_estimate(PlannerInfo* root, IndexPath* path, double loop_count, Cost* startup_cost, Cost* total_cost,
                          Selectivity* selectivity, double* correlation, double* pages) {
    pg::guard_entry([&] {
        if (path->indexorderbys == NIL) {
            *startup_cost = get_float8_infinity();
            *total_cost = get_float8_infinity();
            *selectivity = 0;
            *correlation = 0;
            *pages = 0;
            return;
        }

        RabitqMetaData meta;
        Relation index = pg::pg_call([&] { return index_open(path->indexinfo->indexoid, NoLock); });
        try {
            meta = cached_metapage(index);
        } catch (...) {
            pg::pg_call([&] { index_close(index, NoLock); });
            throw;
        }
        pg::pg_call([&] { index_close(index, NoLock); });

        const double lists = std::max<double>(1, meta.list_count);
        const double probed_share = std::min(1.0, static_cast<double>(effective_probes(meta.list_count)) / lists);

        GenericCosts costs;
        memset(&costs, 0, sizeof(costs));
        costs.numIndexTuples = std::max(1.0, path->indexinfo->tuples * probed_share);
        pg::pg_call([&] { genericcostestimate(root, path, loop_count, &costs); });

        // Ranking the lists: one centroid distance per list (about dim operator evaluations each, cheap
        // ones: count a quarter of cpu_operator_cost per dimension).
        const double ranking_cost = lists * meta.dim * cpu_operator_cost * 0.25;
        *startup_cost = costs.indexTotalCost + ranking_cost;
        *total_cost = *startup_cost;
        *selectivity = costs.indexSelectivity;
        *correlation = 0;
        *pages = costs.numIndexPages;
    });
}

}  // namespace rulake::am
