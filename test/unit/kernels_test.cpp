// Kernels: every SIMD table against the scalar reference, the reference against first principles, and
// the dispatcher (CPU detection, RULAKE_FORCE_ISA).
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "rulake/core/cpu_features.hpp"
#include "rulake/core/kernels.hpp"
#include "rulake/core/kernels_isa.hpp"

namespace rulake::core {
namespace {

// ---- tables under test -----------------------------------------------------------------------------

// A SIMD table to compare with the scalar reference: the dispatched AVX2 and AVX-512 tables, and the
// AVX2 table with its alternative bit kernels swapped in.
enum class Variant { Avx2, Avx2AlternativeBits, Avx512 };

std::string variant_name(const testing::TestParamInfo<Variant>& info) {
    switch (info.param) {
        case Variant::Avx2: return "avx2";
        case Variant::Avx2AlternativeBits: return "avx2_alternative_bits";
        case Variant::Avx512: return "avx512";
    }
    return "unknown";
}

class SimdTable : public testing::TestWithParam<Variant> {
  protected:
    void SetUp() override {
        const Isa isa = GetParam() == Variant::Avx512 ? Isa::Avx512 : Isa::Avx2;
        const Kernels* k = kernels_for(isa);
        if (k == nullptr) {
            if (isa > isa_ceiling())
                GTEST_SKIP() << isa_name(isa) << " excluded by RULAKE_FORCE_ISA";
            GTEST_SKIP() << "this CPU/OS does not support the " << isa_name(isa) << " kernels";
        }
        table_ = *k;
        if (GetParam() == Variant::Avx2AlternativeBits) table_.bits = *avx2::alternative_bit_kernels();
    }
    const Kernels& simd() const { return table_; }
    static const Kernels& ref() { return scalar::kernels(); }

