// rabitq.* settings (GUCs) and the reloptions of rabitq indexes, registered once per backend by _PG_init.
#include <cmath>

#include "rabitq_am.hpp"
#include "rulake/pg/module.hpp"

extern "C" {
#include "access/reloptions.h"
#include "utils/guc.h"
}

namespace rulake::am {

int guc_probes = 0;
int guc_max_probes = kMaxLists;
double guc_epsilon = 1.9;
int guc_iterative_scan = static_cast<int>(IterativeScan::StrictOrder);
int guc_build_threads = 2;
int guc_query_bits = 4;
relopt_kind rabitq_relopt_kind;

namespace {

const struct config_enum_entry iterative_scan_values[] = {
    {"off", static_cast<int>(IterativeScan::Off), false},
    {"strict_order", static_cast<int>(IterativeScan::StrictOrder), false},
    {"relaxed_order", static_cast<int>(IterativeScan::RelaxedOrder), false},
    {nullptr, 0, false},
};

void define_gucs() {
    DefineCustomIntVariable("rabitq.probes", "Number of lists a rabitq index scan probes first.",
                            "0 chooses automatically: twice the square root of the number of lists.",
                            &guc_probes, 0, 0, kMaxLists, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("rabitq.max_probes",
                            "Most lists a rabitq index scan probes when it continues past rabitq.probes.",
                            "Continuation happens when the executor asks for more rows than the first lists "
                            "hold, e.g. under a selective WHERE clause. Values below rabitq.probes mean "
                            "rabitq.probes.",
                            &guc_max_probes, kMaxLists, 1, kMaxLists, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomRealVariable("rabitq.epsilon", "Error-bound multiplier of the RaBitQ distance estimator.",
                             "Larger values rerank more candidates exactly: higher recall, slower scans.",
                             &guc_epsilon, 1.9, 0.0, 10.0, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomEnumVariable("rabitq.iterative_scan", "How a rabitq index scan continues past rabitq.probes.",
                             "off: stop after the first lists. strict_order: probe further lists and skip rows "
                             "closer than one already returned, so results stay in distance order. "
                             "relaxed_order: probe further lists and return every row found.",
                             &guc_iterative_scan, static_cast<int>(IterativeScan::StrictOrder),
                             iterative_scan_values, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("rabitq.build_threads", "Worker threads used to build a rabitq index.", nullptr,
                            &guc_build_threads, 2, 1, 64, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("rabitq.query_bits", "Bits per dimension of the quantized query in rabitq scans.",
                            nullptr, &guc_query_bits, 4, 1, 8, PGC_USERSET, 0, nullptr, nullptr, nullptr);
#if PG_VERSION_NUM >= 150000
    MarkGUCPrefixReserved("rabitq");
#else
    EmitWarningsOnPlaceholders("rabitq");
#endif
}

void define_reloptions() {
    rabitq_relopt_kind = add_reloption_kind();
    add_int_reloption(rabitq_relopt_kind, "lists",
                      "Number of IVF lists (1 = flat index); by default chosen from the row count", 0, 1,
                      kMaxLists, AccessExclusiveLock);
    add_int_reloption(rabitq_relopt_kind, "seed", "Seed of the random rotation and of k-means", kDefaultSeed, 0,
                      PG_INT32_MAX, AccessExclusiveLock);
    add_string_reloption(rabitq_relopt_kind, "rotation", "Random rotation: hadamard or haar", "hadamard",
                         validate_rotation_option, AccessExclusiveLock);
    add_string_reloption(rabitq_relopt_kind, "rerank", "Source of exact vectors for reranking: heap or index",
                         "heap", validate_rerank_option, AccessExclusiveLock);
}

}  // namespace

uint32 effective_probes(uint32 list_count) {
    if (list_count == 0) return 0;
    // Automatic: 2 sqrt(lists), which reached recall@10 >= 0.95 on SIFT and word-vector samples of 5k to 70k
    // rows with the default list count (one list per 1000 rows).
    uint32 probes = guc_probes > 0 ? static_cast<uint32>(guc_probes)
                                   : static_cast<uint32>(std::ceil(2.0 * std::sqrt(static_cast<double>(list_count))));
    return probes > list_count ? list_count : probes;
}

uint32 effective_max_probes(uint32 list_count) {
    uint32 probes = effective_probes(list_count);
    if (static_cast<IterativeScan>(guc_iterative_scan) == IterativeScan::Off) return probes;
    uint32 bound = static_cast<uint32>(guc_max_probes);
    if (bound < probes) bound = probes;
    return bound > list_count ? list_count : bound;
}

}  // namespace rulake::am

namespace rulake::pg {
void register_index_settings() {
    rulake::am::define_gucs();
    rulake::am::define_reloptions();
}
}  // namespace rulake::pg
