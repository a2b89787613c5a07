// A whole 3-D U-Net: tapeflow's functional model (the segmentation example's, examples/common/
// unet.*) against the same torch::nn::Module in one process, same weights, same thread count.
//
//   unet_bench [--reps N] [--warmup N] [--threads N] [--backend openblas|onednn|all]
//              [--tapeflow-only] [--no-memory]
//
// Batch 2 of 32^3 x 1 volumes, levels of 16/32/64 channels (Conv3D k3 + BatchNormalization +
// ReLU pairs, MaxPooling3D, Conv3DTranspose k2 s2, Concatenate skips), a sigmoid head, MSE,
// Adam. For each GEMM backend it alternates tapeflow and libtorch and prints the median
// training step (tapeflow: `train_on_batch`; libtorch: zero_grad, forward, mse_loss, backward,
// Adam step) and inference step (tapeflow: `predict`; libtorch: eval mode under NoGradGuard),
// then tapeflow's per-layer profile of both (tapeflow::profile: forward and backward ms per
// layer type, per step) and of the training step per layer. Before timing, it checks that both
// models give the same output for the same weights. Then (unless --no-memory) the peak memory of
// each side, each in a process of its own (this program restarted with --child-SIDE-MODE): the peak
// resident set above the process's before the model was made, and, over 100 training steps, how
// much the resident set and tapeflow's count of fresh big buffers grew after the first 10.
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "common/unet.hpp"
#include "conv_pair_timing.hpp"  // start_comparison
#include "harness.hpp"
#include "tapeflow/framework/core/memory.hpp"
#include "tapeflow/framework/core/profile.hpp"
#include "tapeflow/framework/runtime/gemm.hpp"
#include "tapeflow/framework/runtime/random.hpp"
#include "tapeflow/layers/batch_normalization.hpp"
#include "tapeflow/layers/conv.hpp"
#include "tapeflow/layers/conv3d_transpose.hpp"
#include "tapeflow/optim/adam.hpp"
#include "tapeflow/optim/training/run_options.hpp"

namespace tf = tapeflow;
namespace L = tapeflow::layers;
namespace nn = torch::nn;
using namespace tapeflow::bench;

