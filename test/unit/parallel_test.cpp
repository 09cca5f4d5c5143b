// parallel_for: coverage of the range, exceptions, cancellation, signal masks of the workers.
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "rulake/core/error.hpp"
#include "rulake/core/parallel.hpp"

using namespace rulake::core;

TEST(ParallelFor, VisitsEveryIndexExactlyOnce) {
    for (unsigned threads : {0u, 1u, 2u, 3u, 8u}) {
        for (size_t n : {size_t{1}, size_t{7}, size_t{1000}, size_t{100003}}) {
            std::vector<std::atomic<int>> visits(n);
            std::atomic<uint64_t> sum{0};
            parallel_for(n, threads, [&](size_t begin, size_t end) {
                ASSERT_LT(begin, end);
                ASSERT_LE(end, n);
                uint64_t local = 0;
                for (size_t i = begin; i < end; ++i) {
                    visits[i].fetch_add(1);
                    local += i;
                }
                sum.fetch_add(local);
            });
            EXPECT_EQ(sum.load(), static_cast<uint64_t>(n) * (n - 1) / 2) << threads << " threads, n " << n;
            for (size_t i = 0; i < n; ++i) ASSERT_EQ(visits[i].load(), 1) << i;
        }
    }
}

TEST(ParallelFor, EmptyRangeCallsNothing) {
    bool called = false, polled = false;
    parallel_for(0, 2, [&](size_t, size_t) { called = true; }, [&] { return polled = true; });
    EXPECT_FALSE(called);
    EXPECT_FALSE(polled);
}

TEST(ParallelFor, WorkRunsOffTheCallingThread) {
    const std::thread::id caller = std::this_thread::get_id();
    std::atomic<bool> on_caller{false};
    parallel_for(100, 1, [&](size_t, size_t) {
        if (std::this_thread::get_id() == caller) on_caller = true;
    });
    EXPECT_FALSE(on_caller.load());
}

TEST(ParallelFor, RethrowsTheWorkersException) {
    std::atomic<size_t> chunks_after{0};
    try {
        parallel_for(100000, 2, [&](size_t begin, size_t end) {
            if (begin <= 500 && 500 < end) throw std::runtime_error("bad row 500");
            chunks_after.fetch_add(1);
        });
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "bad row 500");
    }
    try {
        parallel_for(10, 3, [](size_t, size_t) { throw Error(ErrorKind::Data, "dimension mismatch"); });
        FAIL() << "no exception";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Data);
        EXPECT_STREQ(e.what(), "dimension mismatch");
    }
}

TEST(ParallelFor, CancelStopsALongJobQuickly) {
    const std::thread::id caller = std::this_thread::get_id();
    std::atomic<size_t> done{0};
    int polls = 0;
    bool polled_off_caller = false;
    const auto start = std::chrono::steady_clock::now();
    try {
        // 20000 items of 1 ms each would take 10 s on two workers.
        parallel_for(
            20000, 2,
            [&](size_t begin, size_t end) {
                for (size_t i = begin; i < end; ++i) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                    done.fetch_add(1);
                }
            },
            [&] {
                if (std::this_thread::get_id() != caller) polled_off_caller = true;
                return ++polls >= 3;
            });
        FAIL() << "no cancellation";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Cancelled);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(polls, 3);
    EXPECT_FALSE(polled_off_caller);
    EXPECT_LT(done.load(), size_t{20000});
    // Three polls ~10 ms apart, then each worker finishes its current chunk (157 items of 1 ms).
    EXPECT_LT(seconds, 1.5);
}

TEST(ParallelFor, ExceptionFromShouldCancelPropagatesAfterJoin) {
    std::atomic<bool> running{false};
    try {
        parallel_for(
            1000, 2,
            [&](size_t, size_t) {
                running = true;
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            },
            []() -> bool { throw std::logic_error("interrupt pending"); });
        FAIL() << "no exception";
    } catch (const std::logic_error& e) {
        EXPECT_STREQ(e.what(), "interrupt pending");
    }
}

TEST(ParallelFor, WorkersBlockEverySignalAndTheCallerKeepsItsMask) {
    sigset_t before;
    pthread_sigmask(SIG_SETMASK, nullptr, &before);
    ASSERT_FALSE(sigismember(&before, SIGINT));
    std::atomic<int> unblocked{0};
    parallel_for(64, 2, [&](size_t, size_t) {
        sigset_t mask;
        pthread_sigmask(SIG_SETMASK, nullptr, &mask);
        for (int sig : {SIGINT, SIGTERM, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGHUP, SIGCHLD})
            if (!sigismember(&mask, sig)) unblocked.fetch_add(1);
    });
    EXPECT_EQ(unblocked.load(), 0);
    sigset_t after;
    pthread_sigmask(SIG_SETMASK, nullptr, &after);
    for (int sig = 1; sig < 32; ++sig) EXPECT_EQ(sigismember(&before, sig), sigismember(&after, sig)) << sig;
}
