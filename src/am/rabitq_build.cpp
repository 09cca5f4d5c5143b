// ambuild / ambuildempty of rabitq: collect the vectors, train the lists with k-means, assign and encode
// every row, write the pages in list order (records of a list in heap order), WAL-log them at the end.
// Same data + same options = the same index bytes (except page LSNs and checksums).
//
// Memory: the collected vectors, the k-means sample and the encoded records are all held in memory; the
// total is checked against maintenance_work_mem while loading, before it is exceeded.
// Threads: k-means and the assign/encode pass run on rabitq.build_threads compute-only workers; the
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
#include "commands/progress.h"
#include "nodes/execnodes.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
}

namespace rulake::am {

namespace {

constexpr size_t kRowsPerChunk = 4096;
constexpr size_t kMaxSampleRows = 100000;
constexpr size_t kMinSampleRows = 10000;
constexpr size_t kSampleRowsPerList = 64;
constexpr uint32 kKMeansIterations = 10;
constexpr size_t kAssignBlockRows = 256;

// Default list count for n rows: one list per thousand rows up to a million rows, the square root of the
// row count beyond (the two agree at a million), at least 1 and at most 4096.
uint32 default_list_count(size_t n) {
    double lists = n <= 1000000 ? std::ceil(static_cast<double>(n) / 1000.0) : std::ceil(std::sqrt(static_cast<double>(n)));
    return static_cast<uint32>(std::clamp(lists, 1.0, 4096.0));
}

// SplitMix64: a tiny, fully specified generator, so the k-means sample is the same on every platform.
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

void check_for_interrupts() {
    pg::pg_call([] { CHECK_FOR_INTERRUPTS(); });
}

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

// Vectors of dim floats stored in fixed chunks, so loading never copies what it already holds.
class RowStore {
  public:
    explicit RowStore(uint32 dim) : dim_(dim) {}
    void append(const float* v) {
        if (size_ % kRowsPerChunk == 0) chunks_.emplace_back(new float[kRowsPerChunk * dim_]);
        memcpy(chunks_.back().get() + (size_ % kRowsPerChunk) * dim_, v, sizeof(float) * dim_);
        ++size_;
    }
    const float* row(size_t i) const { return chunks_[i / kRowsPerChunk].get() + (i % kRowsPerChunk) * dim_; }
    size_t size() const { return size_; }

  private:
    uint32 dim_;
    size_t size_ = 0;
    std::vector<std::unique_ptr<float[]>> chunks_;
};

// Everything one build needs; lives on the stack of ambuild / ambuildempty.
class IndexBuilder {
  public:
    IndexBuilder(Relation heap, Relation index, IndexInfo* info, ForkNumber fork)
        : heap_(heap), index_(index), info_(info), fork_(fork), options_(index_options(index)),
          metric_(opclass_metric(index)), dim_(column_dimensions(index, options_)),
          rotation_(cached_rotation(options_.rotation, dim_, options_.seed)),
          code_bits_(rotation_->output_dim()), layout_(record_layout(dim_, code_bits_, options_.rerank)),
          rows_(dim_) {
        if (layout_.stride > kPageUsableBytes)
            throw pg::SqlError(ERRCODE_PROGRAM_LIMIT_EXCEEDED, "rabitq index record does not fit on a page");
        records_per_page_ = static_cast<uint32>(kPageUsableBytes / layout_.stride);
        if (heap_ != nullptr && options_.rerank == RerankSource::Heap && info_->ii_IndexAttrNumbers[0] == 0)
            throw pg::SqlError(ERRCODE_FEATURE_NOT_SUPPORTED,
                               "rabitq index with rerank = 'heap' requires a plain column", {},
                               "Use rerank = 'index' for an index on an expression.");
    }

    // Runs the whole build and returns the number of rows indexed.
    size_t run() {
        if (heap_ != nullptr) load();
        sort_by_heap_order();
        train();
        assign_and_encode();
        write_pages();
        return order_.size();
    }

    double heap_tuples() const { return heap_tuples_; }

    // Called for every heap row by table_index_build_scan (through build_callback).
    void add(ItemPointer tid, Datum value, bool isnull) {
        if (isnull) return;
        const pg::VectorDatum* vector = pg::pg_call([&] {
            MemoryContext old = MemoryContextSwitchTo(tuple_context_);
            const pg::VectorDatum* v = pg::datum_get_vector(value);
            MemoryContextSwitchTo(old);
            return v;
        });
        if (static_cast<uint32>(vector->dim) != dim_) throw_dimension_mismatch(static_cast<int>(dim_), vector->dim);
        // A zero vector has no cosine distance to anything: it is not indexed (and so never returned).
        if (metric_ != core::Metric::Cosine || !is_zero_vector(vector->x, dim_)) {
            check_memory(rows_.size() + 1, ItemPointerGetBlockNumberNoCheck(tid));
            rows_.append(vector->x);
            tids_.push_back(*tid);
        }
        MemoryContextReset(tuple_context_);
    }

