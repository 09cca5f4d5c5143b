// A small deterministic pseudo-random generator (xoshiro256** seeded through splitmix64) with uniform
// and Gaussian helpers. The integer stream is identical on every platform for the same seed; the
// helpers are written here (never std:: distributions, whose output differs between library versions).
#pragma once

#include <cstdint>

namespace rulake::core {

class Prng {
  public:
    explicit Prng(uint64_t seed);

    // The next 64 random bits.
    uint64_t next_u64();
    // Uniform in [0, 1) with 53 random bits.
    double uniform();
    // Uniform integer in [0, bound); bound must be > 0 (returns 0 for bound 0). Unbiased (rejection).
    uint64_t uniform_below(uint64_t bound);
    // Standard normal (Marsaglia's polar method; uses std::log and std::sqrt).
    double gaussian();

  private:
    uint64_t state_[4];
    double spare_gaussian_ = 0;
    bool has_spare_ = false;
};

// splitmix64 finaliser: a good 64-bit mix, used to derive independent seeds (e.g. seed ^ purpose).
uint64_t mix_seed(uint64_t value);

}  // namespace rulake::core

#ifdef POSTGRES_H
#error "core headers are pure C++: include them before postgres.h"
#endif
