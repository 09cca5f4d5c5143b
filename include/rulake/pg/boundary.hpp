// The exception / longjmp boundary between C++ and Postgres.
//
// Postgres reports errors by longjmp; C++ by exceptions. Neither may cross the other's frames:
//  * every function Postgres calls into (SQL functions, AM callbacks, hooks) runs its body inside
//    guard_entry(), which lets no exception escape and turns it into an ereport *after* leaving the
//    catch block;
//  * every call from C++ into Postgres that may ereport while C++ objects are alive runs inside
//    pg_call(), which catches the longjmp and rethrows it as PgError, so destructors run.
// Glue code reports its own errors by throwing SqlError (an exact SQLSTATE and message) or
// core::Error (a kind mapped to a SQLSTATE); it never calls ereport(ERROR) directly while C++ objects
// with destructors are alive.
#pragma once

#include <exception>
#include <string>
#include <type_traits>
#include <utility>

#include "rulake/core/error.hpp"
#include "rulake/pg/postgres.hpp"

namespace rulake::pg {

// A Postgres error caught by pg_call(). Owns a copy of the ErrorData, allocated in the memory context
// that was current when pg_call() was entered; guard_entry() rethrows it unchanged.
class PgError : public std::exception {
  public:
    explicit PgError(ErrorData* data) : data_(data) {}
    const char* what() const noexcept override;
    ErrorData* data() const noexcept { return data_; }

  private:
    ErrorData* data_;
};

// An error raised by glue code with an exact SQLSTATE (use Postgres' ERRCODE_* macros).
class SqlError : public std::exception {
  public:
    SqlError(int sqlstate, std::string message, std::string detail = {}, std::string hint = {})
        : sqlstate_(sqlstate), message_(std::move(message)), detail_(std::move(detail)), hint_(std::move(hint)) {}
    const char* what() const noexcept override { return message_.c_str(); }
    int sqlstate() const noexcept { return sqlstate_; }
    const std::string& detail() const noexcept { return detail_; }
    const std::string& hint() const noexcept { return hint_; }

  private:
    int sqlstate_;
    std::string message_, detail_, hint_;
};

namespace detail {

// What guard_entry() caught, copied into fixed buffers so that nothing needs freeing after the longjmp.
struct PendingError {
    ErrorData* pg_error = nullptr;
    int sqlstate = 0;
    char message[1024] = {0};
    char detail[1024] = {0};
    char hint[512] = {0};
};

void capture(const SqlError& e, PendingError* out) noexcept;
void capture(const core::Error& e, PendingError* out) noexcept;
void capture(int sqlstate, const char* message, PendingError* out) noexcept;
// Raises the captured error with ereport / ReThrowError. Call only outside any catch block.
[[noreturn]] void raise(const PendingError& pending);

// Puts back PG_exception_stack and error_context_stack as they were at construction when it is
// destroyed, however pg_call() is left: normal return, PgError after a longjmp, or a C++ exception
// thrown by the function it runs. Created before sigsetjmp and never modified afterwards, so it keeps
// its value across the longjmp (no volatile needed).
class ErrorStackRestore {
  public:
    ErrorStackRestore() noexcept : exception_stack_(PG_exception_stack), context_stack_(error_context_stack) {}
    ~ErrorStackRestore() { restore(); }
    ErrorStackRestore(const ErrorStackRestore&) = delete;
    ErrorStackRestore& operator=(const ErrorStackRestore&) = delete;
    void restore() const noexcept {
        PG_exception_stack = exception_stack_;
        error_context_stack = context_stack_;
    }

  private:
    sigjmp_buf* const exception_stack_;
    ErrorContextCallback* const context_stack_;
};
// After a longjmp into pg_call(): restores the error stacks and memory_context, copies the error out
// of ErrorContext and clears it.
ErrorData* take_error(const ErrorStackRestore& saved, MemoryContext memory_context) noexcept;

}  // namespace detail

// Runs fn (which calls into Postgres) so that a Postgres ERROR becomes a thrown PgError.
// Postgres' error stacks are restored on every exit: a C++ exception thrown by fn (std::bad_alloc from
// a container it fills, say) passes through unchanged, but leaves no pointer to fn's dead frames.
// Contract: fn itself must not own C++ objects with non-trivial destructors across the Postgres calls
// (they would be skipped by the longjmp); objects of the *caller* are safe, that is the point.
template <typename Fn>
auto pg_call(Fn&& fn) -> decltype(fn()) {
    const detail::ErrorStackRestore saved;
    MemoryContext const memory_context = CurrentMemoryContext;
    sigjmp_buf local_stack;
    if (sigsetjmp(local_stack, 0) != 0) throw PgError(detail::take_error(saved, memory_context));
    PG_exception_stack = &local_stack;
    return fn();
}

// Runs the body of an entry point: whatever it throws is reported as a Postgres ERROR once the catch
// block has been left. The body must return the entry point's result type.
template <typename Fn>
auto guard_entry(Fn&& fn) -> decltype(fn()) {
    detail::PendingError pending;
    try {
        return fn();
    } catch (const PgError& e) {
        pending.pg_error = e.data();
    } catch (const SqlError& e) {
        detail::capture(e, &pending);
    } catch (const core::Error& e) {
        detail::capture(e, &pending);
    } catch (const std::bad_alloc&) {
        detail::capture(ERRCODE_OUT_OF_MEMORY, "out of memory", &pending);
    } catch (const std::exception& e) {
        detail::capture(ERRCODE_INTERNAL_ERROR, e.what(), &pending);
    } catch (...) {
        detail::capture(ERRCODE_INTERNAL_ERROR, "unknown C++ exception", &pending);
    }
    detail::raise(pending);
}

}  // namespace rulake::pg

// Defines a V1 SQL-callable function with C linkage whose body always runs inside guard_entry():
//   RULAKE_FUNCTION(vector_dims) {
//       std::vector<float> values = read_values(fcinfo);  // C++ objects are fine here
//       PG_RETURN_INT32(static_cast<int32>(values.size()));
//   }
// The braces after the macro are the body of a static function name##_body(fcinfo); the extern "C"
// function `name` Postgres calls does nothing but run that body under guard_entry(), so an entry point
// cannot be written without the guard.
#define RULAKE_FUNCTION(name)                                                                      \
    static Datum name##_body(FunctionCallInfo);                                                    \
    extern "C" {                                                                                   \
    PG_FUNCTION_INFO_V1(name);                                                                     \
    }                                                                                              \
    extern "C" Datum name(PG_FUNCTION_ARGS) {                                                      \
        return rulake::pg::guard_entry([fcinfo]() -> Datum { return name##_body(fcinfo); });       \
    }                                                                                              \
    static Datum name##_body([[maybe_unused]] FunctionCallInfo fcinfo)
