// rabitq_verify(regclass) RETURNS SETOF text: an integrity check of a rabitq index. Returns one line
// per structural problem found and nothing for a healthy index:
//   * metapage: magic, sizes, block ranges of the centroid and directory runs;
//   * centroid and directory pages: kind, counts (L x (D + D') floats, L entries);
//   * every list's data chain (and vector chain with rerank = 'index'): pages of the right kind, not
//     cyclic and not shared with another chain, counts per page within bounds, pd_lower matching the
//     count, the directory's head, tail, record and page counts equal to what the walk found;
//   * every record: heap TID within the table and pointing at a used line pointer, no TID twice, with
//     rerank = 'index' a vector location inside the list's vector chain;
//   * every block of the relation: reachable from a list, or a Free page, or an all-zero page (an
//     extension a crash cut short).
// An index of another format version is not inspected: that raises the usual version error.
//
// Locks: a SHARE lock on the table (inserts and vacuum wait until the check ends, so the counts are
// consistent), the index with AccessShareLock; pages are copied one at a time under a share lock. Needs
// SELECT and one of UPDATE, DELETE or TRUNCATE on the table (as LOCK TABLE IN SHARE MODE does).
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "rabitq_am.hpp"

extern "C" {
#include "access/relation.h"
#include "access/table.h"
#include "catalog/index.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"
}

namespace rulake::am {

namespace {

// A copied page plus whether it carries our special space.
struct PageCopy {
    std::vector<char> bytes = std::vector<char>(BLCKSZ);
    Page page() { return static_cast<Page>(bytes.data()); }
};

void copy_page(Relation rel, BlockNumber block, PageCopy* out) {
    pg::pg_call([&] {
        CHECK_FOR_INTERRUPTS();
        Buffer buffer = ReadBuffer(rel, block);
        LockBuffer(buffer, BUFFER_LOCK_SHARE);
        memcpy(out->bytes.data(), BufferGetPage(buffer), BLCKSZ);
        UnlockReleaseBuffer(buffer);
    });
}

bool is_ours(Page page) {
    return !PageIsNew(page) && PageGetSpecialSize(page) == MAXALIGN(sizeof(RabitqPageOpaque)) &&
           page_opaque(page)->page_id == kRabitqPageId;
}

bool is_kind(Page page, PageKind kind) { return is_ours(page) && page_opaque(page)->kind == static_cast<uint16>(kind); }

bool all_zero(Page page) {
    const char* p = reinterpret_cast<const char*>(page);
    return std::all_of(p, p + BLCKSZ, [](char c) { return c == 0; });
}

std::string block_text(BlockNumber block) { return "block " + std::to_string(block); }

struct RecordRef {
    uint32 block;   // heap block
    uint16 offset;  // heap line pointer
    uint32 list;
};

class Verifier {
  public:
    Verifier(Relation index, Relation heap) : index_(index), heap_(heap) {}

    std::vector<std::string> run() {
        blocks_ = pg::pg_call([&] { return RelationGetNumberOfBlocks(index_); });
        owner_.assign(blocks_, Owner::None);
        if (blocks_ == 0) {
            problem("the index has no metapage (0 blocks)");
            return problems_;
        }
        PageCopy copy;
        copy_page(index_, kMetaBlock, &copy);
        if (!is_kind(copy.page(), PageKind::Meta) || page_meta(copy.page())->magic != kRabitqMagic) {
            problem("block 0 is not a rabitq metapage (bad magic or page kind)");
            return problems_;
        }
        // Raises on another format version (clear error) or on inconsistent sizes.
        try {
            read_metapage(index_, &meta_);
        } catch (const pg::SqlError& e) {
            if (e.sqlstate() != ERRCODE_INDEX_CORRUPTED) throw;
            problem("metapage: " + e.detail());
            return problems_;
        }
        owner_[kMetaBlock] = Owner::Meta;
        layout_ = record_layout(meta_.code_bits, static_cast<RerankSource>(meta_.rerank));
        if (!check_runs()) return problems_;
        for (uint32 list = 0; list < meta_.list_count; ++list) check_list(list);
        check_unreached_blocks();
        check_heap_tids();
        return problems_;
    }

  private:
    enum class Owner : uint8 { None, Meta, Centroid, Directory, Chain, Free };

    void problem(const std::string& text) { problems_.push_back(text); }

