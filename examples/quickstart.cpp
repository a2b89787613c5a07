// quickstart: trains two Conv3DTranspose layers to upsample 3-D volumes 2x.
//
// The data are smooth random blobs on a 16^3 grid; the network sees them average-pooled to 8^3
// and learns to reconstruct the full resolution. It shows the pieces of a tapeflow training
// program: layers with a regularizer and a constraint, a GradientTape, a loss plus the graph's
// regularization losses, and an optimizer that applies the constraint after each update.
//
//   quickstart [steps]      (default 150)
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <tapeflow.hpp>

namespace tf = tapeflow;

namespace {

// A batch of volumes (batch, 16, 16, 16, 1), each a sum of three Gaussian blobs.
tf::Tensor make_volumes(std::size_t batch, std::mt19937& rng) {
  const std::size_t n = 16;
  std::uniform_real_distribution<float> pos(3.f, 13.f), width(1.5f, 3.5f);
  tf::Tensor v = xt::zeros<float>({batch, n, n, n, std::size_t{1}});
  for (std::size_t b = 0; b < batch; ++b)
    for (int blob = 0; blob < 3; ++blob) {
      float cz = pos(rng), cy = pos(rng), cx = pos(rng), w = width(rng);
      for (std::size_t z = 0; z < n; ++z)
        for (std::size_t y = 0; y < n; ++y)
          for (std::size_t x = 0; x < n; ++x) {
            float d2 = (z - cz) * (z - cz) + (y - cy) * (y - cy) + (x - cx) * (x - cx);
            v(b, z, y, x, 0) += std::exp(-d2 / (2 * w * w));
          }
    }
  return v;
}

// 2x average pooling of (batch, 16, 16, 16, 1) to (batch, 8, 8, 8, 1).
tf::Tensor downsample(const tf::Tensor& v) {
  std::size_t batch = v.shape()[0], n = v.shape()[1] / 2;
  tf::Tensor out = xt::zeros<float>({batch, n, n, n, std::size_t{1}});
  for (std::size_t b = 0; b < batch; ++b)
    for (std::size_t z = 0; z < 2 * n; ++z)
      for (std::size_t y = 0; y < 2 * n; ++y)
        for (std::size_t x = 0; x < 2 * n; ++x)
          out(b, z / 2, y / 2, x / 2, 0) += v(b, z, y, x, 0) / 8.f;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int steps = 150;
  if (argc > 1) {
    char* end = nullptr;
    long s = std::strtol(argv[1], &end, 10);
    if (*end != '\0' || s <= 0 || s > 100000) {
      std::fprintf(stderr, "usage: quickstart [steps]   (steps: 1..100000, got '%s')\n", argv[1]);
      return 2;
    }
    steps = static_cast<int>(s);
  }
  tf::set_random_seed(42);
  std::mt19937 rng(42);

  using tf::layers::Conv3DTranspose;
  using tf::layers::Conv3DTransposeOptions;
  Conv3DTranspose up(Conv3DTransposeOptions(/*filters=*/8, /*kernel_size=*/3)
                         .strides(2)
                         .padding("same")
                         .activation("relu")
                         .kernel_regularizer(tf::regularizers::l2(1e-4))
                         .kernel_constraint(tf::constraints::max_norm(2.0)));
  Conv3DTranspose head(Conv3DTransposeOptions(/*filters=*/1, /*kernel_size=*/3).padding("same"));
  std::printf("model:\n  %s\n  %s\n", up.pretty_print().c_str(), head.pretty_print().c_str());

  tf::optim::Adam opt(tf::optim::AdamOptions().learning_rate(3e-3));
  tf::Tensor test_hi = make_volumes(8, rng);
  tf::Variable test_lo = downsample(test_hi);

  auto start = std::chrono::steady_clock::now();
  float first = 0, last = 0;
  for (int step = 0; step < steps; ++step) {
    tf::Tensor hi = make_volumes(4, rng);
    tf::Variable x = downsample(hi);
    tf::Variable target = hi;
    std::vector<tf::Variable> vars;
    tf::Variable loss;
    {
      tf::GradientTape tape;
      tf::Variable y = head(up(x));
      loss = tf::losses::mean_squared_error(target, y) + tf::get_regularization_loss();
      vars = up.trainable_variables();
      for (auto& v : head.trainable_variables()) vars.push_back(v);
      auto grads = tape.gradient(loss, vars);
      opt.apply_gradients(grads, vars);  // then each variable's constraint (max_norm)
    }
    if (step == 0) first = loss.item();
    last = loss.item();
    if (step % 25 == 0 || step == steps - 1)
      std::printf("step %4d  loss %.5f\n", step, static_cast<double>(loss.item()));
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // Held-out error against the naive nearest-neighbour upsampling of the same input.
  tf::Variable pred = head(up(test_lo));
  float mse = tf::losses::mean_squared_error(tf::Variable(test_hi), pred).item();
  tf::Tensor nearest = xt::zeros_like(test_hi);
  for (std::size_t b = 0; b < 8; ++b)
    for (std::size_t z = 0; z < 16; ++z)
      for (std::size_t y = 0; y < 16; ++y)
        for (std::size_t x = 0; x < 16; ++x)
          nearest(b, z, y, x, 0) = test_lo.value()(b, z / 2, y / 2, x / 2, 0);
  float base = tf::losses::mean_squared_error(tf::Variable(test_hi), tf::Variable(nearest)).item();
  std::printf("trained %d steps in %.1f s (%.1f steps/s); loss %.5f -> %.5f\n", steps, secs,
              steps / secs, static_cast<double>(first), static_cast<double>(last));
  std::printf("held-out MSE %.5f (nearest-neighbour upsampling: %.5f)\n", static_cast<double>(mse),
              static_cast<double>(base));
  return last < first ? 0 : 1;
}
