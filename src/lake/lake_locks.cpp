// ruLake's locks: transaction-level locks on objects that exist only for rulake, so that no other role
// can take, hold or wait for them (docs/security.md). Each is a Postgres object lock (LOCKTAG_OBJECT)
// whose class id is the OID of schema rulake - a class id Postgres itself never uses, because it is not
// a system catalog - whose sub-id is the kind of thing locked and whose object id is a hash of its key.
// Two keys that hash alike only serialize each other; nothing else follows from a collision.
//
//   rulake._lock(kind text, key text, wait boolean DEFAULT true) -> boolean
//       kind: 'collection' (key: its name; refreshes, attach, drop), 'cache' (key: witness '/' reader;
//       priming, sharing, evicting one cache entry), 'source' (key: relation OID; the trigger and change
//       log of a watched table), 'backend' (key: its name). Waits (or, with wait = false, returns false
//       at once) and then holds the lock until the transaction ends. Internal: not executable by PUBLIC.
//
// Lock order, to stay free of deadlocks: backend, collection, cache, source.
#include <cstring>
#include <string>

#include "lake_values.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "common/hashfn.h"
#include "storage/lmgr.h"
}

namespace {

uint16 kind_number(const std::string& kind) {
    if (kind == "collection") return 1;
    if (kind == "cache") return 2;
    if (kind == "source") return 3;
    if (kind == "backend") return 4;
    throw rulake::pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "unknown lock kind \"" + kind + "\"");
}

}  // namespace

using rulake::lake::require_argument;
using rulake::lake::text_argument;

RULAKE_FUNCTION(rulake_internal_lock) {
    require_argument(fcinfo, 0, "kind");
    require_argument(fcinfo, 1, "key");
    const uint16 kind = kind_number(text_argument(fcinfo, 0));
    const std::string key = text_argument(fcinfo, 1);
    const bool wait = PG_NARGS() < 3 || PG_ARGISNULL(2) || PG_GETARG_BOOL(2);
    return rulake::pg::pg_call([&] {
        const Oid space = get_namespace_oid("rulake", false);
        const uint32 object =
            hash_bytes(reinterpret_cast<const unsigned char*>(key.data()), static_cast<int>(key.size()));
        if (wait) {
            LockDatabaseObject(space, object, kind, ExclusiveLock);
            return BoolGetDatum(true);
        }
        return BoolGetDatum(ConditionalLockDatabaseObject(space, object, kind, ExclusiveLock));
    });
}
