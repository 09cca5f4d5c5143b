// AVX-512 kernels (F, BW, VL, DQ, VPOPCNTDQ). Compiled with the AVX-512 flags (see Makefile): nothing
// here may run before kernels_for(Isa::Avx512) has checked the CPU. Everything except the entry point
// is in an anonymous namespace (internal linkage) so no function compiled with these flags can be
// chosen by the linker for generic code; scripts/check-isa-symbols.sh audits that.
//
// Bit kernels: VPOPCNTQ counts 8 words per instruction. The bit-plane dot product of a code chunk c is
// evaluated in Horner form, t = (...(popcnt(c & P[B-1]) * 2 + popcnt(c & P[B-2])) * 2 ...) + popcnt(c & P[0]),
// with one 64-bit lane per word, and the lanes of a code are summed at the end. Codes of 2 words (D' = 128)
// are packed four to a register and codes of 4 words two; other codes of up to 8 words take one (masked)
// load each; longer codes are walked in 8-word chunks. Eight codes are reduced together by a
// transpose-and-add tree.

// GCC 12's AVX-512 intrinsics initialise their "undefined" vectors from themselves, which trips
// -Wuninitialized inside the header (GCC PR 105593); the diagnostic is silenced for the header only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstddef>
#include <cstdint>

#include "kernels_float_simd.hpp"
#include "rulake/core/kernels_isa.hpp"

// The helpers below are small and called in the innermost loops: keep them inlined.
#define RULAKE_INLINE inline __attribute__((always_inline))

namespace rulake::core::avx512 {
namespace {

// ---- float kernels -----------------------------------------------------------------------------

struct FloatOps {
    using Batch = xsimd::batch<float, xsimd::avx512f>;
    static Batch load_head(const float* p, size_t k) {
        return Batch(_mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << k) - 1), p));
    }
};

// ---- bit kernels -------------------------------------------------------------------------------

// Lanes [0, k) of 8, for 1 <= k <= 8.
RULAKE_INLINE __mmask8 head_mask(size_t k) { return static_cast<__mmask8>((1u << k) - 1); }

RULAKE_INLINE __m512i popcount_and(__m512i a, __m512i b) { return _mm512_popcnt_epi64(_mm512_and_si512(a, b)); }

// Horner sum over the planes of one chunk: lanes of Σ_j 2^j popcount(c & P[j]). BITS > 0 is the number
// of planes known at compile time (loop fully unrolled); BITS == 0 uses `bits`.
template <unsigned BITS>
RULAKE_INLINE __m512i horner(__m512i c, const __m512i* planes, unsigned bits) {
    const unsigned nb = BITS ? BITS : bits;
    __m512i t = popcount_and(c, planes[nb - 1]);
    for (unsigned j = nb - 1; j-- > 0;) t = _mm512_add_epi64(_mm512_add_epi64(t, t), popcount_and(c, planes[j]));
    return t;
}

// The same with the planes read from memory: chunk starting at word w, lanes restricted to `mask`.
template <unsigned BITS>
RULAKE_INLINE __m512i horner_mem(__m512i c, const uint64_t* planes, size_t words, size_t w, __mmask8 mask,
                                 unsigned bits) {
    const unsigned nb = BITS ? BITS : bits;
    __m512i t = popcount_and(c, _mm512_maskz_loadu_epi64(mask, planes + (nb - 1) * words + w));
    for (unsigned j = nb - 1; j-- > 0;)
        t = _mm512_add_epi64(_mm512_add_epi64(t, t),
                             popcount_and(c, _mm512_maskz_loadu_epi64(mask, planes + j * words + w)));
    return t;
}

// Lanes summing to the bit-plane dot of one code of any length (planes from memory).
template <unsigned BITS>
RULAKE_INLINE __m512i code_lanes(const uint64_t* code, const uint64_t* planes, size_t words, unsigned bits) {
    __m512i acc = _mm512_setzero_si512();
    size_t w = 0;
    for (; w + 8 <= words; w += 8)
        acc = _mm512_add_epi64(acc, horner_mem<BITS>(_mm512_loadu_si512(code + w), planes, words, w, 0xFF, bits));
    if (w < words) {
        __mmask8 mask = head_mask(words - w);
        acc = _mm512_add_epi64(acc, horner_mem<BITS>(_mm512_maskz_loadu_epi64(mask, code + w), planes, words, w,
                                                     mask, bits));
    }
    return acc;
}

// The scans below read codes sequentially and are memory bound at scale; the hardware prefetcher
// alone leaves a third of the bandwidth unused (bench/kernels). Each step of 8 codes prefetches the
// codes kPrefetchAhead bytes further on. Prefetches never fault, so running past the end is harmless.
constexpr size_t kPrefetchAhead = 2048;

RULAKE_INLINE void prefetch_span(const uint8_t* p, size_t bytes) {
    for (size_t off = 0; off < bytes; off += 64) _mm_prefetch(reinterpret_cast<const char*>(p + off), _MM_HINT_T0);
}

