// Decimal text to u64, as used for SQL numeric arguments.
#include "rulake/core/decimal_text.hpp"

#include <gtest/gtest.h>

#include <string>

#include "rulake/core/error.hpp"

namespace rc = rulake::core;

namespace {
std::string failure(const char* text) {
    try {
        rc::parse_unsigned_decimal(text, "seed");
    } catch (const rc::Error& e) {
        return std::to_string(static_cast<int>(e.kind())) + ":" + e.what();
    }
    return "no error";
}
const std::string kRange = std::to_string(static_cast<int>(rc::ErrorKind::OutOfRange)) +
                           ":seed must be between 0 and 18446744073709551615";
const std::string kText = std::to_string(static_cast<int>(rc::ErrorKind::InvalidText)) + ":";
}  // namespace

TEST(DecimalText, Accepts) {
    EXPECT_EQ(rc::parse_unsigned_decimal("0", "seed"), 0u);
    EXPECT_EQ(rc::parse_unsigned_decimal("42", "seed"), 42u);
    EXPECT_EQ(rc::parse_unsigned_decimal("+42", "seed"), 42u);
    EXPECT_EQ(rc::parse_unsigned_decimal("-0", "seed"), 0u);
    EXPECT_EQ(rc::parse_unsigned_decimal("42.000", "seed"), 42u);
    EXPECT_EQ(rc::parse_unsigned_decimal("42.", "seed"), 42u);
    EXPECT_EQ(rc::parse_unsigned_decimal("0000042", "seed"), 42u);
    EXPECT_EQ(rc::parse_unsigned_decimal("3735928559", "seed"), 3735928559u);
    EXPECT_EQ(rc::parse_unsigned_decimal("18446744073709551615", "seed"), UINT64_MAX);
    EXPECT_EQ(rc::parse_unsigned_decimal("18446744073709551615.0", "seed"), UINT64_MAX);
    EXPECT_EQ(rc::parse_unsigned_decimal("9007199254740993", "seed"), 9007199254740993u);  // 2^53 + 1, exact
}

TEST(DecimalText, OutOfRange) {
    EXPECT_EQ(failure("18446744073709551616"), kRange);
    EXPECT_EQ(failure("99999999999999999999999"), kRange);
    EXPECT_EQ(failure("-1"), kRange);
    EXPECT_EQ(failure("-18446744073709551615"), kRange);
    EXPECT_EQ(failure("Infinity"), kRange);
    EXPECT_EQ(failure("-Infinity"), kRange);
}

TEST(DecimalText, NotAnInteger) {
    EXPECT_EQ(failure("1.5"), kText + "seed must be an integer");
    EXPECT_EQ(failure("0.0001"), kText + "seed must be an integer");
    EXPECT_EQ(failure("-0.5"), kText + "seed must be an integer");
    EXPECT_EQ(failure("NaN"), kText + "seed must be an integer, not NaN");
    EXPECT_EQ(failure(""), kText + "seed is not a decimal number: \"\"");
    EXPECT_EQ(failure("."), kText + "seed is not a decimal number: \".\"");
    EXPECT_EQ(failure("-"), kText + "seed is not a decimal number: \"-\"");
    EXPECT_EQ(failure("1e3"), kText + "seed is not a decimal number: \"1e3\"");
    EXPECT_EQ(failure(" 1"), kText + "seed is not a decimal number: \" 1\"");
    EXPECT_EQ(failure("1 "), kText + "seed is not a decimal number: \"1 \"");
    EXPECT_EQ(failure("0x10"), kText + "seed is not a decimal number: \"0x10\"");
}
