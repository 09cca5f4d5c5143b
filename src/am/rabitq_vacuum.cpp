// ambulkdelete / amvacuumcleanup of rabitq.
//
// Bulk delete walks every list's chain, page by page under an exclusive lock, asks the callback about
// each record's heap TID and compacts the page over the dead ones (one Generic WAL record per changed
// page), then lowers the list's count in the directory. Pages are never freed: an emptied page stays in
// its chain (inserts keep appending at the tail). Vector pages (rerank = 'index') are left alone: records
// point into them and scans keep those locations, so vectors never move; the space of removed rows'
// vectors comes back with REINDEX.
#include <cstring>
#include <memory>
#include <vector>

#include "rabitq_am.hpp"

extern "C" {
#include "access/generic_xlog.h"
#include "commands/vacuum.h"
#include "storage/bufmgr.h"
}

namespace rulake::am {

namespace {

struct ListVacuumResult {
    double kept;
    double removed;
};

// Removes the dead records of one list. Plain Postgres code (run under pg_call; no C++ objects).
ListVacuumResult vacuum_list(IndexVacuumInfo* info, const RabitqMetaData* meta, BlockNumber head,
                             IndexBulkDeleteCallback callback, void* callback_state) {
    Relation index = info->index;
    const size_t stride = meta->record_stride;
    const size_t tid_offset = record_layout(meta->code_bits, static_cast<RerankSource>(meta->rerank)).tid_offset;
    ListVacuumResult result{0, 0};
    for (BlockNumber block = head; block != InvalidBlockNumber;) {
        vacuum_delay_point();
        Buffer buffer = ReadBufferExtended(index, MAIN_FORKNUM, block, RBM_NORMAL, info->strategy);
        LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
        Page page = BufferGetPage(buffer);
        if (page_opaque(page)->kind != static_cast<uint16>(PageKind::Data) || page_opaque(page)->count > meta->records_per_page)
            elog(ERROR, "rabitq index \"%s\": block %u is not a valid data page", RelationGetRelationName(index), block);
        uint32 count = page_opaque(page)->count;

        // Ask the callback once per record (it may collect TIDs, as CREATE INDEX CONCURRENTLY's does).
        bool dead[kPageUsableBytes / 24 + 1];
        bool any_dead = false;
        for (uint32 r = 0; r < count; ++r) {
            ItemPointerData tid;
            memcpy(&tid, page_contents(page) + r * stride + tid_offset, sizeof(tid));
            dead[r] = callback(&tid, callback_state);
            any_dead |= dead[r];
        }
        if (any_dead) {
            GenericXLogState* state = GenericXLogStart(index);
            Page target = GenericXLogRegisterBuffer(state, buffer, 0);
            char* records = page_contents(target);
            uint32 kept = 0;
            for (uint32 r = 0; r < count; ++r) {
                if (dead[r]) continue;
                if (kept != r) memmove(records + kept * stride, records + r * stride, stride);
                ++kept;
            }
            memset(records + kept * stride, 0, (count - kept) * stride);
            page_opaque(target)->count = kept;
            set_contents_size(target, kept * stride);
            GenericXLogFinish(state);
            result.removed += count - kept;
            result.kept += kept;
        } else {
            result.kept += count;
        }
        BlockNumber next = page_opaque(page)->next;
        UnlockReleaseBuffer(buffer);
        block = next;
    }
    return result;
}

// Lowers list `list`'s tuple count by removed (other changes may have happened meanwhile).
void update_directory(Relation index, const RabitqMetaData* meta, uint32 list, uint32 removed) {
    Buffer buffer = ReadBuffer(index, meta->directory_start + static_cast<BlockNumber>(list / kDirectoryEntriesPerPage));
    LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
    GenericXLogState* state = GenericXLogStart(index);
    Page page = GenericXLogRegisterBuffer(state, buffer, 0);
    RabitqListEntry* entry = reinterpret_cast<RabitqListEntry*>(page_contents(page)) + list % kDirectoryEntriesPerPage;
    entry->tuples = entry->tuples >= removed ? entry->tuples - removed : 0;
    GenericXLogFinish(state);
    UnlockReleaseBuffer(buffer);
}

// Sum of the directory's per-list counts.
double count_tuples(Relation index, const RabitqMetaData* meta) {
    double total = 0;
    for (uint32 i = 0; i < meta->directory_pages; ++i) {
        Buffer buffer = ReadBuffer(index, meta->directory_start + i);
        LockBuffer(buffer, BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buffer);
        auto* entries = reinterpret_cast<const RabitqListEntry*>(page_contents(page));
        for (uint32 e = 0; e < page_opaque(page)->count && e < kDirectoryEntriesPerPage; ++e) total += entries[e].tuples;
        UnlockReleaseBuffer(buffer);
    }
    return total;
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
            if (result.removed > 0)
                pg::pg_call([&] { update_directory(info->index, &meta, list, static_cast<uint32>(result.removed)); });
            kept += result.kept;
            stats->tuples_removed += result.removed;
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
        stats->num_pages = pg::pg_call([&] { return RelationGetNumberOfBlocks(info->index); });
        return stats;
    });
}

}  // namespace rulake::am