    // The centroid and directory runs; collects the directory entries. False when lists cannot be walked.
    bool check_runs() {
        const uint64 centroid_end = uint64{meta_.centroid_start} + meta_.centroid_pages;
        const uint64 directory_end = uint64{meta_.directory_start} + meta_.directory_pages;
        if (meta_.centroid_start == 0 || centroid_end > blocks_ || meta_.directory_start == 0 || directory_end > blocks_) {
            problem("metapage: centroid or directory blocks lie outside the relation");
            return false;
        }
        PageCopy copy;
        uint64 floats = 0;
        for (BlockNumber b = meta_.centroid_start; b < centroid_end; ++b) {
            copy_page(index_, b, &copy);
            owner_[b] = Owner::Centroid;
            if (!is_kind(copy.page(), PageKind::Centroid) || page_opaque(copy.page())->count > kCentroidFloatsPerPage)
                problem(block_text(b) + ": not a valid centroid page");
            else
                floats += page_opaque(copy.page())->count;
        }
        const uint64 expected_floats = uint64{meta_.list_count} * (meta_.dim + meta_.code_bits);
        if (floats != expected_floats)
            problem("centroid pages hold " + std::to_string(floats) + " floats, expected " + std::to_string(expected_floats));
        for (BlockNumber b = meta_.directory_start; b < directory_end; ++b) {
            copy_page(index_, b, &copy);
            owner_[b] = Owner::Directory;
            if (!is_kind(copy.page(), PageKind::Directory) || page_opaque(copy.page())->count > kDirectoryEntriesPerPage) {
                problem(block_text(b) + ": not a valid directory page");
                continue;
            }
            auto* entries = reinterpret_cast<const RabitqListEntry*>(page_contents(copy.page()));
            entries_.insert(entries_.end(), entries, entries + page_opaque(copy.page())->count);
        }
        if (entries_.size() != meta_.list_count) {
            problem("the directory holds " + std::to_string(entries_.size()) + " lists, expected " +
                    std::to_string(meta_.list_count));
            return false;
        }
        return true;
    }

    // Walks one chain from head. Returns the blocks in order (stops at the first broken link).
    struct ChainWalk {
        uint64 items = 0;
        uint32 last_count = 0;  // entries on the last page
        uint32 pages = 0;
        BlockNumber last = InvalidBlockNumber;
        bool complete = false;
    };
    ChainWalk walk_chain(uint32 list, BlockNumber head, PageKind kind, uint32 per_page, size_t item_bytes,
                         std::vector<std::pair<BlockNumber, uint32>>* vector_pages) {
        const char* what = kind == PageKind::Data ? "data" : "vector";
        const std::string name = "list " + std::to_string(list) + " " + what + " chain";
        ChainWalk walk;
        PageCopy copy;
        for (BlockNumber b = head;;) {
            if (b >= blocks_) {
                problem(name + ": link to " + block_text(b) + " beyond the end of the relation (" +
                        std::to_string(blocks_) + " blocks)");
                return walk;
            }
            if (owner_[b] != Owner::None) {
                problem(name + ": " + block_text(b) + " is reached twice (a cyclic or shared chain)");
                return walk;
            }
            owner_[b] = Owner::Chain;
            copy_page(index_, b, &copy);
            Page page = copy.page();
            if (!is_kind(page, kind)) {
                problem(name + ": " + block_text(b) + " is not a " + what + " page");
                return walk;
            }
            const uint32 count = page_opaque(page)->count;
            if (count > per_page) {
                problem(name + ": " + block_text(b) + " claims " + std::to_string(count) + " entries, at most " +
                        std::to_string(per_page) + " fit");
                return walk;
            }
            if (reinterpret_cast<PageHeader>(page)->pd_lower != kPageContentOffset + count * item_bytes)
                problem(name + ": " + block_text(b) + " has pd_lower " +
                        std::to_string(reinterpret_cast<PageHeader>(page)->pd_lower) + " for " + std::to_string(count) +
                        " entries");
            walk.items += count;
            walk.last_count = count;
            walk.pages += 1;
            walk.last = b;
            if (kind == PageKind::Data) collect_records(list, b, page, count);
            if (vector_pages != nullptr) vector_pages->emplace_back(b, count);
            if (page_opaque(page)->next == InvalidBlockNumber) break;
            b = page_opaque(page)->next;
        }
        walk.complete = true;
        return walk;
    }

    void collect_records(uint32 list, BlockNumber block, Page page, uint32 count) {
        for (uint32 r = 0; r < count; ++r) {
            const char* record = page_contents(page) + r * layout_.stride;
            ItemPointerData tid;
            memcpy(&tid, record + layout_.tid_offset, sizeof(tid));
            if (!ItemPointerIsValid(&tid)) {
                problem(block_text(block) + " record " + std::to_string(r) + ": invalid heap TID");
                continue;
            }
            records_.push_back(RecordRef{ItemPointerGetBlockNumber(&tid), ItemPointerGetOffsetNumber(&tid), list});
            if (meta_.rerank == static_cast<uint8>(RerankSource::Index)) {  // the vector location
                uint16 slot;
                BlockNumber vector_block;
                memcpy(&slot, record + layout_.vector_slot_offset, sizeof(slot));
                memcpy(&vector_block, record + layout_.vector_block_offset, sizeof(vector_block));
                vector_refs_.push_back({list, vector_block, slot, block});
            }
        }
    }