// Per 128-bit lane k: [a.q0 + a.q1, b.q0 + b.q1] (pairwise sums of adjacent 64-bit lanes).
RULAKE_INLINE __m512i pair_sums(__m512i a, __m512i b) {
    return _mm512_add_epi64(_mm512_unpacklo_epi64(a, b), _mm512_unpackhi_epi64(a, b));
}

// Lane i of the result = sum of the 8 lanes of v[i].
RULAKE_INLINE __m512i reduce8(const __m512i v[8]) {
    // After pair_sums: lane 2k + s holds half-lane-pair k of v[2p + s].
    __m512i s01 = pair_sums(v[0], v[1]), s23 = pair_sums(v[2], v[3]);
    __m512i s45 = pair_sums(v[4], v[5]), s67 = pair_sums(v[6], v[7]);
    // Add 128-bit lanes {0,1}+{2,3} ... : even lanes of both plus odd lanes of both.
    __m512i t0123 = _mm512_add_epi64(_mm512_shuffle_i64x2(s01, s23, 0x88), _mm512_shuffle_i64x2(s01, s23, 0xDD));
    __m512i t4567 = _mm512_add_epi64(_mm512_shuffle_i64x2(s45, s67, 0x88), _mm512_shuffle_i64x2(s45, s67, 0xDD));
    // 128-bit lane m of t0123 now holds [v0, v1] (m = 0, 1) and [v2, v3] (m = 2, 3), partially summed.
    return _mm512_add_epi64(_mm512_shuffle_i64x2(t0123, t4567, 0x88), _mm512_shuffle_i64x2(t0123, t4567, 0xDD));
}

// Sum of the 8 lanes (single code).
RULAKE_INLINE uint32_t reduce1(__m512i v) { return static_cast<uint32_t>(_mm512_reduce_add_epi64(v)); }

uint32_t bitplane_dot(const uint64_t* code, const uint64_t* planes, size_t words, unsigned bits) {
    if (bits == 0 || words == 0) return 0;
    return reduce1(code_lanes<0>(code, planes, words, bits));
}

// Codes of 2 words, four per register. Loads codes i..i+3 (stride apart) into one register.
RULAKE_INLINE __m512i load4_codes128(const uint8_t* p, size_t stride) {
    __m512i v = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + stride)), 1);
    v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2 * stride)), 2);
    return _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 3 * stride)), 3);
}

template <unsigned BITS>
void batch_words2(const uint8_t* base, size_t stride, size_t n, const uint64_t* planes, uint32_t* out) {
    __m512i P[BITS];
    for (unsigned j = 0; j < BITS; ++j)
        P[j] = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(planes + 2 * j)));
    // Result lane order after pair_sums of codes 0-3 and 4-7 is 0,4,1,5,2,6,3,7: undo it.
    const __m256i order = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const uint8_t* p = base + i * stride;
        prefetch_span(p + kPrefetchAhead, 8 * stride);
        __m512i a = stride == 16 ? _mm512_loadu_si512(p) : load4_codes128(p, stride);
        __m512i b = stride == 16 ? _mm512_loadu_si512(p + 64) : load4_codes128(p + 4 * stride, stride);
        __m512i sums = pair_sums(horner<BITS>(a, P, BITS), horner<BITS>(b, P, BITS));
        __m256i totals = _mm256_permutevar8x32_epi32(_mm512_cvtepi64_epi32(sums), order);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), totals);
    }
    for (; i < n; ++i) {
        __m512i c = _mm512_maskz_loadu_epi64(0x3, base + i * stride);
        out[i] = reduce1(horner<BITS>(c, P, BITS));
    }
}

// Codes of 4 words, two per register. Loads codes i and i+1 (stride apart) into one register.
RULAKE_INLINE __m512i load2_codes256(const uint8_t* p, size_t stride) {
    __m512i v = _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_inserti64x4(v, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + stride)), 1);
}

template <unsigned BITS>
void batch_words4(const uint8_t* base, size_t stride, size_t n, const uint64_t* planes, uint32_t* out) {
    __m512i P[BITS];
    for (unsigned j = 0; j < BITS; ++j)
        P[j] = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(planes + 4 * j)));
    // Codes (0,1), (2,3), (4,5), (6,7) in registers a..d; after the pair and lane sums below the totals
    // come in order 0,2,1,3,4,6,5,7: undo it.
    const __m256i order = _mm256_setr_epi32(0, 2, 1, 3, 4, 6, 5, 7);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const uint8_t* p = base + i * stride;
        prefetch_span(p + kPrefetchAhead, 8 * stride);
        __m512i a = horner<BITS>(load2_codes256(p, stride), P, BITS);
        __m512i b = horner<BITS>(load2_codes256(p + 2 * stride, stride), P, BITS);
        __m512i c = horner<BITS>(load2_codes256(p + 4 * stride, stride), P, BITS);
        __m512i d = horner<BITS>(load2_codes256(p + 6 * stride, stride), P, BITS);
        // 128-bit lanes of pair_sums(a, b): [0, 2], [0, 2], [1, 3], [1, 3] (partial sums of codes).
        __m512i ab = pair_sums(a, b), cd = pair_sums(c, d);
        __m512i sums = _mm512_add_epi64(_mm512_shuffle_i64x2(ab, cd, 0x88), _mm512_shuffle_i64x2(ab, cd, 0xDD));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i),
                            _mm256_permutevar8x32_epi32(_mm512_cvtepi64_epi32(sums), order));
    }
    for (; i < n; ++i) {
        __m512i code = _mm512_maskz_loadu_epi64(0xF, base + i * stride);
        out[i] = reduce1(horner<BITS>(code, P, BITS));
    }
}

