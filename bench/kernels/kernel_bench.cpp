// Kernel microbenchmarks (Google Benchmark): every kernel table this CPU supports, side by side.
//
//   make kernel-bench && build/bench/kernel_bench --benchmark_min_time=0.2
//
// Families (NAME/table/parameters):
//   l2_squared, inner_product    one pair of vectors of `dim` floats (in L1: compute bound)
//   bitplane_dot_batch           n codes of `bits` bits against a 4-bit query, codes stored back to back;
//                                reports time_per_code and bytes/s (code bytes read)
//   stream_sum                   sum of a buffer of `bytes` bytes (SSE2, 4 accumulators): the memory
//                                bandwidth one core reaches, to put next to the code scan's bytes/s
// Tables: the dispatchable ones (scalar, avx2, avx512; RULAKE_FORCE_ISA caps them) plus
// "avx2_popcnt64", the AVX2 table's alternative bit kernels.
#include <benchmark/benchmark.h>
#include <emmintrin.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "rulake/core/kernels.hpp"
#include "rulake/core/kernels_isa.hpp"

namespace {

using rulake::core::BitKernels;
using rulake::core::FloatKernels;
using rulake::core::Isa;
using rulake::core::Kernels;
using rulake::core::kernels_for;

struct NamedFloat {
    std::string name;
    FloatKernels f;
};
struct NamedBits {
    std::string name;
    BitKernels bits;
};

std::vector<NamedFloat> float_tables() {
    std::vector<NamedFloat> out;
    for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512})
        if (const Kernels* k = kernels_for(isa)) out.push_back({k->name, k->f});
    return out;
}

std::vector<NamedBits> bit_tables() {
    std::vector<NamedBits> out;
    for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512})
        if (const Kernels* k = kernels_for(isa)) {
            out.push_back({k->name, k->bits});
            if (isa == Isa::Avx2) out.push_back({"avx2_popcnt64", *rulake::core::avx2::alternative_bit_kernels()});
        }
    return out;
}

std::vector<float> random_floats(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

// Random 64-bit words, generated once per size and kept for the whole run (the page faults of the
// first touch stay out of the measurements).
const std::vector<uint64_t>& random_words(size_t n) {
    static std::vector<std::unique_ptr<std::vector<uint64_t>>> cache;
    for (auto& v : cache)
        if (v->size() == n) return *v;
    auto v = std::make_unique<std::vector<uint64_t>>(n);
    std::mt19937_64 rng(n);
    for (uint64_t& w : *v) w = rng();
    cache.push_back(std::move(v));
    return *cache.back();
}

void float_kernel(benchmark::State& state, float (*kernel)(const float*, const float*, size_t), size_t dim) {
    std::vector<float> a = random_floats(dim, 1), b = random_floats(dim, 2);
    for (auto _ : state) {
        benchmark::DoNotOptimize(a.data());
        benchmark::DoNotOptimize(kernel(a.data(), b.data(), dim));
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void bitplane_batch(benchmark::State& state, BitKernels bits, size_t code_bits, size_t n) {
    const size_t words = code_bits / 64;
    const unsigned query_bits = 4;
    const std::vector<uint64_t>& codes = random_words(n * words);
    const std::vector<uint64_t>& planes = random_words(query_bits * words);
    std::vector<uint32_t> out(n);
    for (auto _ : state) {
        bits.bitplane_dot_batch(reinterpret_cast<const uint8_t*>(codes.data()), words * 8, n, planes.data(), words,
                                query_bits, out.data());
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n * words * 8));
    // Inverted rate of codes: CPU time per code.
    state.counters["time_per_code"] = benchmark::Counter(
        static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void stream_sum(benchmark::State& state, size_t bytes) {
    const std::vector<uint64_t>& buffer = random_words(bytes / 8);
    const __m128i* p = reinterpret_cast<const __m128i*>(buffer.data());
    const size_t vectors = bytes / 16;
    for (auto _ : state) {
        __m128i s0 = _mm_setzero_si128(), s1 = s0, s2 = s0, s3 = s0;
        for (size_t i = 0; i + 4 <= vectors; i += 4) {
            s0 = _mm_add_epi64(s0, _mm_loadu_si128(p + i));
            s1 = _mm_add_epi64(s1, _mm_loadu_si128(p + i + 1));
            s2 = _mm_add_epi64(s2, _mm_loadu_si128(p + i + 2));
            s3 = _mm_add_epi64(s3, _mm_loadu_si128(p + i + 3));
        }
        __m128i s = _mm_add_epi64(_mm_add_epi64(s0, s1), _mm_add_epi64(s2, s3));
        benchmark::DoNotOptimize(s);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * (vectors / 4 * 4) * 16));
}

void register_all() {
    for (const NamedFloat& t : float_tables()) {
        for (size_t dim : {100, 128, 384, 768}) {
            benchmark::RegisterBenchmark(("l2_squared/" + t.name + "/" + std::to_string(dim)).c_str(), float_kernel,
                                         t.f.l2_squared, dim);
            benchmark::RegisterBenchmark(("inner_product/" + t.name + "/" + std::to_string(dim)).c_str(),
                                         float_kernel, t.f.inner_product, dim);
        }
    }
    const size_t kCodes = 1000000;
    for (const NamedBits& t : bit_tables())
        for (size_t code_bits : {128, 1024})
            benchmark::RegisterBenchmark(
                ("bitplane_dot_batch/" + t.name + "/bits:" + std::to_string(code_bits) + "/n:1000000").c_str(),
                bitplane_batch, t.bits, code_bits, kCodes)
                ->Unit(benchmark::kMillisecond);
    // More code lengths with the codes in L2 (compute bound), for the SIMD strategies.
    for (const NamedBits& t : bit_tables())
        if (t.name != "scalar")
            for (size_t code_bits : {128, 256, 512, 768, 1024})
                benchmark::RegisterBenchmark(
                    ("bitplane_dot_batch/" + t.name + "/bits:" + std::to_string(code_bits) + "/n:8192").c_str(),
                    bitplane_batch, t.bits, code_bits, size_t{8192});
    for (size_t bytes : {size_t{16000000}, size_t{128000000}, size_t{1} << 30})
        benchmark::RegisterBenchmark(("stream_sum/bytes:" + std::to_string(bytes)).c_str(), stream_sum, bytes)
            ->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    register_all();
    benchmark::AddCustomContext("kernels.active", rulake::core::active_kernels().name);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
