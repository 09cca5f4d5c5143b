// Load-time registration entry points, one per area, called from _PG_init (src/pg/module.cpp).
#pragma once

#include "rulake/pg/postgres.hpp"

namespace rulake::pg {
// Defines the rabitq.* GUCs and the index reloption kind (src/am/index_settings.cpp).
void register_index_settings();
// Defines the rulake.* GUCs (src/lake/lake_settings.cpp).
void register_lake_settings();
}  // namespace rulake::pg
