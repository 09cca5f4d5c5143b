// k-means for IVF lists: k-means++ seeding on a deterministic subsample, then Lloyd passes whose
// assignment step runs on worker threads (parallel_for) through a blocked matrix product.
//
// Determinism: every random choice comes from Prng(seed); the assignment of a row depends only on the
// row and the centroids (rows are processed in fixed blocks of kBlockRows whatever the thread count);
// sums are accumulated on the calling thread in row order. Hence the same data + seed gives bit-identical
// centroids for any number of threads.
//
// Metric choices: L2 and InnerProduct run Euclidean k-means on the raw rows (for inner product this
// keeps residuals |o_r - c| small, which is what bounds the RaBitQ estimation error; the inner product
// decomposition is exact for any centroid). Cosine runs spherical k-means: rows are normalised and
// centroids are normalised after every update.
#include "rulake/core/kmeans.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "rulake/core/error.hpp"
#include "rulake/core/kernels.hpp"
#include "rulake/core/parallel.hpp"
#include "rulake/core/prng.hpp"

namespace rulake::core {
namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

constexpr size_t kBlockRows = 256;          // rows per assignment block (fixed: part of determinism)
constexpr size_t kSeedRowsPerList = 16;     // k-means++ runs on at most lists * this many rows
constexpr size_t kMinSeedRows = 4096;

void check_cancel(const KMeansOptions& options) {
    if (options.should_cancel && options.should_cancel())
        throw Error(ErrorKind::Cancelled, "k-means cancelled");
}

// Unit-normalised copy for Cosine (zero rows stay zero); otherwise a plain copy.
std::vector<float> prepare_rows(const float* data, size_t n, uint32_t dim, Metric metric) {
    std::vector<float> rows(data, data + n * dim);
    if (metric != Metric::Cosine) return rows;
    for (size_t i = 0; i < n; ++i) {
        float* row = rows.data() + i * dim;
        double norm_sq = 0;
        for (uint32_t j = 0; j < dim; ++j) norm_sq += static_cast<double>(row[j]) * row[j];
        if (norm_sq == 0) continue;
        const float inv = static_cast<float>(1.0 / std::sqrt(norm_sq));
        for (uint32_t j = 0; j < dim; ++j) row[j] *= inv;
    }
    return rows;
}

void normalise(float* v, uint32_t dim) {
    double norm_sq = 0;
    for (uint32_t j = 0; j < dim; ++j) norm_sq += static_cast<double>(v[j]) * v[j];
    if (norm_sq == 0) return;
    const float inv = static_cast<float>(1.0 / std::sqrt(norm_sq));
    for (uint32_t j = 0; j < dim; ++j) v[j] *= inv;
}

// k-means++ (D^2 sampling) on a deterministic subsample of the rows. Returns k * dim floats.
std::vector<float> seed_centroids(const std::vector<float>& rows, size_t n, uint32_t dim, size_t k,
                                  const KMeansOptions& options, Prng& prng) {
    // Subsample: a partial Fisher-Yates shuffle of the row indices.
    const size_t m = std::min(n, std::max(kMinSeedRows, k * kSeedRowsPerList));
    std::vector<size_t> index(n);
    std::iota(index.begin(), index.end(), size_t{0});
    for (size_t i = 0; i < m; ++i) std::swap(index[i], index[i + prng.uniform_below(n - i)]);
    index.resize(m);
    std::sort(index.begin(), index.end());  // memory order; does not change the sample

    const auto l2_squared = active_kernels().f.l2_squared;
    std::vector<float> centroids(k * dim);
    std::vector<double> nearest(m, std::numeric_limits<double>::infinity());
    size_t chosen = index[prng.uniform_below(m)];
    for (size_t c = 0; c < k; ++c) {
        const float* center = rows.data() + chosen * dim;
        std::copy(center, center + dim, centroids.begin() + c * dim);
        if (c + 1 == k) break;
        parallel_for(
            m, options.threads,
            [&](size_t begin, size_t end) {
                for (size_t i = begin; i < end; ++i) {
                    const double d = l2_squared(rows.data() + index[i] * dim, center, dim);
                    if (d < nearest[i]) nearest[i] = d;
                }
            },
            options.should_cancel);
        double total = 0;
        for (double d : nearest) total += d;
        if (!(total > 0)) {
            // Every sampled row coincides with a chosen centre: take any row (duplicates are harmless).
            chosen = index[prng.uniform_below(m)];
            continue;
        }
        double target = prng.uniform() * total;
        size_t pick = m - 1;
        for (size_t i = 0; i < m; ++i) {
            target -= nearest[i];
            if (target < 0 && nearest[i] > 0) {
                pick = i;
                break;
            }
        }
        while (nearest[pick] == 0 && pick > 0) --pick;  // rounding at the end of the scan
        chosen = index[pick];
    }
    return centroids;
}

// Assigns every row to its nearest centroid (rows and centroids as prepared for the metric: Cosine
// compares unit vectors by inner product, the others by L2). Writes assignment and the squared L2
// distance to the chosen centroid.
void assign_rows(const std::vector<float>& rows, const std::vector<float>& row_norms, size_t n, uint32_t dim,
                 const std::vector<float>& centroids, size_t k, const KMeansOptions& options,
                 std::vector<uint32_t>& assignment, std::vector<float>& distance) {
    Eigen::Map<const RowMatrix> centroid_matrix(centroids.data(), static_cast<Eigen::Index>(k), dim);
    Eigen::VectorXf centroid_norms = centroid_matrix.rowwise().squaredNorm();
    const size_t blocks = (n + kBlockRows - 1) / kBlockRows;
    parallel_for(
        blocks, options.threads,
        [&](size_t first_block, size_t end_block) {
            RowMatrix dots;
            for (size_t block = first_block; block < end_block; ++block) {
                const size_t begin = block * kBlockRows;
                const size_t count = std::min(kBlockRows, n - begin);
                Eigen::Map<const RowMatrix> block_rows(rows.data() + begin * dim, static_cast<Eigen::Index>(count), dim);
                dots.noalias() = block_rows * centroid_matrix.transpose();
                for (size_t r = 0; r < count; ++r) {
                    // argmin |c|^2 - 2<x,c>  (== argmin |x - c|^2; for unit vectors == argmax <x,c>)
                    float best = std::numeric_limits<float>::infinity();
                    uint32_t best_index = 0;
                    for (size_t c = 0; c < k; ++c) {
                        const float score = centroid_norms[static_cast<Eigen::Index>(c)] -
                                            2.0f * dots(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c));
                        if (score < best) {
                            best = score;
                            best_index = static_cast<uint32_t>(c);
                        }
                    }
                    assignment[begin + r] = best_index;
                    distance[begin + r] = std::max(0.0f, row_norms[begin + r] + best);
                }
            }
        },
        options.should_cancel);
}

}  // namespace

