// Parsing of the vector text form: accepted spellings, rounding, and every rejection with pgvector's
// message and error kind.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "rulake/core/error.hpp"
#include "rulake/core/vector_rules.hpp"
#include "rulake/core/vector_text.hpp"

using rulake::core::Error;
using rulake::core::ErrorKind;
using rulake::core::kVectorMaxDim;
using rulake::core::parse_vector_text;

namespace {

std::vector<float> parse(const std::string& text) {
    std::vector<float> buffer(kVectorMaxDim);
    size_t dim = parse_vector_text(text.c_str(), buffer.data());
    buffer.resize(dim);
    return buffer;
}

// Parses text expecting an error; returns it.
Error parse_error(const std::string& text) {
    try {
        parse(text);
    } catch (const Error& e) {
        return e;
    }
    ADD_FAILURE() << "no error for " << text;
    return Error(ErrorKind::Internal, "none");
}

}  // namespace

TEST(VectorText, ParsesPlainAndSpacedLiterals) {
    EXPECT_EQ(parse("[1,2,3]"), (std::vector<float>{1, 2, 3}));
    EXPECT_EQ(parse("[-1,-2.5,3e2]"), (std::vector<float>{-1, -2.5f, 300}));
    EXPECT_EQ(parse("[1.,2.,3.]"), (std::vector<float>{1, 2, 3}));
    EXPECT_EQ(parse(" \t[ 1,  2 ,\n 3  ]\r\n "), (std::vector<float>{1, 2, 3}));
    EXPECT_EQ(parse("[7]"), (std::vector<float>{7}));
}

TEST(VectorText, RoundsLikeFloat4Input) {
    // strtof rounds once to the nearest float (no double rounding through a double).
    EXPECT_EQ(parse("[1.23456]")[0], 1.23456f);
    EXPECT_EQ(parse("[0.1]")[0], 0.1f);
    EXPECT_EQ(parse("[3.4028235e38]")[0], 3.4028235e38f);
}

TEST(VectorText, TooSmallValuesBecomeZero) {
    std::vector<float> v = parse("[1e-46,-1e-46]");
    EXPECT_EQ(v[0], 0.0f);
    EXPECT_EQ(v[1], 0.0f);
    EXPECT_TRUE(std::signbit(v[1]));
}

TEST(VectorText, RejectsMalformedSyntax) {
    for (const char* text : {"[hello,1]", "[1,2,3", "[", "[ ", "[,", "[,]", "[1,]", "[1a]", "[1,,3]", "[1, ,3]"}) {
        Error e = parse_error(text);
        EXPECT_EQ(e.kind(), ErrorKind::InvalidText) << text;
        EXPECT_EQ(std::string(e.what()), std::string("invalid input syntax for type vector: \"") + text + "\"");
        EXPECT_EQ(e.detail(), "") << text;
    }
}

TEST(VectorText, ExplainsMissingBracketAndTrailingJunk) {
    for (const char* text : {"1,2,3", "", "  ", "(1,2)"}) {
        Error e = parse_error(text);
        EXPECT_EQ(e.kind(), ErrorKind::InvalidText);
        EXPECT_EQ(e.detail(), "Vector contents must start with \"[\".");
    }
    Error junk = parse_error("[1,2,3]9");
    EXPECT_EQ(std::string(junk.what()), "invalid input syntax for type vector: \"[1,2,3]9\"");
    EXPECT_EQ(junk.detail(), "Junk after closing right brace.");
    EXPECT_EQ(parse("[1,2,3]   "), (std::vector<float>{1, 2, 3}));
}

TEST(VectorText, RejectsEmptyVector) {
    for (const char* text : {"[]", "[ ]", " [\t] "}) {
        Error e = parse_error(text);
        EXPECT_EQ(e.kind(), ErrorKind::Data);
        EXPECT_STREQ(e.what(), "vector must have at least 1 dimension");
    }
}

TEST(VectorText, RejectsNonFiniteAndOutOfRange) {
    EXPECT_STREQ(parse_error("[NaN,1]").what(), "NaN not allowed in vector");
    EXPECT_STREQ(parse_error("[Infinity,1]").what(), "infinite value not allowed in vector");
    EXPECT_STREQ(parse_error("[1,-inf]").what(), "infinite value not allowed in vector");
    Error big = parse_error("[1, 4e38 ,1]");
    EXPECT_EQ(big.kind(), ErrorKind::OutOfRange);
    EXPECT_STREQ(big.what(), "\"4e38\" is out of range for type vector");
    EXPECT_STREQ(parse_error("[-1e99]").what(), "\"-1e99\" is out of range for type vector");
}

TEST(VectorText, EnforcesTheDimensionLimit) {
    std::string text = "[";
    for (long i = 0; i < kVectorMaxDim; ++i) text += i ? ",1" : "1";
    EXPECT_EQ(parse(text + "]").size(), static_cast<size_t>(kVectorMaxDim));
    Error e = parse_error(text + ",1]");
    EXPECT_EQ(e.kind(), ErrorKind::Limit);
    EXPECT_STREQ(e.what(), "vector cannot have more than 16000 dimensions");
}
