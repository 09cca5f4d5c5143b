// Who may see what of a collection: the one implementation of ruLake's read rule (docs/security.md),
// used by the searches in C++ and, through rulake._require_read / rulake._may_read /
// rulake._may_refresh / rulake._cache_reader, by the management functions in SQL.
//
// The rule: a search never returns a row (id or distance) that the searching role could not read from
// the source itself at that moment. So
//   * a local collection is searchable by roles with SELECT on its source relation (or on both its id
//     and vector columns), checked on every search;
//   * a source whose rows depend on who reads it - a view, a foreign table (user mappings), a relation
//     with row-level security enabled, a partitioned table with foreign partitions - is *private*: its
//     cache holds the rows its owner reads and only the owner (that exact role) may search it. The kind
//     of source is looked at again on every search and prime, so enabling row-level security later
//     makes a collection private at once;
//   * a private cache is keyed by its reader (rulake.cache_entries.reader) and never shared with another
//     role's collection; a shared cache has no reader and serves every collection of its witness.
//
// Contract: call as the extension owner (catalog access); functions raise through SqlError/PgError.
#pragma once

#include <optional>
#include <string>

#include "lake_catalog.hpp"

namespace rulake::lake {

// Why a source's rows depend on the reader ("is a view", ...), or nothing if they do not.
std::optional<std::string> reader_dependence(const CollectionInfo& collection);

// The reader a cache of this collection must be loaded as: InvalidOid for shared sources, the owner
// for private ones (reader_dependence now).
Oid required_cache_reader(const CollectionInfo& collection);

// Raises 42501 unless `role` may search the collection (see the rule above); 42P01 if its source
// relation is gone. Returns required_cache_reader(collection), from the same look at the source.
Oid require_search_access(const CollectionInfo& collection, Oid role);

// True if `role` may search the collection (false instead of 42501; other errors still raise).
bool may_search(const CollectionInfo& collection, Oid role);

// True if `role` may refresh the collection: it may search it, or it is a member of the owner (a
// refresh returns no rows, and it loads the source as the owner whoever asks for it).
bool may_refresh(const CollectionInfo& collection, Oid role);

// True if `role` may see collection `name` in the catalog views and statistics: may_refresh, and false
// (not an error) when there is no such collection or its source is gone.
bool may_see(const std::string& name, Oid role);

}  // namespace rulake::lake
