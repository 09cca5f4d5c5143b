// SPI from C++: a connection object and plans kept for the life of the backend.
//
// Contract: every call into SPI goes through pg_call(), so a Postgres error becomes a PgError and C++
// destructors run. A SpiSession that is destroyed while an exception unwinds does not call SPI_finish:
// the error ends the (sub)transaction, and Postgres pops the SPI stack itself (AtEOXact_SPI /
// AtEOSubXact_SPI). Results of the last execute() live in SPI memory until the next execute() or
// finish(): copy what you need into C++ values first.
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "rulake/pg/boundary.hpp"

extern "C" {
#include "executor/spi.h"
}

namespace rulake::lake {

class SpiSession {
  public:
    SpiSession();  // SPI_connect
    ~SpiSession();
    SpiSession(const SpiSession&) = delete;
    SpiSession& operator=(const SpiSession&) = delete;

    // Runs a prepared plan (see kept_plan()). Returns the number of rows produced.
    uint64_t execute(SPIPlanPtr plan, const Datum* values, const char* nulls, bool read_only, long limit = 0);
    // Runs a query without parameters (planned each time).
    uint64_t execute(const std::string& sql, bool read_only, long limit = 0);

    // Values of the last result (row < rows(), column numbers from 1).
    uint64_t rows() const;
    int columns() const;
    Oid column_type(int column) const;
    Datum value(uint64_t row, int column, bool* is_null) const;
    bool is_null(uint64_t row, int column) const;
    std::string text_value(uint64_t row, int column) const;  // the value's text output; "" for NULL
    int64_t int64_value(uint64_t row, int column) const;  // int2/int4/int8/oid columns
    double float_value(uint64_t row, int column) const;   // float4/float8 columns
    bool bool_value(uint64_t row, int column) const;

    // SPI_finish; switches back to the memory context that was current before SPI_connect.
    void finish();

  private:
    bool connected_ = false;
    int uncaught_at_start_ = 0;
};

// A plan for sql with the given parameter types, prepared once per backend (SPI_keepplan) and found again
// by its text and types. Call inside a SpiSession. The plan is generic (never replanned per parameter
// value), which suits queries whose plan does not depend on the values; Postgres still replans it when
// a table, index or function it uses changes. At most kMaxKeptPlans plans are kept; the oldest is freed
// first.
SPIPlanPtr kept_plan(const std::string& sql, const std::vector<Oid>& arg_types);
inline constexpr size_t kMaxKeptPlans = 256;

}  // namespace rulake::lake
