// AVX2 kernels (AVX2 + FMA + POPCNT + BMI2). Compiled with those flags (see Makefile): nothing here may
// run before kernels_for(Isa::Avx2) has checked the CPU. Everything except the entry points is in an
// anonymous namespace (internal linkage) so no function compiled with these flags can be chosen by the
// linker for generic code; scripts/check-isa-symbols.sh audits that.
//
// Bit kernels come in two strategies, both exact:
//  - nibble LUT ("lut"): bytes of (code AND plane) are split into nibbles and counted with VPSHUFB
//    against a 16-entry table. The table for plane j holds popcount << (j mod 5), so the weighted
//    counts of up to five planes add up in one byte (at most 8 * 31 = 248) before one VPSADBW turns the
//    bytes into 64-bit sums. The planes are split into nibbles once per batch call.
//  - scalar POPCNT ("popcnt64"): one POPCNT per (code word, plane).
// The table uses the LUT for batches: bench/kernels/kernel_bench.cpp measured it 1.3-2.3x faster than
// POPCNT on 128..1024-bit codes with 4-bit queries in L2, and about 1.15x over 1M codes. Single codes
// use POPCNT (splitting the planes would cost as much as the count). alternative_bit_kernels() exposes
// the POPCNT batch kernel.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels_float_simd.hpp"
#include "rulake/core/kernels_isa.hpp"

// The helpers below are small and called in the innermost loops: keep them inlined.
#define RULAKE_INLINE inline __attribute__((always_inline))

namespace rulake::core::avx2 {
namespace {

// ---- float kernels -----------------------------------------------------------------------------

struct FloatOps {
    using Batch = xsimd::batch<float, xsimd::fma3<xsimd::avx2>>;
    static Batch load_head(const float* p, size_t k) {
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(k)), lane);
        return Batch(_mm256_maskload_ps(p, mask));
    }
};

// ---- bit kernels: POPCNT strategy ----------------------------------------------------------------

RULAKE_INLINE uint64_t popcount64(uint64_t x) { return static_cast<uint64_t>(_mm_popcnt_u64(x)); }

// BITS > 0: number of planes known at compile time; BITS == 0: `bits` at run time (any value).
template <unsigned BITS>
uint32_t popcnt64_dot(const uint64_t* code, const uint64_t* planes, size_t words, unsigned bits) {
    const unsigned nb = BITS ? BITS : bits;
    uint64_t total = 0;
    for (unsigned j = nb; j-- > 0;) {
        const uint64_t* plane = planes + j * words;
        uint64_t count = 0;
        for (size_t w = 0; w < words; ++w) count += popcount64(code[w] & plane[w]);
        total = 2 * total + count;
    }
    return static_cast<uint32_t>(total);
}

// Codes of 2 words with the planes in registers.
template <unsigned BITS>
void popcnt64_batch_words2(const uint8_t* base, size_t stride, size_t n, const uint64_t* planes, uint32_t* out) {
    uint64_t p0[BITS], p1[BITS];
    for (unsigned j = 0; j < BITS; ++j) {
        p0[j] = planes[2 * j];
        p1[j] = planes[2 * j + 1];
    }
    for (size_t i = 0; i < n; ++i) {
        const uint64_t* code = reinterpret_cast<const uint64_t*>(base + i * stride);
        const uint64_t c0 = code[0], c1 = code[1];
        uint64_t total = 0;
        for (unsigned j = BITS; j-- > 0;) total = 2 * total + popcount64(c0 & p0[j]) + popcount64(c1 & p1[j]);
        out[i] = static_cast<uint32_t>(total);
    }
}

template <unsigned BITS>
void popcnt64_batch_fixed(const uint8_t* base, size_t stride, size_t n, const uint64_t* planes, size_t words,
                          uint32_t* out) {
    if (words == 2) return popcnt64_batch_words2<BITS>(base, stride, n, planes, out);
    for (size_t i = 0; i < n; ++i)
        out[i] = popcnt64_dot<BITS>(reinterpret_cast<const uint64_t*>(base + i * stride), planes, words, BITS);
}

