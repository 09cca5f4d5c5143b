// Errors raised by the core. The core never knows Postgres: it throws rulake::core::Error with a kind,
// and the glue's entry guard maps the kind to a SQLSTATE.
#pragma once

#include <stdexcept>
#include <string>

namespace rulake::core {

enum class ErrorKind {
    InvalidArgument,  // a caller-supplied value is not acceptable (22023)
    InvalidText,      // malformed text input (22P02)
    Data,             // data-dependent failure, e.g. mismatched dimensions (22000)
    OutOfRange,       // numeric overflow (22003)
    Limit,            // a size or count limit exceeded (54000)
    Corrupted,        // a file or page does not hold what its header claims (XX001)
    Io,               // an operating system I/O failure (58030)
    NotSupported,     // valid but not implemented (0A000)
    Cancelled,        // a long computation stopped because the caller asked (57014)
    Internal,         // a broken invariant (XX000)
};

class Error : public std::runtime_error {
  public:
    Error(ErrorKind kind, const std::string& message, std::string detail = {})
        : std::runtime_error(message), kind_(kind), detail_(std::move(detail)) {}
    ErrorKind kind() const noexcept { return kind_; }
    const std::string& detail() const noexcept { return detail_; }

  private:
    ErrorKind kind_;
    std::string detail_;
};

}  // namespace rulake::core

#ifdef POSTGRES_H
#error "core headers are pure C++: include them before postgres.h (see docs/cpp-boundary.md)"
#endif
