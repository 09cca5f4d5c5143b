// Exact conversion of decimal text (as Postgres' numeric_out writes it) to an unsigned 64-bit integer,
// for SQL arguments such as rotation seeds that span the whole u64 range.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rulake::core {

// Parses [+|-]digits[.digits] whose value is an integer in 0 .. 2^64-1 ("42", "42.000", "-0").
// subject names the value in errors. Throws InvalidText for a fractional value, NaN or text that is not
// a plain decimal number, OutOfRange ("<subject> must be between 0 and 18446744073709551615") for a
// negative or too large value and for infinities.
uint64_t parse_unsigned_decimal(std::string_view text, const std::string& subject);

}  // namespace rulake::core

#ifdef POSTGRES_H
#error "core headers are pure C++: include them before postgres.h"
#endif
