// RaBitQ: 1-bit codes of rotated residuals, the unbiased inner-product estimator and its error bound
// (see shared design notes RABITQ.md). All estimates are in order-key units (rulake/core/metric.hpp):
// L2 squared distance, negative inner product, cosine distance.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "rulake/core/metric.hpp"
#include "rulake/core/rotation.hpp"

namespace rulake::core {

// Per-vector correction factors stored next to the code (16 bytes, plain data, written to pages as is).
struct RabitqFactors {
    float residual_norm;         // |o_r - c|
    float quantized_dot;         // <o_bar, o> in (0, 1]; 1 for a zero residual
    float residual_dot_centroid; // <o_r - c, c>, used by inner product and cosine
    uint32_t bit_count;          // number of set bits in the code
};
static_assert(sizeof(RabitqFactors) == 16, "RabitqFactors is stored on disk");

// Encodes vectors against a list centroid. Thread-safe (const); scratch space is per call.
class RabitqEncoder {
  public:
    RabitqEncoder(const Rotation& rotation, Metric metric);
    uint32_t dim() const;         // input dimensions
    size_t code_words() const;    // 64-bit words per code: rotation.output_dim() / 64
    // Writes code_words() words to code and returns the factors. For Cosine the caller passes
    // unit-normalised vectors; the centroid may have any norm (train_kmeans returns means of unit rows).
    // Never fails for finite input.
    RabitqFactors encode(const float* vector, const float* centroid, uint64_t* code) const;

  private:
    const Rotation& rotation_;
    Metric metric_;
};

// One order-key estimate and its lower bound. The bound is key - epsilon * (the estimator's standard
// deviation at <o,q> = 0, plus the query-quantization spread), in key units, so epsilon counts standard
// deviations (as in the RaBitQ paper). Measured on w2v-100 and SIFT (flat index, 4 query bits): at
// epsilon 1.9 the exact key is >= lower_bound for 98.6-99.0% of all pairs and >= 99.2% of each
// query's 30 nearest rows (the ones rerank depends on); at epsilon 2.5, >= 99.8% of all pairs.
struct RabitqEstimate {
    float key;
    float lower_bound;
};

// A query prepared for scanning: rotated once in the constructor, then quantized per probed list.
// Not thread-safe (holds per-list state); cheap to construct per scan.
class RabitqQuery {
  public:
    // query: input_dim floats (unit-normalised by the caller for Cosine). query_bits in 1..8 (4 default);
    // other values throw core::Error(InvalidArgument). The query is quantized with deterministic
    // (round-to-nearest) rounding, so estimates never depend on scan order.
    RabitqQuery(const Rotation& rotation, Metric metric, const float* query, unsigned query_bits = 4);

    // Order key between the raw query and a centroid: used to rank lists for probing.
    double centroid_key(const float* centroid) const;

    // Prepares the per-list state: centroid is raw (input_dim floats), centroid_rotated is its rotation
    // (output_dim floats, precomputed at build time). Must be called before estimate()/estimate_batch().
    void set_list(const float* centroid, const float* centroid_rotated);

    // Estimates for one code of the current list. epsilon scales the error bound (0 gives lower_bound == key).
    RabitqEstimate estimate(const uint64_t* code, const RabitqFactors& factors, float epsilon) const;
    // Estimates for n codes at base + i*stride (code first, then factors at factors_offset inside the stride).
    void estimate_batch(const uint8_t* base, size_t stride_bytes, size_t factors_offset, size_t n, float epsilon,
                        RabitqEstimate* out) const;

  private:
    // The estimate and bound for one code given its bit-plane dot product <x_b, q_u>.
    RabitqEstimate finish(uint32_t bitplane_dot, const RabitqFactors& factors, float epsilon) const;

    const Rotation& rotation_;
    Metric metric_;
    unsigned query_bits_;
    std::vector<float> query_raw_, query_rotated_, residual_rotated_;
    std::vector<uint32_t> quantized_;
    std::vector<uint64_t> planes_;  // query_bits_ planes of output_dim / 64 words
    // Per-list constants, set by set_list(). <x_bar, q_bar> = dot_scale_ * <x_b, q_u> + bits_scale_ * bit_count
    // + dot_offset_; the error of <o, q> is at most epsilon * (bound_rotation_ * sqrt(1 - d^2) + bound_quantization_) / d
    // with d = <o_bar, o>.
    float list_query_norm_ = 0, list_query_dot_centroid_ = 0;
    float dot_scale_ = 0, bits_scale_ = 0, dot_offset_ = 0;
    float bound_rotation_ = 0, bound_quantization_ = 0;
};

}  // namespace rulake::core

#ifdef POSTGRES_H
#error "core headers are pure C++: include them before postgres.h"
#endif
