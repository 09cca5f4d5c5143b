// rulake.boundary_selftest(kind): proves the C++ / Postgres error boundary from SQL.
//   'core_error'  a core::Error thrown deep in C++ becomes a clean SQL error with the mapped SQLSTATE;
//   'pg_error'    a Postgres ERROR raised under pg_call() unwinds the C++ objects alive around it and
//                 reaches the client unchanged;
//   'bad_alloc_in_pg_call'  a std::bad_alloc thrown by the function run under pg_call() (after it set
//                 up an error context callback) reaches the entry guard and is reported as out of memory;
//   'cpp_in_pg_call'  the same exception is caught by the glue code itself, which then goes on: returns 0
//                 when pg_call() left PG_exception_stack and error_context_stack as they were, 1 when
//                 they still point into pg_call()'s finished frames (the next Postgres error would jump
//                 into a dead stack frame);
//   'live'        returns how many probe objects are alive (0 unless destructors were skipped).
#include <cstdint>
#include <new>
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

// Runs a function under pg_call() that pushes an error context callback (a local of its own frame, as
// Postgres code does) and then throws a C++ exception before it could pop it.
void throw_cpp_exception_under_pg_call() {
    rulake::pg::pg_call([] {
        ErrorContextCallback callback;
        callback.callback = [](void*) { errcontext("boundary self-test: a finished error context"); };
        callback.arg = nullptr;
        callback.previous = error_context_stack;
        error_context_stack = &callback;
        throw std::bad_alloc();
    });
}

// 0 when a C++ exception thrown under pg_call() and caught by glue code left Postgres' error stacks as
// they were before the call, else 1 (they are left as found, to show what happens next).
int64_t error_stacks_after_caught_cpp_exception() {
    sigjmp_buf* const exception_stack = PG_exception_stack;
    ErrorContextCallback* const context_stack = error_context_stack;
    Probe probe;
    try {
        throw_cpp_exception_under_pg_call();
    } catch (const std::bad_alloc&) {
    }
    return PG_exception_stack == exception_stack && error_context_stack == context_stack ? 0 : 1;
}

}  // namespace

RULAKE_FUNCTION(rulake_boundary_selftest) {
    std::string kind = text_to_cstring(PG_GETARG_TEXT_PP(0));
    if (kind == "core_error") throw_from_core();
    if (kind == "pg_error") raise_postgres_error_under_guard();
    if (kind == "bad_alloc_in_pg_call") {
        Probe probe;
        throw_cpp_exception_under_pg_call();
    }
    if (kind == "cpp_in_pg_call") PG_RETURN_INT64(error_stacks_after_caught_cpp_exception());
    if (kind == "live") PG_RETURN_INT64(live_probes);
    throw rulake::pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "unknown self-test kind \"" + kind + "\"",
                               {}, "Valid kinds are core_error, pg_error, bad_alloc_in_pg_call, cpp_in_pg_call and live.");
}
