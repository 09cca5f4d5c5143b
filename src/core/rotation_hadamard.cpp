// Randomized Hadamard rotation.
//
// Let D' = output_dim (a multiple of 64) and N the largest power of two <= D'. One round is: flip signs
// by a random +-1 vector, apply the normalised fast Walsh-Hadamard transform (FWHT) to the leading N
// coordinates; and when D' != N, rotate each pair (i, i + D'/2) by 45 degrees, flip signs again, apply
// the FWHT to the trailing N coordinates and rotate the pairs again. (Without the pair rotations, energy
// crosses between the blocks only through their overlap 2N - D', which is small when D' is just below a
// power of two, e.g. 960 or 16000.) Every step is orthogonal, hence so is the product. kRounds rounds make the rotated coordinates of any fixed
// vector behave like those of a random rotation (energy spread evenly) at O(D' log D') cost.
// State: the random signs only (generated from the seed; held expanded as sign-bit masks for speed).
#include <cmath>
#include <cstring>
#include <vector>

#include "rotation_variants.hpp"
#include "rulake/core/prng.hpp"

namespace rulake::core::detail {
namespace {

constexpr unsigned kRounds = 3;

// Four floats as one value (GCC/Clang vector extension: SSE on x86-64, NEON on ARM, plain code elsewhere).
typedef float Float4 __attribute__((vector_size(16)));

// In-place normalised FWHT of n (a power of two) floats. The first two butterfly stages are fused into
// one 4-point transform and the 1/sqrt(n) scale into the last stage; the remaining stages (half >= 4)
// run four lanes at a time.
void fwht(float* x, uint32_t n) {
    const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(n)));
    if (n < 4) {  // n is a multiple of 64 here; kept for completeness
        if (n == 2) {
            const float a = x[0], b = x[1];
            x[0] = (a + b) * scale;
            x[1] = (a - b) * scale;
        }
        return;
    }
    const float first_scale = n == 4 ? scale : 1.0f;
    for (uint32_t i = 0; i < n; i += 4) {
        const float a = x[i], b = x[i + 1], c = x[i + 2], d = x[i + 3];
        const float s0 = a + b, d0 = a - b, s1 = c + d, d1 = c - d;
        x[i] = (s0 + s1) * first_scale;
        x[i + 1] = (d0 + d1) * first_scale;
        x[i + 2] = (s0 - s1) * first_scale;
        x[i + 3] = (d0 - d1) * first_scale;
    }
    for (uint32_t half = 4; half < n; half *= 2) {
        const bool last = half * 2 == n;
        const Float4 factor = {last ? scale : 1.0f, last ? scale : 1.0f, last ? scale : 1.0f, last ? scale : 1.0f};
        for (uint32_t start = 0; start < n; start += 2 * half) {
            float* a = x + start;
            float* b = a + half;
            for (uint32_t i = 0; i < half; i += 4) {
                Float4 u, v;
                std::memcpy(&u, a + i, sizeof u);
                std::memcpy(&v, b + i, sizeof v);
                const Float4 sum = (u + v) * factor, difference = (u - v) * factor;
                std::memcpy(a + i, &sum, sizeof sum);
                std::memcpy(b + i, &difference, sizeof difference);
            }
        }
    }
}

// Rotates every pair (x[i], x[i + n/2]) by 45 degrees (n even): an orthogonal step that moves energy
// between the two halves directly, whatever the overlap of the leading and trailing FWHT blocks.
void mix_halves(float* x, uint32_t n) {
    const uint32_t half = n / 2;
    const Float4 r = {0.70710678f, 0.70710678f, 0.70710678f, 0.70710678f};
    float* a = x;
    float* b = x + half;
    uint32_t i = 0;
    for (; i + 4 <= half; i += 4) {
        Float4 u, v;
        std::memcpy(&u, a + i, sizeof u);
        std::memcpy(&v, b + i, sizeof v);
        const Float4 sum = (u + v) * r, difference = (u - v) * r;
        std::memcpy(a + i, &sum, sizeof sum);
        std::memcpy(b + i, &difference, sizeof difference);
    }
    for (; i < half; ++i) {
        const float u = a[i], v = b[i];
        a[i] = (u + v) * 0.70710678f;
        b[i] = (u - v) * 0.70710678f;
    }
}

// Flips the sign of x[i] where masks[i] == 0x80000000 (masks[i] is 0 otherwise).
void flip_signs(float* x, const uint32_t* masks, uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) {
        uint32_t bits;
        std::memcpy(&bits, &x[i], sizeof bits);
        bits ^= masks[i];
        std::memcpy(&x[i], &bits, sizeof bits);
    }
}

class HadamardRotation final : public Rotation {
  public:
    HadamardRotation(uint32_t dim, uint32_t output_dim, uint64_t seed)
        : Rotation(RotationKind::Hadamard, dim, output_dim, seed), block_(1) {
        while (block_ * 2 <= output_dim) block_ *= 2;
        const unsigned steps_per_round = block_ == output_dim ? 1 : 2;
        // The random signs: 64 per PRNG output, expanded to XOR masks on the float sign bit.
        const size_t words = static_cast<size_t>(kRounds) * steps_per_round * (output_dim / 64);
        sign_masks_.resize(words * 64);
        Prng prng(mix_seed(seed ^ 0x4861646d61726431ULL));  // "Hadmard1": separates this use of the seed
        for (size_t w = 0; w < words; ++w) {
            const uint64_t word = prng.next_u64();
            for (uint32_t b = 0; b < 64; ++b) sign_masks_[w * 64 + b] = static_cast<uint32_t>((word >> b) & 1u) << 31;
        }
    }

    void apply(const float* in, float* out) const override {
        const uint32_t n = output_dim();
        std::memcpy(out, in, sizeof(float) * input_dim());
        std::memset(out + input_dim(), 0, sizeof(float) * (n - input_dim()));
        const uint32_t* signs = sign_masks_.data();
        for (unsigned round = 0; round < kRounds; ++round) {
            flip_signs(out, signs, n);
            signs += n;
            fwht(out, block_);
            if (block_ != n) {
                mix_halves(out, n);
                flip_signs(out, signs, n);
                signs += n;
                fwht(out + (n - block_), block_);
                mix_halves(out, n);
            }
        }
    }

  private:
    uint32_t block_;                    // largest power of two <= output_dim
    std::vector<uint32_t> sign_masks_;  // kRounds * steps * output_dim masks, 0 or the float sign bit
};

}  // namespace

std::unique_ptr<Rotation> make_hadamard_rotation(uint32_t dim, uint32_t output_dim, uint64_t seed) {
    return std::make_unique<HadamardRotation>(dim, output_dim, seed);
}

}  // namespace rulake::core::detail
