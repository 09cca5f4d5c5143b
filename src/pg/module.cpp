// The shared library's module record and load-time initialisation.
// _PG_init only registers settings; it never starts threads or allocates C++ state.
#include "rulake/pg/module.hpp"

extern "C" {
PG_MODULE_MAGIC;
PGDLLEXPORT void _PG_init(void);
}

// Called once per backend when the library is loaded. Each area registers its own GUCs and hooks.
extern "C" void _PG_init(void) {
    rulake::pg::register_index_settings();
    rulake::pg::register_lake_settings();
}
