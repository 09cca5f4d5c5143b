// Rotation: output dimensions, orthogonality, determinism, mixing, argument checks; and the PRNG.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "rulake/core/error.hpp"
#include "rulake/core/prng.hpp"
#include "rulake/core/rotation.hpp"
#include "test_data.hpp"

using namespace rulake::core;
using rulake::test::dot;
using rulake::test::gaussian_vectors;

namespace {

std::vector<float> rotate(const Rotation& rotation, const float* in) {
    std::vector<float> out(rotation.output_dim());
    rotation.apply(in, out.data());
    return out;
}

ErrorKind error_kind_of(RotationKind kind, uint32_t dim) {
    try {
        Rotation::create(kind, dim, 1);
    } catch (const Error& e) {
        return e.kind();
    }
    ADD_FAILURE() << "no error for dim " << dim;
    return ErrorKind::Internal;
}

}  // namespace

TEST(Prng, SplitMixReferenceValue) {
    // First output of the reference splitmix64 generator seeded with 0.
    EXPECT_EQ(mix_seed(0), 0xe220a8397b1dcdafULL);
}

TEST(Prng, SameSeedSameStreamDifferentSeedDifferentStream) {
    Prng a(7), b(7), c(8);
    bool differs = false;
    for (int i = 0; i < 1000; ++i) {
        const uint64_t x = a.next_u64();
        EXPECT_EQ(x, b.next_u64());
        differs |= x != c.next_u64();
    }
    EXPECT_TRUE(differs);
    Prng g1(3), g2(3);
    for (int i = 0; i < 100; ++i) {
        const double x = g1.gaussian(), y = g2.gaussian();
        EXPECT_EQ(std::memcmp(&x, &y, sizeof x), 0);
    }
}

TEST(Prng, DistributionsHaveTheRightMoments) {
    Prng prng(11);
    const int n = 200000;
    double sum_u = 0, sum_g = 0, sum_g2 = 0;
    std::vector<int> buckets(10, 0);
    for (int i = 0; i < n; ++i) {
        const double u = prng.uniform();
        ASSERT_GE(u, 0.0);
        ASSERT_LT(u, 1.0);
        sum_u += u;
        const double g = prng.gaussian();
        sum_g += g;
        sum_g2 += g * g;
        const uint64_t k = prng.uniform_below(10);
        ASSERT_LT(k, 10u);
        ++buckets[k];
    }
    EXPECT_NEAR(sum_u / n, 0.5, 0.005);
    EXPECT_NEAR(sum_g / n, 0.0, 0.01);
    EXPECT_NEAR(sum_g2 / n, 1.0, 0.02);
    for (int count : buckets) EXPECT_NEAR(count, n / 10, n / 100);
    EXPECT_EQ(prng.uniform_below(1), 0u);
}

TEST(Rotation, OutputDimIsInputRoundedUpToMultipleOf64) {
    const std::pair<uint32_t, uint32_t> cases[] = {{1, 64}, {64, 64}, {65, 128}, {100, 128}, {128, 128},
                                                   {384, 384}, {768, 768}, {1000, 1024}, {1536, 1536}, {16000, 16000}};
    for (auto [dim, expected] : cases) {
        auto rotation = Rotation::create(RotationKind::Hadamard, dim, 5);
        EXPECT_EQ(rotation->output_dim(), expected) << dim;
        EXPECT_EQ(rotation->input_dim(), dim);
        EXPECT_EQ(rotation->kind(), RotationKind::Hadamard);
        EXPECT_EQ(rotation->seed(), 5u);
    }
    auto haar = Rotation::create(RotationKind::Haar, 100, 9);
    EXPECT_EQ(haar->output_dim(), 128u);
    EXPECT_EQ(haar->kind(), RotationKind::Haar);
    EXPECT_EQ(haar->seed(), 9u);
}

TEST(Rotation, RejectsBadArguments) {
    EXPECT_EQ(error_kind_of(RotationKind::Hadamard, 0), ErrorKind::InvalidArgument);
    EXPECT_EQ(error_kind_of(RotationKind::Hadamard, 16001), ErrorKind::InvalidArgument);
    EXPECT_EQ(error_kind_of(RotationKind::Haar, 0), ErrorKind::InvalidArgument);
    EXPECT_EQ(error_kind_of(RotationKind::Haar, 16001), ErrorKind::InvalidArgument);
    EXPECT_EQ(error_kind_of(RotationKind::Haar, kMaxHaarDim + 1), ErrorKind::Limit);
    EXPECT_EQ(error_kind_of(static_cast<RotationKind>(7), 10), ErrorKind::InvalidArgument);
    try {
        Rotation::create(RotationKind::Hadamard, 0, 1);
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "rotation dimensions must be between 1 and 16000, got 0");
    }
}

struct RotationCase {
    RotationKind kind;
    uint32_t dim;
};

class RotationProperties : public ::testing::TestWithParam<RotationCase> {};

