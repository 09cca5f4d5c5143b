// Page helpers of the rabitq on-disk format (see rabitq_page.hpp).
#include "rabitq_am.hpp"

namespace rulake::am {

void init_page(Page page, PageKind kind) {
    PageInit(page, BLCKSZ, sizeof(RabitqPageOpaque));
    RabitqPageOpaque* opaque = page_opaque(page);
    opaque->next = InvalidBlockNumber;
    opaque->kind = static_cast<uint16>(kind);
    opaque->flags = 0;
    opaque->count = 0;
    opaque->reserved = 0;
    opaque->page_id = kRabitqPageId;
}

void set_contents_size(Page page, size_t used) {
    reinterpret_cast<PageHeader>(page)->pd_lower = static_cast<LocationIndex>(kPageContentOffset + used);
}

}  // namespace rulake::am
