// Bulk loading of cache relations (see lake_cache_writer.hpp).
#include <cstring>

#include "lake_cache_writer.hpp"
#include "lake_roles.hpp"
#include "rulake/pg/vector_datum.hpp"

extern "C" {
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
}

namespace rulake::lake {

using pg::pg_call;

CacheRelationWriter::CacheRelationWriter(Oid relation, int32_t dim) : dim_(dim) {
    const Oid vector_type = vector_type_oid();
    pg_call([&] {
        relation_ = table_open(relation, RowExclusiveLock);
        TupleDesc descriptor = RelationGetDescr(relation_);
        if (descriptor->natts != 2 || TupleDescAttr(descriptor, 0)->atttypid != INT8OID ||
            TupleDescAttr(descriptor, 1)->atttypid != vector_type) {
            elog(ERROR, "relation \"%s\" is not a ruLake cache relation", RelationGetRelationName(relation_));
        }
        bulk_ = GetBulkInsertState();
        for (TupleTableSlot*& slot : slots_) slot = table_slot_create(relation_, nullptr);
        batch_context_ = AllocSetContextCreate(CurrentMemoryContext, "ruLake cache load", ALLOCSET_DEFAULT_SIZES);
        command_id_ = GetCurrentCommandId(true);
    });
}

void CacheRelationWriter::append(int64_t id, const float* vector) {
    TupleTableSlot* slot = slots_[buffered_];
    pg_call([&] {
        ExecClearTuple(slot);
        MemoryContext old = MemoryContextSwitchTo(batch_context_);
        pg::VectorDatum* datum = pg::new_vector(static_cast<size_t>(dim_));
        memcpy(datum->x, vector, sizeof(float) * static_cast<size_t>(dim_));
        MemoryContextSwitchTo(old);
        slot->tts_values[0] = Int64GetDatum(id);
        slot->tts_isnull[0] = false;
        slot->tts_values[1] = PointerGetDatum(datum);
        slot->tts_isnull[1] = false;
        ExecStoreVirtualTuple(slot);
    });
    ++buffered_;
    ++rows_;
    if (buffered_ == kBatchRows) flush();
}

void CacheRelationWriter::flush() {
    if (buffered_ == 0) return;
    pg_call([&] {
        CHECK_FOR_INTERRUPTS();
        MemoryContext old = MemoryContextSwitchTo(batch_context_);
        table_multi_insert(relation_, slots_, buffered_, command_id_, 0, bulk_);
        MemoryContextSwitchTo(old);
        for (int i = 0; i < buffered_; ++i) ExecClearTuple(slots_[i]);
        MemoryContextReset(batch_context_);
    });
    buffered_ = 0;
}

uint64_t CacheRelationWriter::finish() {
    flush();
    pg_call([&] {
        FreeBulkInsertState(bulk_);
        bulk_ = nullptr;
        for (TupleTableSlot*& slot : slots_) {
            ExecDropSingleTupleTableSlot(slot);
            slot = nullptr;
        }
        MemoryContextDelete(batch_context_);
        batch_context_ = nullptr;
        table_close(relation_, NoLock);
        relation_ = nullptr;
    });
    return rows_;
}

}  // namespace rulake::lake
