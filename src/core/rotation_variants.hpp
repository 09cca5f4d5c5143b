// Internal to the core: constructors of the concrete rotations behind Rotation::create().
#pragma once

#include <cstdint>
#include <memory>

#include "rulake/core/rotation.hpp"

namespace rulake::core::detail {

// Randomized Hadamard rotation (sign flips + normalised fast Walsh-Hadamard transforms). dim validated.
std::unique_ptr<Rotation> make_hadamard_rotation(uint32_t dim, uint32_t output_dim, uint64_t seed);
// Dense Haar-random orthogonal matrix from the QR factorisation of a Gaussian matrix. dim validated.
std::unique_ptr<Rotation> make_haar_rotation(uint32_t dim, uint32_t output_dim, uint64_t seed);

}  // namespace rulake::core::detail
