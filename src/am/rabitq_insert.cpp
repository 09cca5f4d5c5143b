// aminsert of rabitq: encode the new row against its nearest list's centroid and append the record to
// that list's tail page (and, with rerank = 'index', the vector to the list's tail vector page),
// WAL-logged with Generic WAL.
//
// Locks: a tail page (exclusive), then, when it is full, a recycled Free page from the free space map
// (conditional lock) or the relation extension lock and a new page, then the list's directory page
// (exclusive); all released before the next append. A backend never waits
// for a data or vector page while it holds a directory page, so inserters, scans (one shared page lock at
// a time) and vacuum cannot deadlock.
// An index built on an empty table has a single list with the zero centroid; rows inserted later go
// there (a REINDEX trains real lists).
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "rulake/core/kmeans.hpp"
#include "rulake/core/rabitq.hpp"
#include "rabitq_am.hpp"
#include "rulake/pg/vector_datum.hpp"

extern "C" {
#include "access/generic_xlog.h"
#include "storage/bufmgr.h"
#include "storage/indexfsm.h"
#include "storage/lmgr.h"
}

namespace rulake::am {

namespace {

// A new page for a chain, exclusively locked: a Free page from the free space map when there is one
// (vacuum lists only pages no running transaction can reach), else a page appended under the relation
// extension lock. The caller initialises it (as a full-image Generic WAL page). Only conditional locks
// are taken on recycled pages, so holding a tail page meanwhile cannot deadlock. Plain Postgres code.
Buffer new_page(Relation index) {
    for (;;) {
        BlockNumber block = GetFreeIndexPage(index);
        if (block == InvalidBlockNumber) break;
        Buffer buffer = ReadBuffer(index, block);
        if (ConditionalLockBuffer(buffer)) {
            Page page = BufferGetPage(buffer);
            // The free space map is not crash-safe: check that the page is still free and recyclable.
            if (!PageIsNew(page) && PageGetSpecialSize(page) == MAXALIGN(sizeof(RabitqPageOpaque)) &&
                page_opaque(page)->page_id == kRabitqPageId &&
                page_opaque(page)->kind == static_cast<uint16>(PageKind::Free) && free_page_recyclable(page))
                return buffer;
            LockBuffer(buffer, BUFFER_LOCK_UNLOCK);
        }
        ReleaseBuffer(buffer);  // taken by someone else meanwhile: try the next one
    }
    LockRelationForExtension(index, ExclusiveLock);
    Buffer buffer = ReadBuffer(index, P_NEW);
    LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
    UnlockRelationForExtension(index, ExclusiveLock);
    return buffer;
}

// Appends one item (a record, or with vectors = true a vector) of item_bytes bytes, at most per_page per
// page, to list `list`'s data (or vector) chain; returns where it went. One Generic WAL record covers
// the tail page, and when the tail is full also the new page and the list's directory entry (new tail,
// page count, the full page's records added to the sealed count). Plain Postgres code
// (run under pg_call; no C++ objects).
void append_to_list(Relation index, const RabitqMetaData* meta, uint32 list, bool vectors, const void* item,
                    size_t item_bytes, size_t per_page, BlockNumber* block_out, uint16* slot_out) {
    const BlockNumber directory_block = meta->directory_start + static_cast<BlockNumber>(list / kDirectoryEntriesPerPage);
    const size_t entry_index = list % kDirectoryEntriesPerPage;
    const PageKind kind = vectors ? PageKind::Vector : PageKind::Data;

    // The list's tail as the directory last recorded it; the chain is followed if it grew meanwhile.
    Buffer directory = ReadBuffer(index, directory_block);
    LockBuffer(directory, BUFFER_LOCK_SHARE);
    const RabitqListEntry* current = reinterpret_cast<RabitqListEntry*>(page_contents(BufferGetPage(directory))) + entry_index;
    BlockNumber tail = vectors ? current->vector_tail : current->tail;
    UnlockReleaseBuffer(directory);

    core::ChainBound bound;
    for (;;) {
        enter_chain_block(index, &bound, tail);
        Buffer buffer = ReadBuffer(index, tail);
        LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
        Page page = BufferGetPage(buffer);
        // A Free page was unlinked by vacuum after the directory was read: its `next` leads back into the
        // chain (it cannot have been recycled while this transaction runs; see rabitq_vacuum.cpp).
        const bool free_page = !vectors && page_opaque(page)->kind == static_cast<uint16>(PageKind::Free);
        if (PageIsNew(page) || page_opaque(page)->page_id != kRabitqPageId ||
            (page_opaque(page)->kind != static_cast<uint16>(kind) && !free_page) || page_opaque(page)->count > per_page)
            ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                            errmsg("index \"%s\" is not a valid rabitq index", RelationGetRelationName(index)),
                            errdetail("Block %u is not a valid %s page.", tail, vectors ? "vector" : "data"),
                            errhint("REINDEX the index.")));
        if (free_page && page_opaque(page)->next == InvalidBlockNumber)
            elog(ERROR, "rabitq index \"%s\": free block %u ends a chain", RelationGetRelationName(index), tail);
        if (page_opaque(page)->next != InvalidBlockNumber) {
            tail = page_opaque(page)->next;
            UnlockReleaseBuffer(buffer);
            continue;
        }

