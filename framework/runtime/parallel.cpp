#include "tapeflow/framework/runtime/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tapeflow/framework/core/tensor.hpp"

namespace tapeflow {

namespace {

// True on the pool's workers, and on a caller while it runs a region: nested regions run inline.
thread_local bool in_region = false;

int default_threads() {
  if (const char* env = std::getenv("TAPEFLOW_NUM_THREADS")) {
    char* end = nullptr;
    long n = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && n >= 1 && n <= 1024) return int(n);
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : int(hw);
}

// Workers sleep on a condition variable between regions, with no spinning: the cores stay free
// for whoever needs them (measured: even a 50 us spin made small ops slower on this 2-vCPU
// virtual machine). One region runs at a time; a caller that finds the pool busy (another user
// thread is in a region) runs its region inline instead of waiting.
class Pool {
 public:
  Pool() : threads_(default_threads()) { start(); }
  ~Pool() { stop(); }

  int size() const { return threads_; }

  void resize(int n) {
    std::lock_guard<std::mutex> region(region_mu_);
    stop();
    threads_ = n;
    start();
  }

  void run(std::size_t parts, const std::function<void(std::size_t)>& f) {
    if (parts == 0) return;
    std::unique_lock<std::mutex> region(region_mu_, std::try_to_lock);
    if (parts == 1 || in_region || !region.owns_lock() || workers_.empty()) {
      for (std::size_t i = 0; i < parts; ++i) f(i);
      return;
    }
    {
      // No worker may still be inside work() when the next region's counters are reset: one
      // that was would claim the new region's parts before `pending_` counts them, and the
      // caller would then wait for them forever (seen as a hang of a small conv's two short
      // back-to-back regions on a loaded 2-vCPU machine).
      std::unique_lock<std::mutex> lock(mu_);
      cv_done_.wait(lock, [&] { return active_ == 0; });
      job_ = &f;
      parts_ = parts;
      next_ = 0;
      pending_ = parts;
      error_ = nullptr;
      generation_.fetch_add(1);
    }
    cv_work_.notify_all();
    in_region = true;
    work();
    in_region = false;
    std::unique_lock<std::mutex> lock(mu_);
    cv_done_.wait(lock, [&] { return pending_.load() == 0 && active_ == 0; });
    job_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void start() {
    stopping_ = false;
    for (int i = 1; i < threads_; ++i) workers_.emplace_back([this] { loop(); });
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_work_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  // Takes parts until none is left.
  void work() {
    for (;;) {
      std::size_t i = next_.fetch_add(1);
      if (i >= parts_) return;
      try {
        (*job_)(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu_);
        if (!error_) error_ = std::current_exception();
      }
      if (pending_.fetch_sub(1) == 1) {
        std::lock_guard<std::mutex> lock(mu_);
        cv_done_.notify_all();
      }
    }
  }

  void loop() {
    in_region = true;
    std::uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_work_.wait(lock, [&] { return stopping_.load() || generation_.load() != seen; });
        if (stopping_) return;
        seen = generation_.load();
        ++active_;
      }
      work();
      std::lock_guard<std::mutex> lock(mu_);
      if (--active_ == 0) cv_done_.notify_all();
    }
  }

  int threads_;
  std::vector<std::thread> workers_;
  std::mutex region_mu_;  // one region at a time
  std::mutex mu_;
  std::condition_variable cv_work_, cv_done_;
  const std::function<void(std::size_t)>* job_ = nullptr;
  std::size_t parts_ = 0;
  std::atomic<std::size_t> next_{0};
  std::atomic<std::size_t> pending_{0};
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<bool> stopping_{false};
  int active_ = 0;  // workers inside work(), guarded by mu_
  std::exception_ptr error_;
};

Pool& pool() {
  static Pool p;
  return p;
}

}  // namespace

void set_num_threads(int n) {
  if (n < 1) fail("set_num_threads", "the thread count must be >= 1, got " + std::to_string(n));
  if (n != pool().size()) pool().resize(n);
}

int get_num_threads() { return pool().size(); }

void parallel_parts(std::size_t parts, const std::function<void(std::size_t)>& f) {
  pool().run(parts, f);
}

void parallel_for(std::size_t n, std::size_t grain,
                  const std::function<void(std::size_t, std::size_t)>& f) {
  if (n == 0) return;
  grain = std::max<std::size_t>(grain, 1);
  std::size_t parts =
      std::min<std::size_t>(std::size_t(get_num_threads()), (n + grain - 1) / grain);
  if (parts <= 1 || in_region) {
    f(0, n);
    return;
  }
  pool().run(parts, [&](std::size_t i) { f(n * i / parts, n * (i + 1) / parts); });
}

}  // namespace tapeflow