std::vector<float> train_kmeans(const float* data, size_t n, uint32_t dim, const KMeansOptions& options) {
    if (dim == 0) throw Error(ErrorKind::InvalidArgument, "k-means needs at least one dimension");
    if (options.lists == 0) throw Error(ErrorKind::InvalidArgument, "k-means needs at least one list");
    if (options.threads == 0) throw Error(ErrorKind::InvalidArgument, "k-means needs at least one thread");
    if (n > 0 && data == nullptr) throw Error(ErrorKind::InvalidArgument, "k-means sample is missing");
    if (n == 0) return std::vector<float>(dim, 0.0f);  // one centroid at the origin

    const std::vector<float> rows = prepare_rows(data, n, dim, options.metric);
    const size_t k = std::min<size_t>(options.lists, n);
    if (n == k) return rows;  // every row is its own centroid

    Prng prng(mix_seed(options.seed ^ 0x6b6d65616e730001ULL));  // "kmeans"
    std::vector<float> centroids = seed_centroids(rows, n, dim, k, options, prng);

    std::vector<float> row_norms(n);
    for (size_t i = 0; i < n; ++i) {
        const float* row = rows.data() + i * dim;
        row_norms[i] = active_kernels().f.inner_product(row, row, dim);
    }
    std::vector<uint32_t> assignment(n, 0), previous;
    std::vector<float> distance(n, 0.0f);
    std::vector<double> sums(k * dim);
    std::vector<size_t> counts(k);
    for (uint32_t iteration = 0; iteration < options.iterations; ++iteration) {
        check_cancel(options);
        previous = assignment;
        assign_rows(rows, row_norms, n, dim, centroids, k, options, assignment, distance);
        if (iteration > 0 && assignment == previous) {
            if (options.on_progress) options.on_progress(options.iterations, options.iterations);
            break;  // converged: another update would not change the centroids
        }

        std::fill(sums.begin(), sums.end(), 0.0);
        std::fill(counts.begin(), counts.end(), 0);
        for (size_t i = 0; i < n; ++i) {
            const float* row = rows.data() + i * dim;
            double* sum = sums.data() + static_cast<size_t>(assignment[i]) * dim;
            for (uint32_t j = 0; j < dim; ++j) sum[j] += row[j];
            ++counts[assignment[i]];
        }
        // Empty lists take the rows farthest from their centroids (largest first, ties to the lower row).
        std::vector<size_t> far_rows;
        for (size_t c = 0; c < k; ++c)
            if (counts[c] == 0) far_rows.push_back(c);
        if (!far_rows.empty()) {
            std::vector<size_t> order(n);
            std::iota(order.begin(), order.end(), size_t{0});
            const size_t empties = far_rows.size();
            std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(std::min(n, empties)), order.end(),
                              [&](size_t a, size_t b) { return distance[a] > distance[b] || (distance[a] == distance[b] && a < b); });
            for (size_t e = 0; e < empties; ++e) {
                const float* row = rows.data() + order[e] * dim;
                std::copy(row, row + dim, centroids.begin() + far_rows[e] * dim);
            }
        }
        for (size_t c = 0; c < k; ++c) {
            if (counts[c] == 0) continue;
            float* centroid = centroids.data() + c * dim;
            const double* sum = sums.data() + c * dim;
            for (uint32_t j = 0; j < dim; ++j) centroid[j] = static_cast<float>(sum[j] / static_cast<double>(counts[c]));
            if (options.metric == Metric::Cosine) normalise(centroid, dim);
        }
        if (options.on_progress) options.on_progress(iteration + 1, options.iterations);
    }
    if (options.metric == Metric::Cosine)
        for (size_t c = 0; c < k; ++c) normalise(centroids.data() + c * dim, dim);
    return centroids;
}

uint32_t nearest_centroid(const float* v, const float* centroids, uint32_t count, uint32_t dim, Metric metric) {
    const Kernels& kernels = active_kernels();
    uint32_t best_index = 0;
    double best = std::numeric_limits<double>::infinity();
    for (uint32_t c = 0; c < count; ++c) {
        const float* centroid = centroids + static_cast<size_t>(c) * dim;
        double key;
        if (metric == Metric::Cosine) {
            key = cosine_distance(v, centroid, dim);
            if (std::isnan(key)) key = std::numeric_limits<double>::max();  // zero vector or centroid
        } else {
            key = kernels.f.l2_squared(v, centroid, dim);
        }
        if (key < best) {
            best = key;
            best_index = c;
        }
    }
    return best_index;
}

}  // namespace rulake::core