namespace {

constexpr long kBatch = 2, kSize = 32, kChannels = 16;
constexpr float kLearningRate = 1e-3f;

// ---- libtorch's U-Net, module for module the same as examples::build_unet ------------------

// Conv3d (no bias) + BatchNorm3d + ReLU, twice. Keras' epsilon (1e-3) and the example's
// momentum 0.9 (PyTorch counts momentum the other way: 1 - 0.9).
struct ConvBlockImpl : nn::Module {
  ConvBlockImpl(long in, long out) {
    for (int k = 0; k < 2; ++k) {
      convs.push_back(register_module(
          "conv" + std::to_string(k),
          nn::Conv3d(nn::Conv3dOptions(k == 0 ? in : out, out, 3).padding(1).bias(false))));
      norms.push_back(
          register_module("bn" + std::to_string(k),
                          nn::BatchNorm3d(nn::BatchNormOptions(out).eps(1e-3).momentum(0.1))));
    }
  }
  torch::Tensor forward(torch::Tensor x) {
    for (int k = 0; k < 2; ++k) x = torch::relu(norms[k]->forward(convs[k]->forward(x)));
    return x;
  }
  std::vector<nn::Conv3d> convs;
  std::vector<nn::BatchNorm3d> norms;
};
TORCH_MODULE(ConvBlock);

struct UNetImpl : nn::Module {
  explicit UNetImpl(long ch)
      : d1(register_module("d1", ConvBlock(1, ch))),
        d2(register_module("d2", ConvBlock(ch, 2 * ch))),
        bottom(register_module("bottom", ConvBlock(2 * ch, 4 * ch))),
        up2(register_module(
            "up2", nn::ConvTranspose3d(nn::ConvTranspose3dOptions(4 * ch, 2 * ch, 2).stride(2)))),
        e2(register_module("e2", ConvBlock(4 * ch, 2 * ch))),
        up1(register_module(
            "up1", nn::ConvTranspose3d(nn::ConvTranspose3dOptions(2 * ch, ch, 2).stride(2)))),
        e1(register_module("e1", ConvBlock(2 * ch, ch))),
        head(register_module("head", nn::Conv3d(nn::Conv3dOptions(ch, 1, 1)))) {}
  torch::Tensor forward(torch::Tensor x) {
    auto a = d1->forward(x);
    auto b = d2->forward(torch::max_pool3d(a, 2));
    auto c = bottom->forward(torch::max_pool3d(b, 2));
    auto u = e2->forward(torch::cat({up2->forward(c), b}, 1));
    auto v = e1->forward(torch::cat({up1->forward(u), a}, 1));
    return torch::sigmoid(head->forward(v));
  }
  // The modules with weights in the order tapeflow's model lists its layers (the order they
  // first run): each block's conv, norm, conv, norm; the transposed convolutions; the head.
  std::vector<std::shared_ptr<nn::Module>> weighted_in_order() {
    std::vector<std::shared_ptr<nn::Module>> out;
    auto block = [&](ConvBlock& b) {
      for (int k = 0; k < 2; ++k) {
        out.push_back(b->convs[k].ptr());
        out.push_back(b->norms[k].ptr());
      }
    };
    block(d1), block(d2), block(bottom);
    out.push_back(up2.ptr());
    block(e2);
    out.push_back(up1.ptr());
    block(e1);
    out.push_back(head.ptr());
    return out;
  }
  ConvBlock d1, d2, bottom;
  nn::ConvTranspose3d up2;
  ConvBlock e2;
  nn::ConvTranspose3d up1;
  ConvBlock e1;
  nn::Conv3d head;
};
TORCH_MODULE(UNet);

torch::Tensor to_torch(const tf::Tensor& t, std::vector<long> shape, std::vector<long> perm) {
  return torch::from_blob(const_cast<float*>(t.data()), shape, torch::kFloat)
      .permute(perm)
      .contiguous();
}
std::vector<long> dims(const tf::Tensor& t) { return {t.shape().begin(), t.shape().end()}; }

// Gives libtorch's U-Net tapeflow's weights: kernels (kd, kh, kw, in, out) -> (out, in, kd, kh,
// kw), transposed kernels (kd, kh, kw, out, in) -> (in, out, kd, kh, kw); biases and the
// normalizations' gamma and beta as they are.
void copy_weights(tf::Model& model, UNet& net) {
  std::vector<std::shared_ptr<nn::Module>> torch_modules = net->weighted_in_order();
  std::size_t next = 0;
  torch::NoGradGuard no_grad;
  for (const auto& layer : model.layers()) {
    auto* conv = dynamic_cast<L::Conv3D*>(layer.get());
    auto* up = dynamic_cast<L::Conv3DTranspose*>(layer.get());
    auto* bn = dynamic_cast<L::BatchNormalization*>(layer.get());
    if (!conv && !up && !bn) continue;
    if (next == torch_modules.size()) throw std::runtime_error("libtorch's U-Net has fewer layers");
    nn::Module& m = *torch_modules[next++];
    if (conv || up) {
      const tf::Variable kernel = conv ? conv->kernel() : up->kernel();
      const tf::Variable bias = conv ? conv->bias() : up->bias();
      m.named_parameters()["weight"].copy_(
          to_torch(kernel.value(), dims(kernel.value()), {4, 3, 0, 1, 2}));
      if (bias.defined())
        m.named_parameters()["bias"].copy_(to_torch(bias.value(), dims(bias.value()), {0}));
    } else {
      m.named_parameters()["weight"].copy_(
          to_torch(bn->gamma().value(), dims(bn->gamma().value()), {0}));
      m.named_parameters()["bias"].copy_(
          to_torch(bn->beta().value(), dims(bn->beta().value()), {0}));
    }
  }
  if (next != torch_modules.size()) throw std::runtime_error("libtorch's U-Net has more layers");
}

// ---- the two sides' steps ------------------------------------------------------------------

struct TapeflowSide {
  std::shared_ptr<tf::Model> model = examples::build_unet({kSize, kSize, kSize, 1}, kChannels);
  tf::optim::Adam adam{tf::optim::AdamOptions().learning_rate(kLearningRate)};
  tf::Tensor x, y;
  TapeflowSide() {
    x = tf::random::uniform({kBatch, kSize, kSize, kSize, 1}, 0.f, 1.f, 1);
    y = tf::random::uniform({kBatch, kSize, kSize, kSize, 1}, 0.f, 1.f, 2);
    model->compile(adam, "mse");
  }
  void train() { model->train_on_batch(x, y); }
  tf::Tensor infer() {
    return model->predict(x, tf::training::PredictOptions().batch_size(kBatch).verbose(0));
  }
};

struct TorchSide {
  UNet net{kChannels};
  torch::optim::Adam adam{net->parameters(), torch::optim::AdamOptions(kLearningRate)};
  torch::Tensor x, y;
  explicit TorchSide(const TapeflowSide& tf_side) {
    copy_weights(*tf_side.model, net);
    x = to_torch(tf_side.x, dims(tf_side.x), {0, 4, 1, 2, 3});
    y = to_torch(tf_side.y, dims(tf_side.y), {0, 4, 1, 2, 3});
  }
  void train() {
    net->train();
    adam.zero_grad();
    torch::mse_loss(net->forward(x), y).backward();
    adam.step();
  }
  torch::Tensor infer() {
    net->eval();
    torch::NoGradGuard no_grad;
    return net->forward(x);
  }
};

// The largest difference between the two models' inference outputs (same weights, fresh
// normalization statistics): both compute the same function, in other orders.
double max_difference(TapeflowSide& a, TorchSide& b) {
  tf::Tensor ya = a.infer();
  torch::Tensor yb = b.infer().permute({0, 2, 3, 4, 1}).contiguous();
  const float* pb = yb.data_ptr<float>();
  double worst = 0;
  for (std::size_t i = 0; i < ya.size(); ++i)
    worst = std::max(worst, double(std::abs(ya.data()[i] - pb[i])));
  return worst;
}

// ---- peak memory, one side per process -----------------------------------------------------

const std::vector<std::string> kChildFlags = {"--child-tapeflow-train", "--child-tapeflow-infer",
                                              "--child-torch-train", "--child-torch-infer"};

// The resident set now, MiB (from /proc/self/status).
double rss_mib() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      double kb = 0;
      status >> kb;
      return kb / 1024.0;
    }
    status.ignore(1 << 10, '\n');
  }
  return 0;
}

