// On-disk format of a rabitq index (format version 1; docs/index-format.md describes it in prose).
//
// Block 0 is the metapage; then come the centroid pages, the list directory pages, the data pages (RaBitQ
// records) and, with rerank = 'index', the vector pages (full vectors), each kind in one contiguous run at
// build time, lists in order. Pages added by inserts are appended at the end of the relation and chained
// to their list. Every page carries a RabitqPageOpaque in its special space.
// The rotation is never stored: it is regenerated from (rotation kind, dimensions, seed).
//
// Only plain structs and constexpr helpers live here; the file is included after the Postgres headers.
#pragma once

#include "rulake/pg/postgres.hpp"

extern "C" {
#include "storage/block.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"
}

namespace rulake::am {

constexpr uint32 kRabitqMagic = 0x52425131;  // "RBQ1"
constexpr uint32 kRabitqFormatVersion = 1;
constexpr BlockNumber kMetaBlock = 0;
// Marks our pages in the special space, like other index AMs do, so tools can recognise them.
constexpr uint16 kRabitqPageId = 0xFF8A;

enum class PageKind : uint16 { Meta = 1, Centroid = 2, Directory = 3, Data = 4, Vector = 5 };
enum class RerankSource : uint8 { Heap = 1, Index = 2 };

// Special space of every page (16 bytes).
struct RabitqPageOpaque {
    BlockNumber next;  // next page of the same chain (data or vector pages of one list; centroid and directory runs)
    uint16 kind;       // PageKind
    uint16 flags;      // reserved, 0
    uint32 count;      // entries on this page: records (data), vectors (vector), list entries (directory),
                       // floats (centroid)
    uint16 reserved;   // 0
    uint16 page_id;    // kRabitqPageId
};
static_assert(sizeof(RabitqPageOpaque) == 16, "special space layout is on disk");

// Contents of block 0, right after the page header.
struct RabitqMetaData {
    uint32 magic;              // kRabitqMagic
    uint32 format_version;     // kRabitqFormatVersion
    uint32 dim;                // vector dimensions
    uint32 code_bits;          // rotation output dimensions = bits per code (a multiple of 64)
    uint8 metric;              // core::Metric
    uint8 rotation_kind;       // core::RotationKind
    uint8 rerank;              // RerankSource
    uint8 reserved0;           // 0
    uint32 list_count;         // number of IVF lists (>= 1)
    uint64 seed;               // rotation and k-means seed
    BlockNumber centroid_start;   // first centroid page
    uint32 centroid_pages;        // number of centroid pages (contiguous)
    BlockNumber directory_start;  // first list directory page
    uint32 directory_pages;       // number of directory pages (contiguous)
    uint32 record_stride;         // bytes per data record
    uint32 records_per_page;      // data records that fit on one page
    uint64 built_tuples;          // rows indexed by the build (later changes are counted per list)
    uint32 kmeans_sample;         // rows the centroids were trained on (0 for an empty build)
    uint32 vectors_per_page;      // vectors that fit on one vector page (0 with rerank = 'heap')
    // Four coordinates of the rotation applied to a fixed probe vector (rotation_probe_input): a backend
    // whose code regenerates another rotation from the seed refuses the index instead of mis-ranking.
    float rotation_probe[4];
};
static_assert(sizeof(RabitqMetaData) == 88, "metapage layout is on disk");

// One list directory entry (32 bytes); entry i of the whole directory describes list i.
struct RabitqListEntry {
    BlockNumber head;         // first data page (never changes after build)
    BlockNumber tail;         // last data page (inserts append here)
    uint32 tuples;            // records in the list
    uint32 pages;             // data pages in the chain
    BlockNumber vector_head;  // first vector page (rerank = 'index'; InvalidBlockNumber otherwise)
    BlockNumber vector_tail;  // last vector page (inserts append here)
    uint32 vectors;           // vectors stored (including those of removed records: vector pages are
                              // never compacted, REINDEX reclaims them)
    uint32 vector_pages;      // vector pages in the chain
};
static_assert(sizeof(RabitqListEntry) == 32, "directory layout is on disk");

// Byte offset of the contents of a page (right after the page header, 8-byte aligned).
constexpr size_t kPageContentOffset = MAXALIGN(SizeOfPageHeaderData);
// Bytes available for contents on every page.
constexpr size_t kPageUsableBytes = BLCKSZ - kPageContentOffset - MAXALIGN(sizeof(RabitqPageOpaque));
constexpr size_t kDirectoryEntriesPerPage = kPageUsableBytes / sizeof(RabitqListEntry);
constexpr size_t kCentroidFloatsPerPage = kPageUsableBytes / sizeof(float);

// Layout of one data record: code words first (8-byte aligned, contiguous for the batch estimator),
// then the correction factors, then the heap TID; with rerank = 'index' the slot (uint16) and block
// (uint32) of the row's vector on a vector page follow. Padding bytes are zero.
struct RecordLayout {
    size_t code_bytes;           // code_bits / 8
    size_t factors_offset;       // = code_bytes
    size_t tid_offset;           // = code_bytes + 16
    size_t vector_slot_offset;   // = code_bytes + 22 (rerank = 'index')
    size_t vector_block_offset;  // = code_bytes + 24 (rerank = 'index')
    size_t stride;               // code_bytes + 24 (heap) or + 32 (index): a multiple of 8
};

constexpr RecordLayout record_layout(uint32 code_bits, RerankSource rerank) {
    size_t code_bytes = static_cast<size_t>(code_bits) / 8;
    return RecordLayout{code_bytes,      code_bytes,      code_bytes + 16,
                        code_bytes + 22, code_bytes + 24, code_bytes + (rerank == RerankSource::Index ? 32 : 24)};
}

// Bytes per vector on a vector page (dim floats, padded to 8 bytes).
constexpr size_t vector_stride(uint32 dim) { return TYPEALIGN(8, sizeof(float) * static_cast<size_t>(dim)); }

// Largest dimension count whose vector fits on one vector page (rerank = 'index').
constexpr uint32 max_dim_with_index_rerank() { return static_cast<uint32>(kPageUsableBytes / sizeof(float) / 2 * 2); }

inline RabitqPageOpaque* page_opaque(Page page) { return reinterpret_cast<RabitqPageOpaque*>(PageGetSpecialPointer(page)); }
inline char* page_contents(Page page) { return reinterpret_cast<char*>(page) + kPageContentOffset; }
inline RabitqMetaData* page_meta(Page page) { return reinterpret_cast<RabitqMetaData*>(page_contents(page)); }

// The fixed input of the rotation check: dim exactly representable floats in [-1, 1].
inline float rotation_probe_input(uint32 i) { return static_cast<float>(static_cast<int>((i * 37u) % 11u) - 5) / 5.0f; }
// Coordinates of the rotated probe recorded in the metapage: 0, 1, code_bits/2, code_bits-1.
inline uint32 rotation_probe_coordinate(uint32 k, uint32 code_bits) {
    const uint32 at[4] = {0, 1, code_bits / 2, code_bits - 1};
    return at[k];
}

// Initialises a zeroed page of the given kind (pd_lower just after the header, pd_upper at the special space).
void init_page(Page page, PageKind kind);
// Sets pd_lower to the end of `used` content bytes so that Generic WAL keeps them (it zeroes the hole).
void set_contents_size(Page page, size_t used);

}  // namespace rulake::am
