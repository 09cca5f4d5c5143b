// Vector validity rules and element-wise arithmetic behind the vector type's SQL functions.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "rulake/core/error.hpp"
#include "rulake/core/vector_math.hpp"
#include "rulake/core/vector_rules.hpp"

namespace core = rulake::core;
using core::Error;
using core::ErrorKind;

namespace {

// Runs fn expecting a core::Error of the given kind and message.
template <typename Fn>
void expect_error(Fn&& fn, ErrorKind kind, const std::string& message) {
    try {
        fn();
        ADD_FAILURE() << "expected error: " << message;
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), kind);
        EXPECT_EQ(std::string(e.what()), message);
    }
}

}  // namespace

TEST(VectorRules, DimensionsAndElements) {
    EXPECT_NO_THROW(core::check_vector_dim(1));
    EXPECT_NO_THROW(core::check_vector_dim(16000));
    expect_error([] { core::check_vector_dim(0); }, ErrorKind::Data, "vector must have at least 1 dimension");
    expect_error([] { core::check_vector_dim(16001); }, ErrorKind::Limit, "vector cannot have more than 16000 dimensions");
    EXPECT_NO_THROW(core::check_expected_dim(-1, 5));
    EXPECT_NO_THROW(core::check_expected_dim(5, 5));
    expect_error([] { core::check_expected_dim(3, 2); }, ErrorKind::Data, "expected 3 dimensions, not 2");
    expect_error([] { core::check_same_dims(3, 2); }, ErrorKind::Data, "different vector dimensions 3 and 2");
    expect_error([] { core::check_element(std::numeric_limits<float>::quiet_NaN()); }, ErrorKind::Data,
                 "NaN not allowed in vector");
    expect_error([] { core::check_element(-std::numeric_limits<float>::infinity()); }, ErrorKind::Data,
                 "infinite value not allowed in vector");
}

TEST(VectorMath, AddSubtractMultiply) {
    float a[] = {1, 2, 3}, b[] = {4, 5, 6}, out[3];
    core::add(a, b, out, 3);
    EXPECT_EQ(std::vector<float>(out, out + 3), (std::vector<float>{5, 7, 9}));
    core::subtract(a, b, out, 3);
    EXPECT_EQ(std::vector<float>(out, out + 3), (std::vector<float>{-3, -3, -3}));
    core::multiply(a, b, out, 3);
    EXPECT_EQ(std::vector<float>(out, out + 3), (std::vector<float>{4, 10, 18}));
    core::multiply(a, a, a, 3);  // in place
    EXPECT_EQ(std::vector<float>(a, a + 3), (std::vector<float>{1, 4, 9}));
}

TEST(VectorMath, ArithmeticRangeErrors) {
    float big[] = {3e38f}, neg[] = {-3e38f}, out[1];
    expect_error([&] { core::add(big, big, out, 1); }, ErrorKind::OutOfRange, "value out of range: overflow");
    expect_error([&] { core::subtract(neg, big, out, 1); }, ErrorKind::OutOfRange, "value out of range: overflow");
    float e37[] = {1e37f}, tiny[] = {1e-37f}, zero[] = {0.0f};
    expect_error([&] { core::multiply(e37, e37, out, 1); }, ErrorKind::OutOfRange, "value out of range: overflow");
    expect_error([&] { core::multiply(tiny, tiny, out, 1); }, ErrorKind::OutOfRange, "value out of range: underflow");
    core::multiply(tiny, zero, out, 1);  // a true zero is no underflow
    EXPECT_EQ(out[0], 0.0f);
}

