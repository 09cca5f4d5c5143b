// ambulkdelete / amvacuumcleanup of rabitq.
//
// Bulk delete walks every list's data chain once, in chain order, with lock coupling: it holds the
// previous page exclusively while it locks the next one. On each page it asks the callback about every
// record's heap TID and compacts the page over the dead ones (one Generic WAL record per changed page).
// A page left empty that is neither the list's head (scans start there; it never changes) nor its tail
// (inserts append there) is unlinked: one Generic WAL record sets the previous page's `next` past it and
// turns it into a Free page that keeps its own `next` and records the next transaction ID. Records never
// move between pages, so a scan (one shared page lock at a time, in chain order) never misses nor
// repeats a row. Afterwards the list's directory entry gets its new tuple and page counts.
//
// Cleanup walks the relation once and hands every Free page whose recorded transaction ID is older than
// every running transaction's snapshot to the free space map (inserts take pages from there before they
// extend the relation). Until then a scan or insert that read a pointer to the page before it was
// unlinked may still step onto it, find it Free and follow its `next`; once reused it would lead into
// another list. So pages freed by one VACUUM are usually recycled by the next one (PostgreSQL 14 and
// later; older servers never recycle them).
//
// Vector pages (rerank = 'index') are left alone: records point into them and scans keep those
// locations, so vectors never move; the space of removed rows' vectors comes back with REINDEX.
//
// Cost: each data page is read once by bulk delete and each page once by cleanup (linear in the index).
#include <cstring>
#include <memory>
#include <vector>

#include "rabitq_am.hpp"

extern "C" {
#include "access/generic_xlog.h"
#include "access/transam.h"
#include "commands/vacuum.h"
#include "storage/bufmgr.h"
#include "storage/indexfsm.h"
#include "storage/lmgr.h"
#include "utils/snapmgr.h"
}

namespace rulake::am {

namespace {

struct ListVacuumResult {
    double kept = 0;
    double removed = 0;
    uint32 removed_sealed = 0;  // removed from pages before the tail (counted in the directory)
    uint32 pages_unlinked = 0;
};

// Compacts page (exclusively locked, registered or not) over its dead records: returns the number of
// records kept. dead[r] tells which records go.
uint32 compact_records(Page page, const bool* dead, uint32 count, size_t stride) {
    char* records = page_contents(page);
    uint32 kept = 0;
    for (uint32 r = 0; r < count; ++r) {
        if (dead[r]) continue;
        if (kept != r) memmove(records + kept * stride, records + r * stride, stride);
        ++kept;
    }
    memset(records + kept * stride, 0, (count - kept) * stride);
    page_opaque(page)->count = kept;
    set_contents_size(page, kept * stride);
    return kept;
}

// Checks that the locked buffer holds a data page with a plausible count, else raises.
void check_data_page(Relation index, const RabitqMetaData* meta, Buffer buffer) {
    Page page = BufferGetPage(buffer);
    if (PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(sizeof(RabitqPageOpaque)) ||
        page_opaque(page)->page_id != kRabitqPageId || page_opaque(page)->kind != static_cast<uint16>(PageKind::Data) ||
        page_opaque(page)->count > meta->records_per_page)
        ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                        errmsg("index \"%s\" is not a valid rabitq index", RelationGetRelationName(index)),
                        errdetail("Block %u is not a valid data page.", BufferGetBlockNumber(buffer)),
                        errhint("REINDEX the index.")));
}