// Codes of 1..8 words: one masked load per code, planes held in registers.
template <unsigned BITS>
void batch_short(const uint8_t* base, size_t stride, size_t n, const uint64_t* planes, size_t words,
                 uint32_t* out) {
    const __mmask8 mask = head_mask(words);
    __m512i P[BITS];
    for (unsigned j = 0; j < BITS; ++j) P[j] = _mm512_maskz_loadu_epi64(mask, planes + j * words);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m512i lanes[8];
        prefetch_span(base + i * stride + kPrefetchAhead, 8 * stride);
        for (size_t k = 0; k < 8; ++k)
            lanes[k] = horner<BITS>(_mm512_maskz_loadu_epi64(mask, base + (i + k) * stride), P, BITS);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm512_cvtepi64_epi32(reduce8(lanes)));
    }
    for (; i < n; ++i) out[i] = reduce1(horner<BITS>(_mm512_maskz_loadu_epi64(mask, base + i * stride), P, BITS));
}

// Codes of any length (planes from memory, which stay in L1).
template <unsigned BITS>
void batch_long(const uint8_t* base, size_t stride, size_t n, const uint64_t* planes, size_t words, unsigned bits,
                uint32_t* out) {
    auto code = [&](size_t i) { return reinterpret_cast<const uint64_t*>(base + i * stride); };
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m512i lanes[8];
        prefetch_span(base + i * stride + kPrefetchAhead, 8 * stride);
        for (size_t k = 0; k < 8; ++k) lanes[k] = code_lanes<BITS>(code(i + k), planes, words, bits);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm512_cvtepi64_epi32(reduce8(lanes)));
    }
    for (; i < n; ++i) out[i] = reduce1(code_lanes<BITS>(code(i), planes, words, bits));
}

template <unsigned BITS>
void batch_fixed_bits(const uint8_t* base, size_t stride, size_t n, const uint64_t* planes, size_t words,
                      uint32_t* out) {
    if (words == 2)
        batch_words2<BITS>(base, stride, n, planes, out);
    else if (words == 4)
        batch_words4<BITS>(base, stride, n, planes, out);
    else if (words <= 8)
        batch_short<BITS>(base, stride, n, planes, words, out);
    else
        batch_long<BITS>(base, stride, n, planes, words, BITS, out);
}

void bitplane_dot_batch(const uint8_t* base, size_t stride, size_t n, const uint64_t* planes, size_t words,
                        unsigned bits, uint32_t* out) {
    if (bits == 0 || words == 0) {
        for (size_t i = 0; i < n; ++i) out[i] = 0;
        return;
    }
    switch (bits) {
        case 1: return batch_fixed_bits<1>(base, stride, n, planes, words, out);
        case 2: return batch_fixed_bits<2>(base, stride, n, planes, words, out);
        case 3: return batch_fixed_bits<3>(base, stride, n, planes, words, out);
        case 4: return batch_fixed_bits<4>(base, stride, n, planes, words, out);
        case 5: return batch_fixed_bits<5>(base, stride, n, planes, words, out);
        case 6: return batch_fixed_bits<6>(base, stride, n, planes, words, out);
        case 7: return batch_fixed_bits<7>(base, stride, n, planes, words, out);
        case 8: return batch_fixed_bits<8>(base, stride, n, planes, words, out);
        default: return batch_long<0>(base, stride, n, planes, words, bits, out);
    }
}

uint64_t popcount(const uint64_t* words, size_t n) {
    __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm512_add_epi64(acc0, _mm512_popcnt_epi64(_mm512_loadu_si512(words + i)));
        acc1 = _mm512_add_epi64(acc1, _mm512_popcnt_epi64(_mm512_loadu_si512(words + i + 8)));
    }
    for (; i < n; i += 8) {
        __mmask8 mask = head_mask(n - i < 8 ? n - i : 8);
        acc0 = _mm512_add_epi64(acc0, _mm512_popcnt_epi64(_mm512_maskz_loadu_epi64(mask, words + i)));
    }
    return static_cast<uint64_t>(_mm512_reduce_add_epi64(_mm512_add_epi64(acc0, acc1)));
}

constexpr Kernels kTable{Isa::Avx512, "avx512", float_simd::table<FloatOps>(),
                         BitKernels{bitplane_dot, bitplane_dot_batch, popcount}};

}  // namespace

const Kernels* kernels() { return &kTable; }

}  // namespace rulake::core::avx512
