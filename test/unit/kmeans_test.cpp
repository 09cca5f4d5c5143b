// k-means: cluster recovery, determinism across thread counts, small samples, metrics, cancellation,
// progress, nearest_centroid, argument checks.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <vector>

#include "rulake/core/error.hpp"
#include "rulake/core/kmeans.hpp"
#include "rulake/core/metric.hpp"
#include "test_data.hpp"

using namespace rulake::core;
using rulake::test::dot;
using rulake::test::gaussian_vectors;
using rulake::test::read_fvecs;
using rulake::test::shared_data_dir;
using rulake::test::Vectors;

namespace {

// clusters well-separated Gaussian blobs (centres ~N(0, 10^2) per coordinate, spread 0.1), rows shuffled.
struct Blobs {
    Vectors centres, rows;
    std::vector<uint32_t> label;
};

Blobs make_blobs(uint32_t clusters, size_t per_cluster, uint32_t dim, uint64_t seed) {
    Blobs b;
    b.centres = gaussian_vectors(clusters, dim, seed, 10.0);
    b.rows.dim = dim;
    b.rows.rows = clusters * per_cluster;
    b.rows.data.resize(b.rows.rows * dim);
    b.label.resize(b.rows.rows);
    Prng prng(seed + 1);
    for (size_t i = 0; i < b.rows.rows; ++i) {
        const uint32_t c = static_cast<uint32_t>(prng.uniform_below(clusters));
        b.label[i] = c;
        for (uint32_t j = 0; j < dim; ++j)
            b.rows.data[i * dim + j] = b.centres.row(c)[j] + static_cast<float>(0.1 * prng.gaussian());
    }
    return b;
}

ErrorKind kind_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.kind();
    }
    ADD_FAILURE() << "no error";
    return ErrorKind::Internal;
}

}  // namespace

TEST(KMeans, RecoversWellSeparatedClusters) {
    const uint32_t k = 12, dim = 16;
    Blobs b = make_blobs(k, 300, dim, 5);
    KMeansOptions options;
    options.lists = k;
    options.iterations = 10;
    options.threads = 2;
    auto centroids = train_kmeans(b.rows.data.data(), b.rows.rows, dim, options);
    ASSERT_EQ(centroids.size(), size_t{k} * dim);
    // Each true centre has a centroid within the blob's spread, and the matching is one-to-one.
    std::vector<int> used(k, 0);
    for (uint32_t c = 0; c < k; ++c) {
        const uint32_t nearest = nearest_centroid(b.centres.row(c), centroids.data(), k, dim, Metric::L2);
        const double dist = l2_distance(b.centres.row(c), centroids.data() + size_t{nearest} * dim, dim);
        EXPECT_LT(dist, 0.1) << "centre " << c;
        ++used[nearest];
    }
    for (uint32_t c = 0; c < k; ++c) EXPECT_EQ(used[c], 1) << c;
    // And every row is assigned to the centroid of its own blob.
    for (size_t i = 0; i < b.rows.rows; ++i) {
        const uint32_t a = nearest_centroid(b.rows.row(i), centroids.data(), k, dim, Metric::L2);
        const uint32_t expected = nearest_centroid(b.centres.row(b.label[i]), centroids.data(), k, dim, Metric::L2);
        ASSERT_EQ(a, expected) << i;
    }
}

TEST(KMeans, SameCentroidsForAnyThreadCount) {
    Vectors data = read_fvecs(shared_data_dir() + "/sift-128-50k/base.fvecs", 6000);
    ASSERT_EQ(data.rows, 6000u);
    for (Metric metric : {Metric::L2, Metric::Cosine}) {
        KMeansOptions options;
        options.lists = 40;
        options.iterations = 5;
        options.seed = 7;
        options.metric = metric;
        std::vector<std::vector<float>> results;
        for (unsigned threads : {1u, 2u, 3u}) {
            options.threads = threads;
            results.push_back(train_kmeans(data.data.data(), data.rows, data.dim, options));
        }
        for (size_t t = 1; t < results.size(); ++t) {
            ASSERT_EQ(results[t].size(), results[0].size());
            EXPECT_EQ(std::memcmp(results[t].data(), results[0].data(), results[0].size() * sizeof(float)), 0)
                << "metric " << static_cast<int>(metric) << " threads variant " << t;
        }
        options.seed = 8;
        auto other_seed = train_kmeans(data.data.data(), data.rows, data.dim, options);
        EXPECT_NE(std::memcmp(other_seed.data(), results[0].data(), results[0].size() * sizeof(float)), 0);
    }
}

