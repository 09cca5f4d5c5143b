// Ordered index scans of rabitq (ambeginscan / amrescan / amgettuple / amendscan).
//
// A scan rotates the query once, ranks the lists by their centroid, and reads the nearest
// rabitq.probes lists: every record of a probed list becomes a candidate with a RaBitQ estimate and a
// lower bound. Rows then stream out in exact distance order:
//   * candidates wait in a min-heap by lower bound, exactly-scored rows in a min-heap by exact key;
//   * the best scored row is returned once its key is <= the smallest lower bound still unscored;
//   * otherwise the candidate with the smallest lower bound is scored exactly (from the heap tuple or
//     the index's vector page), with the same function the SQL operators use.
// When the executor keeps asking (a large LIMIT, or a WHERE clause discarding rows), further lists are
// opened in centroid order, each one before any row farther than its centroid is returned (iterative
// scan), up to rabitq.max_probes lists. A row closer than one already returned (a failed probabilistic
// bound, or a list opened late) is skipped in rabitq.iterative_scan = strict_order (the default), so the
// output is always in non-decreasing distance order; relaxed_order returns it anyway (out of order);
// off opens no list beyond the first ones.
//
// The scan state is a C++ object placed in the scan's memory context; a reset callback of that context
// runs its destructor (amendscan is skipped when the query fails). Postgres resources (heap fetch state,
// slot) are released in amendscan, or by the resource owner on error.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "rulake/core/rabitq.hpp"
#include "rabitq_am.hpp"
#include "rulake/pg/vector_datum.hpp"

extern "C" {
#include "access/relscan.h"
#include "access/tableam.h"
#include "executor/tuptable.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "utils/float.h"
#include "utils/snapmgr.h"
}

namespace rulake::am {

namespace {

// One record of a probed list, not yet scored exactly.
struct Candidate {
    float lower_bound;
    ItemPointerData tid;
    BlockNumber block;  // where its vector is (rerank = 'index')
    uint16 slot;
};

// A row with its exact order key.
struct ScoredRow {
    double key;
    ItemPointerData tid;
};

bool tid_less(const ItemPointerData& a, const ItemPointerData& b) {
    BlockNumber ba = ItemPointerGetBlockNumberNoCheck(&a), bb = ItemPointerGetBlockNumberNoCheck(&b);
    if (ba != bb) return ba < bb;
    return ItemPointerGetOffsetNumberNoCheck(&a) < ItemPointerGetOffsetNumberNoCheck(&b);
}

// Heap comparators (std::*_heap keep the largest on top, so these say "a comes after b"); ties are
// broken by TID so that equal distances come out in a deterministic order.
struct CandidateAfter {
    bool operator()(const Candidate& a, const Candidate& b) const {
        if (a.lower_bound != b.lower_bound) return a.lower_bound > b.lower_bound;
        return tid_less(b.tid, a.tid);
    }
};
struct ScoredAfter {
    bool operator()(const ScoredRow& a, const ScoredRow& b) const {
        if (a.key != b.key) return a.key > b.key;
        return tid_less(b.tid, a.tid);
    }
};

// The unscored candidates, ordered by lower bound lazily: most scans return a few rows and score only
// the candidates with the smallest bounds, so new candidates go to an unsorted pool and only the
// smallest few hundred at a time are moved into a heap. lowest_bound() and pop() behave like a
// min-heap over all candidates.
class CandidateQueue {
  public:
    bool empty() const { return heap_.empty() && pool_.empty(); }
    void clear() {
        heap_.clear();
        pool_.clear();
        pool_min_ = std::numeric_limits<float>::infinity();
    }
    // Room for count more candidates. Grows geometrically: reserving exactly size + count per page
    // would reallocate and copy the whole pool for every page read (quadratic in the rows probed).
    void reserve_more(size_t count) {
        const size_t needed = pool_.size() + count;
        if (needed > pool_.capacity()) pool_.reserve(std::max(needed, 2 * pool_.capacity()));
    }
    void append(const Candidate& c) {
        pool_.push_back(c);
        if (c.lower_bound < pool_min_) pool_min_ = c.lower_bound;
    }
    double lowest_bound() const {
        float heap_min = heap_.empty() ? std::numeric_limits<float>::infinity() : heap_.front().lower_bound;
        return static_cast<double>(std::min(heap_min, pool_min_));
    }
    // Removes and returns the candidate with the smallest lower bound (ties: smallest TID). Not empty().
    Candidate pop() {
        if (heap_.empty() || (!pool_.empty() && !(heap_.front().lower_bound < pool_min_))) refill();
        std::pop_heap(heap_.begin(), heap_.end(), CandidateAfter());
        Candidate c = heap_.back();
        heap_.pop_back();
        return c;
    }

