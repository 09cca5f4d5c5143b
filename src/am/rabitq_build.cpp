// ambuild / ambuildempty of rabitq.
//
// Two passes over the table, both in physical order (no synchronized scan), so the same table gives the
// same index bytes (except page LSNs and checksums):
//   1. sample: count the rows and keep a reservoir sample chosen by the seed; k-means trains the lists
//      on it;
//   2. encode: rows are assigned to their nearest list and encoded in batches, and each record goes
//      into a tuplesort keyed by (list, heap TID), which spills to disk beyond its memory.
// The pages are then written in list order, records of a list in heap order, and WAL-logged at the end.
//
// Memory stays within maintenance_work_mem: half of it for the sample (the sample shrinks if needed,
// with a NOTICE), then a batch of rows and the tuplesort.
// Threads: k-means and the batch assign/encode run on rabitq.build_threads compute-only workers; the
// backend's main thread polls InterruptPending and the core stops and joins them on cancel.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "rulake/core/kmeans.hpp"
#include "rulake/core/parallel.hpp"
#include "rulake/core/rabitq.hpp"
#include "rabitq_am.hpp"
#include "rulake/pg/vector_datum.hpp"

extern "C" {
#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "catalog/pg_type.h"
#include "commands/progress.h"
#include "nodes/execnodes.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/tuplesort.h"
#include "utils/typcache.h"
}

