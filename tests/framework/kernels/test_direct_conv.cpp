#include <cmath>
#include <vector>

#include "kernel_test_util.hpp"
#include "tapeflow/framework/kernels/direct_conv.hpp"
#include "tapeflow/framework/kernels/winograd_conv.hpp"
#include "tapeflow/framework/runtime/gemm.hpp"
#include "tapeflow/framework/runtime/parallel.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using kernels::ConvGeometry;
using test::max_rel_diff;
using test::random_floats;

namespace {

// Restores the settings a test changes.
struct SettingsGuard {
  std::size_t limit = kernels::conv_workspace_limit();
  int threads = get_num_threads();
  bool direct = kernels::direct_conv_enabled();
  bool winograd = kernels::winograd_conv_enabled();
  // The direct kernel is what these tests compare: Winograd's (tested on its own) stays off.
  SettingsGuard() { kernels::set_winograd_conv(false); }
  ~SettingsGuard() {
    kernels::set_conv_workspace_limit(limit);
    set_num_threads(threads);
    kernels::set_direct_conv(direct);
    kernels::set_winograd_conv(winograd);
  }
};

struct Results {
  std::vector<float> out, gkernel, gkernel_accumulated;
};

// conv_forward (with bias), conv_kernel_grad and conv_kernel_grad accumulating onto 0.5, with the
// direct kernels on or off.
Results run(const ConvGeometry& g, bool direct, unsigned seed) {
  kernels::set_direct_conv(direct);
  auto image = random_floats(g.image_positions() * g.image_channels, seed);
  auto kernel = random_floats(g.kernel_size(), seed + 1);
  auto bias = random_floats(g.grid_channels, seed + 2);
  auto gy = random_floats(g.grid_positions() * g.grid_channels, seed + 3);
  Results r;
  r.out.assign(g.grid_positions() * g.grid_channels, 7.f);
  kernels::conv_forward(g, image.data(), kernel.data(), r.out.data(), bias.data());
  r.gkernel.assign(kernel.size(), 7.f);
  kernels::conv_kernel_grad(g, image.data(), gy.data(), r.gkernel.data());
  r.gkernel_accumulated.assign(kernel.size(), 0.5f);
  kernels::conv_kernel_grad(g, image.data(), gy.data(), r.gkernel_accumulated.data(), true);
  return r;
}

// Unit-stride geometries the U-Net and the zoo run: channel counts around the 16-wide tile
// (a partial block, a full one plus a partial one), rows that do not fill the 6-position tiles,
// dilation along x (one segment per tap), asymmetric and negative trailing pads, 1-D and 2-D.
std::vector<ConvGeometry> unit_stride_geometries() {
  return {
      ConvGeometry::forward(3, 2, {6, 6, 6}, 5, 20, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1},
                            {1, 1, 1}),
      ConvGeometry::forward(3, 1, {4, 5, 9}, 16, 16, {3, 3, 3}, {1, 1, 1}, {1, 2, 2}, {1, 2, 2},
                            {1, 2, 2}),
      ConvGeometry::forward(3, 2, {5, 4, 4}, 1, 7, {3, 2, 3}, {1, 1, 1}, {1, 1, 1}, {0, 1, 2},
                            {2, 0, -1}),
      ConvGeometry::forward(2, 2, {7, 10}, 3, 33, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}),
      ConvGeometry::forward(1, 3, {13}, 6, 9, {5}, {1}, {3}, {2}, {0}),
  };
}

}  // namespace

