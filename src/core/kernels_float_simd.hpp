// Float kernels written once over xsimd batches, instantiated by each per-ISA file with its own arch.
//
// Include this ONLY from a per-ISA file (kernels_avx2.cpp, kernels_avx512.cpp): everything here is in
// an anonymous namespace, so each ISA file gets private copies compiled with its own -m flags and the
// linker can never substitute one ISA's copy for another's (or for generic code).
//
// Contract of every kernel: any n >= 0, no alignment requirement, float accumulation. The sums are
// split over 4 independent vector accumulators (hiding FMA latency) and reduced at the end, so results
// differ from the scalar reference (one running sum) only by summation order.
//
// `Ops` supplies what xsimd 8.1.0 lacks: `Ops::Batch` (the xsimd batch type) and
// `Ops::load_head(p, k)`, which loads the first k < Batch::size floats of p with zeros in the other
// lanes, reading nothing at or past p + k.
#pragma once

#include <cstddef>
#include <xsimd/xsimd.hpp>

#include "rulake/core/kernels.hpp"

namespace rulake::core {
namespace {
namespace float_simd {

// The per-element step of a two-input reduction, on batches and on the scalar type alike.
struct SquaredDifference {
    template <class T>
    static T step(T acc, T a, T b) {
        T d = a - b;
        return xsimd::fma(d, d, acc);
    }
};
struct Product {
    template <class T>
    static T step(T acc, T a, T b) {
        return xsimd::fma(a, b, acc);
    }
};
struct AbsoluteDifference {
    template <class T>
    static T step(T acc, T a, T b) {
        return acc + xsimd::abs(a - b);
    }
};

// sum over i < n of Step(a[i], b[i]).
template <class Ops, class Step>
float reduce(const float* a, const float* b, size_t n) {
    using B = typename Ops::Batch;
    constexpr size_t W = B::size;
    B s0(0.0f), s1(0.0f), s2(0.0f), s3(0.0f);
    size_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
        s0 = Step::step(s0, B::load_unaligned(a + i), B::load_unaligned(b + i));
        s1 = Step::step(s1, B::load_unaligned(a + i + W), B::load_unaligned(b + i + W));
        s2 = Step::step(s2, B::load_unaligned(a + i + 2 * W), B::load_unaligned(b + i + 2 * W));
        s3 = Step::step(s3, B::load_unaligned(a + i + 3 * W), B::load_unaligned(b + i + 3 * W));
    }
    for (; i + W <= n; i += W) s0 = Step::step(s0, B::load_unaligned(a + i), B::load_unaligned(b + i));
    if (i < n) s1 = Step::step(s1, Ops::load_head(a + i, n - i), Ops::load_head(b + i, n - i));
    return xsimd::hadd((s0 + s1) + (s2 + s3));
}

template <class Ops>
float l2_squared(const float* a, const float* b, size_t n) {
    return reduce<Ops, SquaredDifference>(a, b, n);
}

template <class Ops>
float inner_product(const float* a, const float* b, size_t n) {
    return reduce<Ops, Product>(a, b, n);
}

template <class Ops>
float l1_distance(const float* a, const float* b, size_t n) {
    return reduce<Ops, AbsoluteDifference>(a, b, n);
}

// dot(a,b), |a|^2, |b|^2 in one pass (two accumulators each).
template <class Ops>
void cosine_parts(const float* a, const float* b, size_t n, float* dot, float* norm_a, float* norm_b) {
    using B = typename Ops::Batch;
    constexpr size_t W = B::size;
    B d0(0.0f), d1(0.0f), na0(0.0f), na1(0.0f), nb0(0.0f), nb1(0.0f);
    size_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
        B x0 = B::load_unaligned(a + i), y0 = B::load_unaligned(b + i);
        B x1 = B::load_unaligned(a + i + W), y1 = B::load_unaligned(b + i + W);
        d0 = xsimd::fma(x0, y0, d0);
        na0 = xsimd::fma(x0, x0, na0);
        nb0 = xsimd::fma(y0, y0, nb0);
        d1 = xsimd::fma(x1, y1, d1);
        na1 = xsimd::fma(x1, x1, na1);
        nb1 = xsimd::fma(y1, y1, nb1);
    }
    if (i + W <= n) {
        B x = B::load_unaligned(a + i), y = B::load_unaligned(b + i);
        d0 = xsimd::fma(x, y, d0);
        na0 = xsimd::fma(x, x, na0);
        nb0 = xsimd::fma(y, y, nb0);
        i += W;
    }
    if (i < n) {
        B x = Ops::load_head(a + i, n - i), y = Ops::load_head(b + i, n - i);
        d1 = xsimd::fma(x, y, d1);
        na1 = xsimd::fma(x, x, na1);
        nb1 = xsimd::fma(y, y, nb1);
    }
    *dot = xsimd::hadd(d0 + d1);
    *norm_a = xsimd::hadd(na0 + na1);
    *norm_b = xsimd::hadd(nb0 + nb1);
}

template <class Ops>
constexpr FloatKernels table() {
    return FloatKernels{l2_squared<Ops>, inner_product<Ops>, l1_distance<Ops>, cosine_parts<Ops>};
}

}  // namespace float_simd
}  // namespace
}  // namespace rulake::core