  private:
    // Bytes the build holds per row: the vector, its TID, its record and the index arrays.
    size_t bytes_per_row() const {
        return sizeof(float) * dim_ + sizeof(ItemPointerData) + layout_.stride + 3 * sizeof(uint32);
    }

    // Raises before the build would hold more than maintenance_work_mem for rows rows.
    void check_memory(size_t rows, BlockNumber current_block) {
        const size_t limit = static_cast<size_t>(maintenance_work_mem) * 1024;
        auto needed = [&](double n) {
            return n * static_cast<double>(bytes_per_row()) +
                   std::min(n, static_cast<double>(kMaxSampleRows)) * sizeof(float) * dim_;
        };
        if (needed(static_cast<double>(rows)) <= static_cast<double>(limit)) return;
        // Extrapolate the table's row count from the share of its blocks read so far.
        double estimate = static_cast<double>(rows) * static_cast<double>(heap_blocks_) /
                          static_cast<double>(std::max<BlockNumber>(current_block + 1, 1));
        estimate = std::max(estimate, static_cast<double>(rows));
        size_t needed_mb = static_cast<size_t>(std::ceil(needed(estimate) / (1024.0 * 1024.0))) + 1;
        throw pg::SqlError(ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                           "memory required to build rabitq index exceeds maintenance_work_mem",
                           "The build holds about " + std::to_string(bytes_per_row()) +
                               " bytes per row; maintenance_work_mem is " + std::to_string(maintenance_work_mem) +
                               " kB and was exhausted after " + std::to_string(rows - 1) + " rows.",
                           "Increase maintenance_work_mem to at least " + std::to_string(needed_mb) + " MB.");
    }

    static void build_callback(Relation, ItemPointer tid, Datum* values, bool* isnull, bool, void* state) {
        pg::guard_entry([&] { static_cast<IndexBuilder*>(state)->add(tid, values[0], isnull[0]); });
    }

    void load() {
        pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseLoading);
        heap_blocks_ = pg::pg_call([&] { return RelationGetNumberOfBlocks(heap_); });
        tuple_context_ = pg::pg_call([] {
            return AllocSetContextCreate(CurrentMemoryContext, "rabitq build tuple", ALLOCSET_DEFAULT_SIZES);
        });
        heap_tuples_ = pg::pg_call([&] {
            return table_index_build_scan(heap_, index_, info_, true, true, build_callback, this, nullptr);
        });
        pg::pg_call([&] { MemoryContextDelete(tuple_context_); });
        tuple_context_ = nullptr;
    }

    // order_ = row numbers sorted by heap TID, so the result does not depend on where a synchronized
    // scan started.
    void sort_by_heap_order() {
        if (rows_.size() > UINT32_MAX)
            throw pg::SqlError(ERRCODE_PROGRAM_LIMIT_EXCEEDED, "too many rows for a rabitq index");
        order_.resize(rows_.size());
        for (size_t i = 0; i < order_.size(); ++i) order_[i] = static_cast<uint32>(i);
        std::sort(order_.begin(), order_.end(), [&](uint32 a, uint32 b) {
            BlockNumber ba = ItemPointerGetBlockNumberNoCheck(&tids_[a]), bb = ItemPointerGetBlockNumberNoCheck(&tids_[b]);
            if (ba != bb) return ba < bb;
            return ItemPointerGetOffsetNumberNoCheck(&tids_[a]) < ItemPointerGetOffsetNumberNoCheck(&tids_[b]);
        });
    }

    // The vector to cluster and encode for row number r (unit-normalised for cosine).
    const float* encoded_input(size_t r, float* scratch) const {
        if (metric_ != core::Metric::Cosine) return rows_.row(r);
        normalize_into(rows_.row(r), dim_, scratch);
        return scratch;
    }

