// Bounded walks along a list's page chain (see rulake/core/chain_bound.hpp).
#include "rulake/core/chain_bound.hpp"
#include "rabitq_am.hpp"

extern "C" {
#include "storage/bufmgr.h"
}

namespace rulake::am {

void enter_chain_block(Relation index, core::ChainBound* bound, BlockNumber block) {
    CHECK_FOR_INTERRUPTS();
    core::ChainStep step = bound->check(block);
    if (step != core::ChainStep::Ok) {
        // The relation may have grown since the count was taken (inserts append pages): look again.
        bound->update_block_count(RelationGetNumberOfBlocks(index));
        step = bound->check(block);
    }
    if (step == core::ChainStep::PastEnd)
        ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                        errmsg("index \"%s\" is not a valid rabitq index", RelationGetRelationName(index)),
                        errdetail("A page chain links to block %u, beyond the end of the index.", block),
                        errhint("REINDEX the index.")));
    if (step == core::ChainStep::TooLong)
        ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                        errmsg("index \"%s\" is not a valid rabitq index", RelationGetRelationName(index)),
                        errdetail("A page chain is longer than the index has blocks (it has a cycle)."),
                        errhint("REINDEX the index.")));
    bound->step();
}

}  // namespace rulake::am
