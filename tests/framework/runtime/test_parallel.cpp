// The thread pool: chunking, every index once, nesting, exceptions, thread-count changes.
#include <atomic>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tapeflow/framework/runtime/parallel.hpp"
#include "test_util.hpp"

using namespace tapeflow;

namespace {
struct ThreadsGuard {
  int old = get_num_threads();
  ~ThreadsGuard() { set_num_threads(old); }
};
}  // namespace

TEST_CASE("parallel_for visits every index exactly once, in contiguous chunks") {
  ThreadsGuard guard;
  for (int threads : {1, 2, 3, 8}) {
    set_num_threads(threads);
    CHECK(get_num_threads() == threads);
    for (std::size_t n : {std::size_t(0), std::size_t(1), std::size_t(7), std::size_t(1000)}) {
      CAPTURE(threads);
      CAPTURE(n);
      std::vector<std::atomic<int>> hits(n);
      std::atomic<int> chunks{0};
      parallel_for(n, 10, [&](std::size_t a, std::size_t b) {
        CHECK(a < b);
        ++chunks;
        for (std::size_t i = a; i < b; ++i) ++hits[i];
      });
      for (std::size_t i = 0; i < n; ++i) CHECK(hits[i] == 1);
      // No more chunks than threads, and none smaller than the grain unless n is.
      CHECK(chunks <= threads);
      if (n >= 10) CHECK(chunks <= int(n / 10));
    }
  }
}

TEST_CASE("parallel work runs on several threads, nested regions run inline") {
  ThreadsGuard guard;
  set_num_threads(2);
  std::set<std::thread::id> ids;
  std::mutex mu;
  std::atomic<bool> second_started{false};
  parallel_parts(2, [&](std::size_t i) {
    {
      std::lock_guard<std::mutex> lock(mu);
      ids.insert(std::this_thread::get_id());
    }
    // Each part waits (bounded) for the other to start: only true parallelism lets both see it.
    if (i == 1) second_started = true;
    for (int spin = 0; spin < 2000 && !second_started; ++spin)
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    // A nested region runs on this thread only.
    const auto me = std::this_thread::get_id();
    parallel_for(100, 1,
                 [&](std::size_t, std::size_t) { CHECK(std::this_thread::get_id() == me); });
  });
  CHECK(ids.size() == 2);
}

TEST_CASE("an exception in a chunk reaches the caller, the pool keeps working") {
  ThreadsGuard guard;
  set_num_threads(2);
  CHECK_THROWS_AS(parallel_for(100, 1,
                               [](std::size_t a, std::size_t) {
                                 if (a > 0) throw std::runtime_error("chunk failed");
                               }),
                  std::runtime_error);
  std::atomic<int> sum{0};
  parallel_for(100, 1, [&](std::size_t a, std::size_t b) { sum += int(b - a); });
  CHECK(sum == 100);
}

TEST_CASE("set_num_threads rejects a count below 1") {
  TF_CHECK_ERROR(set_num_threads(0), "set_num_threads", ">= 1", "got 0");
}