TEST(VectorMath, NormAndNormalize) {
    float v[] = {3, 4}, out[2];
    EXPECT_DOUBLE_EQ(core::norm(v, 2), 5.0);
    float huge[] = {3e37f, 4e37f};  // squares overflow float but not the double accumulator
    EXPECT_FLOAT_EQ(static_cast<float>(core::norm(huge, 2)), 5e37f);
    core::l2_normalize(v, out, 2);
    EXPECT_FLOAT_EQ(out[0], 0.6f);
    EXPECT_FLOAT_EQ(out[1], 0.8f);
    float zero[] = {0, 0};
    core::l2_normalize(zero, out, 2);
    EXPECT_EQ(out[0], 0.0f);
    EXPECT_EQ(out[1], 0.0f);
    float one[] = {3e38f};
    core::l2_normalize(one, one, 1);
    EXPECT_EQ(one[0], 1.0f);
}

TEST(VectorMath, BinaryQuantizeIsMsbFirst) {
    float v[] = {1, 0, -1, 2, 0.5f, -0.1f, 3, 4, 5, -1, 6};
    uint8_t bits[2] = {0xff, 0xff};
    core::binary_quantize(v, 11, bits);
    EXPECT_EQ(bits[0], 0b10011011);
    EXPECT_EQ(bits[1], 0b10100000);  // pad bits cleared
}

TEST(VectorMath, CompareOrdersByElementsThenLength) {
    float a[] = {1, 2, 3}, b[] = {1, 2}, c[] = {2, 3}, z[] = {0, 0, 0};
    EXPECT_EQ(core::compare(a, 3, a, 3), 0);
    EXPECT_EQ(core::compare(a, 3, z, 3), 1);
    EXPECT_EQ(core::compare(z, 3, a, 3), -1);
    EXPECT_EQ(core::compare(b, 2, a, 3), -1);
    EXPECT_EQ(core::compare(a, 3, b, 2), 1);
    EXPECT_EQ(core::compare(c, 2, a, 3), 1);
    float pz[] = {0.0f}, nz[] = {-0.0f};
    EXPECT_EQ(core::compare(pz, 1, nz, 1), 0);
}

TEST(VectorMath, SubvectorRangeClipsLikeSubstring) {
    auto range = [](int32_t start, int32_t count) {
        core::ElementRange r = core::subvector_range(5, start, count);
        return std::make_pair(r.offset, r.length);
    };
    EXPECT_EQ(range(1, 3), std::make_pair(size_t{0}, size_t{3}));
    EXPECT_EQ(range(3, 2), std::make_pair(size_t{2}, size_t{2}));
    EXPECT_EQ(range(-1, 3), std::make_pair(size_t{0}, size_t{1}));
    EXPECT_EQ(range(3, 9), std::make_pair(size_t{2}, size_t{3}));
    EXPECT_EQ(range(3, INT32_MAX), std::make_pair(size_t{2}, size_t{3}));
    EXPECT_EQ(range(-2147483644, INT32_MAX), std::make_pair(size_t{0}, size_t{2}));
    for (auto [start, count] : {std::pair<int32_t, int32_t>{1, 0}, {3, -1}, {-1, 2}, {6, 1}, {INT32_MAX, 10},
                                {INT32_MIN, INT32_MIN}, {INT32_MIN, -1}}) {
        expect_error([&] { core::subvector_range(5, start, count); }, ErrorKind::Data,
                     "vector must have at least 1 dimension");
    }
}

TEST(VectorMath, AccumulateAndAverage) {
    double sums[3] = {0, 0, 0};
    float a[] = {1, 2, 3}, b[] = {3, 5, 7};
    core::accumulate(sums, a, 3);
    core::accumulate(sums, b, 3);
    double other[3] = {2, 2, 2};
    core::accumulate(sums, other, 3);
    float avg[3];
    core::average(sums, 3.0, avg, 3);
    EXPECT_EQ(std::vector<float>(avg, avg + 3), (std::vector<float>{2, 3, 4}));
    double max_sums[1] = {std::numeric_limits<double>::max()};
    double more[1] = {std::numeric_limits<double>::max()};
    expect_error([&] { core::accumulate(max_sums, more, 1); }, ErrorKind::OutOfRange, "value out of range: overflow");
    double too_big[1] = {1e39};
    expect_error([&] { core::average(too_big, 1.0, avg, 1); }, ErrorKind::Data, "infinite value not allowed in vector");
}