namespace rulake::am {

namespace {

constexpr size_t kMaxSampleRows = 100000;
constexpr size_t kMinSampleRows = 10000;
constexpr size_t kSampleRowsPerList = 64;
constexpr uint32 kKMeansIterations = 10;
constexpr size_t kAssignBlockRows = 256;
constexpr size_t kMaxBatchRows = 8192;
// Sort key in front of each record: list (4 bytes), block (4), offset (2), big endian so that byte
// order is (list, TID) order.
constexpr size_t kSortKeyBytes = 10;

// Default list count for n rows: one list per thousand rows up to a million rows, the square root of the
// row count beyond (the two agree at a million), at least 1 and at most 4096.
uint32 default_list_count(size_t n) {
    double lists = n <= 1000000 ? std::ceil(static_cast<double>(n) / 1000.0) : std::ceil(std::sqrt(static_cast<double>(n)));
    return static_cast<uint32>(std::clamp(lists, 1.0, 4096.0));
}

// SplitMix64: a tiny, fully specified generator, so the sample is the same on every platform.
struct SplitMix64 {
    uint64 state;
    uint64 next() {
        uint64 z = (state += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    // Uniform in [0, bound) (bound > 0), by rejection so that no value is favoured.
    uint64 below(uint64 bound) {
        uint64 limit = UINT64_MAX - UINT64_MAX % bound;
        uint64 x;
        do x = next();
        while (x >= limit);
        return x % bound;
    }
};

bool interrupt_pending() { return InterruptPending != 0; }

void normalize_into(const float* v, uint32 dim, float* out) {
    double sum = 0;
    for (uint32 i = 0; i < dim; ++i) sum += static_cast<double>(v[i]) * v[i];
    double norm = std::sqrt(sum);
    for (uint32 i = 0; i < dim; ++i) out[i] = norm > 0 ? static_cast<float>(v[i] / norm) : 0.0f;
}

bool is_zero_vector(const float* v, uint32 dim) {
    for (uint32 i = 0; i < dim; ++i)
        if (v[i] != 0.0f) return false;
    return true;
}

void put_be32(uint8* out, uint32 x) {
    out[0] = static_cast<uint8>(x >> 24);
    out[1] = static_cast<uint8>(x >> 16);
    out[2] = static_cast<uint8>(x >> 8);
    out[3] = static_cast<uint8>(x);
}

// Everything one build needs; lives on the stack of ambuild / ambuildempty.
class IndexBuilder {
  public:
    IndexBuilder(Relation heap, Relation index, IndexInfo* info, ForkNumber fork)
        : heap_(heap), index_(index), info_(info), fork_(fork), options_(index_options(index)),
          metric_(opclass_metric(index)), dim_(column_dimensions(index, options_)),
          rotation_(cached_rotation(options_.rotation, dim_, options_.seed)),
          code_bits_(rotation_->output_dim()), layout_(record_layout(code_bits_, options_.rerank)),
          memory_limit_(static_cast<size_t>(maintenance_work_mem) * 1024) {
        if (layout_.stride > kPageUsableBytes)
            throw pg::SqlError(ERRCODE_PROGRAM_LIMIT_EXCEEDED, "rabitq index record does not fit on a page");
        records_per_page_ = static_cast<uint32>(kPageUsableBytes / layout_.stride);
        if (heap_ != nullptr && options_.rerank == RerankSource::Heap && info_->ii_IndexAttrNumbers[0] == 0)
            throw pg::SqlError(ERRCODE_FEATURE_NOT_SUPPORTED,
                               "rabitq index with rerank = 'heap' requires a plain column", {},
                               "Use rerank = 'index' for an index on an expression.");
    }

    IndexBuilder(const IndexBuilder&) = delete;
    IndexBuilder& operator=(const IndexBuilder&) = delete;

    // Runs the whole build and returns the number of rows indexed. (The tuplesort, buffers and memory
    // contexts it opens are released by the transaction's cleanup if it fails.)
    size_t run() {
        if (heap_ != nullptr) sample_pass();
        train();
        begin_sort();
        if (heap_ != nullptr) encode_pass();
        write_pages();
        return encoded_rows_;
    }

    double heap_tuples() const { return heap_tuples_; }

  private:
    // ---- the two table passes ------------------------------------------------------------------------

    // The vector of a heap row, or nullptr for rows the index leaves out (NULL; zero under cosine).
    // The result lives in tuple_context_ until the next reset.
    const float* row_vector(Datum value, bool isnull) {
        if (isnull) return nullptr;
        const pg::VectorDatum* vector = pg::pg_call([&] {
            MemoryContext old = MemoryContextSwitchTo(tuple_context_);
            const pg::VectorDatum* v = pg::datum_get_vector(value);
            MemoryContextSwitchTo(old);
            return v;
        });
        if (static_cast<uint32>(vector->dim) != dim_) throw_dimension_mismatch(static_cast<int>(dim_), vector->dim);
        // A zero vector has no cosine distance to anything: it is not indexed (and so never returned).
        if (metric_ == core::Metric::Cosine && is_zero_vector(vector->x, dim_)) return nullptr;
        return vector->x;
    }

    // Runs table_index_build_scan over the whole table in physical order with callback.
    void scan_table(IndexBuildCallback callback) {
        tuple_context_ = pg::pg_call([] {
            return AllocSetContextCreate(CurrentMemoryContext, "rabitq build tuple", ALLOCSET_DEFAULT_SIZES);
        });
        heap_tuples_ = pg::pg_call([&] {
            return table_index_build_scan(heap_, index_, info_, false, true, callback, this, nullptr);
        });
        pg::pg_call([&] { MemoryContextDelete(tuple_context_); });
        tuple_context_ = nullptr;
    }

    // Pass 1: counts the indexed rows and keeps a uniform reservoir sample of them (raw vectors).
    void sample_pass() {
        pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseSampling);
        size_t wanted = options_.lists > 0
                            ? std::min(kMaxSampleRows, std::max(kMinSampleRows, kSampleRowsPerList * options_.lists))
                            : kMaxSampleRows;
        size_t affordable = std::max<size_t>(1, memory_limit_ / 2 / (sizeof(float) * dim_));
        reservoir_capacity_ = std::min(wanted, affordable);
        memory_capped_sample_ = affordable < wanted;
        reservoir_random_ = SplitMix64{options_.seed ^ 0x5241424954510001ULL};
        scan_table([](Relation, ItemPointer, Datum* values, bool* isnull, bool, void* state) {
            pg::guard_entry([&] { static_cast<IndexBuilder*>(state)->sample_row(values[0], isnull[0]); });
        });
    }

    void sample_row(Datum value, bool isnull) {
        const float* v = row_vector(value, isnull);
        if (v != nullptr) {
            size_t slot = rows_ < reservoir_capacity_ ? rows_ : reservoir_random_.below(rows_ + 1);
            if (slot < reservoir_capacity_) {
                if (slot >= reservoir_rows_) {
                    sample_.resize((slot + 1) * dim_);
                    reservoir_rows_ = slot + 1;
                }
                memcpy(sample_.data() + slot * dim_, v, sizeof(float) * dim_);
            }
            ++rows_;
        }
        MemoryContextReset(tuple_context_);
    }

    // Pass 2: assigns and encodes every row in batches and feeds the records to the tuplesort.
    void encode_pass() {
        pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseAssigning);
        pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, static_cast<int64>(rows_));
        const size_t row_bytes = 2 * sizeof(float) * dim_ + layout_.stride + kSortKeyBytes + sizeof(ItemPointerData) + 8;
        batch_capacity_ = std::clamp<size_t>(memory_limit_ / 8 / row_bytes, 64, kMaxBatchRows);
        batch_vectors_.resize(batch_capacity_ * dim_);
        batch_tids_.resize(batch_capacity_);
        batch_lists_.resize(batch_capacity_);
        batch_records_.resize(batch_capacity_ * layout_.stride);
        list_sizes_.assign(list_count_, 0);
        scan_table([](Relation, ItemPointer tid, Datum* values, bool* isnull, bool, void* state) {
            pg::guard_entry([&] { static_cast<IndexBuilder*>(state)->encode_row(tid, values[0], isnull[0]); });
        });
        flush_batch();
    }

