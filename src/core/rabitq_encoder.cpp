// RaBitQ encoder: 1-bit code of the rotated unit residual plus its correction factors (RABITQ.md,
// "Index time").
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "rulake/core/kernels.hpp"
#include "rulake/core/rabitq.hpp"

namespace rulake::core {

RabitqEncoder::RabitqEncoder(const Rotation& rotation, Metric metric) : rotation_(rotation), metric_(metric) {}

uint32_t RabitqEncoder::dim() const { return rotation_.input_dim(); }

size_t RabitqEncoder::code_words() const { return rotation_.output_dim() / 64; }

RabitqFactors RabitqEncoder::encode(const float* vector, const float* centroid, uint64_t* code) const {
    const uint32_t dim = rotation_.input_dim();
    const uint32_t out_dim = rotation_.output_dim();
    const size_t words = code_words();
    std::vector<float> residual(dim), rotated(out_dim);

    double norm_sq = 0, dot_centroid = 0;
    for (uint32_t i = 0; i < dim; ++i) {
        residual[i] = vector[i] - centroid[i];
        norm_sq += static_cast<double>(residual[i]) * residual[i];
        dot_centroid += static_cast<double>(residual[i]) * centroid[i];
    }

    RabitqFactors factors{};
    factors.residual_norm = static_cast<float>(std::sqrt(norm_sq));
    factors.residual_dot_centroid = static_cast<float>(dot_centroid);
    if (norm_sq == 0.0) {
        // The vector is the centroid: the residual term of every estimate vanishes (residual_norm 0).
        // Code all zeros, <o_bar, o> = 1 by convention so the estimator stays finite.
        std::memset(code, 0, words * sizeof(uint64_t));
        factors.quantized_dot = 1.0f;
        factors.bit_count = 0;
        return factors;
    }

    rotation_.apply(residual.data(), rotated.data());
    // <o_bar, o> = sum |o'[i]| / sqrt(D') for the unit vector o' = rotated / |rotated|. Using the rotated
    // norm (equal to |r| up to rounding) keeps the value <= 1.
    double abs_sum = 0, rotated_norm_sq = 0;
    uint32_t bit_count = 0;
    for (size_t w = 0; w < words; ++w) {
        uint64_t word = 0;
        for (uint32_t b = 0; b < 64; ++b) {
            const float x = rotated[w * 64 + b];
            abs_sum += std::fabs(static_cast<double>(x));
            rotated_norm_sq += static_cast<double>(x) * x;
            if (x >= 0.0f) word |= uint64_t{1} << b;
        }
        code[w] = word;
        bit_count += static_cast<uint32_t>(__builtin_popcountll(word));
    }
    double quantized_dot = abs_sum / (std::sqrt(static_cast<double>(out_dim)) * std::sqrt(rotated_norm_sq));
    if (!(quantized_dot > 0.0)) quantized_dot = 1.0;  // only for denormal residuals that vanish when rotated
    factors.quantized_dot = static_cast<float>(std::min(quantized_dot, 1.0));
    factors.bit_count = bit_count;
    return factors;
}

}  // namespace rulake::core
