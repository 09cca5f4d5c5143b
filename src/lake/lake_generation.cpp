// Generations of sources, for the refresh code in src/sql/31_lake_internal.sql (internal SQL functions, not executable
// by PUBLIC):
//   rulake._source_generation(collection text) -> jsonb
//       the collection's source generation now (a JSON number or string; see lake_catalog.hpp)
//   rulake._evaluate_generation_sql(sql text, owner oid, search_path text) -> jsonb
//       the value of a generation query run as owner (used to validate generation_sql when a
//       collection is created)
//   rulake._stamp(value bigint) -> bigint
//       the change log's stamp of a sequence value (see below)
#include <string>

#include "rulake/core/metric.hpp"
#include "rulake/core/prng.hpp"
#include "lake_values.hpp"
#include "lake_catalog.hpp"
#include "lake_roles.hpp"

using namespace rulake::lake;

// rulake._source_generation(collection text) -> jsonb
RULAKE_FUNCTION(rulake_internal_source_generation) {
    require_argument(fcinfo, 0, "collection");
    const std::string name = text_argument(fcinfo, 0);
    RoleScope as_extension_owner(extension_owner());
    const CollectionInfo collection = load_collection(name);
    const rulake::core::Generation generation = current_generation(collection);
    return generation_to_jsonb(generation);
}

// rulake._evaluate_generation_sql(sql text, owner oid, search_path text) -> jsonb
RULAKE_FUNCTION(rulake_internal_evaluate_generation_sql) {
    require_argument(fcinfo, 0, "generation_sql");
    require_argument(fcinfo, 1, "owner");
    require_argument(fcinfo, 2, "search_path");
    const std::string sql = text_argument(fcinfo, 0);
    const Oid owner = PG_GETARG_OID(1);
    const std::string search_path = text_argument(fcinfo, 2);
    const rulake::core::Generation generation = evaluate_generation_sql(sql, owner, search_path);
    return generation_to_jsonb(generation);
}

// rulake._stamp(value bigint) -> bigint: the change log's stamp of a fresh sequence value (the
// splitmix64 finaliser, a bijection of 64-bit values, so distinct values give distinct stamps and none
// but 0 gives 0). Used by the trigger rulake._log_change.
RULAKE_FUNCTION(rulake_internal_stamp) {
    require_argument(fcinfo, 0, "value");
    const uint64_t mixed = rulake::core::mix_seed(static_cast<uint64_t>(PG_GETARG_INT64(0)));
    return Int64GetDatum(static_cast<int64>(mixed));
}