    void encode_row(ItemPointer tid, Datum value, bool isnull) {
        const float* v = row_vector(value, isnull);
        if (v != nullptr) {
            memcpy(batch_vectors_.data() + batch_rows_ * dim_, v, sizeof(float) * dim_);
            batch_tids_[batch_rows_] = *tid;
            if (++batch_rows_ == batch_capacity_) flush_batch();
        }
        MemoryContextReset(tuple_context_);
    }

    // The vector to cluster and encode (unit-normalised for cosine).
    const float* encoded_input(const float* raw, float* scratch) const {
        if (metric_ != core::Metric::Cosine) return raw;
        normalize_into(raw, dim_, scratch);
        return scratch;
    }

    // Assigns and encodes the batch on the worker threads (in blocks of fixed size, so the result does
    // not depend on the thread count), then sorts the records in on this thread.
    void flush_batch() {
        const size_t n = batch_rows_;
        if (n == 0) return;
        core::RabitqEncoder encoder(*rotation_, metric_);
        const size_t blocks = (n + kAssignBlockRows - 1) / kAssignBlockRows;
        core::parallel_for(
            blocks, static_cast<unsigned>(guc_build_threads),
            [&](size_t first_block, size_t end_block) {
                std::vector<float> inputs(kAssignBlockRows * dim_);
                for (size_t b = first_block; b < end_block; ++b) {
                    const size_t begin = b * kAssignBlockRows, end = std::min(n, begin + kAssignBlockRows);
                    for (size_t r = begin; r < end; ++r) {
                        float* out = inputs.data() + (r - begin) * dim_;
                        const float* v = encoded_input(batch_vectors_.data() + r * dim_, out);
                        if (v != out) memcpy(out, v, sizeof(float) * dim_);
                    }
                    core::assign_nearest_centroids(inputs.data(), end - begin, dim_, centroids_.data(), list_count_,
                                                   metric_, batch_lists_.data() + begin);
                    for (size_t r = begin; r < end; ++r) {
                        const uint32 list = batch_lists_[r];
                        uint8* record = batch_records_.data() + r * layout_.stride;
                        memset(record, 0, layout_.stride);
                        core::RabitqFactors factors =
                            encoder.encode(inputs.data() + (r - begin) * dim_, centroids_.data() + static_cast<size_t>(list) * dim_,
                                           reinterpret_cast<uint64*>(record));
                        memcpy(record + layout_.factors_offset, &factors, sizeof(factors));
                        memcpy(record + layout_.tid_offset, &batch_tids_[r], sizeof(ItemPointerData));
                    }
                }
            },
            interrupt_pending);

        // Sort items: a bytea holding the (list, TID) key, the record and (rerank = 'index') the raw vector.
        const size_t item_bytes = VARHDRSZ + kSortKeyBytes + item_payload_bytes();
        sort_item_.resize(item_bytes);
        uint8* item = sort_item_.data();
        SET_VARSIZE(item, item_bytes);
        for (size_t r = 0; r < n; ++r) ++list_sizes_[batch_lists_[r]];
        pg::pg_call([&] {
            for (size_t r = 0; r < n; ++r) {
                const ItemPointerData& tid = batch_tids_[r];
                put_be32(item + VARHDRSZ, batch_lists_[r]);
                put_be32(item + VARHDRSZ + 4, ItemPointerGetBlockNumberNoCheck(&tid));
                OffsetNumber offset = ItemPointerGetOffsetNumberNoCheck(&tid);
                item[VARHDRSZ + 8] = static_cast<uint8>(offset >> 8);
                item[VARHDRSZ + 9] = static_cast<uint8>(offset);
                memcpy(item + VARHDRSZ + kSortKeyBytes, batch_records_.data() + r * layout_.stride, layout_.stride);
                if (options_.rerank == RerankSource::Index)
                    memcpy(item + VARHDRSZ + kSortKeyBytes + layout_.stride, batch_vectors_.data() + r * dim_,
                           sizeof(float) * dim_);
                tuplesort_putdatum(sort_, PointerGetDatum(item), false);
            }
            CHECK_FOR_INTERRUPTS();
        });
        encoded_rows_ += n;
        pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, static_cast<int64>(encoded_rows_));
        batch_rows_ = 0;
    }

