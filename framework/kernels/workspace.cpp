#include "tapeflow/framework/kernels/workspace.hpp"

#include <atomic>

#include "tapeflow/framework/core/memory.hpp"

namespace tapeflow::kernels {

namespace {
std::atomic<std::size_t> workspace_limit{16u << 20};
std::atomic<std::size_t> workspace_live{0};
std::atomic<std::size_t> workspace_peak{0};
}  // namespace

Workspace::Workspace(std::size_t floats)
    : bytes_(floats * sizeof(float)), data_(static_cast<float*>(memory::allocate(bytes_))) {
  std::size_t live = workspace_live += bytes_;
  std::size_t peak = workspace_peak.load();
  while (live > peak && !workspace_peak.compare_exchange_weak(peak, live)) {
  }
}

Workspace::~Workspace() {
  workspace_live -= bytes_;
  memory::deallocate(data_, bytes_);
}

void set_conv_workspace_limit(std::size_t bytes) { workspace_limit = bytes; }
std::size_t conv_workspace_limit() { return workspace_limit.load(); }
std::size_t conv_workspace_peak_bytes() { return workspace_peak.load(); }
void reset_conv_workspace_peak() { workspace_peak = workspace_live.load(); }

}  // namespace tapeflow::kernels
