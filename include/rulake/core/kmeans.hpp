// k-means for IVF lists, computed by worker threads that make no Postgres calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "rulake/core/metric.hpp"

namespace rulake::core {

struct KMeansOptions {
    uint32_t lists = 1;            // k
    uint32_t iterations = 10;      // Lloyd passes after k-means++ style seeding
    uint64_t seed = 42;            // same data + seed = same centroids
    unsigned threads = 1;          // worker threads (>= 1)
    // L2 and InnerProduct: Euclidean k-means on the raw rows (for inner product this minimises the
    // residuals |o_r - c| that scale the RaBitQ error; the inner-product decomposition holds for any c).
    // Cosine: spherical k-means on the unit-normalised rows (assignment by cosine distance); the
    // returned centroids are the means of each list's unit rows, NOT normalised (norm <= 1): their
    // residuals are smaller than those of unit centroids, which tightens the RaBitQ bounds.
    Metric metric = Metric::L2;
    // Polled by the calling thread every few milliseconds while workers run; return true to stop.
    // On stop, every worker is joined before core::Error(Cancelled) is thrown.
    std::function<bool()> should_cancel;
    // Optional progress report (iteration done, iterations total), called on the calling thread.
    std::function<void(uint32_t, uint32_t)> on_progress;
};

// Trains lists centroids from n sample rows of dim floats (row-major). Returns lists * dim floats.
// If n < lists, the number of centroids is n (the rows themselves); n == 0 gives one zero centroid.
// Throws core::Error(InvalidArgument) for dim 0, lists 0, threads 0, and core::Error(Cancelled) when
// should_cancel() returned true (workers joined). Deterministic: the same data, options.seed and
// options.lists give bit-identical centroids whatever options.threads is.
std::vector<float> train_kmeans(const float* data, size_t n, uint32_t dim, const KMeansOptions& options);

// The list a vector belongs to: index of the nearest centroid, ties to the lower index. "Nearest" is
// the rule k-means assigns by: L2 distance for L2 and InnerProduct (smallest residual), cosine distance
// for Cosine (zero centroids are never chosen unless all are; a zero vector goes to the first non-zero
// centroid).
uint32_t nearest_centroid(const float* v, const float* centroids, uint32_t count, uint32_t dim, Metric metric);

// nearest_centroid for n rows (row-major, dim floats each) at once, written to out[0..n): the same rule,
// computed through matrix products in blocks of rows (many times faster than n calls when there are
// many centroids; worthwhile from about 32 rows per call). Results agree with nearest_centroid except
// where two centroids are equally near within float rounding. Single-threaded and thread-safe: call
// it from parallel_for bodies. Cosine: pass unit rows (as for the encoder).
void assign_nearest_centroids(const float* rows, size_t n, uint32_t dim, const float* centroids, uint32_t count,
                              Metric metric, uint32_t* out);

}  // namespace rulake::core

#ifdef POSTGRES_H
#error "core headers are pure C++: include them before postgres.h"
#endif