  private:
    Kernels table_{};
};

INSTANTIATE_TEST_SUITE_P(Kernels, SimdTable,
                         testing::Values(Variant::Avx2, Variant::Avx2AlternativeBits, Variant::Avx512),
                         variant_name);

// ---- float kernels -----------------------------------------------------------------------------------

const size_t kDims[] = {0, 1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 384, 768, 1000, 16000};

std::vector<float> uniform_floats(size_t n, uint32_t seed, float lo, float hi) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

// Small integers: every product and partial sum below is exact in float, so any summation order must
// give the same result bit for bit.
std::vector<float> small_integers(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> dist(-8, 8);
    std::vector<float> v(n);
    for (float& x : v) x = static_cast<float>(dist(rng));
    return v;
}

// Tolerance for two float sums of the same terms in different orders, relative to sum |terms|: the
// rounding error of a float sum grows like sqrt(n) unit roundoffs on random data; allow 8x that.
double order_tolerance(size_t n) {
    const double unit_roundoff = std::ldexp(1.0, -24);
    return 8.0 * unit_roundoff * (2.0 + std::sqrt(static_cast<double>(n)));
}

struct FloatResults {
    float l2, ip, l1, dot, norm_a, norm_b;
};

FloatResults run_float(const Kernels& k, const float* a, const float* b, size_t n) {
    FloatResults r;
    r.l2 = k.f.l2_squared(a, b, n);
    r.ip = k.f.inner_product(a, b, n);
    r.l1 = k.f.l1_distance(a, b, n);
    k.f.cosine_parts(a, b, n, &r.dot, &r.norm_a, &r.norm_b);
    return r;
}

TEST_P(SimdTable, FloatKernelsMatchScalarOnRandomData) {
    for (size_t n : kDims) {
        for (uint32_t seed : {1u, 2u}) {
            std::vector<float> a = uniform_floats(n, seed, -1.0f, 1.0f);
            std::vector<float> b = uniform_floats(n, seed + 100, -1.0f, 1.0f);
            // Magnitudes (sum of |terms|) of each reduction, in double.
            double m_l2 = 0, m_ip = 0, m_l1 = 0, m_aa = 0, m_bb = 0;
            for (size_t i = 0; i < n; ++i) {
                double d = static_cast<double>(a[i]) - b[i];
                m_l2 += d * d;
                m_ip += std::fabs(static_cast<double>(a[i]) * b[i]);
                m_l1 += std::fabs(d);
                m_aa += static_cast<double>(a[i]) * a[i];
                m_bb += static_cast<double>(b[i]) * b[i];
            }
            const double tol = order_tolerance(n);
            FloatResults s = run_float(simd(), a.data(), b.data(), n);
            FloatResults r = run_float(ref(), a.data(), b.data(), n);
            SCOPED_TRACE("n=" + std::to_string(n) + " seed=" + std::to_string(seed));
            EXPECT_LE(std::fabs(s.l2 - r.l2), tol * m_l2) << s.l2 << " vs " << r.l2;
            EXPECT_LE(std::fabs(s.ip - r.ip), tol * m_ip) << s.ip << " vs " << r.ip;
            EXPECT_LE(std::fabs(s.l1 - r.l1), tol * m_l1) << s.l1 << " vs " << r.l1;
            EXPECT_LE(std::fabs(s.dot - r.dot), tol * m_ip) << s.dot << " vs " << r.dot;
            EXPECT_LE(std::fabs(s.norm_a - r.norm_a), tol * m_aa) << s.norm_a << " vs " << r.norm_a;
            EXPECT_LE(std::fabs(s.norm_b - r.norm_b), tol * m_bb) << s.norm_b << " vs " << r.norm_b;
        }
    }
}

TEST_P(SimdTable, FloatKernelsAreExactOnSmallIntegers) {
    // Exactness makes every element count: a skipped, repeated or misplaced element changes the result.
    // Offsets 1..3 make the inputs unaligned.
    for (size_t n : kDims) {
        for (size_t offset : {0, 1, 3}) {
            std::vector<float> a = small_integers(n + offset, 7);
            std::vector<float> b = small_integers(n + offset, 8);
            FloatResults s = run_float(simd(), a.data() + offset, b.data() + offset, n);
            FloatResults r = run_float(ref(), a.data() + offset, b.data() + offset, n);
            SCOPED_TRACE("n=" + std::to_string(n) + " offset=" + std::to_string(offset));
            EXPECT_EQ(s.l2, r.l2);
            EXPECT_EQ(s.ip, r.ip);
            EXPECT_EQ(s.l1, r.l1);
            EXPECT_EQ(s.dot, r.dot);
            EXPECT_EQ(s.norm_a, r.norm_a);
            EXPECT_EQ(s.norm_b, r.norm_b);
        }
    }
}

TEST_P(SimdTable, FloatKernelsSeeEveryPositionOnce) {
    // A single 1 at position p (b = 0): every kernel must report exactly 1.
    for (size_t n : {1, 7, 17, 33, 100}) {
        std::vector<float> zero(n, 0.0f);
        for (size_t p = 0; p < n; ++p) {
            std::vector<float> a(n, 0.0f);
            a[p] = 1.0f;
            FloatResults s = run_float(simd(), a.data(), zero.data(), n);
            SCOPED_TRACE("n=" + std::to_string(n) + " p=" + std::to_string(p));
            EXPECT_EQ(s.l2, 1.0f);
            EXPECT_EQ(s.l1, 1.0f);
            EXPECT_EQ(s.norm_a, 1.0f);
            EXPECT_EQ(s.ip, 0.0f);
            EXPECT_EQ(s.norm_b, 0.0f);
        }
    }
}

TEST_P(SimdTable, FloatKernelsPropagateNaNAndInfinity) {
    const size_t n = 37;
    std::vector<float> a = small_integers(n, 3), b = small_integers(n, 4);
    a[n - 1] = NAN;  // in the tail of every vector width
    FloatResults s = run_float(simd(), a.data(), b.data(), n);
    EXPECT_TRUE(std::isnan(s.l2));
    EXPECT_TRUE(std::isnan(s.ip));
    EXPECT_TRUE(std::isnan(s.l1));
    a[n - 1] = INFINITY;
    b[n - 1] = 1.0f;
    s = run_float(simd(), a.data(), b.data(), n);
    EXPECT_EQ(s.l2, INFINITY);
    EXPECT_EQ(s.ip, INFINITY);
    EXPECT_EQ(s.l1, INFINITY);
}

// Memory whose end is followed by an inaccessible page: a kernel reading one byte past its input dies.
class GuardedBuffer {
  public:
    explicit GuardedBuffer(size_t bytes) {
        page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
        usable_ = (bytes + page_ - 1) / page_ * page_;
        void* p = mmap(nullptr, usable_ + page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) std::abort();
        base_ = static_cast<uint8_t*>(p);
        if (mprotect(base_ + usable_, page_, PROT_NONE) != 0) std::abort();
    }
    ~GuardedBuffer() { munmap(base_, usable_ + page_); }
    GuardedBuffer(const GuardedBuffer&) = delete;
    GuardedBuffer& operator=(const GuardedBuffer&) = delete;
    // A copy of `bytes` bytes of src that ends exactly at the guard page.
    template <class T>
    T* tail_copy(const T* src, size_t count) {
        uint8_t* dst = base_ + usable_ - count * sizeof(T);
        std::memcpy(dst, src, count * sizeof(T));
        return reinterpret_cast<T*>(dst);
    }