// A child's work: one side, one mode, 100 steps; prints
// "peak_above_start rss_growth_after_10 mapped_growth_after_10 cached" on one line.
int run_child(const std::string& flag, const Args& args) {
  tf::set_num_threads(args.threads);
  torch::set_num_threads(args.threads);
  const double start = rss_mib();
  const bool train = flag.find("train") != std::string::npos;
  const bool on_torch = flag.find("torch") != std::string::npos;
  TapeflowSide tf_side;
  std::unique_ptr<TorchSide> th;
  if (on_torch) th = std::make_unique<TorchSide>(tf_side);
  double rss_at_10 = 0;
  std::size_t mapped_at_10 = 0;
  for (int step = 0; step < 100; ++step) {
    if (on_torch)
      train ? th->train() : void(th->infer());
    else
      train ? tf_side.train() : void(tf_side.infer());
    if (step == 9) {
      rss_at_10 = rss_mib();
      mapped_at_10 = tf::memory::stats().mapped;
    }
  }
  std::printf("%.1f %.1f %zu %.1f\n", double(peak_rss_mib()) - start, rss_mib() - rss_at_10,
              tf::memory::stats().mapped - mapped_at_10,
              double(tf::memory::cached_bytes()) / (1 << 20));
  return 0;
}

struct ChildResult {
  double peak = -1, growth = 0, cached = 0;
  std::size_t mapped_growth = 0;
};

ChildResult measure_in_child(const std::string& flag, const std::string& backend,
                             const Args& args) {
  const std::string command = "/proc/" + std::to_string(getpid()) + "/exe " + flag + " --backend " +
                              backend + " --threads " + std::to_string(args.threads);
  ChildResult r;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return r;
  if (std::fscanf(pipe, "%lf %lf %zu %lf", &r.peak, &r.growth, &r.mapped_growth, &r.cached) != 4)
    r.peak = -1;
  if (pclose(pipe) != 0) r.peak = -1;
  return r;
}

