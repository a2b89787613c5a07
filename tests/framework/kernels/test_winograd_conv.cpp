// The Winograd F(2x2x2, 3x3x3) convolution: when it applies, and the same results as the direct
// kernel (and the naive sum) for 'same', 'valid' and wider padding, odd sizes that leave partial
// tiles, with and without a bias, at any thread count; and the input gradient of a Conv3D, which
// runs through it.
#include <cmath>
#include <vector>

#include "kernel_test_util.hpp"
#include "tapeflow/framework/kernels/winograd_conv.hpp"
#include "tapeflow/framework/ops/conv.hpp"
#include "tapeflow/framework/runtime/gemm.hpp"
#include "tapeflow/framework/runtime/parallel.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using kernels::ConvGeometry;
using test::max_rel_diff;
using test::random_floats;

namespace {

struct WinogradSettingsGuard {
  int threads = get_num_threads();
  bool winograd = kernels::winograd_conv_enabled();
  std::size_t limit = kernels::conv_workspace_limit();
  ~WinogradSettingsGuard() {
    set_num_threads(threads);
    kernels::set_winograd_conv(winograd);
    kernels::set_conv_workspace_limit(limit);
  }
};

ConvGeometry conv3(std::size_t batch, std::vector<std::size_t> image, std::size_t ci,
                   std::size_t co, long pad_before, long pad_after) {
  return ConvGeometry::forward(3, batch, image, ci, co, {3, 3, 3}, {1, 1, 1}, {1, 1, 1},
                               {pad_before, pad_before, pad_before},
                               {pad_after, pad_after, pad_after});
}

// conv_forward with the Winograd kernel on or off (then the direct kernel or vol2col runs).
std::vector<float> forward(const ConvGeometry& g, bool winograd, bool with_bias, unsigned seed) {
  kernels::set_winograd_conv(winograd);
  auto image = random_floats(g.image_positions() * g.image_channels, seed);
  auto kernel = random_floats(g.kernel_size(), seed + 1);
  auto bias = random_floats(g.grid_channels, seed + 2);
  std::vector<float> out(g.grid_positions() * g.grid_channels, 7.f);
  kernels::conv_forward(g, image.data(), kernel.data(), out.data(),
                        with_bias ? bias.data() : nullptr);
  return out;
}

// The definition, for one small case: y[n, z, y, x, co] = b[co] + sum over taps and ci.
std::vector<float> naive(const ConvGeometry& g, unsigned seed) {
  auto image = random_floats(g.image_positions() * g.image_channels, seed);
  auto kernel = random_floats(g.kernel_size(), seed + 1);
  auto bias = random_floats(g.grid_channels, seed + 2);
  const std::size_t Ci = g.image_channels, Co = g.grid_channels;
  std::vector<float> out(g.grid_positions() * Co);
  for (std::size_t n = 0; n < g.batch; ++n)
    for (std::size_t z = 0; z < g.grid[0]; ++z)
      for (std::size_t y = 0; y < g.grid[1]; ++y)
        for (std::size_t x = 0; x < g.grid[2]; ++x)
          for (std::size_t co = 0; co < Co; ++co) {
            double s = bias[co];
            for (std::size_t a = 0; a < 3; ++a)
              for (std::size_t b = 0; b < 3; ++b)
                for (std::size_t c = 0; c < 3; ++c) {
                  const long iz = long(z + a) - g.pad_before[0], iy = long(y + b) - g.pad_before[1],
                             ix = long(x + c) - g.pad_before[2];
                  if (iz < 0 || iy < 0 || ix < 0 || iz >= long(g.image[0]) ||
                      iy >= long(g.image[1]) || ix >= long(g.image[2]))
                    continue;
                  const float* in =
                      image.data() +
                      (((n * g.image[0] + iz) * g.image[1] + iy) * g.image[2] + ix) * Ci;
                  const float* w = kernel.data() + ((a * 3 + b) * 3 + c) * Ci * Co + co;
                  for (std::size_t ci = 0; ci < Ci; ++ci) s += double(in[ci]) * w[ci * Co];
                }
            out[(((n * g.grid[0] + z) * g.grid[1] + y) * g.grid[2] + x) * Co + co] = float(s);
          }
  return out;
}

}  // namespace