TEST(KMeans, FewerRowsThanListsGivesTheRows) {
    auto data = gaussian_vectors(5, 8, 3);
    KMeansOptions options;
    options.lists = 10;
    auto centroids = train_kmeans(data.data.data(), 5, 8, options);
    EXPECT_EQ(centroids, data.data);
    options.lists = 5;
    EXPECT_EQ(train_kmeans(data.data.data(), 5, 8, options), data.data);
    // No rows at all: one centroid at the origin.
    EXPECT_EQ(train_kmeans(nullptr, 0, 8, options), std::vector<float>(8, 0.0f));
}

TEST(KMeans, DuplicateRowsLeaveNoEmptyOrBrokenCentroid) {
    // 200 copies of one row and 3 distinct rows, 4 lists: the seeding must still place every distinct row.
    const uint32_t dim = 4;
    std::vector<float> data(203 * dim, 1.0f);
    for (uint32_t j = 0; j < dim; ++j) {
        data[200 * dim + j] = 5.0f + j;
        data[201 * dim + j] = -5.0f;
        data[202 * dim + j] = (j % 2) ? 9.0f : -9.0f;
    }
    KMeansOptions options;
    options.lists = 4;
    auto centroids = train_kmeans(data.data(), 203, dim, options);
    ASSERT_EQ(centroids.size(), size_t{4} * dim);
    for (float x : centroids) ASSERT_TRUE(std::isfinite(x));
    for (size_t row : {size_t{0}, size_t{200}, size_t{201}, size_t{202}}) {
        const uint32_t c = nearest_centroid(&data[row * dim], centroids.data(), 4, dim, Metric::L2);
        EXPECT_EQ(l2_distance(&data[row * dim], &centroids[size_t{c} * dim], dim), 0.0) << row;
    }
}

// Cosine: spherical k-means whose result is the mean of each list's unit rows (norm <= 1, not
// normalised). Inner product: Euclidean k-means on the raw rows, identical to L2.
TEST(KMeans, CosineCentroidsAreMeansOfUnitRowsAndInnerProductMatchesL2) {
    Vectors data = read_fvecs(shared_data_dir() + "/w2v-100/base.fvecs", 3000);
    ASSERT_EQ(data.rows, 3000u);
    const uint32_t dim = data.dim, lists = 8;
    KMeansOptions options;
    options.lists = lists;
    options.iterations = 500;  // run to convergence so the means match the final assignment
    options.metric = Metric::Cosine;
    auto cosine = train_kmeans(data.data.data(), data.rows, dim, options);
    ASSERT_EQ(cosine.size(), size_t{lists} * dim);
    std::vector<double> sums(size_t{lists} * dim, 0.0);
    std::vector<size_t> counts(lists, 0);
    std::vector<float> unit(dim);
    for (size_t i = 0; i < data.rows; ++i) {
        std::copy(data.row(i), data.row(i) + dim, unit.begin());
        rulake::test::normalise(unit.data(), dim);
        const uint32_t c = nearest_centroid(unit.data(), cosine.data(), lists, dim, Metric::Cosine);
        for (uint32_t j = 0; j < dim; ++j) sums[size_t{c} * dim + j] += unit[j];
        ++counts[c];
    }
    for (uint32_t c = 0; c < lists; ++c) {
        ASSERT_GT(counts[c], 0u);
        const double norm = std::sqrt(dot(&cosine[c * dim], &cosine[c * dim], dim));
        EXPECT_LT(norm, 0.95) << c;  // word vectors spread widely: the mean is well inside the sphere
        EXPECT_GT(norm, 0.1) << c;
        for (uint32_t j = 0; j < dim; ++j)
            ASSERT_NEAR(cosine[c * dim + j], sums[size_t{c} * dim + j] / counts[c], 1e-5) << c << "," << j;
    }

    Blobs b = make_blobs(4, 100, 8, 9);
    options.lists = 4;
    options.iterations = 10;
    options.metric = Metric::InnerProduct;
    auto ip = train_kmeans(b.rows.data.data(), b.rows.rows, 8, options);
    options.metric = Metric::L2;
    auto l2 = train_kmeans(b.rows.data.data(), b.rows.rows, 8, options);
    EXPECT_EQ(ip, l2);
    double norm = 0;
    for (uint32_t c = 0; c < 4; ++c) norm += std::sqrt(dot(&ip[c * 8], &ip[c * 8], 8));
    EXPECT_GT(norm / 4, 5.0);  // the blob centres are far from the unit sphere: not normalised
}

