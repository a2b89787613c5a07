#pragma once
// Times one tapeflow convolution layer against the same libtorch module and, when given, oneDNN's
// primitives for the same convolution: the comparison both conv3d_bench and
// conv3d_transpose_bench make (header-only: it needs libtorch, the harness does not).
#include <torch/torch.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "harness.hpp"
#include "onednn_primitive.hpp"
#include "tapeflow/framework/core/tape.hpp"
#include "tapeflow/framework/kernels/conv_kernels.hpp"
#include "tapeflow/framework/runtime/parallel.hpp"
#include "tapeflow/framework/runtime/random.hpp"

namespace tapeflow::bench {

/// Median ms of each side, forward and forward+backward, and tapeflow's peak conv workspace.
/// A side not timed has 0 ms.
struct ConvPairTimes {
  double tf_fwd = 0, th_fwd = 0, tf_fb = 0, th_fb = 0;
  double dnnl_fwd = 0, dnnl_fb = 0;  // oneDNN's convolution / deconvolution primitives
  std::size_t workspace = 0;
};

/// Exits with an error unless oneDNN's forward equals tapeflow `layer`'s on `x` (same kernel and
/// bias) to 1e-4 of the output's largest magnitude: both sides time the same convolution.
template <class Layer>
void require_same_forward(OnednnConv& onednn, Layer& layer, const Variable& x,
                          const std::string& workload) {
  const Variable y = [&] {
    StopRecording pause;
    return layer(x);
  }();
  const double diff = onednn.forward_relative_difference(y.value().data());
  if (!(diff < 1e-4)) {
    std::fprintf(stderr,
                 "error: %s: oneDNN's forward differs from tapeflow's by %.3g of the output's "
                 "largest magnitude: not the same convolution\n",
                 workload.c_str(), diff);
    std::exit(1);
  }
}

/// tapeflow `layer` on `x` (its gradients of the input, kernel and bias from output gradient
/// `gy`) against libtorch `module` on `tx` (which requires grad) with output gradient `tgy`, and
/// against `onednn` (the same convolution's oneDNN primitives, first checked against tapeflow's
/// output by `require_same_forward`; nullptr: not timed), all in one `alternate` round-robin, so
/// every side runs in the same state of the machine. libtorch is timed with OpenBLAS at
/// `args.threads` threads and at one (see `torch_side`); the faster is reported. With
/// `--tapeflow-only` libtorch's times are 0.
template <class Layer, class Module>
ConvPairTimes time_conv_pair(Layer& layer, const Variable& x, const Variable& gy, Module& module,
                             torch::Tensor& tx, const torch::Tensor& tgy, const Args& args,
                             OnednnConv* onednn, const std::string& workload) {
  auto tf_fwd = [&] {
    StopRecording pause;
    Variable y = layer(x);
  };
  auto tf_fb = [&] {
    GradientTape tape;
    tape.watch(x);
    Variable y = layer(x);
    auto g = tape.gradient(y, {x, layer.kernel(), layer.bias()}, gy);
  };
  auto th_fwd = [&] {
    torch::NoGradGuard ng;
    torch::Tensor y = module->forward(tx);
  };
  auto th_fb = [&] {
    torch::Tensor y = module->forward(tx);
    y.backward(tgy);
    tx.mutable_grad() = torch::Tensor();
    module->zero_grad(/*set_to_none=*/true);
  };
  const std::function<void()> skip = [] {};
  std::function<void()> dnnl_fwd = skip, dnnl_fb = skip;
  if (onednn) {
    require_same_forward(*onednn, layer, x, workload);
    dnnl_fwd = [onednn] { onednn->forward(); };
    dnnl_fb = [onednn] { onednn->forward_backward(); };
  }
  kernels::reset_conv_workspace_peak();
  const int bt = args.threads;
  const auto t = args.torch
                     ? alternate({tf_fwd, torch_side(th_fwd, bt), torch_side(th_fwd, 1), dnnl_fwd,
                                  tf_fb, torch_side(th_fb, bt), torch_side(th_fb, 1), dnnl_fb},
                                 args.warmup, args.reps)
                     : alternate({tf_fwd, skip, skip, dnnl_fwd, tf_fb, skip, skip, dnnl_fb},
                                 args.warmup, args.reps);
  ConvPairTimes r;
  r.tf_fwd = t[0];
  r.th_fwd = args.torch ? std::min(t[1], t[2]) : 0.0;
  r.dnnl_fwd = onednn ? t[3] : 0.0;
  r.tf_fb = t[4];
  r.th_fb = args.torch ? std::min(t[5], t[6]) : 0.0;
  r.dnnl_fb = onednn ? t[7] : 0.0;
  r.workspace = kernels::conv_workspace_peak_bytes();
  return r;
}

/// What both comparison benchmarks do first after parsing their arguments: both frameworks on
/// `args.threads` threads (libtorch's intra-op pool is OpenMP, shared with oneDNN), both seeded
/// with 1. Returns whether oneDNN's primitives are to be timed (not with `--tapeflow-only` or
/// `--no-onednn-primitive`, nor in a build without oneDNN, which it says).
inline bool start_comparison(const Args& args) {
  torch::set_num_threads(args.threads);
  set_num_threads(args.threads);
  set_random_seed(1);
  torch::manual_seed(1);
  if (!args.torch || args.has("--no-onednn-primitive")) return false;
  if (!onednn_primitives_available())
    std::printf("(oneDNN primitives: tapeflow was built without oneDNN, left out)\n");
  return onednn_primitives_available();
}

/// The comparison table both benchmarks print: its header, then one row per workload
/// (`name_width` and `ws_width` size the name and workspace columns). `gflop_fwd` is the
/// workload's forward GFLOP; `peak` the backend's sgemm GFLOP/s.
inline void print_pair_header(int name_width, int ws_width) {
  std::printf("%-*s | %9s %9s %9s %7s %8s %7s | %9s %9s %9s %7s %8s %7s | %6s %*s\n", name_width,
              "", "tf fwd", "torch fwd", "dnnl fwd", "tf GF/s", "torch/tf", "dnnl/tf", "tf f+b",
              "torch f+b", "dnnl f+b", "tf GF/s", "torch/tf", "dnnl/tf", "%peak", ws_width,
              "ws MiB");
}
inline void print_pair_row(const std::string& name, const ConvPairTimes& r, double gflop_fwd,
                           double peak, int name_width, int ws_width) {
  std::printf(
      "%-*s | %7.2fms %7.2fms %7.2fms %7.0f %7.2fx %6.2fx | %7.2fms %7.2fms %7.2fms %7.0f "
      "%7.2fx %6.2fx | %5.0f%% %*s\n",
      name_width, name.c_str(), r.tf_fwd, r.th_fwd, r.dnnl_fwd, gflop_fwd / r.tf_fwd * 1e3,
      r.th_fwd / r.tf_fwd, r.dnnl_fwd / r.tf_fwd, r.tf_fb, r.th_fb, r.dnnl_fb,
      3 * gflop_fwd / r.tf_fb * 1e3, r.th_fb / r.tf_fb, r.dnnl_fb / r.tf_fb,
      100.0 * gflop_fwd / r.tf_fwd * 1e3 / peak, ws_width, mib(r.workspace).c_str());
  std::fflush(stdout);
}

/// The implementations oneDNN chose, one line per workload however many backends time it.
class OnednnImplList {
 public:
  void add(const std::string& workload, const std::string& impls) {
    if (!impls.empty() && listed_.insert(workload).second)
      lines_.push_back(workload + ": " + impls);
  }
  void print() const {
    if (!lines_.empty()) std::printf("\noneDNN's implementations:\n");
    for (const auto& line : lines_) std::printf("  %s\n", line.c_str());
  }

 private:
  std::set<std::string> listed_;
  std::vector<std::string> lines_;
};

}  // namespace tapeflow::bench
