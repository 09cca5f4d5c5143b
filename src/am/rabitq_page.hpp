// On-disk format of a rabitq index (format version 1; docs/index-format.md describes it in prose).
//
// Block 0 is the metapage; then come the centroid pages, the list directory pages and the data pages,
// each kind in one contiguous run at build time (data pages added by inserts are appended at the end of
// the relation and chained to their list). Every page carries a RabitqPageOpaque in its special space.
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

enum class PageKind : uint16 { Meta = 1, Centroid = 2, Directory = 3, Data = 4 };
enum class RerankSource : uint8 { Heap = 1, Index = 2 };

// Special space of every page (16 bytes).
struct RabitqPageOpaque {
    BlockNumber next;  // next page of the same chain (data pages of one list; centroid and directory runs)
    uint16 kind;       // PageKind
    uint16 flags;      // reserved, 0
    uint32 count;      // entries on this page: records (data), list entries (directory), floats (centroid)
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
    uint32 reserved1;             // 0
};
static_assert(sizeof(RabitqMetaData) == 72, "metapage layout is on disk");

// One list directory entry (16 bytes); entry i of the whole directory describes list i.
struct RabitqListEntry {
    BlockNumber head;  // first data page (never changes after build)
    BlockNumber tail;  // last data page (inserts append here)
    uint32 tuples;     // records in the list
    uint32 pages;      // data pages in the chain
};
static_assert(sizeof(RabitqListEntry) == 16, "directory layout is on disk");

// Byte offset of the contents of a page (right after the page header, 8-byte aligned).
constexpr size_t kPageContentOffset = MAXALIGN(SizeOfPageHeaderData);
// Bytes available for contents on every page.
constexpr size_t kPageUsableBytes = BLCKSZ - kPageContentOffset - MAXALIGN(sizeof(RabitqPageOpaque));
constexpr size_t kDirectoryEntriesPerPage = kPageUsableBytes / sizeof(RabitqListEntry);
constexpr size_t kCentroidFloatsPerPage = kPageUsableBytes / sizeof(float);

// Layout of one data record: code words first (8-byte aligned, contiguous for the batch estimator),
// then the correction factors, then the heap TID (padded to 8 bytes), then for rerank = 'index' the
// full vector (dim floats, padded to 8 bytes).
struct RecordLayout {
    size_t code_bytes;      // code_bits / 8
    size_t factors_offset;  // = code_bytes
    size_t tid_offset;      // = code_bytes + 16
    size_t vector_offset;   // = code_bytes + 24 (only meaningful for rerank = 'index')
    size_t stride;          // total bytes, a multiple of 8
};

constexpr RecordLayout record_layout(uint32 dim, uint32 code_bits, RerankSource rerank) {
    size_t code_bytes = static_cast<size_t>(code_bits) / 8;
    size_t vector_bytes = rerank == RerankSource::Index ? TYPEALIGN(8, sizeof(float) * static_cast<size_t>(dim)) : 0;
    return RecordLayout{code_bytes, code_bytes, code_bytes + 16, code_bytes + 24, code_bytes + 24 + vector_bytes};
}

// Code bits for dim dimensions (the rotations pad to a multiple of 64).
constexpr uint32 code_bits_for(uint32 dim) { return (dim + 63) / 64 * 64; }

// Largest dimension count whose rerank = 'index' record still fits on one page.
constexpr uint32 max_dim_with_index_rerank() {
    uint32 d = 1;
    while (record_layout(d + 1, code_bits_for(d + 1), RerankSource::Index).stride <= kPageUsableBytes) ++d;
    return d;
}

inline RabitqPageOpaque* page_opaque(Page page) { return reinterpret_cast<RabitqPageOpaque*>(PageGetSpecialPointer(page)); }
inline char* page_contents(Page page) { return reinterpret_cast<char*>(page) + kPageContentOffset; }
inline RabitqMetaData* page_meta(Page page) { return reinterpret_cast<RabitqMetaData*>(page_contents(page)); }

// Initialises a zeroed page of the given kind (pd_lower just after the header, pd_upper at the special space).
void init_page(Page page, PageKind kind);
// Sets pd_lower to the end of `used` content bytes so that Generic WAL keeps them (it zeroes the hole).
void set_contents_size(Page page, size_t used);

}  // namespace rulake::am
