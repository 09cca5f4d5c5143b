// Per-backend caches of rabitq indexes:
//  * rd_amcache holds a plain copy of the metapage (freed by Postgres with the relcache entry);
//  * the centroids, list heads and rotation live in C++ objects (IndexData) in a process-lifetime cache
//    keyed by index OID and relfilenode, dropped by a relcache callback; scans hold a shared_ptr so an
//    invalidation in the middle of a scan never frees what the scan uses;
//  * rotations are shared by (kind, dim, seed) in a small LRU cache.
// All of this is touched by the backend's main thread only.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "rabitq_am.hpp"

extern "C" {
#include "storage/bufmgr.h"
#include "utils/inval.h"
#include "utils/memutils.h"
}

namespace rulake::am {

namespace {

constexpr size_t kMaxCachedRotations = 4;

struct RotationCacheEntry {
    core::RotationKind kind;
    uint32 dim;
    uint64 seed;
    uint64 last_use;
    std::shared_ptr<const core::Rotation> rotation;
};

struct IndexCacheEntry {
    Oid index_oid;
    Oid relfilenode;
    std::shared_ptr<const IndexData> data;
};

// Process-lifetime caches (plain pointer globals stay trivially destructible).
std::vector<RotationCacheEntry>* rotation_cache = nullptr;
uint64 rotation_clock = 0;
std::vector<IndexCacheEntry>* index_cache = nullptr;

Oid relfilenode_of(Relation index) {
#if PG_VERSION_NUM >= 160000
    return index->rd_locator.relNumber;
#else
    return index->rd_node.relNode;
#endif
}

// Relcache invalidation of relid (InvalidOid = all): forget its cached data. Must not fail.
void forget_index(Datum, Oid relid) {
    if (index_cache == nullptr) return;
    index_cache->erase(std::remove_if(index_cache->begin(), index_cache->end(),
                                      [relid](const IndexCacheEntry& e) {
                                          return relid == InvalidOid || e.index_oid == relid;
                                      }),
                       index_cache->end());
}

// Reads one page of index under a share lock and hands it to read (plain code: no allocation, no
// Postgres calls); then releases it.
template <typename Fn>
void with_shared_page(Relation index, BlockNumber block, Fn&& read) {
    Buffer buffer = pg::pg_call([&] {
        Buffer b = ReadBuffer(index, block);
        LockBuffer(b, BUFFER_LOCK_SHARE);
        return b;
    });
    read(BufferGetPage(buffer));
    pg::pg_call([&] { UnlockReleaseBuffer(buffer); });
}

std::shared_ptr<IndexData> load_index_data(Relation index) {
    auto data = std::make_shared<IndexData>();
    read_metapage(index, &data->meta);
    const RabitqMetaData& meta = data->meta;
    const size_t lists = meta.list_count;
    const size_t raw_floats = lists * meta.dim;
    const size_t stream_floats = raw_floats + lists * meta.code_bits;
    std::vector<float> stream(stream_floats);

    // Centroid pages: the raw centroids of every list, then their rotations, as one float stream.
    size_t filled = 0;
    for (uint32 i = 0; i < meta.centroid_pages; ++i) {
        BlockNumber block = meta.centroid_start + i;
        bool ok = false;
        with_shared_page(index, block, [&](Page page) {
            ok = !PageIsNew(page) && PageGetSpecialSize(page) == MAXALIGN(sizeof(RabitqPageOpaque)) &&
                 page_opaque(page)->kind == static_cast<uint16>(PageKind::Centroid) &&
                 page_opaque(page)->count <= kCentroidFloatsPerPage &&
                 filled + page_opaque(page)->count <= stream_floats;
            if (!ok) return;
            memcpy(stream.data() + filled, page_contents(page), page_opaque(page)->count * sizeof(float));
            filled += page_opaque(page)->count;
        });
        if (!ok) throw_corrupted(index, "Bad centroid page " + std::to_string(block) + ".");
    }
    if (filled != stream_floats) throw_corrupted(index, "The centroid pages hold too few floats.");
    data->centroids.assign(stream.begin(), stream.begin() + static_cast<ptrdiff_t>(raw_floats));
    data->rotated_centroids.assign(stream.begin() + static_cast<ptrdiff_t>(raw_floats), stream.end());

    // Directory pages: each list's head block.
    data->list_heads.resize(lists);
    size_t entries = 0;
    for (uint32 i = 0; i < meta.directory_pages; ++i) {
        BlockNumber block = meta.directory_start + i;
        bool ok = false;
        with_shared_page(index, block, [&](Page page) {
            ok = !PageIsNew(page) && PageGetSpecialSize(page) == MAXALIGN(sizeof(RabitqPageOpaque)) &&
                 page_opaque(page)->kind == static_cast<uint16>(PageKind::Directory) &&
                 page_opaque(page)->count <= kDirectoryEntriesPerPage && entries + page_opaque(page)->count <= lists;
            if (!ok) return;
            auto* entry = reinterpret_cast<const RabitqListEntry*>(page_contents(page));
            for (uint32 e = 0; e < page_opaque(page)->count; ++e) data->list_heads[entries++] = entry[e].head;
        });
        if (!ok) throw_corrupted(index, "Bad directory page " + std::to_string(block) + ".");
    }
    if (entries != lists) throw_corrupted(index, "The directory holds too few lists.");

    data->rotation = cached_rotation(data->rotation_kind(), meta.dim, meta.seed);
    if (data->rotation->output_dim() != meta.code_bits)
        throw_corrupted(index, "The metapage's code length does not match its rotation.");
    // The rotation is regenerated, not stored: check that this build regenerates the one the index was
    // built with (a tolerance covers float rounding differences between machines).
    float probe[4];
    rotation_probe(*data->rotation, probe);
    for (int k = 0; k < 4; ++k) {
        if (!(std::fabs(probe[k] - meta.rotation_probe[k]) <= 1e-3f * (1.0f + std::fabs(meta.rotation_probe[k]))))
            throw pg::SqlError(ERRCODE_INDEX_CORRUPTED,
                               std::string("index \"") + RelationGetRelationName(index) +
                                   "\" was built with a different rotation than this build of rulake generates",
                               "The rotation is regenerated from the seed stored in the index.", "REINDEX the index.");
    }
    return data;
}

}  // namespace

void throw_corrupted(Relation index, const std::string& what) {
    throw pg::SqlError(ERRCODE_INDEX_CORRUPTED,
                       std::string("index \"") + RelationGetRelationName(index) + "\" is not a valid rabitq index",
                       what, "REINDEX the index.");
}

void check_page(Relation index, Page page, BlockNumber block, PageKind kind) {
    if (PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(sizeof(RabitqPageOpaque)) ||
        page_opaque(page)->page_id != kRabitqPageId || page_opaque(page)->kind != static_cast<uint16>(kind))
        throw_corrupted(index, "Block " + std::to_string(block) + " does not hold the expected rabitq page.");
}

void read_metapage(Relation index, RabitqMetaData* out) {
    RabitqPageOpaque opaque{};
    bool is_new = true;
    with_shared_page(index, kMetaBlock, [&](Page page) {
        is_new = PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(sizeof(RabitqPageOpaque));
        if (is_new) return;
        memcpy(out, page_meta(page), sizeof(*out));
        opaque = *page_opaque(page);
    });
    if (is_new || opaque.page_id != kRabitqPageId || opaque.kind != static_cast<uint16>(PageKind::Meta) ||
        out->magic != kRabitqMagic)
        throw_corrupted(index, "Block 0 is not a rabitq metapage.");
    if (out->format_version != kRabitqFormatVersion)
        throw pg::SqlError(ERRCODE_FEATURE_NOT_SUPPORTED,
                           std::string("index \"") + RelationGetRelationName(index) + "\" has rabitq format version " +
                               std::to_string(out->format_version) + ", this build reads version " +
                               std::to_string(kRabitqFormatVersion),
                           {}, "REINDEX the index.");
    if (out->list_count == 0 || out->dim == 0 || out->code_bits < out->dim || out->code_bits % 64 != 0 ||
        out->record_stride != record_layout(out->code_bits, static_cast<RerankSource>(out->rerank)).stride ||
        (out->rerank == static_cast<uint8>(RerankSource::Index)
             ? out->vectors_per_page != kPageUsableBytes / vector_stride(out->dim) || out->vectors_per_page == 0
             : out->vectors_per_page != 0) ||
        out->records_per_page == 0 || out->records_per_page * static_cast<size_t>(out->record_stride) > kPageUsableBytes)
        throw_corrupted(index, "The metapage holds inconsistent sizes.");
    // The counts size the allocations of load_index_data: they must fit in the pages the metapage
    // names, and those pages in the relation, so a corrupted count cannot ask for more memory than
    // the index file holds.
    const uint64 blocks = pg::pg_call([&] { return RelationGetNumberOfBlocks(index); });
    const uint64 centroid_floats = static_cast<uint64>(out->list_count) * (uint64{out->dim} + out->code_bits);
    if (out->list_count > static_cast<uint32>(kMaxLists) || out->centroid_start == kMetaBlock ||
        out->directory_start == kMetaBlock || uint64{out->centroid_start} + out->centroid_pages > blocks ||
        uint64{out->directory_start} + out->directory_pages > blocks ||
        uint64{out->centroid_pages} * kCentroidFloatsPerPage < centroid_floats ||
        uint64{out->directory_pages} * kDirectoryEntriesPerPage < out->list_count)
        throw_corrupted(index, "The metapage's list count or page ranges do not fit in the index (" +
                                   std::to_string(blocks) + " blocks).");
}

const RabitqMetaData& cached_metapage(Relation index) {
    if (index->rd_amcache == nullptr) {
        RabitqMetaData meta;
        read_metapage(index, &meta);
        void* copy = pg::pg_call([&] { return MemoryContextAlloc(index->rd_indexcxt, sizeof(RabitqMetaData)); });
        memcpy(copy, &meta, sizeof(meta));
        index->rd_amcache = copy;
    }
    return *static_cast<const RabitqMetaData*>(index->rd_amcache);
}

std::shared_ptr<const IndexData> index_data(Relation index) {
    if (index_cache == nullptr) {
        index_cache = new std::vector<IndexCacheEntry>();
        pg::pg_call([] { CacheRegisterRelcacheCallback(forget_index, 0); });
    }
    const Oid oid = RelationGetRelid(index);
    const Oid relfilenode = relfilenode_of(index);
    for (const IndexCacheEntry& entry : *index_cache)
        if (entry.index_oid == oid && entry.relfilenode == relfilenode) return entry.data;
    std::shared_ptr<const IndexData> data = load_index_data(index);
    forget_index(0, oid);  // an older relfilenode of the same index
    index_cache->push_back(IndexCacheEntry{oid, relfilenode, data});
    return data;
}

void rotation_probe(const core::Rotation& rotation, float out[4]) {
    std::vector<float> input(rotation.input_dim()), output(rotation.output_dim());
    for (uint32 i = 0; i < rotation.input_dim(); ++i) input[i] = rotation_probe_input(i);
    rotation.apply(input.data(), output.data());
    for (uint32 k = 0; k < 4; ++k) out[k] = output[rotation_probe_coordinate(k, rotation.output_dim())];
}

std::shared_ptr<const core::Rotation> cached_rotation(core::RotationKind kind, uint32 dim, uint64 seed) {
    if (rotation_cache == nullptr) rotation_cache = new std::vector<RotationCacheEntry>();
    ++rotation_clock;
    for (RotationCacheEntry& entry : *rotation_cache) {
        if (entry.kind == kind && entry.dim == dim && entry.seed == seed) {
            entry.last_use = rotation_clock;
            return entry.rotation;
        }
    }
    std::shared_ptr<const core::Rotation> rotation(core::Rotation::create(kind, dim, seed));
    if (rotation_cache->size() >= kMaxCachedRotations) {
        auto oldest = std::min_element(rotation_cache->begin(), rotation_cache->end(),
                                       [](const RotationCacheEntry& a, const RotationCacheEntry& b) {
                                           return a.last_use < b.last_use;
                                       });
        rotation_cache->erase(oldest);
    }
    rotation_cache->push_back(RotationCacheEntry{kind, dim, seed, rotation_clock, rotation});
    return rotation;
}

}  // namespace rulake::am
