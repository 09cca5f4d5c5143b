// rulake.* settings. Filled in by the ruLake layer.
#include "rulake/pg/module.hpp"

namespace rulake::pg {
void register_lake_settings() {}
}  // namespace rulake::pg