  private:
    // Moves the smallest chunk of the pool (about 1/32 of it, at least 128) into the heap. The chunk's
    // largest bound is estimated from an evenly spaced sample of the bounds (exact for small pools);
    // any threshold is correct, it only decides how much moves now.
    void refill() {
        const size_t n = pool_.size();
        const size_t take = std::min(n, std::max<size_t>(128, n / 32));
        constexpr size_t kSample = 1024;
        if (n <= 2 * kSample) {
            bounds_.resize(n);
            for (size_t i = 0; i < n; ++i) bounds_[i] = pool_[i].lower_bound;
        } else {
            bounds_.resize(kSample);
            for (size_t i = 0; i < kSample; ++i) bounds_[i] = pool_[i * n / kSample].lower_bound;
        }
        const size_t rank = std::max<size_t>(1, take * bounds_.size() / n) - 1;
        std::nth_element(bounds_.begin(), bounds_.begin() + static_cast<ptrdiff_t>(rank), bounds_.end());
        const float threshold = bounds_[rank];
        size_t kept = 0;
        pool_min_ = std::numeric_limits<float>::infinity();
        for (size_t i = 0; i < n; ++i) {
            const Candidate& c = pool_[i];
            if (c.lower_bound <= threshold) {
                heap_.push_back(c);
            } else {
                pool_min_ = std::min(pool_min_, c.lower_bound);
                pool_[kept++] = c;
            }
        }
        pool_.resize(kept);
        std::make_heap(heap_.begin(), heap_.end(), CandidateAfter());
    }

    std::vector<Candidate> heap_;  // heap by CandidateAfter
    std::vector<Candidate> pool_;  // unordered
    std::vector<float> bounds_;    // scratch for refill()
    float pool_min_ = std::numeric_limits<float>::infinity();
};

class ScanState {
  public:
    ScanState(Relation index, MemoryContext context) : index_(index), context_(context) {
        tuple_context_ = pg::pg_call([&] {
            return AllocSetContextCreate(context, "rabitq scan tuple", ALLOCSET_SMALL_SIZES);
        });
    }

    // amrescan: takes the query from the ORDER BY argument and forgets the previous scan's rows.
    void rescan(const ScanKey orderbys, int norderbys) {
        started_ = false;
        no_rows_ = false;
        has_order_by_ = norderbys > 0;
        candidates_.clear();
        scored_.clear();
        lists_probed_ = 0;
        returned_any_ = false;
        last_key_ = -std::numeric_limits<double>::infinity();
        if (!has_order_by_) return;
        if (data_ == nullptr) data_ = index_data(index_);
        const uint32 dim = data_->meta.dim;

        if (orderbys[0].sk_flags & SK_ISNULL) {  // ORDER BY v <-> NULL: no row has a distance
            no_rows_ = true;
            return;
        }
        query_raw_.resize(dim);
        int query_dim = 0;
        pg::pg_call([&] {
            MemoryContext old = MemoryContextSwitchTo(tuple_context_);
            const pg::VectorDatum* v = pg::datum_get_vector(orderbys[0].sk_argument);
            MemoryContextSwitchTo(old);
            query_dim = v->dim;
            if (static_cast<uint32>(v->dim) == dim) memcpy(query_raw_.data(), v->x, sizeof(float) * dim);
            MemoryContextReset(tuple_context_);
        });
        if (static_cast<uint32>(query_dim) != dim) throw_dimension_mismatch(static_cast<int>(dim), query_dim);

        const float* input = query_raw_.data();
        if (data_->metric() == core::Metric::Cosine) {
            // The cosine distance to a zero vector is undefined (NaN): no row is returned.
            double sum = 0;
            for (float x : query_raw_) sum += static_cast<double>(x) * x;
            if (sum == 0) {
                no_rows_ = true;
                return;
            }
            double norm = std::sqrt(sum);
            query_unit_.resize(dim);
            for (uint32 i = 0; i < dim; ++i) query_unit_[i] = static_cast<float>(query_raw_[i] / norm);
            input = query_unit_.data();
        }
        query_.reset();
        query_.emplace(*data_->rotation, data_->metric(), input, static_cast<unsigned>(guc_query_bits));
        epsilon_ = static_cast<float>(guc_epsilon);
        mode_ = static_cast<IterativeScan>(guc_iterative_scan);
        first_probes_ = effective_probes(data_->meta.list_count);
        max_probes_ = effective_max_probes(data_->meta.list_count);
    }