        GenericXLogState* state = GenericXLogStart(index);
        uint32 count = page_opaque(page)->count;
        Buffer new_buffer = InvalidBuffer;
        Page target;
        if (count < per_page) {
            target = GenericXLogRegisterBuffer(state, buffer, 0);
        } else {
            // The tail is full: chain a new page to it, recycled or appended.
            new_buffer = new_page(index);
            Page old_page = GenericXLogRegisterBuffer(state, buffer, 0);
            target = GenericXLogRegisterBuffer(state, new_buffer, GENERIC_XLOG_FULL_IMAGE);
            init_page(target, kind);
            page_opaque(old_page)->next = BufferGetBlockNumber(new_buffer);
            count = 0;
        }
        memcpy(page_contents(target) + count * item_bytes, item, item_bytes);
        page_opaque(target)->count = count + 1;
        set_contents_size(target, (count + 1) * item_bytes);
        *block_out = BufferGetBlockNumber(new_buffer != InvalidBuffer ? new_buffer : buffer);
        *slot_out = static_cast<uint16>(count);

        // The directory changes only with a new tail: the old tail's records become sealed.
        directory = InvalidBuffer;
        if (new_buffer != InvalidBuffer) {
            directory = ReadBuffer(index, directory_block);
            LockBuffer(directory, BUFFER_LOCK_EXCLUSIVE);
            Page directory_page = GenericXLogRegisterBuffer(state, directory, 0);
            RabitqListEntry* entry = reinterpret_cast<RabitqListEntry*>(page_contents(directory_page)) + entry_index;
            if (vectors) {
                entry->sealed_vectors += per_page;
                entry->vector_tail = BufferGetBlockNumber(new_buffer);
                entry->vector_pages += 1;
            } else {
                entry->sealed_records += per_page;
                entry->tail = BufferGetBlockNumber(new_buffer);
                entry->pages += 1;
            }
        }
        GenericXLogFinish(state);

        if (directory != InvalidBuffer) UnlockReleaseBuffer(directory);
        if (new_buffer != InvalidBuffer) UnlockReleaseBuffer(new_buffer);
        UnlockReleaseBuffer(buffer);
        return;
    }
}

}  // namespace

bool rabitq_insert(Relation index, Datum* values, bool* isnull, ItemPointer heap_tid, Relation, IndexUniqueCheck,
                   bool, IndexInfo*) {
    return pg::guard_entry([&] {
        if (isnull[0]) return false;
        std::shared_ptr<const IndexData> data = index_data(index);
        const RabitqMetaData& meta = data->meta;
        const uint32 dim = meta.dim;

        std::vector<float> vector(vector_stride(dim) / sizeof(float), 0.0f);  // zero padding past dim
        int vector_dim = 0;
        pg::pg_call([&] {
            const pg::VectorDatum* v = pg::datum_get_vector(values[0]);
            vector_dim = v->dim;
            if (static_cast<uint32>(v->dim) == dim) memcpy(vector.data(), v->x, sizeof(float) * dim);
            if (reinterpret_cast<const char*>(v) != DatumGetPointer(values[0])) pfree(const_cast<pg::VectorDatum*>(v));
        });
        if (static_cast<uint32>(vector_dim) != dim) throw_dimension_mismatch(static_cast<int>(dim), vector_dim);

        std::vector<float> unit;
        const float* input = vector.data();
        if (data->metric() == core::Metric::Cosine) {
            double sum = 0;
            for (float x : vector) sum += static_cast<double>(x) * x;
            if (sum == 0) return false;  // a zero vector has no cosine distance: not indexed
            double norm = std::sqrt(sum);
            unit.resize(dim);
            for (uint32 i = 0; i < dim; ++i) unit[i] = static_cast<float>(vector[i] / norm);
            input = unit.data();
        }

        uint32 list = core::nearest_centroid(input, data->centroids.data(), meta.list_count, dim, data->metric());
        const RecordLayout layout = data->layout();
        std::vector<uint8> record(layout.stride, 0);
        core::RabitqEncoder encoder(*data->rotation, data->metric());
        core::RabitqFactors factors = encoder.encode(input, data->centroid(list), reinterpret_cast<uint64*>(record.data()));
        memcpy(record.data() + layout.factors_offset, &factors, sizeof(factors));
        memcpy(record.data() + layout.tid_offset, heap_tid, sizeof(ItemPointerData));

        pg::pg_call([&] {
            BlockNumber block;
            uint16 slot;
            if (data->rerank() == RerankSource::Index) {
                // The vector first (its own WAL record): a crash before the record is written only leaves
                // an unreferenced vector behind.
                append_to_list(index, &meta, list, true, vector.data(), vector_stride(dim), meta.vectors_per_page,
                               &block, &slot);
                memcpy(record.data() + layout.vector_slot_offset, &slot, sizeof(slot));
                memcpy(record.data() + layout.vector_block_offset, &block, sizeof(block));
            }
            append_to_list(index, &meta, list, false, record.data(), layout.stride, meta.records_per_page, &block, &slot);
        });
        return false;
    });
}

}  // namespace rulake::am
