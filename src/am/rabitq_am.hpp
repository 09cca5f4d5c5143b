// Internal declarations shared by the files of the rabitq index access method (src/am/rabitq_*.cpp).
// Include it before any other Postgres header of the file: it brings the core headers first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rulake/core/chain_bound.hpp"
#include "rulake/core/metric.hpp"
#include "rulake/core/rotation.hpp"
#include "rulake/pg/boundary.hpp"

extern "C" {
#include "access/amapi.h"
#include "access/genam.h"
#include "access/reloptions.h"
#include "utils/rel.h"
}

#include "rabitq_page.hpp"

namespace rulake::am {

// ---- settings (src/am/index_settings.cpp) -----------------------------------------------------------

enum class IterativeScan : int { Off = 0, StrictOrder = 1, RelaxedOrder = 2 };

// GUC variables (plain globals, set by the GUC machinery).
extern int guc_probes;             // rabitq.probes: lists probed first; 0 = automatic
extern int guc_max_probes;         // rabitq.max_probes: bound on lists probed by iterative continuation
extern double guc_epsilon;         // rabitq.epsilon: error-bound multiplier of the RaBitQ estimator
extern int guc_iterative_scan;     // rabitq.iterative_scan: IterativeScan
extern int guc_build_threads;      // rabitq.build_threads
extern int guc_query_bits;         // rabitq.query_bits

// The reloption kind of rabitq indexes (registered in _PG_init).
extern relopt_kind rabitq_relopt_kind;

constexpr int kMaxLists = 32768;
constexpr int kDefaultSeed = 42;

// Parsed reloptions (varlena, filled by build_reloptions). String options are stored as offsets.
struct RabitqOptions {
    int32 vl_len_;         // varlena header
    int lists;             // 0 = not given: chosen from the row count at build
    int seed;              // rotation and k-means seed
    int rotation_offset;   // offset of the rotation kind string ("hadamard" | "haar")
    int rerank_offset;     // offset of the rerank source string ("heap" | "index")
};

// Reloption validators (called by Postgres while parsing WITH (...); raise ERROR on bad values).
void validate_rotation_option(const char* value);
void validate_rerank_option(const char* value);

// The options of an index with defaults applied. Never fails.
struct IndexOptions {
    int lists;  // 0 = automatic
    uint64 seed;
    core::RotationKind rotation;
    RerankSource rerank;
};
IndexOptions index_options(Relation index);

// Lists probed first for an index of list_count lists under the current rabitq.probes.
uint32 effective_probes(uint32 list_count);
// Bound on the lists a scan may probe in total (initial probes plus iterative continuation).
uint32 effective_max_probes(uint32 list_count);

// ---- metadata cache (src/am/rabitq_metadata.cpp) ----------------------------------------------------

// What a backend keeps about an index between calls: the metapage, the centroids (raw and rotated), each
// list's head block and the regenerated rotation. Immutable once loaded; valid for the life of the index's
// relfilenode (build writes it once, later changes never touch the centroids or list heads).
struct IndexData {
    RabitqMetaData meta;
    std::vector<float> centroids;          // list_count x dim
    std::vector<float> rotated_centroids;  // list_count x code_bits
    std::vector<BlockNumber> list_heads;   // list_count
    std::shared_ptr<const core::Rotation> rotation;

