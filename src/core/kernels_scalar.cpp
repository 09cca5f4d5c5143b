// Scalar reference kernels: the definition every SIMD variant is tested against.
#include <cmath>

#include "rulake/core/kernels.hpp"

namespace rulake::core::scalar {
namespace {

float l2_squared(const float* a, const float* b, size_t n) {
    float sum = 0.0f;
    for (size_t i = 0; i < n; ++i) {
        float d = a[i] - b[i];
        sum += d * d;
    }
    return sum;
}

float inner_product(const float* a, const float* b, size_t n) {
    float sum = 0.0f;
    for (size_t i = 0; i < n; ++i) sum += a[i] * b[i];
    return sum;
}

float l1_distance(const float* a, const float* b, size_t n) {
    float sum = 0.0f;
    for (size_t i = 0; i < n; ++i) sum += std::fabs(a[i] - b[i]);
    return sum;
}

void cosine_parts(const float* a, const float* b, size_t n, float* dot, float* norm_a, float* norm_b) {
    float d = 0.0f, na = 0.0f, nb = 0.0f;
    for (size_t i = 0; i < n; ++i) {
        d += a[i] * b[i];
        na += a[i] * a[i];
        nb += b[i] * b[i];
    }
    *dot = d;
    *norm_a = na;
    *norm_b = nb;
}

uint32_t bitplane_dot(const uint64_t* code, const uint64_t* planes, size_t words, unsigned bits) {
    uint32_t total = 0;
    for (unsigned j = 0; j < bits; ++j) {
        uint32_t count = 0;
        const uint64_t* plane = planes + j * words;
        for (size_t w = 0; w < words; ++w) count += static_cast<uint32_t>(__builtin_popcountll(code[w] & plane[w]));
        total += count << j;
    }
    return total;
}

void bitplane_dot_batch(const uint8_t* base, size_t stride_bytes, size_t n, const uint64_t* planes, size_t words,
                        unsigned bits, uint32_t* out) {
    for (size_t i = 0; i < n; ++i)
        out[i] = bitplane_dot(reinterpret_cast<const uint64_t*>(base + i * stride_bytes), planes, words, bits);
}

uint64_t popcount(const uint64_t* words, size_t n) {
    uint64_t count = 0;
    for (size_t i = 0; i < n; ++i) count += static_cast<uint64_t>(__builtin_popcountll(words[i]));
    return count;
}

}  // namespace

const Kernels& kernels() {
    static const Kernels table{Isa::Scalar, "scalar",
                               FloatKernels{l2_squared, inner_product, l1_distance, cosine_parts},
                               BitKernels{bitplane_dot, bitplane_dot_batch, popcount}};
    return table;
}

}  // namespace rulake::core::scalar
