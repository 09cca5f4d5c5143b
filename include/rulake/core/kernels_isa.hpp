// Entry points of the per-ISA kernel files. Only the dispatcher (kernels_dispatch.cpp), the unit tests
// and the microbenchmarks include this: everything else goes through active_kernels()/kernels_for(),
// which check the CPU first. Calling an ISA entry point is safe on any CPU (it only returns a pointer
// to a constant table), but calling a function of the table on a CPU without that ISA dies with SIGILL.
#pragma once

#include "rulake/core/kernels.hpp"

namespace rulake::core {

namespace avx2 {
// The AVX2 table (AVX2 + FMA + POPCNT + BMI2), from src/core/kernels_avx2.cpp.
const Kernels* kernels();
// The bit kernels of the AVX2 file built on the other popcount strategy than the table's (the table
// uses the faster one measured by bench/kernels/kernel_bench.cpp); kept for the benchmark and tested.
const BitKernels* alternative_bit_kernels();
}  // namespace avx2

namespace avx512 {
// The AVX-512 table (F, BW, VL, DQ, VPOPCNTDQ), from src/core/kernels_avx512.cpp.
const Kernels* kernels();
}  // namespace avx512

}  // namespace rulake::core

#ifdef POSTGRES_H
#error "core headers are pure C++: include them before postgres.h"
#endif
