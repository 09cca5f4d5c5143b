// CPU feature detection through cpuid and xgetbv (see include/rulake/core/cpu_features.hpp).
// Compiled for the baseline ISA: it must run on every x86-64 CPU.
#include "rulake/core/cpu_features.hpp"

#include <cstdio>
#include <cstdlib>
#include <initializer_list>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define RULAKE_X86 1
#endif

namespace rulake::core {
namespace {

#ifdef RULAKE_X86
// Bits of cpuid leaf 1 ECX.
constexpr unsigned kLeaf1EcxFma = 1u << 12;
constexpr unsigned kLeaf1EcxPopcnt = 1u << 23;
constexpr unsigned kLeaf1EcxOsxsave = 1u << 27;
constexpr unsigned kLeaf1EcxAvx = 1u << 28;
// Bits of cpuid leaf 7 subleaf 0 EBX / ECX.
constexpr unsigned kLeaf7EbxAvx2 = 1u << 5;
constexpr unsigned kLeaf7EbxBmi2 = 1u << 8;
constexpr unsigned kLeaf7EbxAvx512f = 1u << 16;
constexpr unsigned kLeaf7EbxAvx512dq = 1u << 17;
constexpr unsigned kLeaf7EbxAvx512bw = 1u << 30;
constexpr unsigned kLeaf7EbxAvx512vl = 1u << 31;
constexpr unsigned kLeaf7EcxAvx512Vpopcntdq = 1u << 14;
// XCR0 state components the OS must save: SSE (bit 1) and AVX (bit 2) for YMM; opmask (5), ZMM_Hi256 (6)
// and Hi16_ZMM (7) in addition for AVX-512.
constexpr unsigned long long kXcr0Ymm = 0x6;
constexpr unsigned long long kXcr0Zmm = 0xE6;

// XCR0 via xgetbv; only valid to execute when cpuid reports OSXSAVE. Inline asm instead of _xgetbv so
// that this file needs no -mxsave.
unsigned long long read_xcr0() {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (static_cast<unsigned long long>(hi) << 32) | lo;
}
#endif

bool all_of(std::initializer_list<bool> flags) {
    for (bool f : flags)
        if (!f) return false;
    return true;
}

}  // namespace

CpuFeatures detect_cpu_features() {
    CpuFeatures f;
#ifdef RULAKE_X86
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
    const unsigned leaf1_ecx = ecx;
    f.popcnt = (leaf1_ecx & kLeaf1EcxPopcnt) != 0;

    unsigned long long xcr0 = (leaf1_ecx & kLeaf1EcxOsxsave) ? read_xcr0() : 0;
    const bool os_ymm = (leaf1_ecx & kLeaf1EcxAvx) && (xcr0 & kXcr0Ymm) == kXcr0Ymm;
    const bool os_zmm = os_ymm && (xcr0 & kXcr0Zmm) == kXcr0Zmm;
    // FMA uses the VEX encoding and YMM state: only usable with OS AVX support.
    f.fma = os_ymm && (leaf1_ecx & kLeaf1EcxFma);

    if (__get_cpuid_max(0, nullptr) < 7) return f;
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    f.bmi2 = (ebx & kLeaf7EbxBmi2) != 0;
    f.avx2 = os_ymm && (ebx & kLeaf7EbxAvx2);
    f.avx512f = os_zmm && (ebx & kLeaf7EbxAvx512f);
    f.avx512dq = f.avx512f && (ebx & kLeaf7EbxAvx512dq);
    f.avx512bw = f.avx512f && (ebx & kLeaf7EbxAvx512bw);
    f.avx512vl = f.avx512f && (ebx & kLeaf7EbxAvx512vl);
    f.avx512vpopcntdq = f.avx512f && (ecx & kLeaf7EcxAvx512Vpopcntdq);
#endif
    return f;
}

const CpuFeatures& cpu_features() {
    static const CpuFeatures features = detect_cpu_features();
    return features;
}

bool isa_runs_on(Isa isa, const CpuFeatures& f) {
    const bool avx2_set = all_of({f.avx2, f.fma, f.popcnt, f.bmi2});
    switch (isa) {
        case Isa::Scalar: return true;
        case Isa::Avx2: return avx2_set;
        case Isa::Avx512:
            return avx2_set && all_of({f.avx512f, f.avx512bw, f.avx512vl, f.avx512dq, f.avx512vpopcntdq});
    }
    return false;
}

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::Scalar: return "scalar";
        case Isa::Avx2: return "avx2";
        case Isa::Avx512: return "avx512";
    }
    return "unknown";
}

std::optional<Isa> parse_isa_name(std::string_view name) {
    for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512})
        if (name == isa_name(isa)) return isa;
    return std::nullopt;
}

Isa isa_ceiling_from(const char* value, bool* valid) {
    *valid = true;
    if (value == nullptr || *value == '\0') return Isa::Avx512;
    if (std::optional<Isa> isa = parse_isa_name(value)) return *isa;
    *valid = false;
    return Isa::Scalar;
}

Isa isa_ceiling() {
    static const Isa ceiling = [] {
        const char* value = std::getenv("RULAKE_FORCE_ISA");
        bool valid;
        Isa isa = isa_ceiling_from(value, &valid);
        if (!valid)
            std::fprintf(stderr,
                         "rulake: RULAKE_FORCE_ISA=\"%s\" is not one of scalar, avx2, avx512; using scalar kernels\n",
                         value);
        return isa;
    }();
    return ceiling;
}

}  // namespace rulake::core