uint32_t popcnt64_bitplane_dot(const uint64_t* code, const uint64_t* planes, size_t words, unsigned bits) {
    return popcnt64_dot<0>(code, planes, words, bits);
}

void popcnt64_bitplane_dot_batch(const uint8_t* base, size_t stride, size_t n, const uint64_t* planes, size_t words,
                                 unsigned bits, uint32_t* out) {
    switch (bits) {
        case 1: return popcnt64_batch_fixed<1>(base, stride, n, planes, words, out);
        case 2: return popcnt64_batch_fixed<2>(base, stride, n, planes, words, out);
        case 3: return popcnt64_batch_fixed<3>(base, stride, n, planes, words, out);
        case 4: return popcnt64_batch_fixed<4>(base, stride, n, planes, words, out);
        case 5: return popcnt64_batch_fixed<5>(base, stride, n, planes, words, out);
        case 6: return popcnt64_batch_fixed<6>(base, stride, n, planes, words, out);
        case 7: return popcnt64_batch_fixed<7>(base, stride, n, planes, words, out);
        case 8: return popcnt64_batch_fixed<8>(base, stride, n, planes, words, out);
        default:
            for (size_t i = 0; i < n; ++i)
                out[i] = popcnt64_dot<0>(reinterpret_cast<const uint64_t*>(base + i * stride), planes, words, bits);
    }
}

uint64_t popcount(const uint64_t* words, size_t n) {
    uint64_t c0 = 0, c1 = 0, c2 = 0, c3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        c0 += popcount64(words[i]);
        c1 += popcount64(words[i + 1]);
        c2 += popcount64(words[i + 2]);
        c3 += popcount64(words[i + 3]);
    }
    for (; i < n; ++i) c0 += popcount64(words[i]);
    return (c0 + c1) + (c2 + c3);
}

// ---- bit kernels: nibble LUT strategy ------------------------------------------------------------

// Planes per byte-sum group: 8 bits * (1 + 2 + 4 + 8 + 16) = 248 fits in a byte.
constexpr unsigned kGroupPlanes = 5;
// Limits of the LUT batch path (its split planes live on the stack); beyond them, POPCNT is used.
constexpr size_t kLutMaxWords = 32;
constexpr unsigned kLutMaxBits = 8;

// VPSHUFB table: popcount(nibble) << shift, in both 128-bit lanes.
__m256i nibble_table(unsigned shift) {
    auto e = [shift](int nibble) { return static_cast<char>(__builtin_popcount(nibble) << shift); };
    return _mm256_setr_epi8(e(0), e(1), e(2), e(3), e(4), e(5), e(6), e(7), e(8), e(9), e(10), e(11), e(12), e(13),
                            e(14), e(15), e(0), e(1), e(2), e(3), e(4), e(5), e(6), e(7), e(8), e(9), e(10), e(11),
                            e(12), e(13), e(14), e(15));
}

// Words [0, k) of p into the low lanes of a register (k in 1..4), zeros above; reads nothing else.
RULAKE_INLINE __m256i load_words(const uint64_t* p, size_t k) {
    if (k == 4) return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i mask =
        _mm256_cmpgt_epi64(_mm256_set1_epi64x(static_cast<long long>(k)), _mm256_setr_epi64x(0, 1, 2, 3));
    return _mm256_maskload_epi64(reinterpret_cast<const long long*>(p), mask);
}

// A query's planes split into low and high nibbles, per 256-bit chunk of the code, plus the shifted
// tables. For packed 2-word codes there is one chunk: the 128-bit plane broadcast to both lanes.
struct SplitPlanes {
    __m256i lo[kLutMaxBits][kLutMaxWords / 4];
    __m256i hi[kLutMaxBits][kLutMaxWords / 4];
    __m256i table[kGroupPlanes];
};

RULAKE_INLINE __m256i low_nibbles(__m256i v) { return _mm256_and_si256(v, _mm256_set1_epi8(0x0F)); }
RULAKE_INLINE __m256i high_nibbles(__m256i v) { return low_nibbles(_mm256_srli_epi16(v, 4)); }

