// rabitq_handler(internal): the IndexAmRoutine of the rabitq access method (IVF lists of RaBitQ codes,
// ordered scans with exact rerank). Ordered scans only: no quals, no bitmaps, no backward scans.
#include "rabitq_am.hpp"

extern "C" {
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "nodes/nodes.h"
}

namespace rulake::am {

char* rabitq_build_phase_name(int64 phase) {
    switch (phase) {
        case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE: return const_cast<char*>("initializing");
        case kPhaseSampling: return const_cast<char*>("sampling tuples");
        case kPhaseTraining: return const_cast<char*>("training centroids");
        case kPhaseAssigning: return const_cast<char*>("assigning and encoding tuples");
        case kPhaseWriting: return const_cast<char*>("writing index pages");
        default: return nullptr;
    }
}

}  // namespace rulake::am

#if PG_VERSION_NUM < 140000
// Before PostgreSQL 14 aminsert had no indexUnchanged argument.
static bool rabitq_insert_pg13(Relation index, Datum* values, bool* isnull, ItemPointer heap_tid, Relation heap,
                               IndexUniqueCheck check_unique, IndexInfo* info) {
    return rulake::am::rabitq_insert(index, values, isnull, heap_tid, heap, check_unique, false, info);
}
#endif

// The access method's entry point (CREATE ACCESS METHOD rabitq ... HANDLER rabitq_handler).
RULAKE_FUNCTION(rabitq_handler) {
    using namespace rulake::am;
    IndexAmRoutine* routine = rulake::pg::pg_call([] { return makeNode(IndexAmRoutine); });

    routine->amstrategies = 1;
    routine->amsupport = 1;
    routine->amoptsprocnum = 0;
    routine->amcanorder = false;
    routine->amcanorderbyop = true;
    routine->amcanbackward = false;
    routine->amcanunique = false;
    routine->amcanmulticol = false;
    routine->amoptionalkey = true;
    routine->amsearcharray = false;
    routine->amsearchnulls = false;
    routine->amstorage = false;
    routine->amclusterable = false;
    routine->ampredlocks = false;
    routine->amcanparallel = false;
    routine->amcaninclude = false;
    routine->amusemaintenanceworkmem = true;
    routine->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
    routine->amkeytype = InvalidOid;

    routine->ambuild = rabitq_build;
    routine->ambuildempty = rabitq_build_empty;
#if PG_VERSION_NUM >= 140000
    routine->aminsert = rabitq_insert;
#else
    routine->aminsert = rabitq_insert_pg13;
#endif
    routine->ambulkdelete = rabitq_bulk_delete;
    routine->amvacuumcleanup = rabitq_vacuum_cleanup;
    routine->amcanreturn = nullptr;
    routine->amcostestimate = rabitq_cost_estimate;
    routine->amoptions = rabitq_options;
    routine->amproperty = nullptr;
    routine->ambuildphasename = rabitq_build_phase_name;
    routine->amvalidate = rabitq_validate;
    routine->ambeginscan = rabitq_begin_scan;
    routine->amrescan = rabitq_rescan;
    routine->amgettuple = rabitq_get_tuple;
    routine->amgetbitmap = nullptr;
    routine->amendscan = rabitq_end_scan;
    routine->ammarkpos = nullptr;
    routine->amrestrpos = nullptr;
    routine->amestimateparallelscan = nullptr;
    routine->aminitparallelscan = nullptr;
    routine->amparallelrescan = nullptr;

    PG_RETURN_POINTER(routine);
}
