// SQL helpers that look inside a rabitq index:
//   rabitq_index_summary(regclass) RETURNS jsonb   structure and list statistics
//   rabitq_index_checksum(regclass) RETURNS text   SHA-256 over every page with the page LSN and checksum
//                                                   fields zeroed: equal for byte-identical builds
#include <openssl/evp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "rabitq_am.hpp"

extern "C" {
#include "access/relation.h"
#include "catalog/pg_class.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
}

namespace rulake::am {

namespace {

// An open rabitq index (AccessShareLock). The caller must be allowed to read the table the index
// belongs to. Contract: on success the caller releases it with close(), which may throw; the destructor
// never calls Postgres: when an exception unwinds, the failing transaction's resource owner releases
// the relation (and a forgotten close() shows as a relcache reference leak warning at commit).
class OpenIndex {
  public:
    explicit OpenIndex(Oid oid) {
        relation_ = pg::pg_call([&] { return relation_open(oid, AccessShareLock); });
        if (relation_->rd_rel->relkind != RELKIND_INDEX || relation_->rd_indam == nullptr ||
            relation_->rd_indam->ambuild != rabitq_build) {
            std::string name = RelationGetRelationName(relation_);
            close();
            throw pg::SqlError(ERRCODE_WRONG_OBJECT_TYPE, "\"" + name + "\" is not a rabitq index");
        }
        Oid table = relation_->rd_index->indrelid;
        if (pg::pg_call([&] { return pg_class_aclcheck(table, GetUserId(), ACL_SELECT); }) != ACLCHECK_OK) {
            std::string name = RelationGetRelationName(relation_);
            close();
            throw pg::SqlError(ERRCODE_INSUFFICIENT_PRIVILEGE, "permission denied for index \"" + name + "\"", {},
                               "Reading a rabitq index's structure requires SELECT on its table.");
        }
    }
    ~OpenIndex() = default;
    OpenIndex(const OpenIndex&) = delete;
    OpenIndex& operator=(const OpenIndex&) = delete;
    Relation get() const { return relation_; }
    // Closes the relation (keeping nothing open); a Postgres error becomes PgError.
    void close() {
        if (relation_ == nullptr) return;
        Relation r = relation_;
        relation_ = nullptr;
        pg::pg_call([&] { relation_close(r, AccessShareLock); });
    }

