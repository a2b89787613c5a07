#pragma once
// Times one tapeflow convolution layer against the same libtorch module, the comparison both
// conv3d_bench and conv3d_transpose_bench make (header-only: it needs libtorch, the harness
// does not).
#include <torch/torch.h>

#include <algorithm>
#include <cstddef>

#include "harness.hpp"
#include "tapeflow/framework/core/tape.hpp"
#include "tapeflow/framework/kernels/conv_kernels.hpp"

namespace tapeflow::bench {

/// Median ms of each side, forward and forward+backward, and tapeflow's peak conv workspace.
struct ConvPairTimes {
  double tf_fwd = 0, th_fwd = 0, tf_fb = 0, th_fb = 0;
  std::size_t workspace = 0;
};

/// tapeflow `layer` on `x` (its gradients of the input, kernel and bias from output gradient
/// `gy`) against libtorch `module` on `tx` (which requires grad) with output gradient `tgy`,
/// alternating as `alternate`. libtorch is timed with OpenBLAS at `args.threads` threads and at
/// one (see `torch_side`); the faster is reported. With `--tapeflow-only` libtorch's times are 0.
template <class Layer, class Module>
ConvPairTimes time_conv_pair(Layer& layer, const Variable& x, const Variable& gy, Module& module,
                             torch::Tensor& tx, const torch::Tensor& tgy, const Args& args) {
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
  kernels::reset_conv_workspace_peak();
  auto skip = [] {};
  const int bt = args.threads;
  const auto t = args.torch
                     ? alternate({tf_fwd, torch_side(th_fwd, bt), torch_side(th_fwd, 1), tf_fb,
                                  torch_side(th_fb, bt), torch_side(th_fb, 1)},
                                 args.warmup, args.reps)
                     : alternate({tf_fwd, skip, skip, tf_fb, skip, skip}, args.warmup, args.reps);
  ConvPairTimes r;
  r.tf_fwd = t[0];
  r.th_fwd = args.torch ? std::min(t[1], t[2]) : 0.0;
  r.tf_fb = t[3];
  r.th_fb = args.torch ? std::min(t[4], t[5]) : 0.0;
  r.workspace = kernels::conv_workspace_peak_bytes();
  return r;
}

}  // namespace tapeflow::bench