    // ---- centroids -----------------------------------------------------------------------------------

    // Trains the centroids on the sample. An empty table gets one list with the zero centroid: every
    // later insert goes there until a REINDEX.
    void train() {
        pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseTraining);
        if (rows_ == 0) {
            list_count_ = 1;
            centroids_.assign(dim_, 0.0f);
        } else {
            const uint32 requested = options_.lists > 0 ? static_cast<uint32>(options_.lists) : default_list_count(rows_);
            const size_t wanted = std::min(rows_, std::min(kMaxSampleRows, std::max(kMinSampleRows, kSampleRowsPerList * requested)));
            size_t sample = std::min(wanted, reservoir_rows_);
            if (sample < reservoir_rows_) {
                // A uniform subset of the reservoir: its first rows after a partial shuffle by the seed.
                SplitMix64 random{options_.seed ^ 0x5241424954510002ULL};
                for (size_t i = 0; i < sample; ++i) {
                    size_t j = i + random.below(reservoir_rows_ - i);
                    if (j == i) continue;
                    std::swap_ranges(sample_.begin() + static_cast<ptrdiff_t>(i * dim_),
                                     sample_.begin() + static_cast<ptrdiff_t>((i + 1) * dim_),
                                     sample_.begin() + static_cast<ptrdiff_t>(j * dim_));
                }
            }
            sample_.resize(sample * dim_);
            if (sample < wanted && memory_capped_sample_) {
                pg::pg_call([&] {
                    ereport(NOTICE, (errmsg("rabitq index trains its lists on %zu sampled rows instead of %zu",
                                            sample, wanted),
                                     errhint("Increase maintenance_work_mem for a larger k-means sample.")));
                });
            }
            if (metric_ == core::Metric::Cosine)
                for (size_t i = 0; i < sample; ++i) normalize_into(sample_.data() + i * dim_, dim_, sample_.data() + i * dim_);

            core::KMeansOptions kmeans;
            kmeans.lists = requested;
            kmeans.iterations = kKMeansIterations;
            kmeans.seed = options_.seed;
            kmeans.threads = static_cast<unsigned>(guc_build_threads);
            kmeans.metric = metric_;
            kmeans.should_cancel = interrupt_pending;
            centroids_ = core::train_kmeans(sample_.data(), sample, dim_, kmeans);
            list_count_ = static_cast<uint32>(centroids_.size() / dim_);
            sample_rows_ = sample;
        }
        sample_ = {};
        rotated_.resize(static_cast<size_t>(list_count_) * code_bits_);
        for (uint32 l = 0; l < list_count_; ++l)
            rotation_->apply(centroids_.data() + static_cast<size_t>(l) * dim_,
                             rotated_.data() + static_cast<size_t>(l) * code_bits_);
    }

    // ---- the tuplesort and the pages -------------------------------------------------------------------

    void begin_sort() {
        const int sort_memory = std::max(64, maintenance_work_mem / 2);
        sort_ = pg::pg_call([&] {
            Oid less_than = lookup_type_cache(BYTEAOID, TYPECACHE_LT_OPR)->lt_opr;
#if PG_VERSION_NUM >= 150000
            return tuplesort_begin_datum(BYTEAOID, less_than, InvalidOid, false, sort_memory, nullptr, TUPLESORT_NONE);
#else
            return tuplesort_begin_datum(BYTEAOID, less_than, InvalidOid, false, sort_memory, nullptr, false);
#endif
        });
    }

    // Page writing through shared buffers (no WAL; the whole fork is logged at the end).
    // Appends a new page of the given kind (it must land at block `expected`) and keeps it locked.
    Page append_page(PageKind kind, BlockNumber expected) {
        Page page = pg::pg_call([&] {
            buffer_ = ReadBufferExtended(index_, fork_, P_NEW, RBM_NORMAL, nullptr);
            LockBuffer(buffer_, BUFFER_LOCK_EXCLUSIVE);
            return BufferGetPage(buffer_);
        });
        if (BufferGetBlockNumber(buffer_) != expected)
            throw pg::SqlError(ERRCODE_INTERNAL_ERROR, "unexpected block number while building rabitq index");
        init_page(page, kind);
        return page;
    }
    void finish_page() { release_page(&buffer_); }

    // An already appended page, locked for filling into *buffer.
    Page open_page(BlockNumber block, Buffer* buffer) {
        return pg::pg_call([&] {
            *buffer = ReadBufferExtended(index_, fork_, block, RBM_NORMAL, nullptr);
            LockBuffer(*buffer, BUFFER_LOCK_EXCLUSIVE);
            return BufferGetPage(*buffer);
        });
    }
    void release_page(Buffer* buffer) {
        pg::pg_call([&] {
            MarkBufferDirty(*buffer);
            UnlockReleaseBuffer(*buffer);
        });
        *buffer = InvalidBuffer;
    }

    // The next sorted item (key, record, and the vector with rerank = 'index'), copied into item_.
    // Raises if the sort runs dry or the item belongs to another list than `list`.
    void next_sorted_item(uint32 list) {
        bool ok = false;
        const size_t item_bytes = kSortKeyBytes + item_payload_bytes();
        pg::pg_call([&] {
            MemoryContext old = MemoryContextSwitchTo(tuple_context_);
            Datum value;
            bool isnull;
#if PG_VERSION_NUM >= 160000
            ok = tuplesort_getdatum(sort_, true, false, &value, &isnull, nullptr);
#else
            ok = tuplesort_getdatum(sort_, true, &value, &isnull, nullptr);
#endif
            MemoryContextSwitchTo(old);
            if (ok) {
                ok = VARSIZE_ANY_EXHDR(DatumGetPointer(value)) == item_bytes;
                if (ok) memcpy(item_.data(), VARDATA_ANY(DatumGetPointer(value)), item_bytes);
            }
            MemoryContextReset(tuple_context_);
        });
        const uint8* key = item_.data();
        uint32 item_list = (static_cast<uint32>(key[0]) << 24) | (static_cast<uint32>(key[1]) << 16) |
                           (static_cast<uint32>(key[2]) << 8) | key[3];
        if (!ok || item_list != list)
            throw pg::SqlError(ERRCODE_INTERNAL_ERROR, "rabitq build: sorted records do not match the list counts");
    }

    // Bytes after the sort key: the record, then the vector for rerank = 'index'.
    size_t item_payload_bytes() const {
        return layout_.stride + (options_.rerank == RerankSource::Index ? sizeof(float) * dim_ : 0);
    }

    // Fills list l's data pages (and vector pages) from the sorted items. The pages exist already.
    void fill_list(uint32 l, const RabitqListEntry& entry) {
        const bool with_vectors = options_.rerank == RerankSource::Index;
        const size_t vstride = vector_stride(dim_);
        Buffer data_buffer = InvalidBuffer, vector_buffer = InvalidBuffer;
        Page data_page = nullptr, vector_page = nullptr;
        for (size_t i = 0; i < list_sizes_[l]; ++i) {
            next_sorted_item(l);
            const size_t on_page = i % records_per_page_;
            if (on_page == 0) {
                if (data_buffer != InvalidBuffer) release_page(&data_buffer);
                data_page = open_page(entry.head + static_cast<BlockNumber>(i / records_per_page_), &data_buffer);
            }
            uint8* record = reinterpret_cast<uint8*>(page_contents(data_page)) + on_page * layout_.stride;
            memcpy(record, item_.data() + kSortKeyBytes, layout_.stride);
            page_opaque(data_page)->count = static_cast<uint32>(on_page + 1);
            set_contents_size(data_page, (on_page + 1) * layout_.stride);
            if (with_vectors) {
                const size_t slot = i % vectors_per_page_;
                const BlockNumber block = entry.vector_head + static_cast<BlockNumber>(i / vectors_per_page_);
                if (slot == 0) {
                    if (vector_buffer != InvalidBuffer) release_page(&vector_buffer);
                    vector_page = open_page(block, &vector_buffer);
                }
                memcpy(page_contents(vector_page) + slot * vstride, item_.data() + kSortKeyBytes + layout_.stride,
                       sizeof(float) * dim_);
                page_opaque(vector_page)->count = static_cast<uint32>(slot + 1);
                set_contents_size(vector_page, (slot + 1) * vstride);
                const uint16 slot16 = static_cast<uint16>(slot);
                memcpy(record + layout_.vector_slot_offset, &slot16, sizeof(slot16));
                memcpy(record + layout_.vector_block_offset, &block, sizeof(block));
            }
        }
        if (data_buffer != InvalidBuffer) release_page(&data_buffer);
        if (vector_buffer != InvalidBuffer) release_page(&vector_buffer);
    }

    void write_pages() {
        pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseWriting);
        pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, static_cast<int64>(encoded_rows_));
        pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, 0);
        list_sizes_.resize(list_count_, 0);
        tuple_context_ = pg::pg_call([] {
            return AllocSetContextCreate(CurrentMemoryContext, "rabitq build page", ALLOCSET_DEFAULT_SIZES);
        });
        pg::pg_call([&] { tuplesort_performsort(sort_); });
        item_.resize(kSortKeyBytes + item_payload_bytes());
        const bool with_vectors = options_.rerank == RerankSource::Index;
        vectors_per_page_ = with_vectors ? static_cast<uint32>(kPageUsableBytes / vector_stride(dim_)) : 0;

        // Block plan: metapage, centroid pages, directory pages, every list's data pages, then (rerank =
        // 'index') every list's vector pages. Each list has at least one page of each.
        const size_t stream_floats = static_cast<size_t>(list_count_) * (dim_ + code_bits_);
        const uint32 centroid_pages =
            static_cast<uint32>(std::max<size_t>(1, (stream_floats + kCentroidFloatsPerPage - 1) / kCentroidFloatsPerPage));
        const uint32 directory_pages =
            static_cast<uint32>((list_count_ + kDirectoryEntriesPerPage - 1) / kDirectoryEntriesPerPage);
        std::vector<RabitqListEntry> directory(list_count_);
        BlockNumber next_block = 1 + centroid_pages + directory_pages;
        for (uint32 l = 0; l < list_count_; ++l) {
            RabitqListEntry& entry = directory[l];
            entry = RabitqListEntry{};
            entry.pages = static_cast<uint32>(std::max<size_t>(1, (list_sizes_[l] + records_per_page_ - 1) / records_per_page_));
            entry.head = next_block;
            entry.tail = next_block + entry.pages - 1;
            entry.tuples = static_cast<uint32>(list_sizes_[l]);
            entry.vector_head = entry.vector_tail = InvalidBlockNumber;
            next_block += entry.pages;
        }
        if (with_vectors) {
            for (uint32 l = 0; l < list_count_; ++l) {
                RabitqListEntry& entry = directory[l];
                entry.vector_pages =
                    static_cast<uint32>(std::max<size_t>(1, (list_sizes_[l] + vectors_per_page_ - 1) / vectors_per_page_));
                entry.vector_head = next_block;
                entry.vector_tail = next_block + entry.vector_pages - 1;
                entry.vectors = static_cast<uint32>(list_sizes_[l]);
                next_block += entry.vector_pages;
            }
        }

        RabitqMetaData meta{};
        meta.magic = kRabitqMagic;
        meta.format_version = kRabitqFormatVersion;
        meta.dim = dim_;
        meta.code_bits = code_bits_;
        meta.metric = static_cast<uint8>(metric_);
        meta.rotation_kind = static_cast<uint8>(options_.rotation);
        meta.rerank = static_cast<uint8>(options_.rerank);
        meta.list_count = list_count_;
        meta.seed = options_.seed;
        meta.centroid_start = 1;
        meta.centroid_pages = centroid_pages;
        meta.directory_start = 1 + centroid_pages;
        meta.directory_pages = directory_pages;
        meta.record_stride = static_cast<uint32>(layout_.stride);
        meta.records_per_page = records_per_page_;
        meta.built_tuples = encoded_rows_;
        meta.kmeans_sample = static_cast<uint32>(sample_rows_);
        meta.vectors_per_page = vectors_per_page_;
        rotation_probe(*rotation_, meta.rotation_probe);

        Page page = append_page(PageKind::Meta, kMetaBlock);
        memcpy(page_meta(page), &meta, sizeof(meta));
        set_contents_size(page, sizeof(meta));
        finish_page();

        // Centroid stream: every raw centroid, then every rotated centroid.
        size_t written = 0;
        for (uint32 i = 0; i < centroid_pages; ++i) {
            page = append_page(PageKind::Centroid, meta.centroid_start + i);
            size_t count = std::min(kCentroidFloatsPerPage, stream_floats - written);
            auto* out = reinterpret_cast<float*>(page_contents(page));
            for (size_t k = 0; k < count; ++k, ++written) {
                size_t raw_floats = centroids_.size();
                out[k] = written < raw_floats ? centroids_[written] : rotated_[written - raw_floats];
            }
            page_opaque(page)->count = static_cast<uint32>(count);
            page_opaque(page)->next = i + 1 < centroid_pages ? meta.centroid_start + i + 1 : InvalidBlockNumber;
            set_contents_size(page, count * sizeof(float));
            finish_page();
        }

        for (uint32 i = 0; i < directory_pages; ++i) {
            page = append_page(PageKind::Directory, meta.directory_start + i);
            size_t first = static_cast<size_t>(i) * kDirectoryEntriesPerPage;
            size_t count = std::min<size_t>(kDirectoryEntriesPerPage, list_count_ - first);
            memcpy(page_contents(page), directory.data() + first, count * sizeof(RabitqListEntry));
            page_opaque(page)->count = static_cast<uint32>(count);
            page_opaque(page)->next = i + 1 < directory_pages ? meta.directory_start + i + 1 : InvalidBlockNumber;
            set_contents_size(page, count * sizeof(RabitqListEntry));
            finish_page();
        }

        // Empty, chained data and vector pages first; then the records are filled in list by list.
        for (uint32 l = 0; l < list_count_; ++l) {
            const RabitqListEntry& entry = directory[l];
            for (uint32 i = 0; i < entry.pages; ++i) {
                page = append_page(PageKind::Data, entry.head + i);
                page_opaque(page)->next = i + 1 < entry.pages ? entry.head + i + 1 : InvalidBlockNumber;
                finish_page();
            }
        }
        for (uint32 l = 0; with_vectors && l < list_count_; ++l) {
            const RabitqListEntry& entry = directory[l];
            for (uint32 i = 0; i < entry.vector_pages; ++i) {
                page = append_page(PageKind::Vector, entry.vector_head + i);
                page_opaque(page)->next = i + 1 < entry.vector_pages ? entry.vector_head + i + 1 : InvalidBlockNumber;
                finish_page();
            }
        }
        size_t done = 0;
        for (uint32 l = 0; l < list_count_; ++l) {
            fill_list(l, directory[l]);
            done += list_sizes_[l];
            pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, static_cast<int64>(done));
            pg::pg_call([] { CHECK_FOR_INTERRUPTS(); });
        }
        pg::pg_call([&] {
            tuplesort_end(sort_);
            MemoryContextDelete(tuple_context_);
        });
        sort_ = nullptr;
        tuple_context_ = nullptr;

        // WAL: the init fork always, the main fork when the relation is WAL-logged.
        if (fork_ == INIT_FORKNUM || RelationNeedsWAL(index_)) {
            pg::pg_call([&] {
                log_newpage_range(index_, fork_, 0, RelationGetNumberOfBlocksInFork(index_, fork_), true);
            });
        }
    }

    Relation heap_;
    Relation index_;
    IndexInfo* info_;
    ForkNumber fork_;
    IndexOptions options_;
    core::Metric metric_;
    uint32 dim_;
    std::shared_ptr<const core::Rotation> rotation_;
    uint32 code_bits_;
    RecordLayout layout_;
    size_t memory_limit_;
    uint32 records_per_page_ = 0;
    uint32 vectors_per_page_ = 0;

    MemoryContext tuple_context_ = nullptr;
    double heap_tuples_ = 0;
    size_t rows_ = 0;  // indexed rows seen by the sample pass

    // pass 1
    size_t reservoir_capacity_ = 0, reservoir_rows_ = 0;
    bool memory_capped_sample_ = false;
    SplitMix64 reservoir_random_{0};
    std::vector<float> sample_;  // reservoir_rows_ x dim, then the k-means sample

    // centroids
    uint32 list_count_ = 0;
    size_t sample_rows_ = 0;
    std::vector<float> centroids_, rotated_;

    // pass 2
    size_t batch_capacity_ = 0, batch_rows_ = 0, encoded_rows_ = 0;
    std::vector<float> batch_vectors_;
    std::vector<ItemPointerData> batch_tids_;
    std::vector<uint32> batch_lists_;
    std::vector<uint8> batch_records_;
    std::vector<uint8> sort_item_;  // one item being sorted in
    std::vector<uint8> item_;       // one item sorted out (without the varlena header)
    std::vector<size_t> list_sizes_;
    Tuplesortstate* sort_ = nullptr;
    Buffer buffer_ = InvalidBuffer;
};

}  // namespace

IndexBuildResult* rabitq_build(Relation heap, Relation index, IndexInfo* info) {
    return pg::guard_entry([&] {
        if (pg::pg_call([&] { return RelationGetNumberOfBlocks(index); }) != 0)
            throw pg::SqlError(ERRCODE_INTERNAL_ERROR, "index \"" + std::string(RelationGetRelationName(index)) +
                                                           "\" already contains data");
        IndexBuilder builder(heap, index, info, MAIN_FORKNUM);
        size_t rows = builder.run();
        auto* result = pg::pg_call([] { return static_cast<IndexBuildResult*>(palloc0(sizeof(IndexBuildResult))); });
        result->heap_tuples = builder.heap_tuples();
        result->index_tuples = static_cast<double>(rows);
        return result;
    });
}

// The init fork of an unlogged index: the same pages as a build over an empty table.
void rabitq_build_empty(Relation index) {
    pg::guard_entry([&] {
        IndexBuilder builder(nullptr, index, nullptr, INIT_FORKNUM);
        builder.run();
    });
}

}  // namespace rulake::am
