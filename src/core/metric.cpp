// SQL operator distances and order keys on top of the dispatched kernels.
#include "rulake/core/metric.hpp"

#include <cmath>

#include "rulake/core/kernels.hpp"

namespace rulake::core {

double l2_distance(const float* a, const float* b, size_t n) {
    return std::sqrt(static_cast<double>(active_kernels().f.l2_squared(a, b, n)));
}

double negative_inner_product(const float* a, const float* b, size_t n) {
    return -static_cast<double>(active_kernels().f.inner_product(a, b, n));
}

double cosine_distance(const float* a, const float* b, size_t n) {
    float dot, norm_a, norm_b;
    active_kernels().f.cosine_parts(a, b, n, &dot, &norm_a, &norm_b);
    double similarity = static_cast<double>(dot) / std::sqrt(static_cast<double>(norm_a) * static_cast<double>(norm_b));
    if (std::isnan(similarity)) return similarity;
    if (similarity > 1.0) similarity = 1.0;
    if (similarity < -1.0) similarity = -1.0;
    return 1.0 - similarity;
}

double l1_distance(const float* a, const float* b, size_t n) {
    return static_cast<double>(active_kernels().f.l1_distance(a, b, n));
}

double exact_order_key(Metric metric, const float* a, const float* b, size_t n) {
    switch (metric) {
        case Metric::L2: return static_cast<double>(active_kernels().f.l2_squared(a, b, n));
        case Metric::InnerProduct: return negative_inner_product(a, b, n);
        case Metric::Cosine: return cosine_distance(a, b, n);
    }
    return NAN;
}

double order_key_to_distance(Metric metric, double key) {
    return metric == Metric::L2 ? std::sqrt(key) : key;
}

}  // namespace rulake::core
