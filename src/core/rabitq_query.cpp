// RaBitQ query side: per-list query quantization, bit-plane inner products, the unbiased estimator of
// <o, q> and its error bound, mapped to order keys (RABITQ.md, "Query time").
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "rulake/core/error.hpp"
#include "rulake/core/kernels.hpp"
#include "rulake/core/rabitq.hpp"

namespace rulake::core {

RabitqQuery::RabitqQuery(const Rotation& rotation, Metric metric, const float* query, unsigned query_bits)
    : rotation_(rotation), metric_(metric), query_bits_(query_bits) {
    if (query_bits < 1 || query_bits > 8)
        throw Error(ErrorKind::InvalidArgument, "query bits must be between 1 and 8, got " + std::to_string(query_bits));
    const uint32_t dim = rotation.input_dim(), out_dim = rotation.output_dim();
    query_raw_.assign(query, query + dim);
    query_rotated_.resize(out_dim);
    rotation.apply(query_raw_.data(), query_rotated_.data());
    residual_rotated_.resize(out_dim);
    quantized_.resize(out_dim);
    planes_.resize(static_cast<size_t>(query_bits) * (out_dim / 64));
}

double RabitqQuery::centroid_key(const float* centroid) const {
    return exact_order_key(metric_, query_raw_.data(), centroid, query_raw_.size());
}

void RabitqQuery::set_list(const float* centroid, const float* centroid_rotated) {
    const uint32_t dim = rotation_.input_dim(), out_dim = rotation_.output_dim();
    const size_t words = out_dim / 64;

    // |q_r - c| and <c, q_r> in the original space (exact up to float rounding).
    double norm_sq = 0, dot_centroid = 0;
    for (uint32_t i = 0; i < dim; ++i) {
        const double d = static_cast<double>(query_raw_[i]) - centroid[i];
        norm_sq += d * d;
        dot_centroid += static_cast<double>(query_raw_[i]) * centroid[i];
    }
    list_query_norm_ = static_cast<float>(std::sqrt(norm_sq));
    list_query_dot_centroid_ = static_cast<float>(dot_centroid);

    // q' = P^-1 (q_r - c) / |q_r - c|, by subtraction in the rotated space.
    double rotated_norm_sq = 0;
    for (uint32_t i = 0; i < out_dim; ++i) {
        residual_rotated_[i] = query_rotated_[i] - centroid_rotated[i];
        rotated_norm_sq += static_cast<double>(residual_rotated_[i]) * residual_rotated_[i];
    }
    const double inv_norm = rotated_norm_sq > 0 ? 1.0 / std::sqrt(rotated_norm_sq) : 0.0;
    float low = 0, high = 0;
    for (uint32_t i = 0; i < out_dim; ++i) {
        residual_rotated_[i] = static_cast<float>(residual_rotated_[i] * inv_norm);
        if (i == 0 || residual_rotated_[i] < low) low = residual_rotated_[i];
        if (i == 0 || residual_rotated_[i] > high) high = residual_rotated_[i];
    }

    // Scalar quantization to query_bits_ bits, round to nearest: q_bar[i] = low + step * q_u[i].
    const uint32_t levels = (1u << query_bits_) - 1u;
    const double step = high > low ? (static_cast<double>(high) - low) / levels : 0.0;
    const double inv_step = step > 0 ? 1.0 / step : 0.0;
    uint64_t sum_quantized = 0;
    for (uint32_t i = 0; i < out_dim; ++i) {
        const double scaled = (static_cast<double>(residual_rotated_[i]) - low) * inv_step;
        const uint32_t q = static_cast<uint32_t>(std::min<double>(levels, std::floor(scaled + 0.5)));
        quantized_[i] = q;
        sum_quantized += q;
    }
    std::fill(planes_.begin(), planes_.end(), 0);
    for (unsigned j = 0; j < query_bits_; ++j) {
        uint64_t* plane = planes_.data() + j * words;
        for (uint32_t i = 0; i < out_dim; ++i) plane[i / 64] |= static_cast<uint64_t>((quantized_[i] >> j) & 1u) << (i % 64);
    }

    // <x_bar, q_bar> = (2 step/sqrt D) <x_b, q_u> + (2 low/sqrt D) sum x_b - (step/sqrt D) sum q_u - sqrt D low.
    const double sqrt_d = std::sqrt(static_cast<double>(out_dim));
    dot_scale_ = static_cast<float>(2.0 * step / sqrt_d);
    bits_scale_ = static_cast<float>(2.0 * low / sqrt_d);
    dot_offset_ = static_cast<float>(-step / sqrt_d * static_cast<double>(sum_quantized) - sqrt_d * low);

    // Error bound of <o,q> (before the factor epsilon / <o_bar,o>):
    //  - the RaBitQ term sqrt(1 - <o_bar,o>^2) / sqrt(D' - 1) (Gao & Long, Theorem 3.2);
    //  - query quantization: <x_bar, q_bar - q'> is a sum of D' rounding errors in [-step/2, step/2]
    //    weighted by +-1/sqrt(D'), i.e. (randomised by the rotation) standard deviation step / sqrt(12).
    bound_rotation_ = static_cast<float>(1.0 / std::sqrt(static_cast<double>(out_dim) - 1.0));
    bound_quantization_ = static_cast<float>(step / std::sqrt(12.0));
}

RabitqEstimate RabitqQuery::finish(uint32_t bitplane_dot, const RabitqFactors& factors, float epsilon) const {
    const float d = factors.quantized_dot;
    const float xq = dot_scale_ * static_cast<float>(bitplane_dot) + bits_scale_ * static_cast<float>(factors.bit_count) +
                     dot_offset_;
    const float ip = xq / d;  // unbiased estimate of <o, q>
    const float err_ip =
        epsilon * (bound_rotation_ * std::sqrt(std::max(0.0f, 1.0f - d * d)) + bound_quantization_) / d;
    const float scale = factors.residual_norm * list_query_norm_;  // |r| |q_r - c|
    RabitqEstimate result;
    switch (metric_) {
        case Metric::L2:
            result.key = factors.residual_norm * factors.residual_norm + list_query_norm_ * list_query_norm_ -
                         2.0f * scale * ip;
            result.lower_bound = result.key - 2.0f * scale * err_ip;
            break;
        case Metric::InnerProduct:
            result.key = -(list_query_dot_centroid_ + factors.residual_dot_centroid + scale * ip);
            result.lower_bound = result.key - scale * err_ip;
            break;
        case Metric::Cosine:
        default:
            result.key = 1.0f - (list_query_dot_centroid_ + factors.residual_dot_centroid + scale * ip);
            result.lower_bound = result.key - scale * err_ip;
            break;
    }
    return result;
}

RabitqEstimate RabitqQuery::estimate(const uint64_t* code, const RabitqFactors& factors, float epsilon) const {
    const uint32_t dot = active_kernels().bits.bitplane_dot(code, planes_.data(), planes_.size() / query_bits_, query_bits_);
    return finish(dot, factors, epsilon);
}

void RabitqQuery::estimate_batch(const uint8_t* base, size_t stride_bytes, size_t factors_offset, size_t n,
                                 float epsilon, RabitqEstimate* out) const {
    constexpr size_t kBlock = 64;
    uint32_t dots[kBlock];
    const BitKernels& bits = active_kernels().bits;
    const size_t words = planes_.size() / query_bits_;
    for (size_t start = 0; start < n; start += kBlock) {
        const size_t count = std::min(kBlock, n - start);
        const uint8_t* block = base + start * stride_bytes;
        bits.bitplane_dot_batch(block, stride_bytes, count, planes_.data(), words, query_bits_, dots);
        for (size_t i = 0; i < count; ++i) {
            RabitqFactors factors;
            std::memcpy(&factors, block + i * stride_bytes + factors_offset, sizeof factors);
            out[start + i] = finish(dots[i], factors, epsilon);
        }
    }
}

}  // namespace rulake::core
