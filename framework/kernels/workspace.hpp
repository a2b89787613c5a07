#pragma once
/// The scratch memory of the conv kernels (column buffers, padded slabs, packed kernels): one
/// byte budget per call and a peak counter that the benchmarks report.
#include <cstddef>

namespace tapeflow::kernels {

/// Byte budget of the column buffer or padded slab of one call (default 16 MiB: large enough
/// for efficient kernel-gradient GEMMs, whose inner dimension is the slab, small enough to stay
/// in L3); slabs are sized to fit it (at least one grid position, or plane, per slab).
void set_conv_workspace_limit(std::size_t bytes);
std::size_t conv_workspace_limit();
/// Largest workspace held at once by the conv kernels since the last reset, in bytes.
/// Example: `reset_conv_workspace_peak(); conv_forward(...); conv_workspace_peak_bytes();`
std::size_t conv_workspace_peak_bytes();
void reset_conv_workspace_peak();

/// An uninitialized float buffer whose size counts towards the workspace peak while alive. It
/// comes from tensor memory (framework/core/memory.hpp), whose cache reuses multi-MB buffers
/// from call to call (a fresh mapping's page faults would cost as much as the vol2col that
/// fills it). Uninitialized on purpose: its users write every entry before reading it, and
/// zeroing would be a wasted pass over several MB.
class Workspace {
 public:
  explicit Workspace(std::size_t floats);
  ~Workspace();
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  float* get() { return data_; }

 private:
  std::size_t bytes_;
  float* data_;
};

}  // namespace tapeflow::kernels