void print_memory(const std::string& backend, const Args& args) {
  std::printf(
      "\npeak memory, each side in a process of its own, 100 steps (MiB above the process "
      "before the model; growth: after step 10 to step 100):\n");
  std::printf("%-22s %10s %12s %14s %10s\n", "", "peak MiB", "RSS growth", "fresh buffers",
              "cached");
  for (const std::string& flag : kChildFlags) {
    if (!args.torch && flag.find("torch") != std::string::npos) continue;
    const ChildResult r = measure_in_child(flag, backend, args);
    if (r.peak < 0) {
      std::printf("%-22s (the child process failed)\n", flag.c_str() + 8);
      continue;
    }
    const bool tapeflow = flag.find("tapeflow") != std::string::npos;
    std::printf("%-22s %10.1f %12.1f %14s %10s\n", flag.c_str() + 8, r.peak, r.growth,
                tapeflow ? std::to_string(r.mapped_growth).c_str() : "-",
                tapeflow ? (mib(std::size_t(r.cached * (1 << 20))) + " MiB").c_str() : "-");
  }
}

// ---- the comparison ------------------------------------------------------------------------

void print_profile(const char* what, int steps, const std::function<void()>& step,
                   tf::profile::GroupBy group_by = tf::profile::GroupBy::layer_type) {
  tf::profile::enable(group_by);
  const double t0 = now_ms();
  for (int i = 0; i < steps; ++i) step();
  const double per_step = (now_ms() - t0) / steps;
  tf::profile::disable();
  std::printf(
      "\ntapeflow's %s, per step (%d steps profiled, %.1f ms each; profiling adds a "
      "clock read per layer call and op backward):\n%s",
      what, steps, per_step, tf::profile::summary(std::size_t(steps)).c_str());
}

void run_backend(const std::string& backend, const Args& args) {
  tf::gemm::set_backend(backend);
  std::printf("\nbackend %s: sgemm 2048^3 %.0f GFLOP/s\n", backend.c_str(),
              sgemm_gflops(args.warmup, args.reps));
  TapeflowSide tf_side;
  std::unique_ptr<TorchSide> th;
  if (args.torch) {
    th = std::make_unique<TorchSide>(tf_side);
    std::printf("same weights, inference outputs differ by at most %.2g\n",
                max_difference(tf_side, *th));
  }
  auto time = [&](const char* what, std::function<void()> tf_step,
                  std::function<void()> torch_step) {
    if (!args.torch) {
      std::printf("%-15s tapeflow %7.1f ms\n", what,
                  alternate({tf_step}, args.warmup, args.reps)[0]);
      return;
    }
    const auto t =
        alternate({tf_step, torch_side(torch_step, args.threads), torch_side(torch_step, 1)},
                  args.warmup, args.reps);
    const double torch_ms = std::min(t[1], t[2]);
    std::printf("%-15s tapeflow %7.1f ms   libtorch %7.1f ms   ratio %.2fx\n", what, t[0], torch_ms,
                torch_ms / t[0]);
  };
  time(
      "training step", [&] { tf_side.train(); }, [&] { th->train(); });
  time(
      "inference", [&] { tf_side.infer(); }, [&] { th->infer(); });
  print_profile("training step", 5, [&] { tf_side.train(); });
  print_profile("inference", 5, [&] { tf_side.infer(); });
  print_profile(
      "training step by layer", 5, [&] { tf_side.train(); }, tf::profile::GroupBy::layer);
  if (!args.has("--no-memory")) print_memory(backend, args);
}

}  // namespace

int main(int argc, char** argv) {
  restart_with_short_spin_waits(argv);
  std::vector<std::string> flags = kChildFlags;
  flags.push_back("--no-memory");
  const Args args = parse_args(argc, argv, "unet_bench", flags);
  for (const std::string& flag : kChildFlags)
    if (args.has(flag)) {
      tf::gemm::set_backend(args.backend);
      return run_child(flag, args);
    }
  start_comparison(args);
  const std::vector<std::string> backends = backends_to_run(args, "unet_bench");
  std::printf(
      "unet_bench: 3-D U-Net, batch %ld of %ld^3 x 1, levels %ld/%ld/%ld; %d threads, %d warm-up "
      "+ %d timed rounds (median); tapeflow channels_last vs libtorch %s NCDHW (the faster of "
      "OpenBLAS at %d threads and at 1 thread; ratio = libtorch ms / tapeflow ms, above 1: "
      "tapeflow faster)\n%s\n",
      kBatch, kSize, kChannels, 2 * kChannels, 4 * kChannels, args.threads, args.warmup, args.reps,
      TORCH_VERSION, args.threads, default_backend_line().c_str());
  for (const auto& b : backends) run_backend(b, args);
  std::printf("\npeak RSS of the process: %ld MiB\n", peak_rss_mib());
  return 0;
}