    // amgettuple: the next row in distance order, or false when the scan is done.
    bool next(IndexScanDesc scan) {
        if (!has_order_by_)
            throw pg::SqlError(ERRCODE_FEATURE_NOT_SUPPORTED, "rabitq index scans require an ORDER BY distance operator");
        if (no_rows_) return false;
        if (!started_) start(scan);

        for (uint64 steps = 0;; ++steps) {
            if ((steps & 63) == 63) pg::pg_call([] { CHECK_FOR_INTERRUPTS(); });
            const double infinity = std::numeric_limits<double>::infinity();
            // Beyond the first lists, the next list is opened before any row farther than its centroid
            // is returned, so continued lists mostly hold rows farther than those already returned.
            const double frontier = lists_probed_ < max_probes_ ? list_keys_[lists_probed_] : infinity;
            const double lowest_bound = candidates_.empty() ? infinity : candidates_.lowest_bound();
            if (!scored_.empty() && scored_.front().key <= std::min(lowest_bound, frontier)) {
                std::pop_heap(scored_.begin(), scored_.end(), ScoredAfter());
                ScoredRow row = scored_.back();
                scored_.pop_back();
                // A row closer than one already returned (its estimate's bound failed, or its list was
                // opened late) is skipped in strict order and returned in relaxed order.
                if (returned_any_ && row.key < last_key_ && mode_ != IterativeScan::RelaxedOrder) continue;
                returned_any_ = true;
                last_key_ = std::max(last_key_, row.key);
                scan->xs_heaptid = row.tid;
                scan->xs_recheck = false;
                scan->xs_recheckorderby = false;
                scan->xs_orderbyvals[0] = Float8GetDatum(core::order_key_to_distance(data_->metric(), row.key));
                scan->xs_orderbynulls[0] = false;
                return true;
            }
            if (!candidates_.empty() && lowest_bound <= frontier) {
                Candidate candidate = candidates_.pop();
                double key;
                if (exact_key(scan, candidate, &key)) {
                    scored_.push_back(ScoredRow{key, candidate.tid});
                    std::push_heap(scored_.begin(), scored_.end(), ScoredAfter());
                }
                continue;
            }
            if (lists_probed_ < max_probes_) {
                probe_lists(1);
                continue;
            }
            return false;
        }
    }

    // amendscan: releases the Postgres resources the scan holds.
    void release() {
        pg::pg_call([&] {
            if (slot_ != nullptr) ExecDropSingleTupleTableSlot(slot_);
            if (fetch_ != nullptr) table_index_fetch_end(fetch_);
        });
        slot_ = nullptr;
        fetch_ = nullptr;
    }

  private:
    // First amgettuple after a rescan: checks the snapshot, ranks the lists, probes the first ones.
    void start(IndexScanDesc scan) {
        started_ = true;
        if (scan->xs_snapshot == nullptr || !IsMVCCSnapshot(scan->xs_snapshot))
            throw pg::SqlError(ERRCODE_FEATURE_NOT_SUPPORTED, "rabitq index scans require an MVCC snapshot");
        pg::pg_call([&] { pgstat_count_index_scan(index_); });
        const uint32 lists = data_->meta.list_count;
        std::vector<std::pair<double, uint32>> ranked(lists);
        for (uint32 l = 0; l < lists; ++l) ranked[l] = {query_->centroid_key(data_->centroid(l)), l};
        std::partial_sort(ranked.begin(), ranked.begin() + max_probes_, ranked.end());
        list_order_.resize(max_probes_);
        list_keys_.resize(max_probes_);
        for (uint32 i = 0; i < max_probes_; ++i) {
            list_keys_[i] = ranked[i].first;
            list_order_[i] = ranked[i].second;
        }
        probe_lists(first_probes_);
    }

