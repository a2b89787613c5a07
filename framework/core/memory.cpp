#include "tapeflow/framework/core/memory.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

#include "tapeflow/framework/core/tensor.hpp"

namespace tapeflow::memory {

namespace {

constexpr std::size_t kAlign = 64;
constexpr std::size_t kHugePage = std::size_t(2) << 20;

// Sizes handed out for a request: multiples of 256 KiB below 16 MiB, of 2 MiB above (at most
// 25% / 12.5% more than asked), so that tensors of nearly the same size share cached buffers.
std::size_t size_class(std::size_t bytes) {
  const std::size_t step = bytes < (std::size_t(16) << 20) ? (std::size_t(256) << 10) : kHugePage;
  return (bytes + step - 1) / step * step;
}

std::size_t default_limit() {
  if (const char* env = std::getenv("TAPEFLOW_CACHE_LIMIT_MB")) {
    char* end = nullptr;
    unsigned long long mb = std::strtoull(env, &end, 10);
    if (end != env && *end == '\0') return std::size_t(mb) << 20;
  }
  return std::size_t(1) << 30;
}

// A 2 MiB-aligned anonymous mapping of `size` bytes, huge pages requested (the kernel backs each
// aligned 2 MiB extent with one page when it can: one fault instead of 512).
void* map_aligned(std::size_t size) {
  const std::size_t span = size + kHugePage;
  void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (start + kHugePage - 1) & ~(std::uintptr_t(kHugePage) - 1);
  if (aligned > start) ::munmap(raw, aligned - start);
  const std::uintptr_t end = start + span, used_end = aligned + size;
  if (end > used_end) ::munmap(reinterpret_cast<void*>(used_end), end - used_end);
  void* p = reinterpret_cast<void*>(aligned);
#ifdef MADV_HUGEPAGE
  ::madvise(p, size, MADV_HUGEPAGE);
#endif
  return p;
}

struct Cache {
  std::mutex mu;
  std::multimap<std::size_t, void*> free_blocks;  // size -> block
  std::unordered_map<void*, std::size_t> live;    // block -> size, for blocks in use
  std::size_t cached = 0;
  std::size_t limit = default_limit();
  Stats stats;

  // Returns cached blocks to the system, largest first, until `cached + incoming <= limit`.
  void evict_for(std::size_t incoming) {
    while (!free_blocks.empty() && cached + incoming > limit) {
      auto it = std::prev(free_blocks.end());
      ::munmap(it->second, it->first);
      cached -= it->first;
      free_blocks.erase(it);
    }
  }
};

// Never destroyed: tensors with static storage may be freed after any static destructor ran.
Cache& cache() {
  static Cache* c = new Cache;
  return *c;
}

#ifdef TAPEFLOW_MEMORY_NO_CACHE
constexpr bool kCacheEnabled = false;  // sanitizer builds: every buffer visible to ASan
#else
constexpr bool kCacheEnabled = true;
#endif

thread_local std::size_t t_limit = std::size_t(-1);
thread_local const char* t_limit_what = nullptr;

}  // namespace

AllocationLimit::AllocationLimit(std::size_t bytes, const char* what)
    : previous_bytes_(t_limit), previous_what_(t_limit_what) {
  t_limit = bytes;
  t_limit_what = what;
}

AllocationLimit::~AllocationLimit() {
  t_limit = previous_bytes_;
  t_limit_what = previous_what_;
}

void* allocate(std::size_t bytes) {
  if (bytes > t_limit)
    fail(t_limit_what ? t_limit_what : "memory",
         "a tensor of " + std::to_string(bytes) + " bytes is over the " + std::to_string(t_limit) +
             "-byte limit of this operation");
  if (!kCacheEnabled || bytes < kLargeBytes)
    return ::operator new(bytes == 0 ? 1 : bytes, std::align_val_t(kAlign));
  const std::size_t want = size_class(bytes);
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mu);
    auto it = c.free_blocks.lower_bound(want);
    if (it != c.free_blocks.end() && it->first <= want + want / 4) {
      void* p = it->second;
      c.cached -= it->first;
      c.live.emplace(p, it->first);
      c.free_blocks.erase(it);
      ++c.stats.reused;
      return p;
    }
  }
  void* p = map_aligned(want);
  std::lock_guard<std::mutex> lock(c.mu);
  c.live.emplace(p, want);
  ++c.stats.mapped;
  return p;
}

void deallocate(void* p, std::size_t bytes) noexcept {
  if (!p) return;
  if (!kCacheEnabled || bytes < kLargeBytes) {
    ::operator delete(p, std::align_val_t(kAlign));
    return;
  }
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  auto it = c.live.find(p);
  if (it == c.live.end()) return;  // not ours: nothing sane to do
  const std::size_t size = it->second;
  c.live.erase(it);
  if (size > c.limit) {
    ::munmap(p, size);
    return;
  }
  c.evict_for(size);
  c.free_blocks.emplace(size, p);
  c.cached += size;
}

std::size_t cached_bytes() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.cached;
}

void release_cached() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  for (auto& [size, p] : c.free_blocks) ::munmap(p, size);
  c.free_blocks.clear();
  c.cached = 0;
}

void set_cache_limit(std::size_t bytes) {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.limit = bytes;
  c.evict_for(0);
}

std::size_t cache_limit() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.limit;
}

Stats stats() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.stats;
}

}  // namespace tapeflow::memory
