// Randomized Hadamard rotation.
//
// Let D' = output_dim (a multiple of 64) and N the largest power of two <= D'. One round is: flip signs
// by a random +-1 vector, apply the normalised fast Walsh-Hadamard transform (FWHT) to the leading N
// coordinates; and when D' != N, flip signs again and apply the FWHT to the trailing N coordinates
// (the two blocks overlap, so every coordinate is mixed with every other within two rounds). Every step
// is orthogonal, hence so is the product. kRounds rounds make the rotated coordinates of any fixed
// vector behave like those of a random rotation (energy spread evenly) at O(D' log D') cost.
// State: the random signs only, 1 bit per coordinate and step.
#include <cmath>
#include <cstring>
#include <vector>

#include "rotation_variants.hpp"
#include "rulake/core/prng.hpp"

namespace rulake::core::detail {
namespace {

constexpr unsigned kRounds = 3;

// In-place normalised FWHT of n (a power of two) floats.
void fwht(float* x, uint32_t n) {
    for (uint32_t half = 1; half < n; half *= 2) {
        for (uint32_t start = 0; start < n; start += 2 * half) {
            float* a = x + start;
            float* b = a + half;
            for (uint32_t i = 0; i < half; ++i) {
                const float u = a[i], v = b[i];
                a[i] = u + v;
                b[i] = u - v;
            }
        }
    }
    const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(n)));
    for (uint32_t i = 0; i < n; ++i) x[i] *= scale;
}

// Flips the sign of x[i] where bit i of signs is set (n a multiple of 64).
void flip_signs(float* x, const uint64_t* signs, uint32_t n) {
    for (uint32_t w = 0; w < n / 64; ++w) {
        const uint64_t word = signs[w];
        float* block = x + w * 64;
        for (uint32_t i = 0; i < 64; ++i) {
            uint32_t bits;
            std::memcpy(&bits, &block[i], sizeof bits);
            bits ^= static_cast<uint32_t>((word >> i) & 1u) << 31;
            std::memcpy(&block[i], &bits, sizeof bits);
        }
    }
}

class HadamardRotation final : public Rotation {
  public:
    HadamardRotation(uint32_t dim, uint32_t output_dim, uint64_t seed)
        : Rotation(RotationKind::Hadamard, dim, output_dim, seed), block_(1) {
        while (block_ * 2 <= output_dim) block_ *= 2;
        const unsigned steps_per_round = block_ == output_dim ? 1 : 2;
        const size_t words = output_dim / 64;
        signs_.resize(static_cast<size_t>(kRounds) * steps_per_round * words);
        Prng prng(mix_seed(seed ^ 0x4861646d61726431ULL));  // "Hadmard1": separates this use of the seed
        for (uint64_t& word : signs_) word = prng.next_u64();
    }

    void apply(const float* in, float* out) const override {
        const uint32_t n = output_dim();
        std::memcpy(out, in, sizeof(float) * input_dim());
        std::memset(out + input_dim(), 0, sizeof(float) * (n - input_dim()));
        const size_t words = n / 64;
        const uint64_t* signs = signs_.data();
        for (unsigned round = 0; round < kRounds; ++round) {
            flip_signs(out, signs, n);
            signs += words;
            fwht(out, block_);
            if (block_ != n) {
                flip_signs(out, signs, n);
                signs += words;
                fwht(out + (n - block_), block_);
            }
        }
    }

  private:
    uint32_t block_;               // largest power of two <= output_dim
    std::vector<uint64_t> signs_;  // kRounds * steps * (output_dim / 64) words
};

}  // namespace

std::unique_ptr<Rotation> make_hadamard_rotation(uint32_t dim, uint32_t output_dim, uint64_t seed) {
    return std::make_unique<HadamardRotation>(dim, output_dim, seed);
}

}  // namespace rulake::core::detail