    // Reads the next count lists of list_order_ and adds their records as candidates.
    void probe_lists(size_t count) {
        const RecordLayout layout = data_->layout();
        for (size_t i = 0; i < count && lists_probed_ < list_order_.size(); ++i) {
            uint32 list = list_order_[lists_probed_++];
            query_->set_list(data_->centroid(list), data_->rotated_centroid(list));
            core::ChainBound bound;
            for (BlockNumber block = data_->list_heads[list]; block != InvalidBlockNumber;) {
                Buffer buffer = pg::pg_call([&] {
                    enter_chain_block(index_, &bound, block);
                    Buffer b = ReadBuffer(index_, block);
                    LockBuffer(b, BUFFER_LOCK_SHARE);
                    return b;
                });
                Page page = BufferGetPage(buffer);
                // A page vacuum unlinked after this scan read the pointer to it: its `next` leads back into
                // the chain (it is not recycled while this scan's snapshot is held; see rabitq_vacuum.cpp).
                const bool free_page = !PageIsNew(page) && page_opaque(page)->kind == static_cast<uint16>(PageKind::Free) &&
                                       page_opaque(page)->page_id == kRabitqPageId;
                if (!free_page) check_page(index_, page, block, PageKind::Data);
                uint32 n = free_page ? 0 : page_opaque(page)->count;
                if (n > data_->meta.records_per_page) throw_corrupted(index_, "Data page " + std::to_string(block) + " claims too many records.");
                estimates_.resize(n);
                candidates_.reserve_more(n);
                const auto* base = reinterpret_cast<const uint8*>(page_contents(page));
                query_->estimate_batch(base, layout.stride, layout.factors_offset, n, epsilon_, estimates_.data());
                const bool with_vectors = data_->rerank() == RerankSource::Index;
                for (uint32 r = 0; r < n; ++r) {
                    const uint8* record = base + r * layout.stride;
                    Candidate c;
                    c.lower_bound = estimates_[r].lower_bound;
                    memcpy(&c.tid, record + layout.tid_offset, sizeof(ItemPointerData));
                    if (with_vectors) {
                        memcpy(&c.slot, record + layout.vector_slot_offset, sizeof(c.slot));
                        memcpy(&c.block, record + layout.vector_block_offset, sizeof(c.block));
                    } else {
                        c.block = InvalidBlockNumber;
                        c.slot = 0;
                    }
                    candidates_.append(c);
                }
                BlockNumber next = page_opaque(page)->next;
                pg::pg_call([&] { UnlockReleaseBuffer(buffer); });
                block = next;
            }
        }
    }

    // The exact order key of a candidate; false when the row is gone (not visible, or removed).
    bool exact_key(IndexScanDesc scan, const Candidate& candidate, double* key) {
        const uint32 dim = data_->meta.dim;
        vector_.resize(dim);
        bool found = data_->rerank() == RerankSource::Index ? read_index_vector(candidate)
                                                             : fetch_heap_vector(scan, candidate.tid);
        if (!found) return false;
        *key = core::exact_order_key(data_->metric(), query_raw_.data(), vector_.data(), dim);
        return !std::isnan(*key);
    }

    // rerank = 'index': the row's vector from its vector page (vector pages are append-only, so the
    // location read with the record stays valid).
    bool read_index_vector(const Candidate& candidate) {
        Buffer buffer = pg::pg_call([&] {
            Buffer b = ReadBuffer(index_, candidate.block);
            LockBuffer(b, BUFFER_LOCK_SHARE);
            return b;
        });
        Page page = BufferGetPage(buffer);
        check_page(index_, page, candidate.block, PageKind::Vector);
        if (candidate.slot >= std::min(page_opaque(page)->count, data_->meta.vectors_per_page))
            throw_corrupted(index_, "A record points past the vectors of block " + std::to_string(candidate.block) + ".");
        memcpy(vector_.data(), page_contents(page) + candidate.slot * vector_stride(data_->meta.dim),
               sizeof(float) * data_->meta.dim);
        pg::pg_call([&] { UnlockReleaseBuffer(buffer); });
        return true;
    }

    // rerank = 'heap': the indexed column of the row version visible to the scan's snapshot.
    bool fetch_heap_vector(IndexScanDesc scan, ItemPointerData tid) {
        if (scan->heapRelation == nullptr)
            throw pg::SqlError(ERRCODE_FEATURE_NOT_SUPPORTED, "rabitq index scan without a table to rerank from");
        const uint32 dim = data_->meta.dim;
        int found_dim = -1;
        pg::pg_call([&] {
            if (fetch_ == nullptr) {
                MemoryContext old = MemoryContextSwitchTo(context_);
                fetch_ = table_index_fetch_begin(scan->heapRelation);
                slot_ = table_slot_create(scan->heapRelation, nullptr);
                MemoryContextSwitchTo(old);
            }
            bool call_again = false, all_dead = false;
            if (!table_index_fetch_tuple(fetch_, &tid, scan->xs_snapshot, slot_, &call_again, &all_dead)) return;
            bool isnull = false;
            Datum value = slot_getattr(slot_, index_->rd_index->indkey.values[0], &isnull);
            if (!isnull) {
                MemoryContext old = MemoryContextSwitchTo(tuple_context_);
                const pg::VectorDatum* v = pg::datum_get_vector(value);
                MemoryContextSwitchTo(old);
                found_dim = v->dim;
                if (static_cast<uint32>(v->dim) == dim) memcpy(vector_.data(), v->x, sizeof(float) * dim);
            }
            ExecClearTuple(slot_);
            MemoryContextReset(tuple_context_);
        });
        if (found_dim < 0) return false;
        if (static_cast<uint32>(found_dim) != dim) throw_dimension_mismatch(static_cast<int>(dim), found_dim);
        return true;
    }

