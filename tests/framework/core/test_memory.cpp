// Tensor memory: alignment, the big-buffer cache (reuse, limit, release), and tensors using it.
#include <cstdint>
#include <cstring>

#include "tapeflow/framework/core/memory.hpp"
#include "tapeflow/framework/core/tensor.hpp"
#include "test_util.hpp"

using namespace tapeflow;

TEST_CASE("small and big buffers are 64-byte aligned and writable") {
  for (std::size_t bytes : {std::size_t(1), std::size_t(100), memory::kLargeBytes - 4,
                            memory::kLargeBytes, std::size_t(5) << 20}) {
    void* p = memory::allocate(bytes);
    CHECK(reinterpret_cast<std::uintptr_t>(p) % 64 == 0);
    std::memset(p, 0xab, bytes);
    CHECK(static_cast<unsigned char*>(p)[bytes - 1] == 0xab);
    memory::deallocate(p, bytes);
  }
}

#ifndef TAPEFLOW_MEMORY_NO_CACHE
TEST_CASE("a freed big buffer is reused for the next of about its size, within the limit") {
  const std::size_t old_limit = memory::cache_limit();
  memory::release_cached();
  CHECK(memory::cached_bytes() == 0);
  const std::size_t bytes = std::size_t(3) << 20;
  void* p = memory::allocate(bytes);
  memory::deallocate(p, bytes);
  CHECK(memory::cached_bytes() >= bytes);
  auto before = memory::stats();
  void* q = memory::allocate(bytes - 1000);  // same size class: the same buffer
  CHECK(q == p);
  CHECK(memory::stats().reused == before.reused + 1);
  CHECK(memory::cached_bytes() == 0);
  memory::deallocate(q, bytes - 1000);

  // A much smaller request does not take it (it would waste most of it).
  before = memory::stats();
  void* r = memory::allocate(std::size_t(1) << 20);
  CHECK(r != p);
  CHECK(memory::stats().mapped == before.mapped + 1);
  memory::deallocate(r, std::size_t(1) << 20);

  // Limit 0: nothing is kept.
  memory::set_cache_limit(0);
  CHECK(memory::cached_bytes() == 0);
  void* s = memory::allocate(bytes);
  memory::deallocate(s, bytes);
  CHECK(memory::cached_bytes() == 0);
  memory::set_cache_limit(old_limit);

  // Tensors use it: the second tensor of a training-step shape costs no new mapping.
  memory::release_cached();
  {
    Tensor t = Tensor::from_shape({512, 1024});
    t.fill(1.f);
  }
  before = memory::stats();
  {
    Tensor t = Tensor::from_shape({512, 1024});
    t.fill(2.f);
    CHECK(t(511, 1023) == 2.f);
  }
  CHECK(memory::stats().reused == before.reused + 1);
  CHECK(memory::stats().mapped == before.mapped);
  memory::release_cached();
  CHECK(memory::cached_bytes() == 0);
}
#endif

TEST_CASE("AllocationLimit: bigger allocations throw a named Error inside the scope only") {
  {
    memory::AllocationLimit limit(1 << 20, "unit test");
    TF_CHECK_ERROR(memory::allocate(std::size_t(2) << 20), "unit test", "2097152 bytes", "limit");
    void* ok = memory::allocate(1000);
    memory::deallocate(ok, 1000);
    {
      memory::AllocationLimit inner(100, "inner");
      TF_CHECK_ERROR(Tensor::from_shape({1000}), "inner");
    }
    TF_CHECK_ERROR(Tensor::from_shape({1 << 20}), "unit test");
  }
  Tensor big = Tensor::from_shape({1 << 20});  // 4 MiB: fine outside the scope
  CHECK(big.size() == std::size_t(1) << 20);
}
