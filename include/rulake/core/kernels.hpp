// Distance and bit kernels with runtime ISA dispatch.
//
// Every kernel has a scalar reference (namespace rulake::core::scalar) and SIMD variants compiled in
// per-ISA files (src/core/kernels_avx2.cpp, src/core/kernels_avx512.cpp). active_kernels() picks the
// best table the running CPU supports, once; kernels_for() exposes every table so that tests can compare
// each with the scalar reference. Generic code never calls an ISA-specific symbol directly.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rulake::core {

enum class Isa : uint8_t { Scalar = 0, Avx2 = 1, Avx512 = 2 };

// Float kernels over n elements (any n >= 0; no alignment required). Accumulation is in float like
// pgvector's, so results may differ from a double-precision sum in the last bits.
struct FloatKernels {
    float (*l2_squared)(const float* a, const float* b, size_t n);
    float (*inner_product)(const float* a, const float* b, size_t n);
    float (*l1_distance)(const float* a, const float* b, size_t n);
    // One pass for cosine: dot(a,b), |a|^2, |b|^2.
    void (*cosine_parts)(const float* a, const float* b, size_t n, float* dot, float* norm_a, float* norm_b);
};

// Bit kernels for the RaBitQ estimator. A code is `words` 64-bit words (D' bits, D' a multiple of 64).
// A quantized query is `bits` bit planes of `words` words each, plane j holding bit j of every
// coordinate, planes stored one after another.
struct BitKernels {
    // Sum over j < bits of 2^j * popcount(code AND plane_j).
    uint32_t (*bitplane_dot)(const uint64_t* code, const uint64_t* planes, size_t words, unsigned bits);
    // The same for n codes; code i starts at base + i * stride_bytes (stride a multiple of 8).
    void (*bitplane_dot_batch)(const uint8_t* base, size_t stride_bytes, size_t n, const uint64_t* planes,
                               size_t words, unsigned bits, uint32_t* out);
    uint64_t (*popcount)(const uint64_t* words, size_t n);
};

struct Kernels {
    Isa isa;
    const char* name;  // "scalar", "avx2", "avx512"
    FloatKernels f;
    BitKernels bits;
};

// The table for the best ISA this CPU supports (decided once, thread-safe).
//
// Environment: RULAKE_FORCE_ISA=scalar|avx2|avx512, read once per process, caps the ISA: tables above
// it are treated as unsupported by both functions below, so tests and benchmarks can run the lower
// tables on a machine that has the higher ones. Unset means no cap; an unknown value caps at scalar
// (with a note on stderr). See rulake/core/cpu_features.hpp.
const Kernels& active_kernels();
// The table for one ISA, or nullptr if the CPU/OS does not support it or RULAKE_FORCE_ISA excludes it.
// kernels_for(Isa::Scalar) is never nullptr.
const Kernels* kernels_for(Isa isa);

namespace scalar {
const Kernels& kernels();
}

}  // namespace rulake::core

#ifdef POSTGRES_H
#error "core headers are pure C++: include them before postgres.h"
#endif