  private:
    Relation relation_ = nullptr;
};

// Copies every block of the index's main fork, one at a time under a share lock, into visit(blkno, page).
template <typename Fn>
void for_each_page(Relation index, Fn&& visit) {
    BlockNumber blocks = pg::pg_call([&] { return RelationGetNumberOfBlocks(index); });
    std::vector<char> copy(BLCKSZ);
    for (BlockNumber block = 0; block < blocks; ++block) {
        pg::pg_call([&] {
            CHECK_FOR_INTERRUPTS();
            Buffer buffer = ReadBuffer(index, block);
            LockBuffer(buffer, BUFFER_LOCK_SHARE);
            memcpy(copy.data(), BufferGetPage(buffer), BLCKSZ);
            UnlockReleaseBuffer(buffer);
        });
        visit(block, static_cast<Page>(copy.data()));
    }
}

const char* metric_name(uint8 metric) {
    switch (static_cast<core::Metric>(metric)) {
        case core::Metric::L2: return "l2";
        case core::Metric::InnerProduct: return "inner_product";
        case core::Metric::Cosine: return "cosine";
    }
    return "unknown";
}

std::string json_number(double x) {
    char buffer[64];
    pg_snprintf(buffer, sizeof(buffer), "%.6g", x);
    return buffer;
}

// Whether the centroids are stale enough that a REINDEX would help: the index holds at least 1000 rows
// and at least twice the rows its centroids were trained for (an index built on an empty table has one
// list with the zero centroid, so any growth past 1000 rows qualifies). Rows added after the build all
// go to the lists of the original centroids, which then grow long and may no longer follow the data.
bool reindex_recommended(uint64 tuples, uint64 built_tuples) { return tuples >= 1000 && tuples >= 2 * built_tuples; }

struct EvpContextDeleter {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

}  // namespace

}  // namespace rulake::am

RULAKE_FUNCTION(rabitq_index_summary) {
    using namespace rulake::am;
    OpenIndex index(PG_GETARG_OID(0));
    RabitqMetaData meta;
    read_metapage(index.get(), &meta);

    std::vector<RabitqListEntry> lists;
    lists.reserve(meta.list_count);
    std::vector<uint32> data_page_counts;  // by block: records on data pages (for the tails)
    uint64 pages[7] = {0, 0, 0, 0, 0, 0, 0};  // by PageKind; [0] = unused or unknown pages
    for_each_page(index.get(), [&](BlockNumber block, Page page) {
        bool ours = !PageIsNew(page) && PageGetSpecialSize(page) == MAXALIGN(sizeof(RabitqPageOpaque)) &&
                    page_opaque(page)->page_id == kRabitqPageId && page_opaque(page)->kind >= 1 &&
                    page_opaque(page)->kind <= 6;
        ++pages[ours ? page_opaque(page)->kind : 0];
        data_page_counts.resize(block + 1, 0);
        if (ours && page_opaque(page)->kind == static_cast<uint16>(PageKind::Data))
            data_page_counts[block] = page_opaque(page)->count;
        if (ours && page_opaque(page)->kind == static_cast<uint16>(PageKind::Directory) &&
            block >= meta.directory_start && block < meta.directory_start + meta.directory_pages) {
            auto* entries = reinterpret_cast<const RabitqListEntry*>(page_contents(page));
            for (uint32 e = 0; e < page_opaque(page)->count && e < kDirectoryEntriesPerPage; ++e)
                lists.push_back(entries[e]);
        }
    });

    // A list's records: the sealed count of the directory plus the tail page's own count.
    std::vector<uint64> list_tuples;
    for (const RabitqListEntry& list : lists)
        list_tuples.push_back(uint64{list.sealed_records} +
                              (list.tail < data_page_counts.size() ? data_page_counts[list.tail] : 0));
    uint64 tuples = 0, smallest = UINT64_MAX, largest = 0, empty = 0;
    for (uint64 n : list_tuples) {
        tuples += n;
        smallest = std::min<uint64>(smallest, n);
        largest = std::max<uint64>(largest, n);
        empty += n == 0;
    }
    if (lists.empty()) smallest = 0;
    double mean = lists.empty() ? 0 : static_cast<double>(tuples) / lists.size();
    double variance = 0;
    for (uint64 n : list_tuples) variance += (n - mean) * (n - mean);
    double stddev = lists.empty() ? 0 : std::sqrt(variance / lists.size());

    std::string json = "{";
    json += "\"format_version\": " + std::to_string(meta.format_version);
    json += ", \"dims\": " + std::to_string(meta.dim);
    json += ", \"code_bits\": " + std::to_string(meta.code_bits);
    json += std::string(", \"metric\": \"") + metric_name(meta.metric) + "\"";
    json += std::string(", \"rotation\": \"") +
            (meta.rotation_kind == static_cast<uint8>(rulake::core::RotationKind::Haar) ? "haar" : "hadamard") + "\"";
    json += ", \"seed\": " + std::to_string(meta.seed);
    json += std::string(", \"rerank\": \"") + (meta.rerank == static_cast<uint8>(RerankSource::Index) ? "index" : "heap") + "\"";
    json += ", \"lists\": " + std::to_string(meta.list_count);
    json += ", \"tuples\": " + std::to_string(tuples);
    json += ", \"built_tuples\": " + std::to_string(meta.built_tuples);
    json += ", \"rows_since_build\": " + std::to_string(tuples > meta.built_tuples ? tuples - meta.built_tuples : 0);
    json += std::string(", \"reindex_recommended\": ") + (reindex_recommended(tuples, meta.built_tuples) ? "true" : "false");
    json += ", \"kmeans_sample\": " + std::to_string(meta.kmeans_sample);
    json += ", \"record_bytes\": " + std::to_string(meta.record_stride);
    json += ", \"records_per_page\": " + std::to_string(meta.records_per_page);
    json += ", \"vectors_per_page\": " + std::to_string(meta.vectors_per_page);
    json += ", \"list_tuples\": {\"min\": " + std::to_string(smallest) + ", \"max\": " + std::to_string(largest) +
            ", \"mean\": " + json_number(mean) + ", \"stddev\": " + json_number(stddev) +
            ", \"empty\": " + std::to_string(empty) + "}";
    json += ", \"pages\": {\"total\": " + std::to_string(pages[0] + pages[1] + pages[2] + pages[3] + pages[4] + pages[5] + pages[6]) +
            ", \"meta\": " + std::to_string(pages[1]) + ", \"centroid\": " + std::to_string(pages[2]) +
            ", \"directory\": " + std::to_string(pages[3]) + ", \"data\": " + std::to_string(pages[4]) +
            ", \"vector\": " + std::to_string(pages[5]) + ", \"free\": " + std::to_string(pages[6]) +
            ", \"unused\": " + std::to_string(pages[0]) + "}";
    json += "}";
    index.close();
    return rulake::pg::pg_call([&] { return DirectFunctionCall1(jsonb_in, CStringGetDatum(json.c_str())); });
}

RULAKE_FUNCTION(rabitq_index_checksum) {
    using namespace rulake::am;
    OpenIndex index(PG_GETARG_OID(0));
    std::unique_ptr<EVP_MD_CTX, EvpContextDeleter> ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
        throw rulake::pg::SqlError(ERRCODE_INTERNAL_ERROR, "could not initialise SHA-256");
    for_each_page(index.get(), [&](BlockNumber, Page page) {
        auto* header = reinterpret_cast<PageHeader>(page);
        header->pd_lsn.xlogid = 0;
        header->pd_lsn.xrecoff = 0;
        header->pd_checksum = 0;
        if (EVP_DigestUpdate(ctx.get(), page, BLCKSZ) != 1)
            throw rulake::pg::SqlError(ERRCODE_INTERNAL_ERROR, "SHA-256 update failed");
    });
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(ctx.get(), digest, &length) != 1)
        throw rulake::pg::SqlError(ERRCODE_INTERNAL_ERROR, "SHA-256 finalisation failed");
    static const char hex[] = "0123456789abcdef";
    std::string text;
    for (unsigned int i = 0; i < length; ++i) {
        text += hex[digest[i] >> 4];
        text += hex[digest[i] & 15];
    }
    index.close();
    return rulake::pg::pg_call([&] { return PointerGetDatum(cstring_to_text(text.c_str())); });
}