TEST_P(RotationProperties, PreservesNormsAndInnerProducts) {
    const auto [kind, dim] = GetParam();
    auto rotation = Rotation::create(kind, dim, 1234);
    auto data = gaussian_vectors(20, dim, 99);
    for (size_t i = 0; i + 1 < data.rows; ++i) {
        const float* a = data.row(i);
        const float* b = data.row(i + 1);
        auto ra = rotate(*rotation, a), rb = rotate(*rotation, b);
        const double na = std::sqrt(dot(a, a, dim)), nb = std::sqrt(dot(b, b, dim));
        EXPECT_NEAR(std::sqrt(dot(ra.data(), ra.data(), ra.size())), na, 1e-4 * na);
        EXPECT_NEAR(dot(ra.data(), rb.data(), ra.size()), dot(a, b, dim), 1e-4 * na * nb);
    }
}

TEST_P(RotationProperties, SameSeedSameBitsDifferentSeedDifferentOutput) {
    const auto [kind, dim] = GetParam();
    auto first = Rotation::create(kind, dim, 77);
    auto second = Rotation::create(kind, dim, 77);
    auto other = Rotation::create(kind, dim, 78);
    auto data = gaussian_vectors(3, dim, 5);
    for (size_t i = 0; i < data.rows; ++i) {
        auto a = rotate(*first, data.row(i)), b = rotate(*second, data.row(i)), c = rotate(*other, data.row(i));
        EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
        EXPECT_NE(std::memcmp(a.data(), c.data(), a.size() * sizeof(float)), 0);
    }
}

// A basis vector (the worst case for a structured transform) must come out spread over all
// coordinates like a random unit vector: no coordinate much above the Gaussian maximum
// (about sqrt(2 ln D') / sqrt(D')), and every block of 64 coordinates holding a fair share of energy.
TEST_P(RotationProperties, SpreadsTheEnergyOfBasisVectors) {
    const auto [kind, dim] = GetParam();
    auto rotation = Rotation::create(kind, dim, 4321);
    const uint32_t out_dim = rotation->output_dim();
    std::vector<float> basis(dim, 0.0f);
    double worst_max = 0, worst_block_low = 1e9, worst_block_high = 0;
    const uint32_t probes[] = {0, dim / 3, dim / 2, dim - 1};
    for (uint32_t i : probes) {
        std::fill(basis.begin(), basis.end(), 0.0f);
        basis[i] = 1.0f;
        auto out = rotate(*rotation, basis.data());
        for (float x : out) worst_max = std::max(worst_max, std::fabs(static_cast<double>(x)));
        for (uint32_t block = 0; block < out_dim / 64; ++block) {
            const double energy = dot(out.data() + block * 64, out.data() + block * 64, 64) * out_dim / 64;
            worst_block_low = std::min(worst_block_low, energy);
            worst_block_high = std::max(worst_block_high, energy);
        }
    }
    const double gaussian_max = std::sqrt(2.0 * std::log(static_cast<double>(out_dim)) / out_dim);
    EXPECT_LT(worst_max, 2.0 * gaussian_max) << "dim " << dim;
    // A random unit vector puts 1 +- 0.18 (one standard deviation) of the average energy in a block of 64;
    // the minimum over up to 1000 blocks stays above ~0.45. (A Hadamard construction whose blocks barely
    // overlap, e.g. 960 = 512 + 448, left blocks with 0.1-0.3.)
    EXPECT_GT(worst_block_low, 0.4) << "dim " << dim;
    EXPECT_LT(worst_block_high, 2.0) << "dim " << dim;
}

INSTANTIATE_TEST_SUITE_P(Kinds, RotationProperties,
                         ::testing::Values(RotationCase{RotationKind::Hadamard, 1}, RotationCase{RotationKind::Hadamard, 100},
                                           RotationCase{RotationKind::Hadamard, 128}, RotationCase{RotationKind::Hadamard, 384},
                                           RotationCase{RotationKind::Hadamard, 768}, RotationCase{RotationKind::Hadamard, 1000},
                                           RotationCase{RotationKind::Hadamard, 1536}, RotationCase{RotationKind::Hadamard, 960},
                                           RotationCase{RotationKind::Hadamard, 1984}, RotationCase{RotationKind::Hadamard, 16000},
                                           RotationCase{RotationKind::Haar, 1},
                                           RotationCase{RotationKind::Haar, 100}, RotationCase{RotationKind::Haar, 384}),
                         [](const ::testing::TestParamInfo<RotationCase>& info) {
                             return std::string(info.param.kind == RotationKind::Haar ? "Haar" : "Hadamard") +
                                    std::to_string(info.param.dim);
                         });

TEST(Rotation, HadamardIsFastEnoughForLargeDims) {
    // 16000 dims: creating and applying must stay cheap (O(D log D)); also checks the norm there.
    auto rotation = Rotation::create(RotationKind::Hadamard, 16000, 3);
    auto data = gaussian_vectors(1, 16000, 8);
    auto out = rotate(*rotation, data.row(0));
    const double norm = std::sqrt(dot(data.row(0), data.row(0), 16000));
    EXPECT_NEAR(std::sqrt(dot(out.data(), out.data(), out.size())), norm, 1e-4 * norm);
}