TEST_CASE("direct_conv_applies: unit strides, one group, columns needed, AVX2, plane fits") {
  SettingsGuard guard;
  auto unet = ConvGeometry::forward(3, 2, {8, 8, 8}, 16, 16, {3, 3, 3}, {1, 1, 1}, {1, 1, 1},
                                    {1, 1, 1}, {1, 1, 1});
  CHECK(kernels::direct_conv_applies(unet) == gemm::has_avx2());
  auto strided = ConvGeometry::forward(3, 2, {8, 8, 8}, 16, 16, {3, 3, 3}, {1, 2, 1}, {1, 1, 1},
                                       {1, 1, 1}, {1, 1, 1});
  CHECK_FALSE(kernels::direct_conv_applies(strided));
  CHECK_FALSE(kernels::direct_conv_applies(unet.with_groups(2)));
  auto one_by_one = ConvGeometry::forward(3, 2, {8, 8, 8}, 16, 16, {1, 1, 1}, {1, 1, 1}, {1, 1, 1},
                                          {0, 0, 0}, {0, 0, 0});
  CHECK_FALSE(kernels::direct_conv_applies(one_by_one));
  // One padded plane with its depth halo: 3 planes of 10 x 10 x 16 floats.
  kernels::set_conv_workspace_limit(3 * 10 * 10 * 16 * sizeof(float) - 1);
  CHECK_FALSE(kernels::direct_conv_applies(unet));
  kernels::set_conv_workspace_limit(3 * 10 * 10 * 16 * sizeof(float));
  CHECK(kernels::direct_conv_applies(unet) == gemm::has_avx2());
  kernels::set_direct_conv(false);
  CHECK_FALSE(kernels::direct_conv_applies(unet));
}

TEST_CASE(
    "direct kernels: the same convolution and kernel gradient as vol2col + GEMM, for any slab "
    "size and thread count") {
  if (!gemm::has_avx2()) {
    MESSAGE("this processor has no AVX2: the direct kernels never run here");
    return;
  }
  SettingsGuard guard;
  for (const auto& g : unit_stride_geometries()) {
    CAPTURE(g.str());
    const Results expected = run(g, false, 41);
    const std::size_t plane_bytes = (g.grid[1] + g.dilated_kernel(1) - 1) *
                                    (g.grid[2] + g.dilated_kernel(2) - 1) * g.image_channels *
                                    sizeof(float);
    // The default limit (one slab per sample) and the smallest that fits one output plane.
    for (std::size_t limit : {guard.limit, g.dilated_kernel(0) * plane_bytes}) {
      CAPTURE(limit);
      kernels::set_conv_workspace_limit(limit);
      kernels::set_direct_conv(true);
      REQUIRE(kernels::direct_conv_applies(g));
      std::vector<float> first_out;
      for (int threads : {1, 2, 3}) {
        CAPTURE(threads);
        set_num_threads(threads);
        kernels::reset_conv_workspace_peak();
        const Results got = run(g, true, 41);
        CHECK(max_rel_diff(got.out, expected.out) < 1e-5);
        CHECK(max_rel_diff(got.gkernel, expected.gkernel) < 1e-5);
        CHECK(max_rel_diff(got.gkernel_accumulated, expected.gkernel_accumulated) < 1e-5);
        // Each output is one thread's sum in a fixed order: bit-identical at any thread count.
        if (first_out.empty())
          first_out = got.out;
        else
          CHECK(got.out == first_out);
        // The kernel gradient's per-thread sums: bit-identical at a fixed thread count.
        CHECK(run(g, true, 41).gkernel == got.gkernel);
      }
    }
  }
}

TEST_CASE("direct kernels: the padded slab stays within the workspace limit, whatever the batch") {
  if (!gemm::has_avx2()) {
    MESSAGE("this processor has no AVX2: the direct kernels never run here");
    return;
  }
  SettingsGuard guard;
  // 12^3 x 8 -> 8, k3 "same": one padded plane is 14 * 14 * 8 floats.
  const std::size_t plane_bytes = 14 * 14 * 8 * sizeof(float);
  kernels::set_conv_workspace_limit(5 * plane_bytes);  // slabs of 3 output planes
  std::size_t peak[2] = {0, 0};
  for (std::size_t b : {0, 1}) {
    auto g = ConvGeometry::forward(3, b ? 4 : 1, {12, 12, 12}, 8, 8, {3, 3, 3}, {1, 1, 1},
                                   {1, 1, 1}, {1, 1, 1}, {1, 1, 1});
    kernels::reset_conv_workspace_peak();
    run(g, true, 51);
    peak[b] = kernels::conv_workspace_peak_bytes();
  }
  // The slab, plus the packed kernel or the other threads' kernel-gradient copies.
  const std::size_t kernel_bytes = 27 * 8 * 16 * sizeof(float) + 16 * sizeof(float);
  CHECK(peak[0] == peak[1]);
  CHECK(peak[0] >= 5 * plane_bytes);
  CHECK(peak[0] <= 5 * plane_bytes + std::size_t(get_num_threads()) * kernel_bytes);
}