  private:
    size_t page_ = 0, usable_ = 0;
    uint8_t* base_ = nullptr;
};

TEST_P(SimdTable, FloatKernelsReadNothingPastTheEnd) {
    for (size_t n = 1; n <= 70; ++n) {
        std::vector<float> a = small_integers(n, 11), b = small_integers(n, 12);
        GuardedBuffer ga(n * sizeof(float)), gb(n * sizeof(float));
        FloatResults s = run_float(simd(), ga.tail_copy(a.data(), n), gb.tail_copy(b.data(), n), n);
        FloatResults r = run_float(ref(), a.data(), b.data(), n);
        EXPECT_EQ(s.l2, r.l2) << "n=" << n;
        EXPECT_EQ(s.dot, r.dot) << "n=" << n;
    }
}

// ---- bit kernels -------------------------------------------------------------------------------------

const size_t kCodeWords[] = {1, 2, 3, 4, 6, 8, 12, 16, 24, 33, 40};

std::vector<uint64_t> random_words(size_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<uint64_t> v(n);
    for (uint64_t& w : v) w = rng();
    return v;
}

// A code store of n codes at `stride` bytes: random bytes throughout, so the padding between codes is
// noise that a kernel must ignore.
std::vector<uint8_t> code_store(size_t n, size_t stride, uint64_t seed) {
    std::vector<uint64_t> noise = random_words((n * stride + 7) / 8 + 1, seed);
    std::vector<uint8_t> store(n * stride);
    if (!store.empty()) std::memcpy(store.data(), noise.data(), store.size());
    return store;
}

TEST(BitKernelsReference, BitplaneDotIsTheDotWithTheQuantizedQuery) {
    // Build planes from explicit query values and compare with sum_i code_bit_i * q_i.
    std::mt19937 rng(5);
    for (size_t words : {1, 2, 3}) {
        for (unsigned bits : {1u, 2u, 4u, 8u}) {
            const size_t dims = words * 64;
            std::vector<uint32_t> q(dims);
            std::vector<uint64_t> planes(bits * words, 0);
            for (size_t i = 0; i < dims; ++i) {
                q[i] = rng() & ((1u << bits) - 1);
                for (unsigned j = 0; j < bits; ++j)
                    if (q[i] >> j & 1) planes[j * words + i / 64] |= uint64_t{1} << (i % 64);
            }
            std::vector<uint64_t> code = random_words(words, words * 10 + bits);
            uint32_t expected = 0;
            for (size_t i = 0; i < dims; ++i)
                if (code[i / 64] >> (i % 64) & 1) expected += q[i];
            EXPECT_EQ(scalar::kernels().bits.bitplane_dot(code.data(), planes.data(), words, bits), expected)
                << "words=" << words << " bits=" << bits;
        }
    }
}

TEST_P(SimdTable, BitplaneDotMatchesScalarExactly) {
    for (size_t words : kCodeWords) {
        for (unsigned bits = 0; bits <= 8; ++bits) {
            std::vector<uint64_t> planes = random_words(bits * words, 1000 + words * 16 + bits);
            for (uint64_t seed = 0; seed < 4; ++seed) {
                std::vector<uint64_t> code = random_words(words, seed * 77 + words);
                EXPECT_EQ(simd().bits.bitplane_dot(code.data(), planes.data(), words, bits),
                          ref().bits.bitplane_dot(code.data(), planes.data(), words, bits))
                    << "words=" << words << " bits=" << bits;
            }
        }
    }
    // More planes than any fast path handles.
    std::vector<uint64_t> planes = random_words(12 * 5, 3), code = random_words(5, 4);
    EXPECT_EQ(simd().bits.bitplane_dot(code.data(), planes.data(), 5, 12),
              ref().bits.bitplane_dot(code.data(), planes.data(), 5, 12));
}

TEST_P(SimdTable, BitplaneDotBatchMatchesScalarExactly) {
    const size_t counts[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 100};
    for (size_t words : kCodeWords) {
        for (size_t stride : {words * 8, words * 8 + 8, words * 8 + 24, words * 16}) {
            for (unsigned bits : {1u, 2u, 3u, 4u, 5u, 6u, 7u, 8u}) {
                std::vector<uint64_t> planes = random_words(bits * words, 31 * words + bits);
                for (size_t n : counts) {
                    std::vector<uint8_t> store = code_store(n, stride, n * 1009 + words);
                    // One extra slot holds a sentinel that must survive.
                    std::vector<uint32_t> got(n + 1, 0xDEADBEEF), want(n + 1, 0xDEADBEEF);
                    simd().bits.bitplane_dot_batch(store.data(), stride, n, planes.data(), words, bits, got.data());
                    ref().bits.bitplane_dot_batch(store.data(), stride, n, planes.data(), words, bits, want.data());
                    ASSERT_EQ(got, want) << "words=" << words << " stride=" << stride << " bits=" << bits
                                         << " n=" << n;
                }
            }
        }
    }
}

TEST_P(SimdTable, BitplaneDotBatchHandlesUnusualPlaneCounts) {
    // bits = 0 yields zeros; bits > 8 leaves the unrolled paths.
    for (size_t words : {2, 5, 16}) {
        for (unsigned bits : {0u, 9u, 12u}) {
            const size_t n = 19, stride = words * 8 + 8;
            std::vector<uint64_t> planes = random_words(bits * words + 1, bits);
            std::vector<uint8_t> store = code_store(n, stride, 99);
            std::vector<uint32_t> got(n, 1), want(n, 2);
            simd().bits.bitplane_dot_batch(store.data(), stride, n, planes.data(), words, bits, got.data());
            ref().bits.bitplane_dot_batch(store.data(), stride, n, planes.data(), words, bits, want.data());
            EXPECT_EQ(got, want) << "words=" << words << " bits=" << bits;
        }
    }
}

TEST_P(SimdTable, BitplaneDotReachesItsMaximumWithoutOverflow) {
    // All ones: sum_j 2^j * 64 * words = 64 * words * (2^bits - 1), the largest value per byte/lane.
    for (size_t words : {2, 8, 24}) {
        for (unsigned bits : {1u, 4u, 5u, 6u, 8u}) {
            std::vector<uint64_t> planes(bits * words, ~uint64_t{0});
            const size_t n = 9;
            std::vector<uint64_t> codes(n * words, ~uint64_t{0});
            const uint32_t expected = static_cast<uint32_t>(64 * words * ((1u << bits) - 1));
            EXPECT_EQ(simd().bits.bitplane_dot(codes.data(), planes.data(), words, bits), expected);
            std::vector<uint32_t> out(n);
            simd().bits.bitplane_dot_batch(reinterpret_cast<const uint8_t*>(codes.data()), words * 8, n, planes.data(),
                                           words, bits, out.data());
            EXPECT_EQ(out, std::vector<uint32_t>(n, expected)) << "words=" << words << " bits=" << bits;
        }
    }
}

TEST_P(SimdTable, BitKernelsReadNothingPastTheEnd) {
    for (size_t words : {1, 2, 3, 5, 9, 16}) {
        for (unsigned bits : {1u, 4u}) {
            const size_t n = 13, stride = words * 8;
            std::vector<uint64_t> planes = random_words(bits * words, 8);
            std::vector<uint64_t> codes = random_words(n * words, 9);
            GuardedBuffer gp(planes.size() * 8), gc(codes.size() * 8), gw(words * 8);
            const uint64_t* p = gp.tail_copy(planes.data(), planes.size());
            const uint64_t* c = gc.tail_copy(codes.data(), codes.size());
            std::vector<uint32_t> got(n), want(n);
            simd().bits.bitplane_dot_batch(reinterpret_cast<const uint8_t*>(c), stride, n, p, words, bits, got.data());
            ref().bits.bitplane_dot_batch(reinterpret_cast<const uint8_t*>(codes.data()), stride, n, planes.data(),
                                          words, bits, want.data());
            EXPECT_EQ(got, want) << "words=" << words << " bits=" << bits;
            const uint64_t* last = gw.tail_copy(codes.data(), words);
            EXPECT_EQ(simd().bits.bitplane_dot(last, p, words, bits),
                      ref().bits.bitplane_dot(codes.data(), planes.data(), words, bits));
            EXPECT_EQ(simd().bits.popcount(last, words), ref().bits.popcount(codes.data(), words));
        }
    }
}

TEST_P(SimdTable, PopcountMatchesScalarExactly) {
    std::vector<uint64_t> words = random_words(1000, 42);
    for (size_t n = 0; n <= 70; ++n)
        EXPECT_EQ(simd().bits.popcount(words.data(), n), ref().bits.popcount(words.data(), n)) << "n=" << n;
    EXPECT_EQ(simd().bits.popcount(words.data(), 1000), ref().bits.popcount(words.data(), 1000));
    std::vector<uint64_t> ones(37, ~uint64_t{0});
    EXPECT_EQ(simd().bits.popcount(ones.data(), ones.size()), 37u * 64u);
}

// ---- dispatch ----------------------------------------------------------------------------------------

TEST(KernelDispatch, ScalarIsAlwaysAvailable) {
    const Kernels* k = kernels_for(Isa::Scalar);
    ASSERT_NE(k, nullptr);
    EXPECT_EQ(k, &scalar::kernels());
    EXPECT_EQ(k->isa, Isa::Scalar);
    EXPECT_STREQ(k->name, "scalar");
}

TEST(KernelDispatch, TablesAreOfferedExactlyWhenSupportedAndAllowed) {
    for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
        const Kernels* k = kernels_for(isa);
        const bool expected = isa_runs_on(isa, cpu_features()) && isa <= isa_ceiling();
        EXPECT_EQ(k != nullptr, expected) << isa_name(isa);
        if (k != nullptr) {
            EXPECT_EQ(k->isa, isa);
            EXPECT_STREQ(k->name, isa_name(isa));
        }
    }
    EXPECT_EQ(kernels_for(static_cast<Isa>(7)), nullptr);
}

TEST(KernelDispatch, ActiveTableIsTheBestAvailable) {
    const Kernels* best = nullptr;
    for (Isa isa : {Isa::Avx512, Isa::Avx2, Isa::Scalar})
        if ((best = kernels_for(isa)) != nullptr) break;
    ASSERT_NE(best, nullptr);
    EXPECT_EQ(&active_kernels(), best);
    std::printf("[ INFO     ] active kernels: %s (RULAKE_FORCE_ISA ceiling: %s)\n", active_kernels().name,
                isa_name(isa_ceiling()));
}

TEST(KernelDispatch, RequirementsOfEachTable) {
    CpuFeatures all;
    all.popcnt = all.bmi2 = all.fma = all.avx2 = true;
    all.avx512f = all.avx512bw = all.avx512vl = all.avx512dq = all.avx512vpopcntdq = true;
    EXPECT_TRUE(isa_runs_on(Isa::Avx512, all));
    EXPECT_TRUE(isa_runs_on(Isa::Avx2, all));
    EXPECT_TRUE(isa_runs_on(Isa::Scalar, CpuFeatures{}));
    EXPECT_FALSE(isa_runs_on(Isa::Avx2, CpuFeatures{}));
    EXPECT_FALSE(isa_runs_on(Isa::Avx512, CpuFeatures{}));
    // Each AVX-512 requirement alone disables only the AVX-512 table.
    for (bool CpuFeatures::*flag : {&CpuFeatures::avx512f, &CpuFeatures::avx512bw, &CpuFeatures::avx512vl,
                                    &CpuFeatures::avx512dq, &CpuFeatures::avx512vpopcntdq}) {
        CpuFeatures f = all;
        f.*flag = false;
        EXPECT_FALSE(isa_runs_on(Isa::Avx512, f));
        EXPECT_TRUE(isa_runs_on(Isa::Avx2, f));
    }
    // Each AVX2-table requirement disables both SIMD tables.
    for (bool CpuFeatures::*flag : {&CpuFeatures::avx2, &CpuFeatures::fma, &CpuFeatures::popcnt, &CpuFeatures::bmi2}) {
        CpuFeatures f = all;
        f.*flag = false;
        EXPECT_FALSE(isa_runs_on(Isa::Avx2, f));
        EXPECT_FALSE(isa_runs_on(Isa::Avx512, f));
    }
}

TEST(KernelDispatch, DetectionAgreesWithTheCompilerRuntime) {
    // libgcc's __builtin_cpu_supports also requires OS support (XCR0) for AVX and AVX-512 features.
    const CpuFeatures& f = cpu_features();
    EXPECT_EQ(f.popcnt, __builtin_cpu_supports("popcnt") != 0);
    EXPECT_EQ(f.bmi2, __builtin_cpu_supports("bmi2") != 0);
    EXPECT_EQ(f.fma, __builtin_cpu_supports("fma") != 0);
    EXPECT_EQ(f.avx2, __builtin_cpu_supports("avx2") != 0);
    EXPECT_EQ(f.avx512f, __builtin_cpu_supports("avx512f") != 0);
    EXPECT_EQ(f.avx512bw, __builtin_cpu_supports("avx512bw") != 0);
    EXPECT_EQ(f.avx512vl, __builtin_cpu_supports("avx512vl") != 0);
    EXPECT_EQ(f.avx512dq, __builtin_cpu_supports("avx512dq") != 0);
    EXPECT_EQ(f.avx512vpopcntdq, __builtin_cpu_supports("avx512vpopcntdq") != 0);
}

TEST(KernelDispatch, IsaNamesRoundTrip) {
    for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) EXPECT_EQ(parse_isa_name(isa_name(isa)), isa);
    EXPECT_EQ(parse_isa_name("AVX2"), std::nullopt);
    EXPECT_EQ(parse_isa_name("sse2"), std::nullopt);
    EXPECT_EQ(parse_isa_name(""), std::nullopt);
}

