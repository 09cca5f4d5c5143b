// Experiment: the "FastScan" batched layout for the RaBitQ bit-plane scan, against the per-code
// layout of BitKernels::bitplane_dot_batch. Benchmark-only code (not a kernel of the extension).
//
// Layout: codes in blocks of 32. For each group of 4 dimensions (one nibble of a code), the 32 codes'
// nibbles take 16 bytes (byte k: code k in the low nibble, code k + 16 in the high one); four
// consecutive groups form one 64-byte chunk, one group per 128-bit lane. Same bytes per code as the
// per-code layout (D'/8).
// Query: per group, a 16-entry byte table T[m] = sum of the 4-bit query values of the dimensions whose
// bit is set in m (at most 60). One VPSHUFB then looks up 64 (code, group) pairs at once: per chunk
// load, 2 ANDs, 1 shift, 2 shuffles, 2 byte adds; the byte sums are widened to 16 bits every 4 chunks.
// The result equals bitplane_dot (the scan checks that before measuring).
//
// Compiled without ISA flags like the rest of the benchmark: the AVX-512 functions carry a target
// attribute and run only when the AVX-512 kernel table is available.
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "rulake/core/kernels.hpp"

namespace {

constexpr unsigned kQueryBits = 4;

#define FASTSCAN_TARGET __attribute__((target("avx512f,avx512bw")))

struct FastScanData {
    size_t dims = 0;                // D' (multiple of 64)
    size_t n = 0;                   // codes (a multiple of 32)
    std::vector<uint8_t> blocks;    // n / 32 blocks of dims * 4 bytes
    std::vector<uint8_t> tables;    // per group 16 bytes, four groups per 64-byte chunk
    std::vector<uint64_t> codes;    // the same codes in the per-code layout (dims / 64 words each)
    std::vector<uint64_t> planes;   // the same query as bit planes
};

unsigned nibble(const uint64_t* code, size_t group) { return (code[group / 16] >> (4 * (group % 16))) & 0xF; }

FastScanData make_data(size_t dims, size_t n, uint64_t seed) {
    FastScanData d;
    d.dims = dims;
    d.n = n;
    const size_t words = dims / 64, groups = dims / 4;
    std::mt19937_64 rng(seed);
    d.codes.resize(n * words);
    for (uint64_t& w : d.codes) w = rng();
    std::vector<unsigned> q(dims);
    for (unsigned& v : q) v = rng() & ((1u << kQueryBits) - 1);
    d.planes.assign(kQueryBits * words, 0);
    for (size_t i = 0; i < dims; ++i)
        for (unsigned j = 0; j < kQueryBits; ++j)
            if (q[i] >> j & 1) d.planes[j * words + i / 64] |= uint64_t{1} << (i % 64);
    d.tables.resize(groups * 16);
    for (size_t g = 0; g < groups; ++g)
        for (unsigned m = 0; m < 16; ++m) {
            unsigned sum = 0;
            for (unsigned t = 0; t < 4; ++t)
                if (m >> t & 1) sum += q[4 * g + t];
            d.tables[g * 16 + m] = static_cast<uint8_t>(sum);
        }
    d.blocks.resize(n / 32 * groups * 16);
    for (size_t b = 0; b < n / 32; ++b)
        for (size_t g = 0; g < groups; ++g)
            for (size_t k = 0; k < 16; ++k) {
                const uint64_t* lo = &d.codes[(32 * b + k) * words];
                const uint64_t* hi = &d.codes[(32 * b + k + 16) * words];
                d.blocks[(b * groups + g) * 16 + k] = static_cast<uint8_t>(nibble(lo, g) | nibble(hi, g) << 4);
            }
    return d;
}

// Adds the bytes of s to the 16-bit sums: even bytes to even_acc, odd bytes to odd_acc.
FASTSCAN_TARGET inline void widen_add(__m512i s, __m512i* even_acc, __m512i* odd_acc) {
    *even_acc = _mm512_add_epi16(*even_acc, _mm512_and_si512(s, _mm512_set1_epi16(0x00FF)));
    *odd_acc = _mm512_add_epi16(*odd_acc, _mm512_srli_epi16(s, 8));
}

// Sum of the four 128-bit lanes (as 16-bit values).
FASTSCAN_TARGET inline __m128i lane_sum16(__m512i v) {
    __m256i s = _mm256_add_epi16(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
    return _mm_add_epi16(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
}

// Stores the 16 totals of codes (2j from even, 2j+1 from odd) as uint32.
FASTSCAN_TARGET inline void store16(__m128i even, __m128i odd, uint32_t* out) {
    __m256i ordered = _mm256_set_m128i(_mm_unpackhi_epi16(even, odd), _mm_unpacklo_epi16(even, odd));
    _mm512_storeu_si512(out, _mm512_cvtepu16_epi32(ordered));
}

FASTSCAN_TARGET void fastscan_avx512(const FastScanData& d, uint32_t* out) {
    const size_t chunks = d.dims / 16;  // 4 groups each
    const __m512i low = _mm512_set1_epi8(0x0F);
    const uint8_t* block = d.blocks.data();
    for (size_t b = 0; b < d.n / 32; ++b, block += chunks * 64) {
        __m512i lo_even = _mm512_setzero_si512(), lo_odd = lo_even, hi_even = lo_even, hi_odd = lo_even;
        for (size_t c0 = 0; c0 < chunks; c0 += 4) {
            __m512i s_lo = _mm512_setzero_si512(), s_hi = s_lo;
            const size_t end = c0 + 4 < chunks ? c0 + 4 : chunks;
            for (size_t c = c0; c < end; ++c) {  // at most 4 x 60 = 240 per byte
                const __m512i v = _mm512_loadu_si512(block + c * 64);
                const __m512i table = _mm512_loadu_si512(d.tables.data() + c * 64);
                s_lo = _mm512_add_epi8(s_lo, _mm512_shuffle_epi8(table, _mm512_and_si512(v, low)));
                s_hi = _mm512_add_epi8(s_hi, _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16(v, 4), low)));
            }
            widen_add(s_lo, &lo_even, &lo_odd);
            widen_add(s_hi, &hi_even, &hi_odd);
        }
        store16(lane_sum16(lo_even), lane_sum16(lo_odd), out + 32 * b);
        store16(lane_sum16(hi_even), lane_sum16(hi_odd), out + 32 * b + 16);
    }
}

// Data sets by (dims, n), built on first use and kept for the whole run.
const FastScanData& data_for(size_t dims, size_t n) {
    static std::vector<std::unique_ptr<FastScanData>> cache;
    for (const auto& d : cache)
        if (d->dims == dims && d->n == n) return *d;
    cache.push_back(std::make_unique<FastScanData>(make_data(dims, n, dims * 31 + n)));
    return *cache.back();
}

// Aborts the benchmark run if the FastScan result differs from the dispatched per-code kernel.
void check(const FastScanData& d, const std::vector<uint32_t>& got) {
    const size_t words = d.dims / 64;
    std::vector<uint32_t> want(d.n);
    rulake::core::scalar::kernels().bits.bitplane_dot_batch(reinterpret_cast<const uint8_t*>(d.codes.data()),
                                                             words * 8, d.n, d.planes.data(), words, kQueryBits,
                                                             want.data());
    if (got != want) {
        std::fprintf(stderr, "fastscan: result differs from the scalar bitplane_dot_batch (dims %zu)\n", d.dims);
        std::abort();
    }
}

void fastscan(benchmark::State& state, size_t dims, size_t n) {
    const FastScanData& d = data_for(dims, n);
    std::vector<uint32_t> out(d.n);
    fastscan_avx512(d, out.data());
    check(d, out);
    for (auto _ : state) {
        fastscan_avx512(d, out.data());
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * d.blocks.size()));
    state.counters["time_per_code"] = benchmark::Counter(
        static_cast<double>(d.n), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// The per-code layout on the same codes, for a side-by-side in this family.
void per_code(benchmark::State& state, size_t dims, size_t n) {
    const FastScanData& d = data_for(dims, n);
    const rulake::core::Kernels& k = *rulake::core::kernels_for(rulake::core::Isa::Avx512);
    const size_t words = dims / 64;
    std::vector<uint32_t> out(d.n);
    for (auto _ : state) {
        k.bits.bitplane_dot_batch(reinterpret_cast<const uint8_t*>(d.codes.data()), words * 8, d.n, d.planes.data(),
                                  words, kQueryBits, out.data());
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * d.codes.size() * 8));
    state.counters["time_per_code"] = benchmark::Counter(
        static_cast<double>(d.n), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

[[maybe_unused]] const bool registered = [] {
    if (rulake::core::kernels_for(rulake::core::Isa::Avx512) == nullptr) return false;
    // 1M codes (memory/L3 bound) and 8192 codes (in L2: compute bound).
    for (size_t n : {size_t{1000000}, size_t{8192}})
        for (size_t dims : {128, 1024}) {
            const std::string suffix = "/bits:" + std::to_string(dims) + "/n:" + std::to_string(n);
            benchmark::RegisterBenchmark(("fastscan_layout/avx512" + suffix).c_str(), fastscan, dims, n)
                ->Unit(benchmark::kMicrosecond);
            benchmark::RegisterBenchmark(("percode_layout/avx512" + suffix).c_str(), per_code, dims, n)
                ->Unit(benchmark::kMicrosecond);
        }
    return true;
}();

}  // namespace
