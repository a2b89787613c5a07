// Conv3DTranspose: tapeflow against libtorch and oneDNN's deconvolution primitives in one
// process, same shapes, same thread count.
//
//   conv3d_transpose_bench [--reps N] [--warmup N] [--threads N] [--backend openblas|onednn|all]
//                          [--workload NAME] [--tapeflow-only] [--no-generator]
//                          [--no-onednn-primitive]
//
// For each GEMM backend and workload it alternates tapeflow, libtorch and oneDNN's primitives
// (tapeflow channels_last, libtorch NCDHW, oneDNN the blocked layouts it chooses; tensors are
// made once, layout changes are not timed) and prints the median forward and forward+backward
// times, GFLOP/s, the libtorch/tapeflow and oneDNN/tapeflow ratios, tapeflow's peak conv
// workspace, and the backend's own sgemm GFLOP/s; then the implementations oneDNN chose. Then
// one training step of a small 3-D generator in tapeflow and libtorch, and tapeflow's profile of
// that step by layer type.
// `--no-onednn-primitive` leaves oneDNN's primitives out (so does --tapeflow-only).
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "conv_pair_timing.hpp"
#include "harness.hpp"
#include "onednn_primitive.hpp"
#include "tapeflow/framework/core/profile.hpp"
#include "tapeflow/framework/core/tape.hpp"
#include "tapeflow/framework/kernels/conv_kernels.hpp"
#include "tapeflow/framework/ops/activations.hpp"
#include "tapeflow/framework/ops/losses.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/framework/runtime/gemm.hpp"
#include "tapeflow/framework/runtime/parallel.hpp"
#include "tapeflow/framework/runtime/random.hpp"
#include "tapeflow/layers/batch_normalization.hpp"
#include "tapeflow/layers/conv3d_transpose.hpp"
#include "tapeflow/layers/dense.hpp"
#include "tapeflow/layers/reshaping.hpp"
#include "tapeflow/optim/adam.hpp"

namespace tf = tapeflow;
namespace L = tapeflow::layers;
using namespace tapeflow::bench;

