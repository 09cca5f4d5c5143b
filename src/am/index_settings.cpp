// rabitq.* settings and reloptions. Filled in by the index access method.
#include "rulake/pg/module.hpp"

namespace rulake::pg {
void register_index_settings() {}
}  // namespace rulake::pg