// Removes the dead records of one list and unlinks its emptied middle pages. Plain Postgres code (run
// under pg_call; no C++ objects). Locks: at most two data pages of the list, in chain order.
ListVacuumResult vacuum_list(IndexVacuumInfo* info, const RabitqMetaData* meta, BlockNumber head,
                             IndexBulkDeleteCallback callback, void* callback_state) {
    Relation index = info->index;
    const size_t stride = meta->record_stride;
    const size_t tid_offset = record_layout(meta->code_bits, static_cast<RerankSource>(meta->rerank)).tid_offset;
    ListVacuumResult result;
    bool dead[kPageUsableBytes / 24 + 1];

    // previous: the locked page before `block` in the chain (InvalidBuffer at the head).
    Buffer previous = InvalidBuffer;
    BlockNumber block = head;
    core::ChainBound bound;
    while (block != InvalidBlockNumber) {
        vacuum_delay_point();
        enter_chain_block(index, &bound, block);
        Buffer buffer = ReadBufferExtended(index, MAIN_FORKNUM, block, RBM_NORMAL, info->strategy);
        LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
        check_data_page(index, meta, buffer);
        Page page = BufferGetPage(buffer);
        const uint32 count = page_opaque(page)->count;

        // Ask the callback once per record (it may collect TIDs, as CREATE INDEX CONCURRENTLY's does).
        uint32 dead_count = 0;
        for (uint32 r = 0; r < count; ++r) {
            ItemPointerData tid;
            memcpy(&tid, page_contents(page) + r * stride + tid_offset, sizeof(tid));
            dead[r] = callback(&tid, callback_state);
            dead_count += dead[r];
        }
        const BlockNumber next = page_opaque(page)->next;
        const bool unlink = previous != InvalidBuffer && next != InvalidBlockNumber && dead_count == count;

        if (unlink) {
            // The page ends up empty in the middle of the chain: bypass it and mark it Free.
            GenericXLogState* state = GenericXLogStart(index);
            Page previous_page = GenericXLogRegisterBuffer(state, previous, 0);
            Page target = GenericXLogRegisterBuffer(state, buffer, GENERIC_XLOG_FULL_IMAGE);
            page_opaque(previous_page)->next = next;
            init_page(target, PageKind::Free);
            page_opaque(target)->next = next;
#if PG_VERSION_NUM >= 140000
            uint64 xid = U64FromFullTransactionId(ReadNextFullTransactionId());
#else
            uint64 xid = 0;
#endif
            memcpy(page_contents(target), &xid, sizeof(xid));
            set_contents_size(target, sizeof(xid));
            GenericXLogFinish(state);
            UnlockReleaseBuffer(buffer);
            result.removed += count;
            result.removed_sealed += count;
            result.pages_unlinked += 1;
            // previous stays locked: it is still the page before `next`.
        } else {
            if (dead_count > 0) {
                GenericXLogState* state = GenericXLogStart(index);
                compact_records(GenericXLogRegisterBuffer(state, buffer, 0), dead, count, stride);
                GenericXLogFinish(state);
            }
            result.removed += dead_count;
            if (next != InvalidBlockNumber) result.removed_sealed += dead_count;
            result.kept += count - dead_count;
            if (previous != InvalidBuffer) UnlockReleaseBuffer(previous);
            previous = buffer;
        }
        block = next;
    }
    if (previous != InvalidBuffer) UnlockReleaseBuffer(previous);
    return result;
}

// Lowers list `list`'s sealed record and page counts (inserts may have chained pages meanwhile; a page
// that was not the tail when vacuum changed it was sealed before, with its records counted).
void update_directory(Relation index, const RabitqMetaData* meta, uint32 list, uint32 removed, uint32 pages_unlinked) {
    Buffer buffer = ReadBuffer(index, meta->directory_start + static_cast<BlockNumber>(list / kDirectoryEntriesPerPage));
    LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
    GenericXLogState* state = GenericXLogStart(index);
    Page page = GenericXLogRegisterBuffer(state, buffer, 0);
    RabitqListEntry* entry = reinterpret_cast<RabitqListEntry*>(page_contents(page)) + list % kDirectoryEntriesPerPage;
    entry->sealed_records = entry->sealed_records >= removed ? entry->sealed_records - removed : 0;
    entry->pages = entry->pages > pages_unlinked ? entry->pages - pages_unlinked : 1;
    GenericXLogFinish(state);
    UnlockReleaseBuffer(buffer);
}

// Records on a tail page (0 if it is not a data page).
uint32 tail_count(Relation index, BlockNumber tail) {
    uint32 count = 0;
    {
        core::ChainBound bound;
        enter_chain_block(index, &bound, tail);  // a corrupted tail must not be P_NEW (InvalidBlockNumber)
        Buffer buffer = ReadBuffer(index, tail);
        LockBuffer(buffer, BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buffer);
        if (!PageIsNew(page) && page_opaque(page)->kind == static_cast<uint16>(PageKind::Data)) count = page_opaque(page)->count;
        UnlockReleaseBuffer(buffer);
    }
    return count;
}

