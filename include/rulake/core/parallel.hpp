// Compute-only worker threads usable from a Postgres backend.
//
// parallel_for() runs body(begin, end) over [0, n) split into chunks on `threads` workers spawned with
// every signal blocked (so Postgres' signal handlers run on the calling thread only). The calling thread
// does no work: it waits in short slices and polls should_cancel(); when it returns true the remaining
// chunks are skipped, every worker is joined, and core::Error(Cancelled) is thrown. An exception thrown
// by body is rethrown on the calling thread after the join. body must not call Postgres.
#pragma once

#include <cstddef>
#include <functional>

namespace rulake::core {

void parallel_for(size_t n, unsigned threads, const std::function<void(size_t begin, size_t end)>& body,
                  const std::function<bool()>& should_cancel = {});

}  // namespace rulake::core

#ifdef POSTGRES_H
#error "core headers are pure C++: include them before postgres.h"
#endif
