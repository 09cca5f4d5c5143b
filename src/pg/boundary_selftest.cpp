// rulake.boundary_selftest(kind): proves the C++ / Postgres error boundary from SQL.
//   'core_error'  a core::Error thrown deep in C++ becomes a clean SQL error with the mapped SQLSTATE;
//   'pg_error'    a Postgres ERROR raised under pg_call() unwinds the C++ objects alive around it and
//                 reaches the client unchanged;
//   'live'        returns how many probe objects are alive (0 unless destructors were skipped).
#include <cstdint>
#include <string>
#include <vector>

#include "rulake/core/error.hpp"
#include "rulake/pg/boundary.hpp"

extern "C" {
#include "utils/builtins.h"
}

namespace {

// Counts live instances; a skipped destructor leaves the count above zero.
int64_t live_probes = 0;

struct Probe {
    std::vector<char> payload = std::vector<char>(4096, 'x');  // heap memory a leak checker would see
    Probe() { ++live_probes; }
    ~Probe() { --live_probes; }
    Probe(const Probe&) = delete;
    Probe& operator=(const Probe&) = delete;
};

[[noreturn]] void throw_from_core() {
    Probe inner;
    throw rulake::core::Error(rulake::core::ErrorKind::Data, "boundary self-test: core error",
                              "raised by the core, caught by the entry guard");
}

void raise_postgres_error_under_guard() {
    Probe outer;
    std::string also_owned(1000, 'y');
    rulake::pg::pg_call([] {
        ereport(ERROR, (errcode(ERRCODE_DIVISION_BY_ZERO), errmsg("boundary self-test: postgres error")));
    });
}

}  // namespace

RULAKE_FUNCTION(rulake_boundary_selftest) {
    return rulake::pg::guard_entry([&]() -> Datum {
        std::string kind = text_to_cstring(PG_GETARG_TEXT_PP(0));
        if (kind == "core_error") throw_from_core();
        if (kind == "pg_error") raise_postgres_error_under_guard();
        if (kind == "live") PG_RETURN_INT64(live_probes);
        throw rulake::pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "unknown self-test kind \"" + kind + "\"",
                                   {}, "Valid kinds are core_error, pg_error and live.");
    });
}