// Fills s for planes of `words` words (words <= kLutMaxWords, bits <= kLutMaxBits).
void split_planes(const uint64_t* planes, size_t words, unsigned bits, bool packed128, SplitPlanes* s) {
    const size_t chunks = packed128 ? 1 : (words + 3) / 4;
    for (unsigned j = 0; j < bits; ++j) {
        const uint64_t* plane = planes + j * words;
        for (size_t c = 0; c < chunks; ++c) {
            __m256i p = packed128
                            ? _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(plane)))
                            : load_words(plane + 4 * c, words - 4 * c < 4 ? words - 4 * c : 4);
            s->lo[j][c] = low_nibbles(p);
            s->hi[j][c] = high_nibbles(p);
        }
    }
    for (unsigned g = 0; g < kGroupPlanes; ++g) s->table[g] = nibble_table(g);
}

// 64-bit lanes summing to Σ_j 2^j popcount(c & plane_j) over chunk `chunk` of the split planes.
template <unsigned BITS>
RULAKE_INLINE __m256i lut_chunk(__m256i c, const SplitPlanes& s, size_t chunk) {
    const __m256i c_lo = low_nibbles(c), c_hi = high_nibbles(c);
    __m256i acc = _mm256_setzero_si256();
    for (unsigned first = 0; first < BITS; first += kGroupPlanes) {
        __m256i bytes = _mm256_setzero_si256();
        const unsigned end = first + kGroupPlanes < BITS ? first + kGroupPlanes : BITS;
        for (unsigned j = first; j < end; ++j) {
            const __m256i table = s.table[j - first];
            bytes = _mm256_add_epi8(bytes, _mm256_shuffle_epi8(table, _mm256_and_si256(c_lo, s.lo[j][chunk])));
            bytes = _mm256_add_epi8(bytes, _mm256_shuffle_epi8(table, _mm256_and_si256(c_hi, s.hi[j][chunk])));
        }
        const __m256i sums = _mm256_sad_epu8(bytes, _mm256_setzero_si256());
        acc = first == 0 ? sums : _mm256_add_epi64(acc, _mm256_slli_epi64(sums, static_cast<int>(first)));
    }
    return acc;
}

// 64-bit lanes summing to the bit-plane dot of one code of `words` words.
template <unsigned BITS>
RULAKE_INLINE __m256i lut_code_lanes(const uint64_t* code, size_t words, const SplitPlanes& s) {
    __m256i acc = _mm256_setzero_si256();
    size_t c = 0;
    for (; 4 * c + 4 <= words; ++c)
        acc = _mm256_add_epi64(
            acc, lut_chunk<BITS>(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(code + 4 * c)), s, c));
    if (4 * c < words) acc = _mm256_add_epi64(acc, lut_chunk<BITS>(load_words(code + 4 * c, words - 4 * c), s, c));
    return acc;
}

// Per 128-bit lane k: [a.q0 + a.q1, b.q0 + b.q1].
RULAKE_INLINE __m256i pair_sums(__m256i a, __m256i b) {
    return _mm256_add_epi64(_mm256_unpacklo_epi64(a, b), _mm256_unpackhi_epi64(a, b));
}

// The low 32 bits of the four 64-bit lanes of v, taken in lane order `order`, stored to out[0..3].
RULAKE_INLINE void store_low_dwords(__m256i v, __m256i order, uint32_t* out) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(v, order)));
}

RULAKE_INLINE uint32_t sum_lanes(__m256i v) {
    __m128i s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi64(s, _mm_unpackhi_epi64(s, s));
    return static_cast<uint32_t>(_mm_cvtsi128_si64(s));
}

// Codes of 2 words, two per register.
template <unsigned BITS>
void lut_batch_words2(const uint8_t* base, size_t stride, size_t n, const SplitPlanes& s, uint32_t* out) {
    auto load2 = [&](const uint8_t* p) {
        return stride == 16 ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))
                            : _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(p + stride),
                                                  reinterpret_cast<const __m128i*>(p));
    };
    // pair_sums of codes (0,1) and (2,3) gives lanes in order 0,2,1,3.
    const __m256i order = _mm256_setr_epi32(0, 4, 2, 6, 0, 0, 0, 0);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint8_t* p = base + i * stride;
        __m256i a = lut_chunk<BITS>(load2(p), s, 0), b = lut_chunk<BITS>(load2(p + 2 * stride), s, 0);
        store_low_dwords(pair_sums(a, b), order, out + i);
    }
    for (; i < n; ++i) {
        __m256i c = _mm256_zextsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(base + i * stride)));
        out[i] = sum_lanes(lut_chunk<BITS>(c, s, 0));
    }
}

