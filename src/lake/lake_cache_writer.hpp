// Bulk loading of a cache relation (id bigint, embedding vector(dim)): rows are buffered and written
// with table_multi_insert, as COPY does. The relation must be new and have no index yet (indexes are
// built after the load, which is faster than maintaining them row by row).
//
// Contract: construct, append(), then finish(). If an exception ends the load early, the transaction
// that follows aborts and releases the relation, slots and buffer pins (the destructor does nothing).
#pragma once

#include <cstdint>

#include "rulake/pg/boundary.hpp"

extern "C" {
#include "access/heapam.h"
#include "executor/tuptable.h"
#include "utils/rel.h"
}

namespace rulake::lake {

class CacheRelationWriter {
  public:
    // Opens the relation (RowExclusiveLock, kept until the transaction ends) and checks its columns.
    CacheRelationWriter(Oid relation, int32_t dim);
    CacheRelationWriter(const CacheRelationWriter&) = delete;
    CacheRelationWriter& operator=(const CacheRelationWriter&) = delete;

    // Adds one row. vector holds dim() finite floats (checked by the caller: file readers and the
    // vector type already guarantee it).
    void append(int64_t id, const float* vector);
    // Writes what is buffered and closes the relation; returns the number of rows written.
    uint64_t finish();

    int32_t dim() const { return dim_; }

    static constexpr int kBatchRows = 1000;

  private:
    void flush();

    Relation relation_ = nullptr;
    int32_t dim_;
    BulkInsertState bulk_ = nullptr;
    TupleTableSlot* slots_[kBatchRows] = {};
    int buffered_ = 0;
    MemoryContext batch_context_ = nullptr;
    CommandId command_id_ = 0;
    uint64_t rows_ = 0;
};

}  // namespace rulake::lake
