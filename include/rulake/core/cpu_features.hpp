// What the running CPU and operating system let us execute, and the ISA ceiling set by the environment.
//
// The kernel dispatcher (src/core/kernels_dispatch.cpp) uses this to decide which per-ISA kernel table
// may run. A feature counts only when the CPU reports it (cpuid) AND the operating system saves the
// register state it needs (xgetbv: XMM+YMM for AVX, plus opmask and both ZMM halves for AVX-512); a
// hypervisor or kernel that disables AVX-512 state therefore disables the AVX-512 table.
#pragma once

#include <optional>
#include <string_view>

#include "rulake/core/kernels.hpp"

namespace rulake::core {

struct CpuFeatures {
    bool popcnt = false;
    bool bmi2 = false;
    bool fma = false;
    bool avx2 = false;  // includes OS support for the YMM state
    bool avx512f = false;  // includes OS support for the opmask and ZMM state (also for the rest below)
    bool avx512bw = false;
    bool avx512vl = false;
    bool avx512dq = false;
    bool avx512vpopcntdq = false;
};

// Executes cpuid/xgetbv now (no caching). All false on non-x86 builds.
CpuFeatures detect_cpu_features();
// detect_cpu_features() of this process, computed once (thread-safe).
const CpuFeatures& cpu_features();

// Whether a CPU with `features` may run the table for `isa`. Scalar: always. Avx2: AVX2, FMA, POPCNT,
// BMI2 (the flags kernels_avx2.cpp is compiled with). Avx512: the AVX2 set plus AVX-512 F, BW, VL, DQ
// and VPOPCNTDQ.
bool isa_runs_on(Isa isa, const CpuFeatures& features);

// "scalar", "avx2", "avx512" (the same strings as Kernels::name).
const char* isa_name(Isa isa);
// Inverse of isa_name (exact, lower case); nullopt for anything else.
std::optional<Isa> parse_isa_name(std::string_view name);

// The highest ISA the process may use, from the environment variable RULAKE_FORCE_ISA
// (scalar|avx2|avx512), read once on first use. Unset or empty: Isa::Avx512 (no limit). Any other value
// is reported once on stderr and treated as "scalar", so a typo can only make the process slower,
// never run code the user meant to exclude.
Isa isa_ceiling();
// The ceiling a given value of RULAKE_FORCE_ISA yields (nullptr = unset), and whether it was valid.
Isa isa_ceiling_from(const char* value, bool* valid);

}  // namespace rulake::core

#ifdef POSTGRES_H
#error "core headers are pure C++: include them before postgres.h"
#endif