namespace {

struct Workload {
  std::string name;
  long batch, size, cin, filters, k, s;
  std::string padding;
};

// ConvTranspose3d padding / output_padding giving TF's output size (in * s for same,
// (in - 1) * s + k for valid). Same-size FLOPs either way.
void torch_padding(const Workload& w, long& pad, long& out_pad) {
  if (w.padding == "valid") {
    pad = 0;
    out_pad = std::max(0L, w.s - w.k);
    return;
  }
  long total = std::max(w.k - w.s, 0L);  // (in-1)*s + k - in*s
  pad = (total + 1) / 2;
  out_pad = 2 * pad - total;
}

struct Row : ConvPairTimes {
  std::string backend, name;
  double gflop_fwd = 0;
  std::string onednn_impls;  // when oneDNN's primitives were timed: the implementations chosen
};

Row run_workload(const Workload& w, const Args& args, const std::string& backend,
                 bool time_onednn) {
  // tapeflow: channels_last input, layer with bias.
  tf::Tensor x_cl =
      tf::random::uniform({std::size_t(w.batch), std::size_t(w.size), std::size_t(w.size),
                           std::size_t(w.size), std::size_t(w.cin)},
                          -1.f, 1.f, 1);
  L::Conv3DTranspose layer(
      L::Conv3DTransposeOptions(w.filters, w.k).strides(w.s).padding(w.padding));
  tf::Variable x(x_cl);
  tf::Variable y0 = layer(x);
  tf::Shape yshape(y0.value().shape().begin(), y0.value().shape().end());
  tf::Variable gy(tf::random::uniform(yshape, -1.f, 1.f, 2));

  // libtorch: the same values in NCDHW; kernel (in, out, kd, kh, kw) from TF's (kd, kh, kw, out,
  // in).
  long pad, out_pad;
  torch_padding(w, pad, out_pad);
  torch::nn::ConvTranspose3d conv(torch::nn::ConvTranspose3dOptions(w.cin, w.filters, w.k)
                                      .stride(w.s)
                                      .padding(pad)
                                      .output_padding(out_pad));
  torch::Tensor tx =
      torch::from_blob(x_cl.data(), {w.batch, w.size, w.size, w.size, w.cin}, torch::kFloat)
          .permute({0, 4, 1, 2, 3})
          .contiguous();
  {
    torch::NoGradGuard ng;
    const auto& K = layer.kernel().value();
    torch::Tensor tk = torch::from_blob(const_cast<float*>(K.data()),
                                        {w.k, w.k, w.k, w.filters, w.cin}, torch::kFloat)
                           .permute({4, 3, 0, 1, 2})
                           .contiguous();
    conv->weight.copy_(tk);
    conv->bias.zero_();
  }
  tx.set_requires_grad(true);
  torch::Tensor ty0 = conv->forward(tx.detach());
  torch::Tensor tgy = torch::rand_like(ty0);
  if (ty0.size(2) != long(yshape[1]) || ty0.size(3) != long(yshape[2]) ||
      ty0.size(4) != long(yshape[3]))
    std::fprintf(stderr, "warning: %s: libtorch output size differs from tapeflow's\n",
                 w.name.c_str());

  // oneDNN: the same input, kernel, bias and output gradient. A deconvolution's pads are those
  // of the convolution it is the input gradient of: (in - 1) * s + k - out in all, placed as
  // tapeflow places them (the smaller half before, framework/ops/conv.hpp), not as libtorch.
  std::unique_ptr<OnednnConv> onednn;
  std::string impls;
  if (time_onednn) {
    Conv3DGeometry g;
    g.transposed = true;
    g.batch = w.batch;
    g.in_channels = w.cin;
    g.out_channels = w.filters;
    for (std::size_t a = 0; a < 3; ++a) {
      const long total = (w.size - 1) * w.s + w.k - long(yshape[a + 1]);
      g.in_size[a] = w.size;
      g.kernel[a] = w.k;
      g.stride[a] = w.s;
      g.pad_before[a] = total / 2;
      g.pad_after[a] = total - total / 2;
    }
    onednn =
        std::make_unique<OnednnConv>(g, x_cl.data(), layer.kernel().value().data(),
                                     layer.bias().value().data(), gy.value().data(), args.threads);
    impls = onednn->implementations();
  }

  const double gflop_fwd =
      2.0 * w.batch * w.size * w.size * w.size * w.cin * w.filters * w.k * w.k * w.k / 1e9;
  return Row{time_conv_pair(layer, x, gy, conv, tx, tgy, args, onednn.get(), w.name), backend,
             w.name, gflop_fwd, impls};
}

// ---- generator training step --------------------------------------------------------------

struct GenResult {
  double tf_ms = 0, th_ms = 0;
  std::string profile;  // tapeflow's step by layer type, per step
};

GenResult run_generator(const Args& args) {
  const long batch = 8, latent = 64;
  // tapeflow: Dense -> (4,4,4,128) -> [Conv3DTranspose(k4,s2,same) -> BN -> ReLU] x2 ->
  // Conv3DTranspose(1) -> 32^3 volume, MSE against a target, Adam.
  L::Dense fc(L::DenseOptions(4 * 4 * 4 * 128));
  L::Reshape reshape(L::ReshapeOptions({4, 4, 4, 128}));
  L::Conv3DTranspose up1(L::Conv3DTransposeOptions(64, 4).strides(2).padding("same"));
  L::BatchNormalization bn1(L::BatchNormalizationOptions{});
  L::Conv3DTranspose up2(L::Conv3DTransposeOptions(32, 4).strides(2).padding("same"));
  L::BatchNormalization bn2(L::BatchNormalizationOptions{});
  L::Conv3DTranspose up3(L::Conv3DTransposeOptions(1, 4).strides(2).padding("same"));
  tf::optim::Adam opt(tf::optim::AdamOptions().learning_rate(1e-3f));
  tf::Tensor z = tf::random::normal({std::size_t(batch), std::size_t(latent)}, 0.f, 1.f, 3);
  tf::Tensor target = tf::random::uniform({std::size_t(batch), 32, 32, 32, 1}, 0.f, 1.f, 4);
  auto forward = [&](bool training) {
    tf::Variable h = reshape(fc(tf::Variable(z)));
    h = tf::activations::relu(bn1(up1(h), training));
    h = tf::activations::relu(bn2(up2(h), training));
    return up3(h);
  };
  forward(false);
  std::vector<tf::Variable> vars;
  for (L::Layer* l : std::initializer_list<L::Layer*>{&fc, &up1, &bn1, &up2, &bn2, &up3})
    for (auto& v : l->trainable_variables()) vars.push_back(v);
  auto tf_step = [&] {
    opt.minimize(
        [&] { return tf::losses::mean_squared_error(tf::Variable(target), forward(true)); }, vars);
  };

  namespace nn = torch::nn;
  nn::Sequential gen(
      nn::Linear(latent, 4 * 4 * 4 * 128), nn::Unflatten(1, std::vector<long>{128, 4, 4, 4}),
      nn::ConvTranspose3d(nn::ConvTranspose3dOptions(128, 64, 4).stride(2).padding(1)),
      nn::BatchNorm3d(64), nn::ReLU(),
      nn::ConvTranspose3d(nn::ConvTranspose3dOptions(64, 32, 4).stride(2).padding(1)),
      nn::BatchNorm3d(32), nn::ReLU(),
      nn::ConvTranspose3d(nn::ConvTranspose3dOptions(32, 1, 4).stride(2).padding(1)));
  torch::optim::Adam topt(gen->parameters(), torch::optim::AdamOptions(1e-3));
  torch::Tensor tz = torch::randn({batch, latent});
  torch::Tensor ttarget = torch::rand({batch, 1, 32, 32, 32});
  auto th_step = [&] {
    topt.zero_grad();
    torch::Tensor loss = torch::mse_loss(gen->forward(tz), ttarget);
    loss.backward();
    topt.step();
  };
  GenResult r;
  if (!args.torch) {
    r.tf_ms = alternate({tf_step}, args.warmup, args.reps)[0];
  } else {
    auto t = alternate({tf_step, torch_side(th_step, args.threads), torch_side(th_step, 1)},
                       args.warmup, args.reps);
    r.tf_ms = t[0];
    r.th_ms = std::min(t[1], t[2]);
  }
  // Where tapeflow's step goes, by layer type (Dense, Conv3DTranspose, BatchNormalization; the
  // ReLUs are ops outside any layer, listed by op name).
  constexpr int kProfiled = 5;
  tf::profile::enable();
  for (int i = 0; i < kProfiled; ++i) tf_step();
  tf::profile::disable();
  r.profile = tf::profile::summary(kProfiled);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  restart_with_short_spin_waits(argv);
  const Args args =
      parse_args(argc, argv, "conv3d_transpose_bench", {"--no-generator", "--no-onednn-primitive"});
  const bool onednn = start_comparison(args);
  const std::vector<std::string> backends = backends_to_run(args, "conv3d_transpose_bench");

  const std::vector<Workload> workloads = {
      {"gan", 8, 8, 128, 64, 4, 2, "same"},  {"unet", 2, 16, 64, 32, 2, 2, "valid"},
      {"k3s1", 4, 16, 32, 32, 3, 1, "same"}, {"k3s2", 2, 12, 16, 16, 3, 2, "same"},
      {"big", 1, 32, 64, 32, 3, 2, "same"},
  };

  std::printf(
      "conv3d_transpose_bench: %d threads, %d warm-up + %d timed rounds (median), "
      "tapeflow channels_last vs libtorch %s NCDHW vs oneDNN %s primitives (blocked layouts)\n"
      "(libtorch: the faster of OpenBLAS at %d threads and at 1 thread; 'torch/tf', 'dnnl/tf' = "
      "libtorch's, oneDNN's ms / tapeflow ms, above 1: tapeflow faster; oneDNN timed in each "
      "backend's rounds)\n",
      args.threads, args.warmup, args.reps, TORCH_VERSION, onednn_version().c_str(), args.threads);
  std::printf("%s\n", default_backend_line().c_str());
  // oneDNN's primitives do not use tapeflow's GEMM backend, but they are timed again in each
  // backend's rounds: this VM's speed drifts over minutes, and only sides timed in the same
  // round compare. Their implementations are listed once.
  OnednnImplList onednn_impls;
  std::vector<Row> rows;
  for (const auto& b : backends) {
    tf::gemm::set_backend(b);
    double peak = sgemm_gflops(args.warmup, args.reps);
    std::printf("\nbackend %s: sgemm 2048^3 %.0f GFLOP/s\n", b.c_str(), peak);
    print_pair_header(6, 9);
    for (const auto& w : workloads) {
      if (!args.workload.empty() && args.workload != w.name) continue;
      Row r = run_workload(w, args, b, onednn);
      onednn_impls.add(w.name, r.onednn_impls);
      rows.push_back(r);
      print_pair_row(r.name, r, r.gflop_fwd, peak, 6, 9);
    }
    if (!args.has("--no-generator")) {
      GenResult g = run_generator(args);
      std::printf(
          "generator training step (batch 8, 4^3 -> 32^3): tapeflow %.1f ms, libtorch %.1f ms, "
          "ratio %.2fx\n",
          g.tf_ms, g.th_ms, g.th_ms / g.tf_ms);
      std::printf("tapeflow's generator step by layer type, per step:\n%s", g.profile.c_str());
    }
  }
  onednn_impls.print();
  // Workspace must not grow with the batch: the gan layer at three batch sizes.
  std::printf("\nworkspace vs batch (gan shape, fwd+bwd):");
  for (long batch : {1L, 8L, 32L}) {
    L::Conv3DTranspose layer(L::Conv3DTransposeOptions(64, 4).strides(2).padding("same"));
    tf::Variable x(tf::random::uniform({std::size_t(batch), 8, 8, 8, 128}, -1.f, 1.f, 5));
    tf::kernels::reset_conv_workspace_peak();
    tf::GradientTape tape;
    tape.watch(x);
    tf::Variable y = layer(x);
    tape.gradient(y, {x, layer.kernel()});
    std::printf("  batch %ld: %s MiB", batch,
                mib(tf::kernels::conv_workspace_peak_bytes()).c_str());
  }
  std::printf("\npeak RSS of the process: %ld MiB\n", peak_rss_mib());
  return 0;
}