TEST(KMeans, ReportsProgressEveryIteration) {
    Blobs b = make_blobs(6, 200, 8, 11);
    KMeansOptions options;
    options.lists = 20;  // more lists than blobs: assignments keep moving for a while
    options.iterations = 4;
    std::vector<std::pair<uint32_t, uint32_t>> reports;
    options.on_progress = [&](uint32_t done, uint32_t total) { reports.emplace_back(done, total); };
    train_kmeans(b.rows.data.data(), b.rows.rows, 8, options);
    ASSERT_FALSE(reports.empty());
    for (size_t i = 0; i < reports.size(); ++i) {
        EXPECT_EQ(reports[i].second, 4u);
        if (i > 0) {
            EXPECT_GT(reports[i].first, reports[i - 1].first);
        }
    }
    EXPECT_EQ(reports.back().first, 4u);
}

TEST(KMeans, CancelStopsTraining) {
    auto data = gaussian_vectors(20000, 64, 4);
    KMeansOptions options;
    options.lists = 200;
    options.iterations = 1000;
    options.threads = 2;
    int polls = 0;
    options.should_cancel = [&] { return ++polls > 5; };
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(kind_of([&] { train_kmeans(data.data.data(), data.rows, data.dim, options); }), ErrorKind::Cancelled);
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 10.0);
    options.should_cancel = [] { return true; };
    EXPECT_EQ(kind_of([&] { train_kmeans(data.data.data(), data.rows, data.dim, options); }), ErrorKind::Cancelled);
}

TEST(KMeans, RejectsBadArguments) {
    std::vector<float> data(16, 1.0f);
    KMeansOptions options;
    EXPECT_EQ(kind_of([&] { train_kmeans(data.data(), 4, 0, options); }), ErrorKind::InvalidArgument);
    options.lists = 0;
    EXPECT_EQ(kind_of([&] { train_kmeans(data.data(), 4, 4, options); }), ErrorKind::InvalidArgument);
    options.lists = 2;
    options.threads = 0;
    EXPECT_EQ(kind_of([&] { train_kmeans(data.data(), 4, 4, options); }), ErrorKind::InvalidArgument);
    options.threads = 1;
    EXPECT_EQ(kind_of([&] { train_kmeans(nullptr, 4, 4, options); }), ErrorKind::InvalidArgument);
}

TEST(KMeans, NearestCentroidFollowsTheAssignmentRule) {
    // Centroids: a small one in the query's direction and a long one slightly off it.
    const float centroids[] = {0.5f, 0.0f, 3.0f, 0.3f, 1.0f, 0.0f};
    const float v[] = {1.0f, 0.0f};
    EXPECT_EQ(nearest_centroid(v, centroids, 3, 2, Metric::L2), 2u);
    EXPECT_EQ(nearest_centroid(v, centroids, 3, 2, Metric::InnerProduct), 2u);  // smallest residual, as L2
    EXPECT_EQ(nearest_centroid(v, centroids, 3, 2, Metric::Cosine), 0u);        // direction only; tie 0 vs 2
    const float zero[] = {0.0f, 0.0f};
    EXPECT_EQ(nearest_centroid(zero, centroids, 3, 2, Metric::Cosine), 0u);
    // Brute force on random data.
    auto data = gaussian_vectors(50, 10, 1);
    auto cents = gaussian_vectors(7, 10, 2);
    for (size_t i = 0; i < data.rows; ++i) {
        for (Metric metric : {Metric::L2, Metric::Cosine}) {
            uint32_t best = 0;
            for (uint32_t c = 1; c < 7; ++c)
                if (exact_order_key(metric, data.row(i), cents.row(c), 10) < exact_order_key(metric, data.row(i), cents.row(best), 10))
                    best = c;
            EXPECT_EQ(nearest_centroid(data.row(i), cents.data.data(), 7, 10, metric), best);
        }
    }
}