    Relation index_;
    MemoryContext context_;
    MemoryContext tuple_context_ = nullptr;
    std::shared_ptr<const IndexData> data_;

    bool has_order_by_ = false;
    bool no_rows_ = false;
    bool started_ = false;
    std::vector<float> query_raw_, query_unit_, vector_;
    std::optional<core::RabitqQuery> query_;
    float epsilon_ = 1.9f;
    IterativeScan mode_ = IterativeScan::StrictOrder;
    uint32 first_probes_ = 1, max_probes_ = 1;

    std::vector<uint32> list_order_;  // lists nearest first (the first max_probes_ of them)
    std::vector<double> list_keys_;   // their centroid keys
    size_t lists_probed_ = 0;
    CandidateQueue candidates_;
    std::vector<ScoredRow> scored_;      // heap by exact key
    std::vector<core::RabitqEstimate> estimates_;
    bool returned_any_ = false;
    double last_key_ = 0;

    IndexFetchTableData* fetch_ = nullptr;
    TupleTableSlot* slot_ = nullptr;
};

// scan->opaque: plain data in the scan's memory context. The state is destroyed by amendscan, or by the
// context's reset callback when the query ends without amendscan (an error).
struct ScanHandle {
    ScanState* state;
    MemoryContextCallback callback;
};

void destroy_scan_state(void* arg) {
    auto* handle = static_cast<ScanHandle*>(arg);
    if (handle->state == nullptr) return;
    handle->state->~ScanState();
    handle->state = nullptr;
}

}  // namespace

IndexScanDesc rabitq_begin_scan(Relation index, int nkeys, int norderbys) {
    return pg::guard_entry([&] {
        MemoryContext context = CurrentMemoryContext;
        IndexScanDesc scan = pg::pg_call([&] {
            IndexScanDesc s = RelationGetIndexScan(index, nkeys, norderbys);
            // The AM provides the arrays for ORDER BY values (the executor reads them).
            if (norderbys > 0) {
                s->xs_orderbyvals = static_cast<Datum*>(palloc0(sizeof(Datum) * norderbys));
                s->xs_orderbynulls = static_cast<bool*>(palloc(sizeof(bool) * norderbys));
                for (int i = 0; i < norderbys; ++i) s->xs_orderbynulls[i] = true;
            }
            return s;
        });
        auto* handle = pg::pg_call([] { return static_cast<ScanHandle*>(palloc0(sizeof(ScanHandle))); });
        void* memory = pg::pg_call([] { return palloc(sizeof(ScanState)); });
        handle->state = new (memory) ScanState(index, context);
        handle->callback.func = destroy_scan_state;
        handle->callback.arg = handle;
        pg::pg_call([&] { MemoryContextRegisterResetCallback(context, &handle->callback); });
        scan->opaque = handle;
        return scan;
    });
}

void rabitq_rescan(IndexScanDesc scan, ScanKey, int, ScanKey orderbys, int norderbys) {
    pg::guard_entry([&] {
        if (orderbys != nullptr && norderbys > 0 && scan->orderByData != orderbys)
            memmove(scan->orderByData, orderbys, static_cast<size_t>(norderbys) * sizeof(ScanKeyData));
        static_cast<ScanHandle*>(scan->opaque)->state->rescan(scan->orderByData, norderbys);
    });
}

bool rabitq_get_tuple(IndexScanDesc scan, ScanDirection direction) {
    return pg::guard_entry([&] {
        if (direction != ForwardScanDirection)
            throw pg::SqlError(ERRCODE_FEATURE_NOT_SUPPORTED, "rabitq index scans support only forward scans");
        return static_cast<ScanHandle*>(scan->opaque)->state->next(scan);
    });
}

void rabitq_end_scan(IndexScanDesc scan) {
    pg::guard_entry([&] {
        auto* handle = static_cast<ScanHandle*>(scan->opaque);
        ScanState* state = handle->state;
        if (state == nullptr) return;
        state->release();
        destroy_scan_state(handle);
        pg::pg_call([&] { pfree(state); });
    });
}

}  // namespace rulake::am