TEST_CASE("winograd_conv_applies: 3-D 3x3x3, unit strides and dilation, channels in vectors") {
  WinogradSettingsGuard guard;
  kernels::set_winograd_conv(true);
  const ConvGeometry unet = conv3(2, {8, 8, 8}, 16, 32, 1, 1);
  CHECK(kernels::winograd_conv_applies(unet) == gemm::has_avx2());
  CHECK_FALSE(kernels::winograd_conv_applies(conv3(2, {8, 8, 8}, 12, 32, 1, 1)));  // Ci % 8
  CHECK_FALSE(kernels::winograd_conv_applies(conv3(2, {8, 8, 8}, 16, 8, 1, 1)));   // Co % 16
  CHECK_FALSE(kernels::winograd_conv_applies(unet.with_groups(2)));
  CHECK_FALSE(kernels::winograd_conv_applies(ConvGeometry::forward(
      3, 2, {8, 8, 8}, 16, 16, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1})));
  CHECK_FALSE(kernels::winograd_conv_applies(ConvGeometry::forward(
      3, 2, {8, 8, 8}, 16, 16, {3, 3, 3}, {1, 1, 1}, {2, 2, 2}, {2, 2, 2}, {2, 2, 2})));
  CHECK_FALSE(kernels::winograd_conv_applies(ConvGeometry::forward(
      3, 2, {8, 8, 8}, 16, 16, {3, 3, 5}, {1, 1, 1}, {1, 1, 1}, {1, 1, 2}, {1, 1, 2})));
  CHECK_FALSE(kernels::winograd_conv_applies(
      ConvGeometry::forward(2, 2, {8, 8}, 16, 16, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1})));  // 2-D
  // The transformed kernel (64 x Ci x Co floats) must fit the workspace limit.
  kernels::set_conv_workspace_limit(64 * 16 * 32 * sizeof(float) - 1);
  CHECK_FALSE(kernels::winograd_conv_applies(unet));
  kernels::set_conv_workspace_limit(guard.limit);
  kernels::set_winograd_conv(false);
  CHECK_FALSE(kernels::winograd_conv_applies(unet));
}

TEST_CASE("winograd: the convolution of the direct kernel and of the definition, any threads") {
  if (!gemm::has_avx2()) {
    MESSAGE("this processor has no AVX2: the Winograd kernel never runs here");
    return;
  }
  WinogradSettingsGuard guard;
  const std::vector<ConvGeometry> geometries = {
      conv3(2, {6, 5, 7}, 8, 16, 1, 1),     // 'same', odd sizes: partial tiles
      conv3(1, {9, 8, 4}, 16, 32, 0, 0),    // 'valid'
      conv3(1, {4, 4, 4}, 24, 16, 2, 2),    // padding beyond 'same': a larger output
      conv3(3, {2, 3, 2}, 8, 48, 1, 1),     // fewer tiles than one block's rows
      conv3(1, {16, 16, 16}, 32, 32, 1, 1)  // many blocks
  };
  for (const auto& g : geometries) {
    CAPTURE(g.str());
    kernels::set_winograd_conv(true);
    REQUIRE(kernels::winograd_conv_applies(g));
    for (bool with_bias : {true, false}) {
      CAPTURE(with_bias);
      const std::vector<float> direct = forward(g, false, with_bias, 51);
      std::vector<float> first;
      for (int threads : {1, 2, 3}) {
        CAPTURE(threads);
        set_num_threads(threads);
        const std::vector<float> got = forward(g, true, with_bias, 51);
        CHECK(max_rel_diff(got, direct) < 2e-5);
        // Each tile is one thread's work in a fixed order: bit-identical at any thread count.
        if (first.empty())
          first = got;
        else
          CHECK(got == first);
      }
    }
  }
  const ConvGeometry small = geometries[0];
  CHECK(max_rel_diff(forward(small, true, true, 52), naive(small, 52)) < 2e-5);
}

TEST_CASE("winograd: a Conv3D's input gradient (a flipped-kernel convolution) as the direct one") {
  if (!gemm::has_avx2()) return;
  WinogradSettingsGuard guard;
  // 16 -> 16 channels: both the forward and the input gradient's convolution qualify.
  Variable x(test::random_tensor({2, 6, 7, 5, 16}, 61));
  Variable k(test::random_tensor({3, 3, 3, 16, 16}, 62), /*trainable=*/true);
  const Tensor gy = test::random_tensor({2, 6, 7, 5, 16}, 63);
  auto grads = [&](bool winograd) {
    kernels::set_winograd_conv(winograd);
    GradientTape tape;
    tape.watch(x);
    Variable y = conv(x, k, ConvOptions().padding("same"));
    auto g = tape.gradient(y, {x, k}, Variable(gy));
    return std::vector<Tensor>{y.value(), g[0].value(), g[1].value()};
  };
  const auto on = grads(true), off = grads(false);
  for (std::size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    const std::vector<float> a(on[i].begin(), on[i].end()), b(off[i].begin(), off[i].end());
    CHECK(max_rel_diff(a, b) < 2e-5);
  }
}
