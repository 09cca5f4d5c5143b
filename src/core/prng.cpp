// xoshiro256** (Blackman & Vigna) seeded with splitmix64; see include/rulake/core/prng.hpp.
#include "rulake/core/prng.hpp"

#include <cmath>

namespace rulake::core {
namespace {

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

uint64_t mix_seed(uint64_t value) {
    uint64_t z = value + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

Prng::Prng(uint64_t seed) {
    // splitmix64 stream: consecutive outputs fill the state; never all zero.
    uint64_t s = seed;
    for (uint64_t& word : state_) {
        word = mix_seed(s);
        s += 0x9e3779b97f4a7c15ULL;
    }
}

uint64_t Prng::next_u64() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
}

double Prng::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

uint64_t Prng::uniform_below(uint64_t bound) {
    if (bound == 0) return 0;
    // Reject the top partial range so every residue is equally likely.
    const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t x;
    do {
        x = next_u64();
    } while (x >= limit);
    return x % bound;
}

double Prng::gaussian() {
    if (has_spare_) {
        has_spare_ = false;
        return spare_gaussian_;
    }
    double u, v, s;
    do {
        u = 2.0 * uniform() - 1.0;
        v = 2.0 * uniform() - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double factor = std::sqrt(-2.0 * std::log(s) / s);
    spare_gaussian_ = v * factor;
    has_spare_ = true;
    return u * factor;
}

}  // namespace rulake::core
