// Element-wise vector arithmetic (see include/rulake/core/vector_math.hpp). The computing loops have no
// branches so the compiler can vectorise them; range checks run in a second pass.
#include "rulake/core/vector_math.hpp"

#include <algorithm>
#include <cmath>

#include "rulake/core/vector_rules.hpp"

namespace rulake::core {
namespace {

void check_no_overflow(const float* out, size_t n) {
    for (size_t i = 0; i < n; ++i)
        if (std::isinf(out[i])) throw_overflow();
}

}  // namespace

void add(const float* a, const float* b, float* out, size_t n) {
    for (size_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
    check_no_overflow(out, n);
}

void subtract(const float* a, const float* b, float* out, size_t n) {
    for (size_t i = 0; i < n; ++i) out[i] = a[i] - b[i];
    check_no_overflow(out, n);
}

void multiply(const float* a, const float* b, float* out, size_t n) {
    // The underflow test needs the operands, so it must run before out (which may alias them) is written.
    for (size_t i = 0; i < n; ++i) {
        float product = a[i] * b[i];
        if (std::isinf(product)) throw_overflow();
        if (product == 0.0f && a[i] != 0.0f && b[i] != 0.0f) throw_underflow();
    }
    for (size_t i = 0; i < n; ++i) out[i] = a[i] * b[i];
}

double norm(const float* a, size_t n) {
    double sum = 0.0;
    for (size_t i = 0; i < n; ++i) sum += static_cast<double>(a[i]) * static_cast<double>(a[i]);
    return std::sqrt(sum);
}

void l2_normalize(const float* a, float* out, size_t n) {
    double length = norm(a, n);
    if (length > 0.0) {
        for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(static_cast<double>(a[i]) / length);
    } else {
        std::fill(out, out + n, 0.0f);
    }
}

void binary_quantize(const float* a, size_t n, uint8_t* bits) {
    std::fill(bits, bits + (n + 7) / 8, uint8_t{0});
    for (size_t i = 0; i < n; ++i)
        if (a[i] > 0.0f) bits[i / 8] |= static_cast<uint8_t>(0x80u >> (i % 8));
}

int compare(const float* a, size_t na, const float* b, size_t nb) {
    size_t common = std::min(na, nb);
    for (size_t i = 0; i < common; ++i) {
        if (a[i] < b[i]) return -1;
        if (a[i] > b[i]) return 1;
    }
    if (na < nb) return -1;
    if (na > nb) return 1;
    return 0;
}

ElementRange subvector_range(long dim, int32_t start, int32_t count) {
    // 64-bit arithmetic: start + count cannot overflow.
    int64_t end = static_cast<int64_t>(start) + count;  // one past the last requested position (1-based)
    int64_t first = std::max<int64_t>(start, 1);
    int64_t last = std::min<int64_t>(end, static_cast<int64_t>(dim) + 1);
    if (last - first < 1) check_vector_dim(0);
    return ElementRange{static_cast<size_t>(first - 1), static_cast<size_t>(last - first)};
}

void accumulate(double* sums, const float* x, size_t n) {
    for (size_t i = 0; i < n; ++i) sums[i] += static_cast<double>(x[i]);
    for (size_t i = 0; i < n; ++i)
        if (std::isinf(sums[i])) throw_overflow();
}

void accumulate(double* sums, const double* other, size_t n) {
    for (size_t i = 0; i < n; ++i) sums[i] += other[i];
    for (size_t i = 0; i < n; ++i)
        if (std::isinf(sums[i])) throw_overflow();
}

void average(const double* sums, double count, float* out, size_t n) {
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(sums[i] / count);
    check_elements(out, n);
}

}  // namespace rulake::core