// Records in the index: each list's sealed count from the directory plus its tail page's count (not
// exact while inserts run). Plain Postgres code; the directory page is released before tails are read.
double count_tuples(Relation index, const RabitqMetaData* meta) {
    double total = 0;
    for (uint32 i = 0; i < meta->directory_pages; ++i) {
        BlockNumber tails[kDirectoryEntriesPerPage];
        uint32 entry_count = 0;
        Buffer buffer = ReadBuffer(index, meta->directory_start + i);
        LockBuffer(buffer, BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buffer);
        auto* entries = reinterpret_cast<const RabitqListEntry*>(page_contents(page));
        for (uint32 e = 0; e < page_opaque(page)->count && e < kDirectoryEntriesPerPage; ++e) {
            total += entries[e].sealed_records;
            tails[entry_count++] = entries[e].tail;
        }
        UnlockReleaseBuffer(buffer);
        for (uint32 e = 0; e < entry_count; ++e) total += tail_count(index, tails[e]);
    }
    return total;
}


// Walks every block once: counts Free pages (pages_deleted) and hands those that no transaction can
// still reach to the free space map (pages_free). Plain Postgres code (run under pg_call).
void recycle_free_pages(IndexVacuumInfo* info, IndexBulkDeleteResult* stats) {
    Relation index = info->index;
    const BlockNumber blocks = RelationGetNumberOfBlocks(index);
    stats->pages_deleted = 0;
    stats->pages_free = 0;
    for (BlockNumber block = 1; block < blocks; ++block) {
        vacuum_delay_point();
        Buffer buffer = ReadBufferExtended(index, MAIN_FORKNUM, block, RBM_NORMAL, info->strategy);
        LockBuffer(buffer, BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buffer);
        bool free_page = !PageIsNew(page) && PageGetSpecialSize(page) == MAXALIGN(sizeof(RabitqPageOpaque)) &&
                         page_opaque(page)->page_id == kRabitqPageId &&
                         page_opaque(page)->kind == static_cast<uint16>(PageKind::Free);
        const bool reusable = free_page && free_page_recyclable(page);
        UnlockReleaseBuffer(buffer);
        if (!free_page) continue;
        stats->pages_deleted += 1;
        if (reusable) {
            RecordFreeIndexPage(index, block);
            stats->pages_free += 1;
        }
    }
    IndexFreeSpaceMapVacuum(index);
}

}  // namespace

IndexBulkDeleteResult* rabitq_bulk_delete(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                                          IndexBulkDeleteCallback callback, void* callback_state) {
    return pg::guard_entry([&] {
        if (stats == nullptr)
            stats = pg::pg_call([] { return static_cast<IndexBulkDeleteResult*>(palloc0(sizeof(IndexBulkDeleteResult))); });
        std::shared_ptr<const IndexData> data = index_data(info->index);
        const RabitqMetaData meta = data->meta;
        double kept = 0;
        for (uint32 list = 0; list < meta.list_count; ++list) {
            BlockNumber head = data->list_heads[list];
            ListVacuumResult result = pg::pg_call([&] { return vacuum_list(info, &meta, head, callback, callback_state); });
            if (result.removed > 0 || result.pages_unlinked > 0)
                pg::pg_call([&] {
                    update_directory(info->index, &meta, list, result.removed_sealed, result.pages_unlinked);
                });
            kept += result.kept;
            stats->tuples_removed += result.removed;
#if PG_VERSION_NUM >= 140000
            stats->pages_newly_deleted += result.pages_unlinked;
#endif
        }
        stats->num_index_tuples = kept;
        stats->estimated_count = false;
        stats->num_pages = pg::pg_call([&] { return RelationGetNumberOfBlocks(info->index); });
        return stats;
    });
}

IndexBulkDeleteResult* rabitq_vacuum_cleanup(IndexVacuumInfo* info, IndexBulkDeleteResult* stats) {
    return pg::guard_entry([&]() -> IndexBulkDeleteResult* {
        if (info->analyze_only) return stats;
        if (stats == nullptr) {
            // No bulk delete ran (nothing to remove): report the directory's counts.
            RabitqMetaData meta;
            read_metapage(info->index, &meta);
            stats = pg::pg_call([&] {
                auto* result = static_cast<IndexBulkDeleteResult*>(palloc0(sizeof(IndexBulkDeleteResult)));
                result->num_index_tuples = count_tuples(info->index, &meta);
                return result;
            });
            stats->estimated_count = false;
        }
        pg::pg_call([&] { recycle_free_pages(info, stats); });
        stats->num_pages = pg::pg_call([&] { return RelationGetNumberOfBlocks(info->index); });
        return stats;
    });
}

}  // namespace rulake::am
