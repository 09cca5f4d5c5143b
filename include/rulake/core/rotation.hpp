// Random orthogonal rotations regenerated from a seed ("seed-based pages": the matrix is never stored).
#pragma once

#include <cstdint>
#include <memory>

namespace rulake::core {

enum class RotationKind : uint8_t { Hadamard = 1, Haar = 2 };

constexpr uint32_t kMaxRotationDim = 16000;
// A Haar rotation stores a dense output_dim x input_dim matrix and costs O(D^3) to create.
constexpr uint32_t kMaxHaarDim = 2048;

// An orthogonal transform P^-1 from input_dim() dimensions (zero-padded) to output_dim() dimensions.
// create() with the same (kind, dim, seed) yields bit-identical transforms on every run and machine of
// the same build (own PRNG, no std:: distributions). apply() is const and thread-safe.
class Rotation {
  public:
    virtual ~Rotation() = default;
    // Throws core::Error(InvalidArgument) for dim == 0 or dim > 16000 or an unknown kind, and
    // core::Error(Limit) for a Haar rotation of more than kMaxHaarDim dimensions.
    // output_dim() is dim rounded up to a multiple of 64 for both kinds.
    // Cost: Hadamard O(D) to create, O(D log D) per apply; Haar O(D^3) to create (cache it), O(D^2) per apply.
    static std::unique_ptr<Rotation> create(RotationKind kind, uint32_t dim, uint64_t seed);

    RotationKind kind() const { return kind_; }
    uint32_t input_dim() const { return input_dim_; }
    // Code length in bits: >= input_dim, a multiple of 64.
    uint32_t output_dim() const { return output_dim_; }
    uint64_t seed() const { return seed_; }
    // out[0 .. output_dim) = P^-1 applied to in[0 .. input_dim) zero-padded. in and out must not overlap.
    virtual void apply(const float* in, float* out) const = 0;

  protected:
    Rotation(RotationKind kind, uint32_t input_dim, uint32_t output_dim, uint64_t seed)
        : kind_(kind), input_dim_(input_dim), output_dim_(output_dim), seed_(seed) {}

  private:
    RotationKind kind_;
    uint32_t input_dim_, output_dim_;
    uint64_t seed_;
};

}  // namespace rulake::core

#ifdef POSTGRES_H
#error "core headers are pure C++: include them before postgres.h"
#endif
