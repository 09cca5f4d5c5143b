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

TEST(KMeans, CosineCentroidsAreUnitAndInnerProductCentroidsAreMeans) {
    Blobs b = make_blobs(4, 100, 8, 9);
    KMeansOptions options;
    options.lists = 4;
    options.metric = Metric::Cosine;
    auto cosine = train_kmeans(b.rows.data.data(), b.rows.rows, 8, options);
    for (uint32_t c = 0; c < 4; ++c) EXPECT_NEAR(dot(&cosine[c * 8], &cosine[c * 8], 8), 1.0, 1e-5);
    // Inner product: Euclidean k-means on the raw rows, so it agrees with L2 exactly.
    options.metric = Metric::InnerProduct;
    auto ip = train_kmeans(b.rows.data.data(), b.rows.rows, 8, options);
    options.metric = Metric::L2;
    auto l2 = train_kmeans(b.rows.data.data(), b.rows.rows, 8, options);
    EXPECT_EQ(ip, l2);
    double norm = 0;
    for (uint32_t c = 0; c < 4; ++c) norm += std::sqrt(dot(&ip[c * 8], &ip[c * 8], 8));
    EXPECT_GT(norm / 4, 5.0);  // the blob centres are far from the unit sphere
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
