#pragma once
/// The memory behind every `Tensor`: small buffers come from `operator new`; buffers of 1 MiB
/// and more come from a cache of mappings backed by transparent huge pages where the system
/// offers them. A freed big buffer is kept (up to `cache_limit()` bytes in all) and handed to
/// the next tensor of about its size, so a training loop that makes the same shapes every step
/// stops paying the kernel's page faults (on a virtual machine a fresh 32 MiB buffer can cost
/// more to fault in than the convolution that fills it). PyTorch's caching allocators do the same.
///
/// Example:
/// ```
/// tapeflow::memory::set_cache_limit(std::size_t(256) << 20);  // keep at most 256 MiB
/// ...train...
/// tapeflow::memory::release_cached();                          // give it all back now
/// ```
#include <cstddef>
#include <new>

namespace tapeflow::memory {

/// Bytes of at least this size go through the cache.
inline constexpr std::size_t kLargeBytes = std::size_t(1) << 20;

/// Raw allocation (64-byte aligned); throws std::bad_alloc when the system has no memory.
void* allocate(std::size_t bytes);
/// Frees what `allocate(bytes)` returned (the same `bytes`).
void deallocate(void* p, std::size_t bytes) noexcept;

/// Bytes held in the cache now (freed, not yet reused or returned to the system).
std::size_t cached_bytes();
/// Returns every cached buffer to the system.
void release_cached();
/// The cache's byte limit (default 1 GiB, or the `TAPEFLOW_CACHE_LIMIT_MB` environment
/// variable); 0 disables the cache.
void set_cache_limit(std::size_t bytes);
std::size_t cache_limit();

/// Counters, for tests and benchmarks: how many big allocations reused a cached buffer and how
/// many needed a new mapping.
struct Stats {
  std::size_t reused = 0;
  std::size_t mapped = 0;
};
Stats stats();

/// While alive, any single allocation on this thread larger than `bytes` throws a
/// `tapeflow::Error` naming `what` instead of allocating (the model loader uses it so that a
/// corrupt file cannot make a rebuild allocate gigabytes). Scopes nest; the innermost wins.
/// Example: `tapeflow::memory::AllocationLimit limit(std::size_t(1) << 30, "load");`
class AllocationLimit {
 public:
  AllocationLimit(std::size_t bytes, const char* what);
  ~AllocationLimit();
  AllocationLimit(const AllocationLimit&) = delete;
  AllocationLimit& operator=(const AllocationLimit&) = delete;

 private:
  std::size_t previous_bytes_;
  const char* previous_what_;
};

/// The standard-library allocator over `allocate` / `deallocate` (Tensor's allocator).
template <class T>
struct Allocator {
  using value_type = T;
  Allocator() noexcept = default;
  template <class U>
  Allocator(const Allocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    if (n > std::size_t(-1) / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(memory::allocate(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept { memory::deallocate(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const Allocator<U>&) const noexcept {
    return true;
  }
  template <class U>
  bool operator!=(const Allocator<U>&) const noexcept {
    return false;
  }
};

}  // namespace tapeflow::memory
