// Runtime selection of the kernel table (see include/rulake/core/kernels.hpp).
#include "rulake/core/kernels.hpp"

#include <initializer_list>

namespace rulake::core {

const Kernels* kernels_for(Isa isa) {
    switch (isa) {
        case Isa::Scalar: return &scalar::kernels();
        default: return nullptr;  // SIMD tables are registered by the per-ISA files
    }
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
