// Rotation::create(): argument checks and dispatch to the concrete rotations.
#include "rulake/core/rotation.hpp"

#include <string>

#include "rotation_variants.hpp"
#include "rulake/core/error.hpp"

namespace rulake::core {

std::unique_ptr<Rotation> Rotation::create(RotationKind kind, uint32_t dim, uint64_t seed) {
    if (dim == 0 || dim > kMaxRotationDim)
        throw Error(ErrorKind::InvalidArgument, "rotation dimensions must be between 1 and " +
                                                    std::to_string(kMaxRotationDim) + ", got " + std::to_string(dim));
    const uint32_t output_dim = (dim + 63u) / 64u * 64u;
    switch (kind) {
        case RotationKind::Hadamard: return detail::make_hadamard_rotation(dim, output_dim, seed);
        case RotationKind::Haar:
            if (output_dim > kMaxHaarDim)
                throw Error(ErrorKind::Limit, "a Haar rotation supports at most " + std::to_string(kMaxHaarDim) +
                                                  " dimensions, got " + std::to_string(dim),
                            "Use the Hadamard rotation for high-dimensional vectors.");
            return detail::make_haar_rotation(dim, output_dim, seed);
    }
    throw Error(ErrorKind::InvalidArgument, "unknown rotation kind " + std::to_string(static_cast<int>(kind)));
}

}  // namespace rulake::core
