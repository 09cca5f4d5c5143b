// Runtime selection of the kernel table (see include/rulake/core/kernels.hpp).
// Compiled for the baseline ISA: it must run on every x86-64 CPU, and it calls into an ISA table only
// after cpu_features() says the CPU and OS support it.
#include "rulake/core/kernels.hpp"

#include <initializer_list>

#include "rulake/core/cpu_features.hpp"
#include "rulake/core/kernels_isa.hpp"

namespace rulake::core {

const Kernels* kernels_for(Isa isa) {
    if (isa > isa_ceiling() || !isa_runs_on(isa, cpu_features())) return nullptr;
    switch (isa) {
        case Isa::Scalar: return &scalar::kernels();
        case Isa::Avx2: return avx2::kernels();
        case Isa::Avx512: return avx512::kernels();
    }
    return nullptr;
}

const Kernels& active_kernels() {
    static const Kernels* best = [] {
        for (Isa isa : {Isa::Avx512, Isa::Avx2})
            if (const Kernels* k = kernels_for(isa)) return k;
        return &scalar::kernels();
    }();
    return *best;
}

}  // namespace rulake::core