// The batched assignment picks the same list as nearest_centroid, or an equally near one (within float
// rounding), for every metric; and it is much faster with many centroids.
TEST(KMeans, BatchedAssignmentAgreesWithNearestCentroid) {
    Vectors data = read_fvecs(shared_data_dir() + "/w2v-100/base.fvecs", 3000);
    ASSERT_EQ(data.rows, 3000u);
    const uint32_t dim = data.dim, lists = 300;
    Vectors unit = data;
    for (size_t i = 0; i < unit.rows; ++i) rulake::test::normalise(unit.data.data() + i * dim, dim);
    for (Metric metric : {Metric::L2, Metric::InnerProduct, Metric::Cosine}) {
        const Vectors& rows = metric == Metric::Cosine ? unit : data;
        KMeansOptions options;
        options.lists = lists;
        options.iterations = 3;
        options.metric = metric;
        auto centroids = train_kmeans(rows.data.data(), rows.rows, dim, options);
        std::vector<uint32_t> batched(rows.rows + 1, 12345);
        const auto start = std::chrono::steady_clock::now();
        assign_nearest_centroids(rows.data.data(), rows.rows, dim, centroids.data(), lists, metric, batched.data());
        const auto middle = std::chrono::steady_clock::now();
        size_t differ = 0;
        for (size_t i = 0; i < rows.rows; ++i) {
            const uint32_t single = nearest_centroid(rows.row(i), centroids.data(), lists, dim, metric);
            if (single == batched[i]) continue;
            ++differ;
            const Metric rule = metric == Metric::Cosine ? Metric::Cosine : Metric::L2;
            const double a = exact_order_key(rule, rows.row(i), &centroids[size_t{single} * dim], dim);
            const double b = exact_order_key(rule, rows.row(i), &centroids[size_t{batched[i]} * dim], dim);
            EXPECT_NEAR(a, b, 1e-5 * std::max(1.0, std::fabs(a))) << "row " << i;
        }
        const auto end = std::chrono::steady_clock::now();
        EXPECT_EQ(batched[rows.rows], 12345u);  // writes exactly n entries
        EXPECT_LE(differ, rows.rows / 100);
        std::printf("[ metric %d ] 3000 rows x 300 lists: batched %.1f ms, one by one %.1f ms, %zu ties resolved differently\n",
                    static_cast<int>(metric), std::chrono::duration<double, std::milli>(middle - start).count(),
                    std::chrono::duration<double, std::milli>(end - middle).count(), differ);
    }
}

TEST(KMeans, BatchedAssignmentEdgeCases) {
    // Cosine: a zero centroid is never nearest, a zero row goes to the first non-zero centroid; n == 0
    // writes nothing.
    const float centroids[] = {0.0f, 0.0f, 0.0f, 2.0f, 1.0f, 0.0f};
    const float rows[] = {0.1f, 0.9f, 0.0f, 0.0f, 5.0f, 0.1f};
    uint32_t out[3] = {9, 9, 9};
    assign_nearest_centroids(rows, 3, 2, centroids, 3, Metric::Cosine, out);
    EXPECT_EQ(out[0], 1u);
    EXPECT_EQ(out[1], 1u);
    EXPECT_EQ(out[2], 2u);
    for (int r = 0; r < 3; ++r) EXPECT_EQ(nearest_centroid(&rows[2 * r], centroids, 3, 2, Metric::Cosine), out[r]) << r;
    uint32_t untouched = 9;
    assign_nearest_centroids(rows, 0, 2, centroids, 3, Metric::L2, &untouched);
    EXPECT_EQ(untouched, 9u);
    assign_nearest_centroids(rows, 3, 2, centroids, 3, Metric::L2, out);
    EXPECT_EQ(out[0], 0u);  // |(0.1,0.9)|^2 = 0.82 < 1.22 to (0,2)
    EXPECT_EQ(out[1], 0u);
    EXPECT_EQ(out[2], 2u);
    for (int r = 0; r < 3; ++r) EXPECT_EQ(nearest_centroid(&rows[2 * r], centroids, 3, 2, Metric::L2), out[r]) << r;
}

// Build-time benchmark (run with --gtest_also_run_disabled_tests): the documented target is a few seconds
// for 50k x 128 rows and 550 lists on two threads.
TEST(KMeans, DISABLED_TimingSift50kLists550) {
    Vectors data = read_fvecs(shared_data_dir() + "/sift-128-50k/base.fvecs", 50000);
    ASSERT_EQ(data.rows, 50000u);
    for (unsigned threads : {1u, 2u}) {
        KMeansOptions options;
        options.lists = 550;
        options.iterations = 10;
        options.threads = threads;
        const auto start = std::chrono::steady_clock::now();
        auto centroids = train_kmeans(data.data.data(), data.rows, data.dim, options);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        double sse = 0;
        for (size_t i = 0; i < data.rows; ++i) {
            const uint32_t c = nearest_centroid(data.row(i), centroids.data(), 550, data.dim, Metric::L2);
            sse += exact_order_key(Metric::L2, data.row(i), centroids.data() + size_t{c} * data.dim, data.dim);
        }
        std::printf("k-means 50000x128, 550 lists, 10 iterations, %u thread(s): %.2f s, mean squared residual %.0f\n",
                    threads, seconds, sse / data.rows);
    }
}