    void check_list(uint32 list) {
        const RabitqListEntry& entry = entries_[list];
        const std::string name = "list " + std::to_string(list);
        vector_refs_.clear();  // filled with this list's records' vector locations by the data walk
        ChainWalk data = walk_chain(list, entry.head, PageKind::Data, meta_.records_per_page, layout_.stride, nullptr);
        if (data.complete) {
            if (data.items - data.last_count != entry.sealed_records)
                problem(name + ": the directory counts " + std::to_string(entry.sealed_records) +
                        " records before the tail, the chain holds " + std::to_string(data.items - data.last_count));
            if (data.pages != entry.pages)
                problem(name + ": the directory counts " + std::to_string(entry.pages) + " data pages, the chain has " +
                        std::to_string(data.pages));
            if (data.last != entry.tail)
                problem(name + ": the directory's tail is " + block_text(entry.tail) + ", the chain ends at " +
                        block_text(data.last));
        }
        if (meta_.rerank != static_cast<uint8>(RerankSource::Index)) return;
        std::vector<std::pair<BlockNumber, uint32>> pages;
        ChainWalk vectors = walk_chain(list, entry.vector_head, PageKind::Vector, meta_.vectors_per_page,
                                       vector_stride(meta_.dim), &pages);
        if (vectors.complete) {
            if (vectors.items - vectors.last_count != entry.sealed_vectors)
                problem(name + ": the directory counts " + std::to_string(entry.sealed_vectors) +
                        " vectors before the tail, the chain holds " + std::to_string(vectors.items - vectors.last_count));
            if (vectors.pages != entry.vector_pages)
                problem(name + ": the directory counts " + std::to_string(entry.vector_pages) +
                        " vector pages, the chain has " + std::to_string(vectors.pages));
            if (vectors.last != entry.vector_tail)
                problem(name + ": the directory's vector tail is " + block_text(entry.vector_tail) +
                        ", the chain ends at " + block_text(vectors.last));
        }
        std::sort(pages.begin(), pages.end());
        for (const VectorRef& ref : vector_refs_) {
            auto it = std::lower_bound(pages.begin(), pages.end(), std::make_pair(ref.block, uint32{0}));
            if (it == pages.end() || it->first != ref.block || ref.slot >= it->second)
                problem(block_text(ref.record_block) + ": a record of list " + std::to_string(list) +
                        " points to vector slot " + std::to_string(ref.slot) + " of " + block_text(ref.block) +
                        ", which is not in the list's vector chain");
        }
    }

    void check_unreached_blocks() {
        PageCopy copy;
        for (BlockNumber b = 1; b < blocks_; ++b) {
            if (owner_[b] != Owner::None) continue;
            copy_page(index_, b, &copy);
            if (is_kind(copy.page(), PageKind::Free)) continue;
            if (PageIsNew(copy.page()) && all_zero(copy.page())) continue;
            problem(block_text(b) + " is not reachable from the metapage or any list");
        }
    }

    // Every record's heap TID: within the table, on a used line pointer, and only once in the index.
    void check_heap_tids() {
        std::sort(records_.begin(), records_.end(), [](const RecordRef& a, const RecordRef& b) {
            return a.block != b.block ? a.block < b.block : a.offset < b.offset;
        });
        const BlockNumber heap_blocks = pg::pg_call([&] { return RelationGetNumberOfBlocks(heap_); });
        PageCopy copy;
        BlockNumber loaded = InvalidBlockNumber;
        for (size_t i = 0; i < records_.size(); ++i) {
            const RecordRef& r = records_[i];
            const std::string tid = "(" + std::to_string(r.block) + "," + std::to_string(r.offset) + ")";
            if (i > 0 && records_[i - 1].block == r.block && records_[i - 1].offset == r.offset) {
                problem("heap TID " + tid + " is indexed twice (lists " + std::to_string(records_[i - 1].list) +
                        " and " + std::to_string(r.list) + ")");
                continue;
            }
            if (r.block >= heap_blocks) {
                problem("list " + std::to_string(r.list) + ": heap TID " + tid + " lies beyond the table's " +
                        std::to_string(heap_blocks) + " blocks");
                continue;
            }
            if (loaded != r.block) {
                copy_page(heap_, r.block, &copy);
                loaded = r.block;
            }
            Page page = copy.page();
            if (PageIsNew(page) || r.offset < FirstOffsetNumber || r.offset > PageGetMaxOffsetNumber(page) ||
                !ItemIdIsUsed(PageGetItemId(page, r.offset)))
                problem("list " + std::to_string(r.list) + ": heap TID " + tid + " points to no heap item");
        }
    }

