// Implementation of the exception / longjmp boundary (see include/rulake/pg/boundary.hpp).
#include <cstring>

#include "rulake/pg/boundary.hpp"

namespace rulake::pg {

const char* PgError::what() const noexcept {
    return (data_ != nullptr && data_->message != nullptr) ? data_->message : "PostgreSQL error";
}

namespace detail {

namespace {
void copy_text(char* dst, size_t capacity, const char* src) noexcept {
    if (src == nullptr) {
        dst[0] = '\0';
        return;
    }
    size_t n = strnlen(src, capacity - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

int sqlstate_of(core::ErrorKind kind) noexcept {
    switch (kind) {
        case core::ErrorKind::InvalidArgument: return ERRCODE_INVALID_PARAMETER_VALUE;
        case core::ErrorKind::InvalidText: return ERRCODE_INVALID_TEXT_REPRESENTATION;
        case core::ErrorKind::Data: return ERRCODE_DATA_EXCEPTION;
        case core::ErrorKind::OutOfRange: return ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
        case core::ErrorKind::Limit: return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
        case core::ErrorKind::Corrupted: return ERRCODE_DATA_CORRUPTED;
        case core::ErrorKind::Io: return ERRCODE_IO_ERROR;
        case core::ErrorKind::NotSupported: return ERRCODE_FEATURE_NOT_SUPPORTED;
        case core::ErrorKind::Cancelled: return ERRCODE_QUERY_CANCELED;
        case core::ErrorKind::Internal: return ERRCODE_INTERNAL_ERROR;
    }
    return ERRCODE_INTERNAL_ERROR;
}
}  // namespace

void capture(const SqlError& e, PendingError* out) noexcept {
    out->sqlstate = e.sqlstate();
    copy_text(out->message, sizeof(out->message), e.what());
    copy_text(out->detail, sizeof(out->detail), e.detail().c_str());
    copy_text(out->hint, sizeof(out->hint), e.hint().c_str());
}

void capture(const core::Error& e, PendingError* out) noexcept {
    out->sqlstate = sqlstate_of(e.kind());
    copy_text(out->message, sizeof(out->message), e.what());
    copy_text(out->detail, sizeof(out->detail), e.detail().c_str());
}

void capture(int sqlstate, const char* message, PendingError* out) noexcept {
    out->sqlstate = sqlstate;
    copy_text(out->message, sizeof(out->message), message);
}

void raise(const PendingError& pending) {
    if (pending.pg_error != nullptr) ReThrowError(pending.pg_error);
    // A computation stopped because of a pending interrupt: let Postgres report it its own way
    // ("canceling statement due to user request", or terminate) now that no C++ frame is left.
    if (pending.sqlstate == ERRCODE_QUERY_CANCELED) CHECK_FOR_INTERRUPTS();
    ereport(ERROR, (errcode(pending.sqlstate), errmsg_internal("%s", pending.message),
                    pending.detail[0] ? errdetail_internal("%s", pending.detail) : 0,
                    pending.hint[0] ? errhint("%s", pending.hint) : 0));
    pg_unreachable();
}

ErrorData* take_error(const ErrorStackRestore& saved, MemoryContext memory_context) noexcept {
    saved.restore();
    MemoryContextSwitchTo(memory_context);
    ErrorData* data = CopyErrorData();
    FlushErrorState();
    return data;
}

}  // namespace detail
}  // namespace rulake::pg
