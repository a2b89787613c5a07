// distributed_bench: what data-parallel training costs and gains, per training step, for the
// 3-D U-Net (batch 2, 32^3 x 1, levels 16/32/64) and the 3-D generator (batch 8, 4^3 -> 32^3)
// of bench/conv3d_transpose_bench. Run it as one process and under the launcher:
//
//   distributed_bench [--model unet|generator|all] [--steps 8] [--threads N]
//   mpirun -np 2 distributed_bench ...
//
// The global batch is the same either way; each of R ranks computes 1/R of it. Per model it
// prints the median over --steps steps (after 2 warm-up steps) of
// - compute: forward + backward + update of this rank's part, no communication;
// - step: the data-parallel step (DistributedGradientTape: bucketed all-reduces overlapping the
//   backward pass, then the update);
// - allreduce: the same buckets reduced after the backward pass (the whole communication);
// - exposed: what the data-parallel step waited for the reduces after its backward pass;
// and the gradient bytes. overlap = 1 - exposed / allreduce.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <tapeflow.hpp>
#include <vector>
#include <xtensor/xview.hpp>

namespace tf = tapeflow;
namespace D = tapeflow::distributed;
namespace L = tapeflow::layers;

namespace {

struct Workload {
  std::string name;
  std::shared_ptr<tf::Model> model;
  tf::Tensor x, y;  // the global batch
};

tf::SymbolicTensor conv_bn_relu(tf::SymbolicTensor x, long filters) {
  x = L::Conv3D(L::Conv3DOptions(filters, 3).padding("same").use_bias(false))(x);
  x = L::BatchNormalization()(x);
  return L::Activation(L::ActivationOptions("relu"))(x);
}

Workload unet() {
  auto in = tf::Input({32, 32, 32, 1});
  auto d1 = conv_bn_relu(conv_bn_relu(in, 16), 16);
  auto d2 = conv_bn_relu(conv_bn_relu(L::MaxPooling3D(L::MaxPooling3DOptions(2))(d1), 32), 32);
  auto b = conv_bn_relu(conv_bn_relu(L::MaxPooling3D(L::MaxPooling3DOptions(2))(d2), 64), 64);
  auto u2 = L::Conv3DTranspose(L::Conv3DTransposeOptions(32, 2).strides(2))(b);
  auto e2 = conv_bn_relu(conv_bn_relu(L::Concatenate()({u2, d2}), 32), 32);
  auto u1 = L::Conv3DTranspose(L::Conv3DTransposeOptions(16, 2).strides(2))(e2);
  auto e1 = conv_bn_relu(conv_bn_relu(L::Concatenate()({u1, d1}), 16), 16);
  auto out = L::Conv3D(L::Conv3DOptions(1, 1).activation("sigmoid"))(e1);
  return {"unet", std::make_shared<tf::Model>(in, out),
          tf::random::uniform({2, 32, 32, 32, 1}, 0.f, 1.f, 1),
          tf::random::uniform({2, 32, 32, 32, 1}, 0.f, 1.f, 2)};
}

Workload generator() {
  auto z = tf::Input({64});
  auto h =
      L::Reshape(L::ReshapeOptions({4, 4, 4, 128}))(L::Dense(L::DenseOptions(4 * 4 * 4 * 128))(z));
  for (long filters : {64L, 32L}) {
    h = L::Conv3DTranspose(L::Conv3DTransposeOptions(filters, 4).strides(2).padding("same"))(h);
    h = L::Activation(L::ActivationOptions("relu"))(L::BatchNormalization()(h));
  }
  auto out = L::Conv3DTranspose(L::Conv3DTransposeOptions(1, 4).strides(2).padding("same"))(h);
  return {"generator", std::make_shared<tf::Model>(z, out),
          tf::random::normal({8, 64}, 0.f, 1.f, 3),
          tf::random::uniform({8, 32, 32, 32, 1}, 0.f, 1.f, 4)};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double seconds_of(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void run(Workload w, int steps) {
  const std::size_t rows = w.x.shape()[0];
  const auto r = static_cast<std::size_t>(D::rank()), n = static_cast<std::size_t>(D::size());
  const std::size_t lo = r * rows / n, hi = (r + 1) * rows / n;
  tf::Tensor x = xt::view(w.x, xt::range(lo, hi)), y = xt::view(w.y, xt::range(lo, hi));
  auto opt = std::make_shared<tf::optim::Adam>();
  D::DistributedOptimizer dist(opt);
  dist.broadcast_state(w.model->variables());
  const auto vars = w.model->trainable_variables();
  auto loss = [&] {
    return tf::losses::mean_squared_error(tf::Variable(y), (*w.model)(tf::Variable(x), true));
  };
  D::GradientReducer after;  // the same buckets, reduced after the backward pass
  std::vector<double> compute, step, allreduce, exposed;
  for (int s = 0; s < steps + 2; ++s) {
    std::vector<tf::Variable> local;
    const double c = seconds_of([&] {
      tf::GradientTape tape;
      local = tape.gradient(loss(), vars);
      opt->apply_gradients(local, vars);
    });
    D::barrier();
    const double a = seconds_of([&] { after.reduce(local, vars, D::equal_share()); });
    D::barrier();
    const double t = seconds_of([&] { dist.minimize(loss, vars); });
    if (s < 2) continue;
    compute.push_back(c);
    allreduce.push_back(a);
    step.push_back(t);
    exposed.push_back(dist.reducer().last_stats().wait_seconds);
  }
  if (!D::is_chief()) return;
  const auto& st = dist.reducer().last_stats();
  const double ar = median(allreduce), ex = median(exposed);
  std::printf(
      "%-9s ranks %d, threads %d, global batch %zu: compute %.1f ms, step %.1f ms, allreduce "
      "%.2f ms, exposed %.2f ms (overlap %.0f%%), %.2f MB of gradients in %zu buckets (%zu "
      "started during backward)\n",
      w.name.c_str(), D::size(), tf::get_num_threads(), rows, 1e3 * median(compute),
      1e3 * median(step), 1e3 * ar, 1e3 * ex, ar > 0 ? 100.0 * std::max(0.0, 1.0 - ex / ar) : 0.0,
      st.bytes / 1e6, st.buckets, st.started_early);
}

}  // namespace

int main(int argc, char** argv) {
  D::init();
  std::string which = "all";
  int steps = 8, threads = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--model")
      which = argv[i + 1];
    else if (k == "--steps")
      steps = std::atoi(argv[i + 1]);
    else if (k == "--threads")
      threads = std::atoi(argv[i + 1]);
  }
  // Default: the machine's cores shared by the ranks on it (2 cores: 2 threads alone, 1 each).
  tf::set_num_threads(threads > 0 ? threads : std::max(1, 2 / D::size()));
  tf::set_random_seed(1);
  if (which == "all" || which == "unet") run(unet(), steps);
  if (which == "all" || which == "generator") run(generator(), steps);
  return 0;
}