    // Trains the centroids on a deterministic sample (rows chosen by the seed, kept in heap order). An
    // empty table gets one list with the zero centroid: every later insert goes there until a REINDEX.
    void train() {
        pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseTraining);
        const size_t n = order_.size();
        if (n == 0) {
            list_count_ = 1;
            centroids_.assign(dim_, 0.0f);
        } else {
            uint32 requested = options_.lists > 0 ? static_cast<uint32>(options_.lists) : default_list_count(n);
            size_t sample = std::min(n, std::min(kMaxSampleRows, std::max(kMinSampleRows, kSampleRowsPerList * requested)));
            std::vector<uint32> positions(n);
            for (size_t i = 0; i < n; ++i) positions[i] = static_cast<uint32>(i);
            SplitMix64 random{options_.seed ^ 0x5241424954510001ULL};
            for (size_t i = 0; i < sample; ++i) std::swap(positions[i], positions[i + random.below(n - i)]);
            positions.resize(sample);
            std::sort(positions.begin(), positions.end());
            std::vector<float> data(sample * dim_);
            for (size_t i = 0; i < sample; ++i) {
                const float* v = encoded_input(order_[positions[i]], data.data() + i * dim_);
                if (v != data.data() + i * dim_) memcpy(data.data() + i * dim_, v, sizeof(float) * dim_);
            }
            positions = {};

            core::KMeansOptions kmeans;
            kmeans.lists = requested;
            kmeans.iterations = kKMeansIterations;
            kmeans.seed = options_.seed;
            kmeans.threads = static_cast<unsigned>(guc_build_threads);
            kmeans.metric = metric_;
            kmeans.should_cancel = interrupt_pending;
            kmeans.on_progress = [](uint32 done, uint32 total) {
                pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, total);
                pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, done);
            };
            centroids_ = core::train_kmeans(data.data(), sample, dim_, kmeans);
            list_count_ = static_cast<uint32>(centroids_.size() / dim_);
            sample_rows_ = sample;
        }
        rotated_.resize(static_cast<size_t>(list_count_) * code_bits_);
        for (uint32 l = 0; l < list_count_; ++l)
            rotation_->apply(centroids_.data() + static_cast<size_t>(l) * dim_,
                             rotated_.data() + static_cast<size_t>(l) * code_bits_);
    }

    // Assigns every row to its nearest list, groups the rows by list (keeping heap order inside a list)
    // and encodes them into records_, which is then laid out exactly as the data pages hold it.
    void assign_and_encode() {
        pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseAssigning);
        const size_t n = order_.size();
        const unsigned threads = static_cast<unsigned>(guc_build_threads);
        // Assignment in blocks of fixed size (so the result does not depend on the thread count).
        std::vector<uint32> list_of(n);
        const size_t blocks = (n + kAssignBlockRows - 1) / kAssignBlockRows;
        core::parallel_for(
            blocks, threads,
            [&](size_t first_block, size_t end_block) {
                std::vector<float> block_rows(kAssignBlockRows * dim_);
                for (size_t b = first_block; b < end_block; ++b) {
                    const size_t begin = b * kAssignBlockRows, end = std::min(n, begin + kAssignBlockRows);
                    for (size_t p = begin; p < end; ++p) {
                        float* out = block_rows.data() + (p - begin) * dim_;
                        const float* v = encoded_input(order_[p], out);
                        if (v != out) memcpy(out, v, sizeof(float) * dim_);
                    }
                    core::assign_nearest_centroids(block_rows.data(), end - begin, dim_, centroids_.data(),
                                                   list_count_, metric_, list_of.data() + begin);
                }
            },
            interrupt_pending);

        list_sizes_.assign(list_count_, 0);
        for (size_t p = 0; p < n; ++p) ++list_sizes_[list_of[p]];
        list_starts_.assign(list_count_ + 1, 0);
        for (uint32 l = 0; l < list_count_; ++l) list_starts_[l + 1] = list_starts_[l] + list_sizes_[l];
        std::vector<uint32> placed(n);
        {
            std::vector<size_t> next(list_starts_.begin(), list_starts_.end() - 1);
            for (size_t p = 0; p < n; ++p) placed[next[list_of[p]]++] = static_cast<uint32>(p);
        }
        list_of = {};

        records_.assign(n * layout_.stride, 0);
        core::RabitqEncoder encoder(*rotation_, metric_);
        core::parallel_for(
            n, threads,
            [&](size_t begin, size_t end) {
                std::vector<float> scratch(dim_);
                for (size_t q = begin; q < end; ++q) {
                    size_t p = placed[q];
                    uint32 row = order_[p];
                    uint32 list = list_for_slot(q);
                    uint8* record = records_.data() + q * layout_.stride;
                    core::RabitqFactors factors =
                        encoder.encode(encoded_input(row, scratch.data()), centroids_.data() + static_cast<size_t>(list) * dim_,
                                       reinterpret_cast<uint64*>(record));
                    memcpy(record + layout_.factors_offset, &factors, sizeof(factors));
                    memcpy(record + layout_.tid_offset, &tids_[row], sizeof(ItemPointerData));
                    if (options_.rerank == RerankSource::Index)
                        memcpy(record + layout_.vector_offset, rows_.row(row), sizeof(float) * dim_);
                }
            },
            interrupt_pending);
    }

    // The list whose record range holds slot q (binary search over list_starts_).
    uint32 list_for_slot(size_t q) const {
        auto it = std::upper_bound(list_starts_.begin(), list_starts_.end(), q);
        return static_cast<uint32>(it - list_starts_.begin() - 1);
    }

    // Page writing through shared buffers (no WAL; the whole fork is logged at the end).
    Page begin_page(PageKind kind, BlockNumber expected) {
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
    void finish_page() {
        pg::pg_call([&] {
            MarkBufferDirty(buffer_);
            UnlockReleaseBuffer(buffer_);
        });
        buffer_ = InvalidBuffer;
    }

    void write_pages() {
        pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseWriting);
        const size_t n = order_.size();
        pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, static_cast<int64>(n));
        pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, 0);

        // Block plan: metapage, centroid pages, directory pages, then each list's data pages.
        const size_t stream_floats = static_cast<size_t>(list_count_) * (dim_ + code_bits_);
        const uint32 centroid_pages =
            static_cast<uint32>(std::max<size_t>(1, (stream_floats + kCentroidFloatsPerPage - 1) / kCentroidFloatsPerPage));
        const uint32 directory_pages =
            static_cast<uint32>((list_count_ + kDirectoryEntriesPerPage - 1) / kDirectoryEntriesPerPage);
        std::vector<RabitqListEntry> directory(list_count_);
        BlockNumber next_block = 1 + centroid_pages + directory_pages;
        for (uint32 l = 0; l < list_count_; ++l) {
            uint32 pages = static_cast<uint32>(std::max<size_t>(1, (list_sizes_[l] + records_per_page_ - 1) / records_per_page_));
            directory[l] = RabitqListEntry{next_block, next_block + pages - 1, static_cast<uint32>(list_sizes_[l]), pages};
            next_block += pages;
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
        meta.built_tuples = n;
        meta.kmeans_sample = static_cast<uint32>(sample_rows_);

        Page page = begin_page(PageKind::Meta, kMetaBlock);
        memcpy(page_meta(page), &meta, sizeof(meta));
        set_contents_size(page, sizeof(meta));
        finish_page();

        // Centroid stream: every raw centroid, then every rotated centroid.
        size_t written = 0;
        for (uint32 i = 0; i < centroid_pages; ++i) {
            page = begin_page(PageKind::Centroid, meta.centroid_start + i);
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
            page = begin_page(PageKind::Directory, meta.directory_start + i);
            size_t first = static_cast<size_t>(i) * kDirectoryEntriesPerPage;
            size_t count = std::min<size_t>(kDirectoryEntriesPerPage, list_count_ - first);
            memcpy(page_contents(page), directory.data() + first, count * sizeof(RabitqListEntry));
            page_opaque(page)->count = static_cast<uint32>(count);
            page_opaque(page)->next = i + 1 < directory_pages ? meta.directory_start + i + 1 : InvalidBlockNumber;
            set_contents_size(page, count * sizeof(RabitqListEntry));
            finish_page();
        }

        size_t done = 0;
        for (uint32 l = 0; l < list_count_; ++l) {
            check_for_interrupts();
            const RabitqListEntry& entry = directory[l];
            size_t first = list_starts_[l];
            for (uint32 i = 0; i < entry.pages; ++i) {
                page = begin_page(PageKind::Data, entry.head + i);
                size_t begin = first + static_cast<size_t>(i) * records_per_page_;
                size_t count = std::min<size_t>(records_per_page_, list_starts_[l + 1] - std::min(begin, list_starts_[l + 1]));
                memcpy(page_contents(page), records_.data() + begin * layout_.stride, count * layout_.stride);
                page_opaque(page)->count = static_cast<uint32>(count);
                page_opaque(page)->next = i + 1 < entry.pages ? entry.head + i + 1 : InvalidBlockNumber;
                set_contents_size(page, count * layout_.stride);
                finish_page();
                done += count;
            }
            pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, static_cast<int64>(done));
        }

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
    uint32 records_per_page_ = 0;

    RowStore rows_;
    std::vector<ItemPointerData> tids_;
    MemoryContext tuple_context_ = nullptr;
    BlockNumber heap_blocks_ = 0;
    double heap_tuples_ = 0;

    std::vector<uint32> order_;  // row numbers in heap order
    uint32 list_count_ = 0;
    size_t sample_rows_ = 0;
    std::vector<float> centroids_, rotated_;
    std::vector<size_t> list_sizes_, list_starts_;
    std::vector<uint8> records_;
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