    core::Metric metric() const { return static_cast<core::Metric>(meta.metric); }
    RerankSource rerank() const { return static_cast<RerankSource>(meta.rerank); }
    core::RotationKind rotation_kind() const { return static_cast<core::RotationKind>(meta.rotation_kind); }
    const float* centroid(uint32 list) const { return centroids.data() + static_cast<size_t>(list) * meta.dim; }
    const float* rotated_centroid(uint32 list) const {
        return rotated_centroids.data() + static_cast<size_t>(list) * meta.code_bits;
    }
    RecordLayout layout() const { return record_layout(meta.code_bits, rerank()); }
};

// The index's data from a per-backend cache keyed by index OID and relfilenode; entries of an index are
// dropped when its relcache entry is invalidated. Holders keep the data alive through the shared_ptr, so
// a scan may keep it across invalidations. Raises (PgError / SqlError) when the pages are not a valid
// rabitq index of a supported version.
std::shared_ptr<const IndexData> index_data(Relation index);

// The metapage of index: a plain copy cached in rd_amcache (re-read after each relcache rebuild). Its
// structural fields never change; built_tuples is as of the build.
const RabitqMetaData& cached_metapage(Relation index);

// Reads the metapage of index into *out under a share lock (no caching). Raises on a bad metapage.
void read_metapage(Relation index, RabitqMetaData* out);

// Raises ERRCODE_INDEX_CORRUPTED naming the index, with what as the detail.
[[noreturn]] void throw_corrupted(Relation index, const std::string& what);
// One step of a walk along a page chain onto `block`: checks for interrupts, and raises an index
// corruption error (REINDEX hint) when the block lies past the end of the relation or the walk has
// taken more steps than the relation has blocks (a cycle). Plain Postgres code: run it under pg_call.
void enter_chain_block(Relation index, core::ChainBound* bound, BlockNumber block);
// Checks that page (at block) is one of our pages of the given kind, else throw_corrupted.
void check_page(Relation index, Page page, BlockNumber block, PageKind kind);

// The four probe coordinates of rotation (see RabitqMetaData::rotation_probe).
void rotation_probe(const core::Rotation& rotation, float out[4]);

// The rotation for (kind, dim, seed), from a small per-backend cache (created on first use; the least
// recently used entry is dropped beyond a few entries). Holders keep it alive through the shared_ptr.
std::shared_ptr<const core::Rotation> cached_rotation(core::RotationKind kind, uint32 dim, uint64 seed);

// ---- column and opclass helpers (src/am/rabitq_column.cpp) -------------------------------------------

// The metric the index's operator class declares (support function 1).
core::Metric opclass_metric(Relation index);
// The declared dimensions of the indexed column; raises "column does not have dimensions" when the type
// modifier is missing and a limit error when rerank = 'index' cannot hold that many.
uint32 column_dimensions(Relation index, const IndexOptions& options);
// Dimension mismatch error in the vector type's wording.
[[noreturn]] void throw_dimension_mismatch(int expected, int actual);

// ---- callbacks ----------------------------------------------------------------------------------------

IndexBuildResult* rabitq_build(Relation heap, Relation index, IndexInfo* info);
void rabitq_build_empty(Relation index);
bool rabitq_insert(Relation index, Datum* values, bool* isnull, ItemPointer heap_tid, Relation heap,
                   IndexUniqueCheck check_unique, bool index_unchanged, IndexInfo* info);
IndexBulkDeleteResult* rabitq_bulk_delete(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                                          IndexBulkDeleteCallback callback, void* callback_state);
IndexBulkDeleteResult* rabitq_vacuum_cleanup(IndexVacuumInfo* info, IndexBulkDeleteResult* stats);
void rabitq_cost_estimate(PlannerInfo* root, IndexPath* path, double loop_count, Cost* startup_cost,
                          Cost* total_cost, Selectivity* selectivity, double* correlation, double* pages);
bytea* rabitq_options(Datum reloptions, bool validate);
char* rabitq_build_phase_name(int64 phase);
bool rabitq_validate(Oid opclass);
IndexScanDesc rabitq_begin_scan(Relation index, int nkeys, int norderbys);
void rabitq_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys);
bool rabitq_get_tuple(IndexScanDesc scan, ScanDirection direction);
void rabitq_end_scan(IndexScanDesc scan);

// Build sub-phases reported in pg_stat_progress_create_index (2.. as PROGRESS_CREATEIDX_SUBPHASE).
enum BuildPhase : int64 {
    kPhaseSampling = 2,
    kPhaseTraining = 3,
    kPhaseAssigning = 4,
    kPhaseWriting = 5,
};

}  // namespace rulake::am