// Codes of any length (up to kLutMaxWords), four at a time.
template <unsigned BITS>
void lut_batch_any(const uint8_t* base, size_t stride, size_t n, size_t words, const SplitPlanes& s, uint32_t* out) {
    auto code = [&](size_t i) { return reinterpret_cast<const uint64_t*>(base + i * stride); };
    // pair_sums(v0, v1), pair_sums(v2, v3) then adding the 128-bit halves gives lanes 0,1,2,3.
    const __m256i order = _mm256_setr_epi32(0, 2, 4, 6, 0, 0, 0, 0);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256i s01 = pair_sums(lut_code_lanes<BITS>(code(i), words, s), lut_code_lanes<BITS>(code(i + 1), words, s));
        __m256i s23 =
            pair_sums(lut_code_lanes<BITS>(code(i + 2), words, s), lut_code_lanes<BITS>(code(i + 3), words, s));
        __m256i totals = _mm256_add_epi64(_mm256_permute2x128_si256(s01, s23, 0x20),
                                          _mm256_permute2x128_si256(s01, s23, 0x31));
        store_low_dwords(totals, order, out + i);
    }
    for (; i < n; ++i) out[i] = sum_lanes(lut_code_lanes<BITS>(code(i), words, s));
}

template <unsigned BITS>
void lut_batch_fixed_bits(const uint8_t* base, size_t stride, size_t n, const uint64_t* planes, size_t words,
                          uint32_t* out) {
    SplitPlanes s;
    const bool packed128 = words == 2;
    split_planes(planes, words, BITS, packed128, &s);
    if (packed128)
        lut_batch_words2<BITS>(base, stride, n, s, out);
    else
        lut_batch_any<BITS>(base, stride, n, words, s, out);
}

void lut_bitplane_dot_batch(const uint8_t* base, size_t stride, size_t n, const uint64_t* planes, size_t words,
                            unsigned bits, uint32_t* out) {
    if (words == 0 || words > kLutMaxWords || bits == 0 || bits > kLutMaxBits)
        return popcnt64_bitplane_dot_batch(base, stride, n, planes, words, bits, out);
    switch (bits) {
        case 1: return lut_batch_fixed_bits<1>(base, stride, n, planes, words, out);
        case 2: return lut_batch_fixed_bits<2>(base, stride, n, planes, words, out);
        case 3: return lut_batch_fixed_bits<3>(base, stride, n, planes, words, out);
        case 4: return lut_batch_fixed_bits<4>(base, stride, n, planes, words, out);
        case 5: return lut_batch_fixed_bits<5>(base, stride, n, planes, words, out);
        case 6: return lut_batch_fixed_bits<6>(base, stride, n, planes, words, out);
        case 7: return lut_batch_fixed_bits<7>(base, stride, n, planes, words, out);
        default: return lut_batch_fixed_bits<8>(base, stride, n, planes, words, out);
    }
}

// A single code: splitting the planes costs more than it saves, so POPCNT it is.
uint32_t lut_bitplane_dot(const uint64_t* code, const uint64_t* planes, size_t words, unsigned bits) {
    return popcnt64_dot<0>(code, planes, words, bits);
}

constexpr BitKernels kPopcnt64Bits{popcnt64_bitplane_dot, popcnt64_bitplane_dot_batch, popcount};
constexpr BitKernels kLutBits{lut_bitplane_dot, lut_bitplane_dot_batch, popcount};

constexpr Kernels kTable{Isa::Avx2, "avx2", float_simd::table<FloatOps>(), kLutBits};

}  // namespace

const Kernels* kernels() { return &kTable; }

const BitKernels* alternative_bit_kernels() { return &kPopcnt64Bits; }

}  // namespace rulake::core::avx2
