// amcostestimate of rabitq.
//
// Without an ORDER BY on the index's operator the index is useless (it answers no quals): infinite cost,
// so the planner never picks it. With one, the scan ranks the lists and reads the probed lists (probes /
// lists of the data pages; a list's pages are contiguous) before it returns its first row, then scores
// a few hundred candidates exactly; all of that is startup cost, rows after the first are cheap. The
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
#include "utils/spccache.h"
}

namespace rulake::am {

namespace {
// Candidates scored exactly before the first rows come out, about (measured: 60 to 300 for LIMIT 10).
constexpr double kRerankedRows = 150;
}  // namespace

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

        // Selectivity and the cost of evaluating the ORDER BY argument, as for any index.
        GenericCosts costs;
        memset(&costs, 0, sizeof(costs));
        pg::pg_call([&] { genericcostestimate(root, path, loop_count, &costs); });

        double random_page_cost = 0, seq_page_cost = 0;
        pg::pg_call([&] {
            get_tablespace_page_costs(path->indexinfo->reltablespace, &random_page_cost, &seq_page_cost);
        });

        const double lists = std::max<double>(1, meta.list_count);
        const double probes = std::min(lists, static_cast<double>(effective_probes(meta.list_count)));
        const double tuples = std::max(0.0, path->indexinfo->tuples);
        const double scanned_tuples = tuples * probes / lists;
        const double scanned_pages = std::max(probes, std::ceil(scanned_tuples / std::max<uint32>(1, meta.records_per_page)));

        // Ranking the lists: one centroid distance per list (dim operations, cheap ones).
        const double ranking = lists * meta.dim * cpu_operator_cost * 0.25;
        // Reading the probed lists: one random read per list, sequential reads within it.
        const double reading = probes * random_page_cost + (scanned_pages - probes) * seq_page_cost;
        // Estimating every record of them.
        const double estimating = scanned_tuples * (cpu_index_tuple_cost + cpu_operator_cost);
        // Scoring the best candidates exactly (a row fetch and a distance each).
        const double reranking =
            std::min(kRerankedRows, scanned_tuples) * (cpu_tuple_cost + cpu_operator_cost * meta.dim * 0.25);

        *startup_cost = costs.indexStartupCost + ranking + reading + estimating + reranking;
        *total_cost = *startup_cost;
        *selectivity = costs.indexSelectivity;
        *correlation = 0;
        *pages = scanned_pages;
    });
}

}  // namespace rulake::am