    struct VectorRef {
        uint32 list;
        BlockNumber block;
        uint16 slot;
        BlockNumber record_block;
    };

    Relation index_;
    Relation heap_;
    BlockNumber blocks_ = 0;
    RabitqMetaData meta_{};
    RecordLayout layout_{};
    std::vector<Owner> owner_;
    std::vector<RabitqListEntry> entries_;
    std::vector<RecordRef> records_;
    std::vector<VectorRef> vector_refs_;
    std::vector<std::string> problems_;
};

// Opens the index and its table (see the header for locks and privileges); close() closes both.
class LockedIndex {
  public:
    explicit LockedIndex(Oid index_oid) {
        Oid table = pg::pg_call([&] { return IndexGetRelation(index_oid, true); });
        if (table == InvalidOid) {
            const char* name = pg::pg_call([&] { return get_rel_name(index_oid); });
            throw pg::SqlError(ERRCODE_WRONG_OBJECT_TYPE,
                               name != nullptr ? "\"" + std::string(name) + "\" is not an index"
                                               : "relation with OID " + std::to_string(index_oid) + " does not exist");
        }
        if (pg::pg_call([&] { return pg_class_aclcheck(table, GetUserId(), ACL_SELECT); }) != ACLCHECK_OK ||
            pg::pg_call([&] {
                return pg_class_aclcheck(table, GetUserId(), ACL_UPDATE | ACL_DELETE | ACL_TRUNCATE);
            }) != ACLCHECK_OK)
            throw pg::SqlError(ERRCODE_INSUFFICIENT_PRIVILEGE, "permission denied to verify the index", {},
                               "rabitq_verify needs SELECT and one of UPDATE, DELETE or TRUNCATE on the table.");
        heap_ = pg::pg_call([&] { return table_open(table, ShareLock); });
        index_ = pg::pg_call([&] { return index_open(index_oid, AccessShareLock); });
        if (index_->rd_indam == nullptr || index_->rd_indam->ambuild != rabitq_build) {
            std::string name = RelationGetRelationName(index_);
            throw pg::SqlError(ERRCODE_WRONG_OBJECT_TYPE, "\"" + name + "\" is not a rabitq index");
        }
    }
    // Never calls Postgres: see close().
    ~LockedIndex() = default;
    // Closes both relations; locks are kept to the end of the transaction, as for any relation read by
    // a statement. Contract: call it on success (it may throw PgError); when an exception unwinds
    // instead, the failing transaction's resource owner releases the relations, and a forgotten close()
    // shows as a relcache reference leak warning at commit.
    void close() {
        if (index_ != nullptr) {
            Relation r = index_;
            index_ = nullptr;
            pg::pg_call([&] { index_close(r, NoLock); });
        }
        if (heap_ != nullptr) {
            Relation r = heap_;
            heap_ = nullptr;
            pg::pg_call([&] { table_close(r, NoLock); });
        }
    }
    LockedIndex(const LockedIndex&) = delete;
    LockedIndex& operator=(const LockedIndex&) = delete;
    Relation index() const { return index_; }
    Relation heap() const { return heap_; }

  private:
    Relation heap_ = nullptr;
    Relation index_ = nullptr;
};

}  // namespace

}  // namespace rulake::am

RULAKE_FUNCTION(rabitq_verify) {
    using namespace rulake::am;
    std::vector<std::string> problems;
    {
        LockedIndex locked(PG_GETARG_OID(0));
        problems = Verifier(locked.index(), locked.heap()).run();
        locked.close();
    }
    rulake::pg::pg_call([&] {
        ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
#if PG_VERSION_NUM >= 150000
        InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
#else
        if (rsinfo == nullptr || !IsA(rsinfo, ReturnSetInfo) || !(rsinfo->allowedModes & SFRM_Materialize))
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                            errmsg("set-valued function called in context that cannot accept a set")));
        MemoryContext old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
        rsinfo->returnMode = SFRM_Materialize;
        rsinfo->setDesc = CreateTemplateTupleDesc(1);
        TupleDescInitEntry(rsinfo->setDesc, 1, "problem", TEXTOID, -1, 0);
        rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
        MemoryContextSwitchTo(old);
#endif
        for (const std::string& p : problems) {
            Datum value = PointerGetDatum(cstring_to_text_with_len(p.data(), static_cast<int>(p.size())));
            bool isnull = false;
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
        }
    });
    return (Datum)0;
}
