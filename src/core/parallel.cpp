// parallel_for: see include/rulake/core/parallel.hpp for the contract.
//
// Work is split into chunks handed out through an atomic counter. Workers are std::threads created while
// the calling thread has every signal blocked (new threads inherit the mask), so process-directed signals
// are only ever delivered to the calling thread; the caller's mask is restored right after the spawn.
// The calling thread sleeps on a condition variable in slices of at most kPollInterval and polls
// should_cancel() between slices. Workers are always joined before parallel_for returns or throws.
#include "rulake/core/parallel.hpp"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "rulake/core/error.hpp"

namespace rulake::core {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(10);
constexpr size_t kChunksPerThread = 64;  // enough chunks to balance uneven work and stop soon on cancel

// Shared between the calling thread and the workers.
struct Job {
    const std::function<void(size_t, size_t)>* body;
    size_t n, chunk_size, chunks;
    std::atomic<size_t> next_chunk{0};
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::condition_variable done;
    unsigned running = 0;            // guarded by mutex
    std::exception_ptr first_error;  // guarded by mutex

    void work() {
        while (!stop.load(std::memory_order_relaxed)) {
            const size_t chunk = next_chunk.fetch_add(1, std::memory_order_relaxed);
            if (chunk >= chunks) break;
            const size_t begin = chunk * chunk_size;
            const size_t end = std::min(n, begin + chunk_size);
            try {
                (*body)(begin, end);
            } catch (...) {
                std::lock_guard<std::mutex> lock(mutex);
                if (!first_error) first_error = std::current_exception();
                stop.store(true);
            }
        }
        std::lock_guard<std::mutex> lock(mutex);
        --running;
        done.notify_all();
    }
};

// Joins every started worker on scope exit, whatever happens on the calling thread.
struct JoinAll {
    Job& job;
    std::vector<std::thread>& threads;
    ~JoinAll() {
        job.stop.store(true);
        for (std::thread& t : threads)
            if (t.joinable()) t.join();
    }
};

}  // namespace

void parallel_for(size_t n, unsigned threads, const std::function<void(size_t begin, size_t end)>& body,
                  const std::function<bool()>& should_cancel) {
    if (n == 0) return;
    const size_t workers_wanted = std::max(1u, threads);
    Job job;
    job.body = &body;
    job.n = n;
    job.chunk_size = std::max<size_t>(1, (n + workers_wanted * kChunksPerThread - 1) / (workers_wanted * kChunksPerThread));
    job.chunks = (n + job.chunk_size - 1) / job.chunk_size;
    const size_t workers = std::min(workers_wanted, job.chunks);

    std::vector<std::thread> pool;
    pool.reserve(workers);
    JoinAll join_all{job, pool};
    {
        sigset_t all, previous;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &previous);
        try {
            for (size_t i = 0; i < workers; ++i) {
                {
                    std::lock_guard<std::mutex> lock(job.mutex);
                    ++job.running;
                }
                try {
                    pool.emplace_back([&job] { job.work(); });
                } catch (...) {
                    std::lock_guard<std::mutex> lock(job.mutex);
                    --job.running;
                    throw;
                }
            }
        } catch (...) {
            pthread_sigmask(SIG_SETMASK, &previous, nullptr);
            throw;  // join_all stops and joins the workers already started
        }
        pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    }

    bool cancelled = false;
    std::unique_lock<std::mutex> lock(job.mutex);
    while (job.running > 0) {
        job.done.wait_for(lock, kPollInterval);
        if (job.running == 0 || cancelled || !should_cancel) continue;
        lock.unlock();
        try {
            cancelled = should_cancel();
        } catch (...) {
            job.stop.store(true);
            throw;  // join_all joins
        }
        if (cancelled) job.stop.store(true);
        lock.lock();
    }
    std::exception_ptr error = job.first_error;
    lock.unlock();
    for (std::thread& t : pool) t.join();
    if (error) std::rethrow_exception(error);
    if (cancelled) throw Error(ErrorKind::Cancelled, "computation cancelled");
}

}  // namespace rulake::core
