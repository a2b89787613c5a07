// Conv3D: tapeflow against libtorch and oneDNN's convolution primitives in one process, same
// shapes, same thread count.
//
//   conv3d_bench [--reps N] [--warmup N] [--threads N] [--backend openblas|onednn|all]
//                [--workload NAME] [--tapeflow-only] [--no-onednn-primitive] [--no-winograd]
//
// The ordinary convolutions of a 3-D U-Net (batch 2, stride 1, same padding), most of such a
// network's work. For each GEMM backend and workload it alternates tapeflow, libtorch and
// oneDNN's primitives (tapeflow channels_last, libtorch NCDHW, oneDNN the blocked layouts it
// chooses; tensors are made once, layout changes are not timed) and prints the median forward
// and forward+backward times, GFLOP/s, the libtorch/tapeflow and oneDNN/tapeflow ratios,
// tapeflow's peak conv workspace and the backend's own sgemm GFLOP/s; then the implementations
// oneDNN chose. `--no-onednn-primitive` leaves oneDNN's primitives out (so does --tapeflow-only);
// `--no-winograd` times tapeflow's direct kernel where Winograd's would run.
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "conv_pair_timing.hpp"
#include "harness.hpp"
#include "onednn_primitive.hpp"
#include "tapeflow/framework/core/tape.hpp"
#include "tapeflow/framework/kernels/conv_kernels.hpp"
#include "tapeflow/framework/kernels/winograd_conv.hpp"
#include "tapeflow/framework/runtime/gemm.hpp"
#include "tapeflow/framework/runtime/parallel.hpp"
#include "tapeflow/framework/runtime/random.hpp"
#include "tapeflow/layers/conv.hpp"

namespace tf = tapeflow;
namespace L = tapeflow::layers;
using namespace tapeflow::bench;

namespace {

struct Workload {
  std::string name;
  long batch, size, cin, filters, k;
};

struct Row : ConvPairTimes {
  double gflop_fwd = 0;
  std::string onednn_impls;  // when oneDNN's primitives were timed: the implementations chosen
};

Row run_workload(const Workload& w, const Args& args, bool time_onednn) {
  const std::size_t n = std::size_t(w.batch), d = std::size_t(w.size), c = std::size_t(w.cin);
  // tapeflow: channels_last input, layer with bias, same padding.
  tf::Tensor x_cl = tf::random::uniform({n, d, d, d, c}, -1.f, 1.f, 1);
  L::Conv3D layer(L::Conv3DOptions(w.filters, w.k).padding("same"));
  tf::Variable x(x_cl);
  tf::Variable y0 = layer(x);
  tf::Shape yshape(y0.value().shape().begin(), y0.value().shape().end());
  tf::Variable gy(tf::random::uniform(yshape, -1.f, 1.f, 2));

  // libtorch: the same values in NCDHW; kernel (out, in, kd, kh, kw) from TF's (kd, kh, kw, in,
  // out); padding k / 2 is TF's same for an odd kernel at stride 1.
  torch::nn::Conv3d conv(torch::nn::Conv3dOptions(w.cin, w.filters, w.k).padding(w.k / 2));
  torch::Tensor tx =
      torch::from_blob(x_cl.data(), {w.batch, w.size, w.size, w.size, w.cin}, torch::kFloat)
          .permute({0, 4, 1, 2, 3})
          .contiguous();
  {
    torch::NoGradGuard ng;
    const auto& K = layer.kernel().value();
    conv->weight.copy_(torch::from_blob(const_cast<float*>(K.data()),
                                        {w.k, w.k, w.k, w.cin, w.filters}, torch::kFloat)
                           .permute({4, 3, 0, 1, 2}));
    conv->bias.zero_();
  }
  tx.set_requires_grad(true);
  torch::Tensor tgy = torch::rand_like(conv->forward(tx.detach()));

  // oneDNN: the same input, kernel, bias and output gradient; TF's same padding, the smaller
  // half before.
  std::unique_ptr<OnednnConv> onednn;
  std::string impls;
  if (time_onednn) {
    const long before = (w.k - 1) / 2, after = w.k - 1 - before;
    const Conv3DGeometry g{false,
                           w.batch,
                           w.cin,
                           w.filters,
                           {w.size, w.size, w.size},
                           {w.k, w.k, w.k},
                           {1, 1, 1},
                           {before, before, before},
                           {after, after, after}};
    onednn =
        std::make_unique<OnednnConv>(g, x_cl.data(), layer.kernel().value().data(),
                                     layer.bias().value().data(), gy.value().data(), args.threads);
    impls = onednn->implementations();
  }

  const double gflop_fwd =
      2.0 * w.batch * w.size * w.size * w.size * w.cin * w.filters * w.k * w.k * w.k / 1e9;
  return Row{time_conv_pair(layer, x, gy, conv, tx, tgy, args, onednn.get(), w.name), gflop_fwd,
             impls};
}

}  // namespace

int main(int argc, char** argv) {
  restart_with_short_spin_waits(argv);
  const Args args =
      parse_args(argc, argv, "conv3d_bench", {"--no-onednn-primitive", "--no-winograd"});
  if (args.has("--no-winograd")) tf::kernels::set_winograd_conv(false);
  const bool onednn = start_comparison(args);
  const std::vector<std::string> backends = backends_to_run(args, "conv3d_bench");

  // The U-Net's convolutions (issue 20's shapes): two levels of 3x3x3 pairs and the 1x1x1 head.
  const std::vector<Workload> workloads = {
      {"u32", 2, 32, 16, 16, 3},
      {"u16", 2, 16, 32, 32, 3},
      {"u8", 2, 8, 64, 64, 3},
      {"head", 2, 32, 16, 1, 1},
  };
  std::printf(
      "conv3d_bench: %d threads, %d warm-up + %d timed rounds (median), tapeflow channels_last "
      "vs libtorch %s NCDHW vs oneDNN %s primitives (blocked layouts)\n(libtorch: the faster of "
      "OpenBLAS at %d threads and at 1 thread; 'torch/tf', 'dnnl/tf' = libtorch's, oneDNN's "
      "ms / tapeflow ms, above 1: tapeflow faster; oneDNN timed in each backend's rounds)"
      "\n%s\n",
      args.threads, args.warmup, args.reps, TORCH_VERSION, onednn_version().c_str(), args.threads,
      default_backend_line().c_str());
  // oneDNN's primitives do not use tapeflow's GEMM backend, but they are timed again in each
  // backend's rounds: this VM's speed drifts over minutes, and only sides timed in the same
  // round compare. Their implementations are listed once.
  OnednnImplList onednn_impls;
  for (const auto& b : backends) {
    tf::gemm::set_backend(b);
    const double peak = sgemm_gflops(args.warmup, args.reps);
    std::printf("\nbackend %s: sgemm 2048^3 %.0f GFLOP/s\n", b.c_str(), peak);
    print_pair_header(5, 7);
    for (const auto& w : workloads) {
      if (!args.workload.empty() && args.workload != w.name) continue;
      Row r = run_workload(w, args, onednn);
      onednn_impls.add(w.name, r.onednn_impls);
      print_pair_row(w.name, r, r.gflop_fwd, peak, 5, 7);
    }
  }
  onednn_impls.print();
  std::printf("\npeak RSS of the process: %ld MiB\n", peak_rss_mib());
  return 0;
}