TEST(KernelDispatch, CeilingFromTheEnvironmentValue) {
    bool valid = false;
    EXPECT_EQ(isa_ceiling_from(nullptr, &valid), Isa::Avx512);
    EXPECT_TRUE(valid);
    EXPECT_EQ(isa_ceiling_from("", &valid), Isa::Avx512);
    EXPECT_TRUE(valid);
    EXPECT_EQ(isa_ceiling_from("scalar", &valid), Isa::Scalar);
    EXPECT_TRUE(valid);
    EXPECT_EQ(isa_ceiling_from("avx2", &valid), Isa::Avx2);
    EXPECT_TRUE(valid);
    EXPECT_EQ(isa_ceiling_from("avx512", &valid), Isa::Avx512);
    EXPECT_TRUE(valid);
    EXPECT_EQ(isa_ceiling_from("avx-512", &valid), Isa::Scalar);
    EXPECT_FALSE(valid);
}

// The best ISA this machine supports, ignoring RULAKE_FORCE_ISA.
Isa best_supported() {
    for (Isa isa : {Isa::Avx512, Isa::Avx2})
        if (isa_runs_on(isa, cpu_features())) return isa;
    return Isa::Scalar;
}

// Runs active_kernels() in a fresh process with RULAKE_FORCE_ISA=value; its exit code is the ISA chosen.
// ("threadsafe" death tests re-execute the binary, so the variable is read anew.)
void expect_forced(const char* value, Isa expected, const char* stderr_pattern) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            setenv("RULAKE_FORCE_ISA", value, 1);
            const Kernels& k = active_kernels();
            const bool consistent = kernels_for(k.isa) == &k && kernels_for(Isa::Scalar) != nullptr;
            std::exit(consistent ? static_cast<int>(k.isa) : 100);
        },
        testing::ExitedWithCode(static_cast<int>(expected)), stderr_pattern)
        << "RULAKE_FORCE_ISA=" << value;
}

TEST(KernelDispatchDeathTest, ForceIsaCapsTheActiveTable) {
    const Isa best = best_supported();
    expect_forced("scalar", Isa::Scalar, "");
    expect_forced("avx2", best < Isa::Avx2 ? best : Isa::Avx2, "");
    expect_forced("avx512", best, "");
    expect_forced("sse9", Isa::Scalar, "RULAKE_FORCE_ISA=\"sse9\" is not one of scalar, avx2, avx512");
}

}  // namespace
}  // namespace rulake::core
