// Rows of ruLake's catalog tables read by primary key straight through the index, without the
// executor: a search reads a collection, its backend, its cache entry and its generation counter on
// every call, and this costs a few microseconds where an SPI query costs tens.
//
// Contract: reads with GetTransactionSnapshot() after a CommandCounterIncrement, as an SPI query in a
// read-write function does (read committed: the latest committed rows and the caller's own changes;
// repeatable read: the transaction's snapshot). Locks
// the table with AccessShareLock until the transaction ends. Values are copied into the current
// memory context before the scan ends. Runs as whatever role is current: no privilege is checked
// (callers are rulake's own C++ code).
#pragma once

#include <string>
#include <vector>

#include "rulake/pg/boundary.hpp"

namespace rulake::lake {

struct CatalogValue {
    bool is_null = true;
    Datum datum = 0;  // copied; valid in the memory context that was current during the read
};

// Reads the row of rulake.<table> whose primary key (one column, text or oid-like) equals key, and
// returns the listed columns in order. False if there is no such row. Raises if a column is unknown.
bool read_catalog_row(const char* table, Datum key, bool key_is_text, const std::vector<const char*>& columns,
                      std::vector<CatalogValue>* values);

}  // namespace rulake::lake
