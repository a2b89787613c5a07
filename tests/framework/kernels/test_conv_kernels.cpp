#include <cmath>
#include <vector>

#include "tapeflow/framework/kernels/conv_kernels.hpp"
#include "tapeflow/framework/runtime/parallel.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using kernels::ConvGeometry;
using tapeflow::test::random_tensor;

namespace {

// Direct definition, independent of the kernels: calls f(grid position, image position, tap)
// for every tap of every grid position that lands inside the image; along one axis the image
// index of grid position `g` and tap `t` is g * s + t * d - pad_before.
template <class F>
void for_each_tap(const ConvGeometry& g, F f) {
  for (std::size_t n = 0; n < g.batch; ++n)
    for (std::size_t z = 0; z < g.grid[0]; ++z)
      for (std::size_t y = 0; y < g.grid[1]; ++y)
        for (std::size_t x = 0; x < g.grid[2]; ++x)
          for (std::size_t tz = 0; tz < g.kernel[0]; ++tz)
            for (std::size_t ty = 0; ty < g.kernel[1]; ++ty)
              for (std::size_t tx = 0; tx < g.kernel[2]; ++tx) {
                long iz = long(z * g.stride[0] + tz * g.dilation[0]) - g.pad_before[0];
                long iy = long(y * g.stride[1] + ty * g.dilation[1]) - g.pad_before[1];
                long ix = long(x * g.stride[2] + tx * g.dilation[2]) - g.pad_before[2];
                if (iz < 0 || iy < 0 || ix < 0 || iz >= long(g.image[0]) ||
                    iy >= long(g.image[1]) || ix >= long(g.image[2]))
                  continue;
                std::size_t ip =
                    ((n * g.image[0] + std::size_t(iz)) * g.image[1] + std::size_t(iy)) *
                        g.image[2] +
                    std::size_t(ix);
                std::size_t gp = ((n * g.grid[0] + z) * g.grid[1] + y) * g.grid[2] + x;
                f(gp, ip, (tz * g.kernel[1] + ty) * g.kernel[2] + tx);
              }
}

// grid[p] = sum_t image[p * s + t * d - pad] . kernel[t]
std::vector<float> naive_conv(const ConvGeometry& g, const std::vector<float>& image,
                              const std::vector<float>& kernel) {
  std::vector<float> grid(g.grid_positions() * g.grid_channels, 0.f);
  const std::size_t Ci = g.image_channels, Cg = g.grid_channels;
  for_each_tap(g, [&](std::size_t gp, std::size_t ip, std::size_t t) {
    for (std::size_t ci = 0; ci < Ci; ++ci)
      for (std::size_t cg = 0; cg < Cg; ++cg)
        grid[gp * Cg + cg] += image[ip * Ci + ci] * kernel[(t * Ci + ci) * Cg + cg];
  });
  return grid;
}

// The transposed conv by its definition: image[p * s + t * d - pad] += grid[p] . kernel[t],
// plus the bias on every image position.
std::vector<float> naive_conv_transpose(const ConvGeometry& g, const std::vector<float>& grid,
                                        const std::vector<float>& kernel,
                                        const std::vector<float>& bias) {
  const std::size_t Co = g.image_channels, Ci = g.grid_channels;
  std::vector<float> image(g.image_positions() * Co, 0.f);
  for (std::size_t i = 0; i < image.size(); ++i) image[i] = bias.empty() ? 0.f : bias[i % Co];
  for_each_tap(g, [&](std::size_t gp, std::size_t ip, std::size_t t) {
    for (std::size_t co = 0; co < Co; ++co)
      for (std::size_t ci = 0; ci < Ci; ++ci)
        image[ip * Co + co] += grid[gp * Ci + ci] * kernel[(t * Co + co) * Ci + ci];
  });
  return image;
}

std::vector<float> random_vec(std::size_t n, unsigned seed) {
  Tensor t = random_tensor({n}, seed);
  return std::vector<float>(t.begin(), t.end());
}

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += double(a[i]) * double(b[i]);
  return s;
}

bool close(const std::vector<float>& a, const std::vector<float>& b, float tol = 1e-4f) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::abs(a[i] - b[i]) > tol * (1 + std::abs(b[i]))) return false;
  return true;
}

// Restores the default workspace limit when a test that forces tiny slabs ends.
struct LimitGuard {
  std::size_t old = kernels::conv_workspace_limit();
  ~LimitGuard() { kernels::set_conv_workspace_limit(old); }
};

std::vector<ConvGeometry> geometries() {
  std::vector<ConvGeometry> gs;
  // 1-D, stride 2, kernel 3, pads (1, 1).
  gs.push_back(ConvGeometry::forward(1, 2, {7}, 3, 2, {3}, {2}, {1}, {1}, {1}));
  // 2-D, dilation 2 on one axis, asymmetric padding.
  gs.push_back(ConvGeometry::forward(2, 2, {6, 5}, 2, 3, {3, 2}, {1, 2}, {2, 1}, {1, 0}, {2, 1}));
  // 3-D, TF "same" for k=4, s=2 seen from the transpose: image 8, grid 4, pad_before 1.
  gs.push_back(ConvGeometry::explicit_sizes(3, 2, {8, 6, 4}, 3, {4, 3, 2}, 4, {4, 4, 4}, {2, 2, 2},
                                            {1, 1, 1}, {1, 1, 1}));
  // 3-D, stride > kernel (TF "valid" transpose leaves trailing image positions untouched).
  gs.push_back(ConvGeometry::explicit_sizes(3, 1, {6, 3, 9}, 2, {2, 1, 3}, 3, {2, 1, 2}, {3, 2, 3},
                                            {1, 1, 1}, {0, 0, 0}));
  // 3-D, dilation and padding together.
  gs.push_back(ConvGeometry::forward(3, 1, {5, 6, 7}, 2, 2, {2, 3, 2}, {1, 2, 1}, {2, 1, 3},
                                     {1, 1, 0}, {0, 1, 2}));
  // kernel == stride, no padding: the transposed conv tiles the image (a permutation).
  gs.push_back(ConvGeometry::explicit_sizes(3, 2, {4, 6, 2}, 3, {2, 3, 1}, 2, {2, 2, 2}, {2, 2, 2},
                                            {1, 1, 1}, {0, 0, 0}));
  // Unit strides, which take the direct kernels (direct_conv.hpp) where the processor has AVX2:
  // 3-D "same" k3 with 20 output channels (a full 16-wide block and a partial one) and rows of
  // 7 (tiles of 4 and 3);
  gs.push_back(ConvGeometry::forward(3, 2, {3, 4, 7}, 3, 20, {3, 3, 3}, {1, 1, 1}, {1, 1, 1},
                                     {1, 1, 1}, {1, 1, 1}));
  // 2-D, dilation 2 along x (one segment per tap), asymmetric pads, 8 output channels;
  gs.push_back(ConvGeometry::forward(2, 1, {5, 9}, 2, 8, {2, 3}, {1, 1}, {1, 2}, {1, 0}, {0, 2}));
  // 1-D, a trailing image position no tap reaches (pad_after -2), 9 output channels;
  gs.push_back(ConvGeometry::forward(1, 3, {9}, 4, 9, {3}, {1}, {1}, {0}, {-2}));
  // 3-D transposed "valid" k3 (the ordinary conv of its input gradient pads by 2).
  gs.push_back(ConvGeometry::explicit_sizes(3, 1, {5, 4, 5}, 3, {3, 2, 3}, 2, {3, 3, 3}, {1, 1, 1},
                                            {1, 1, 1}, {0, 0, 0}));
  // 1x1x1 kernel, unit stride: the column matrix is the image itself.
  gs.push_back(ConvGeometry::forward(3, 2, {2, 3, 2}, 4, 3, {1, 1, 1}, {1, 1, 1}, {1, 1, 1},
                                     {0, 0, 0}, {0, 0, 0}));
  return gs;
}

}  // namespace

TEST_CASE("ConvGeometry: grid sizes, right-aligned axes, implied pad_after") {
  auto g = ConvGeometry::forward(2, 4, {8, 9}, 16, 32, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1});
  CHECK(g.grid[1] == 4);  // floor((8 + 2 - 3) / 2) + 1
  CHECK(g.grid[2] == 5);  // floor((9 + 2 - 3) / 2) + 1
  CHECK(g.grid[0] == 1);
  CHECK(g.image[0] == 1);
  CHECK(g.image[1] == 8);
  CHECK(g.col_width() == 9 * 16);
  CHECK(g.grid_positions() == 4 * 4 * 5);
  CHECK(g.pad_after(1) == 0);  // (4-1)*2 + 3 - 1 - 8: the last pad row is never read
  CHECK(g.pad_after(2) == 1);
  auto t = ConvGeometry::explicit_sizes(1, 1, {9}, 1, {3}, 1, {2}, {3}, {1}, {0});
  CHECK(t.pad_after(2) == -1);  // stride 3 > kernel 2: image position 8 is never reached
  auto d = ConvGeometry::forward(1, 1, {10}, 1, 1, {3}, {1}, {3}, {0}, {0});
  CHECK(d.dilated_kernel(2) == 7);
  CHECK(d.grid[2] == 4);
}

TEST_CASE("ConvGeometry: bad geometries") {
  TF_CHECK_ERROR(ConvGeometry::forward(4, 1, {2, 2, 2, 2}, 1, 1, {1, 1, 1, 1}, {1, 1, 1, 1},
                                       {1, 1, 1, 1}, {0, 0, 0, 0}, {0, 0, 0, 0}),
                 "conv", "1 to 3 spatial axes", "4");
  TF_CHECK_ERROR(ConvGeometry::forward(1, 1, {5}, 1, 1, {3}, {0}, {1}, {0}, {0}), "conv", "strides",
                 "positive");
  TF_CHECK_ERROR(ConvGeometry::forward(1, 1, {2}, 1, 1, {4}, {1}, {1}, {0}, {0}), "conv",
                 "smaller than the dilated kernel");
  TF_CHECK_ERROR(ConvGeometry::forward(2, 1, {5}, 1, 1, {3, 3}, {1, 1}, {1, 1}, {0, 0}, {0, 0}),
                 "image size", "1 values", "2 spatial axes");
  TF_CHECK_ERROR(ConvGeometry::explicit_sizes(1, 1, {5}, 1, {3}, 1, {0}, {1}, {1}, {0}),
                 "conv_transpose", "kernel size", "positive");
}

TEST_CASE("known values: 1-D conv and transposed conv by hand") {
  // image [1, 2, 3, 4], kernel [1, 10], stride 2: grid [1 + 20, 3 + 40].
  auto g = ConvGeometry::forward(1, 1, {4}, 1, 1, {2}, {2}, {1}, {0}, {0});
  std::vector<float> image{1, 2, 3, 4}, kernel{1, 10}, grid(2);
  kernels::conv_forward(g, image.data(), kernel.data(), grid.data());
  CHECK(grid == std::vector<float>{21, 43});

  // Transposed, overlapping taps: x [1, 2], kernel [1, 10, 100], stride 2 ->
  // y[i * 2 + t] += x[i] w[t] = [1, 10, 100 + 2, 20, 200].
  auto t = ConvGeometry::explicit_sizes(1, 1, {5}, 1, {2}, 1, {3}, {2}, {1}, {0});
  std::vector<float> x{1, 2}, w{1, 10, 100}, y(5, -7.f);
  kernels::conv_transpose_forward(t, x.data(), w.data(), y.data());
  CHECK(y == std::vector<float>{1, 10, 102, 20, 200});

  // Same with pad_before 1 (PyTorch padding=1) and 4 outputs: [10, 102, 20, 200].
  auto p = ConvGeometry::explicit_sizes(1, 1, {4}, 1, {2}, 1, {3}, {2}, {1}, {1});
  std::vector<float> yp(4);
  kernels::conv_transpose_forward(p, x.data(), w.data(), yp.data());
  CHECK(yp == std::vector<float>{10, 102, 20, 200});

  // Dilation 2, two channels in, one out: grid[o] = sum_t sum_c image[o + 2t, c] k[t, c].
  auto d = ConvGeometry::forward(1, 1, {4}, 2, 1, {2}, {1}, {2}, {0}, {0});
  std::vector<float> img2{1, 2, 3, 4, 5, 6, 7, 8}, k2{1, 0, 0, 1}, out2(2);
  kernels::conv_forward(d, img2.data(), k2.data(), out2.data());
  CHECK(out2 == std::vector<float>{1 + 6, 3 + 8});
}

TEST_CASE("vol2col and col2vol are adjoint and match the direct definition") {
  for (const auto& g : geometries()) {
    CAPTURE(g.str());
    const std::size_t P = g.grid_positions(), W = g.col_width();
    auto image = random_vec(g.image_positions() * g.image_channels, 3);
    auto cols = random_vec(P * W, 4);
    std::vector<float> c(P * W, 99.f), back(image.size(), 0.f);
    kernels::vol2col(g, image.data(), 0, P, c.data());
    kernels::col2vol(g, cols.data(), 0, P, back.data());
    CHECK(std::abs(dot(c, cols) - dot(image, back)) < 1e-3 * (1 + std::abs(dot(c, cols))));
    // Every entry written (none left at 99), and a row split into two ranges gives the same.
    std::vector<float> c2(P * W, 99.f);
    const std::size_t mid = P / 2;
    kernels::vol2col(g, image.data(), 0, mid, c2.data());
    kernels::vol2col(g, image.data(), mid, P, c2.data() + mid * W);
    CHECK(c2 == c);
  }
}

TEST_CASE(
    "conv_forward, conv_transpose_forward, conv_kernel_grad and the fused call agree with "
    "the direct definition, for any slab size") {
  LimitGuard guard;
  for (std::size_t limit : {std::size_t(8) << 20, std::size_t(1), std::size_t(700)}) {
    kernels::set_conv_workspace_limit(limit);
    for (const auto& g : geometries()) {
      CAPTURE(g.str());
      CAPTURE(limit);
      const std::size_t P = g.grid_positions();
      auto image = random_vec(g.image_positions() * g.image_channels, 11);
      auto kernel = random_vec(g.kernel_size(), 12);
      auto gin = random_vec(P * g.grid_channels, 13);
      auto expected = naive_conv(g, image, kernel);

      std::vector<float> grid(P * g.grid_channels, 5.f);
      kernels::conv_forward(g, image.data(), kernel.data(), grid.data());
      CHECK(close(grid, expected));

      // The transpose is the adjoint: <conv(I), G> == <I, conv_transpose(G)>.
      std::vector<float> img(image.size(), 5.f);
      kernels::conv_transpose_forward(g, gin.data(), kernel.data(), img.data());
      CHECK(std::abs(dot(expected, gin) - dot(image, img)) <
            1e-3 * (1 + std::abs(dot(image, img))));

      // Kernel gradient of <conv(I, K), G> by its definition: the sum over every tap that lands
      // in the image of image[ip, ci] * G[gp, cg] (the derivative of the bilinear map; the same
      // as <conv(I, e_j), G> element by element, at a cost of one pass instead of one per
      // kernel element).
      std::vector<float> gk(kernel.size(), 5.f);
      kernels::conv_kernel_grad(g, image.data(), gin.data(), gk.data());
      std::vector<float> expect_gk(kernel.size(), 0.f);
      const std::size_t Ci = g.image_channels, Cg = g.grid_channels;
      for_each_tap(g, [&](std::size_t gp, std::size_t ip, std::size_t t) {
        for (std::size_t ci = 0; ci < Ci; ++ci)
          for (std::size_t cg = 0; cg < Cg; ++cg)
            expect_gk[(t * Ci + ci) * Cg + cg] += image[ip * Ci + ci] * gin[gp * Cg + cg];
      });
      CHECK(close(gk, expect_gk));

      // accumulate = true adds to what is there.
      std::vector<float> acc(kernel.size(), 1.f);
      kernels::conv_kernel_grad(g, image.data(), gin.data(), acc.data(), true);
      for (auto& v : expect_gk) v += 1.f;
      CHECK(close(acc, expect_gk));
      for (auto& v : expect_gk) v -= 1.f;

      std::vector<float> fused_out(grid.size(), 5.f), fused_gk(kernel.size(), 5.f);
      kernels::conv_forward_and_kernel_grad(g, image.data(), kernel.data(), fused_out.data(),
                                            gin.data(), fused_gk.data());
      CHECK(close(fused_out, expected));
      CHECK(close(fused_gk, expect_gk));
    }
  }
}

TEST_CASE("workspace: slabs keep the column buffer within the limit, and the peak is reported") {
  LimitGuard guard;
  // Transposed (2, 4, 4, 4, 16) -> 8 filters, k=4, s=2: 128 grid positions of 64 * 8 columns.
  auto g = ConvGeometry::explicit_sizes(3, 2, {8, 8, 8}, 8, {4, 4, 4}, 16, {4, 4, 4}, {2, 2, 2},
                                        {1, 1, 1}, {1, 1, 1});
  auto grid = random_vec(g.grid_positions() * 16, 1);
  auto kernel = random_vec(g.kernel_size(), 2);
  std::vector<float> image(g.image_positions() * 8);
  const std::size_t row_bytes = g.col_width() * sizeof(float);  // 2 KiB

  // The input gradient of the transposed conv (an ordinary conv) and its kernel gradient run
  // in slabs of vol2col rows.
  std::vector<float> out(grid.size()), gk(kernel.size());
  kernels::set_conv_workspace_limit(10 * row_bytes);
  kernels::reset_conv_workspace_peak();
  kernels::conv_forward_and_kernel_grad(g, image.data(), kernel.data(), out.data(), grid.data(),
                                        gk.data());
  CHECK(kernels::conv_workspace_peak_bytes() == 10 * row_bytes);
  auto small_slabs = out, small_gk = gk;

  kernels::set_conv_workspace_limit(std::size_t(64) << 20);
  kernels::reset_conv_workspace_peak();
  kernels::conv_forward_and_kernel_grad(g, image.data(), kernel.data(), out.data(), grid.data(),
                                        gk.data());
  CHECK(kernels::conv_workspace_peak_bytes() == g.grid_positions() * row_bytes);  // one slab
  CHECK(close(out, small_slabs));
  CHECK(close(gk, small_gk));

  // The transposed forward needs one cache-sized tile per thread, whatever the batch.
  std::size_t peak_at_batch[2] = {0, 0};
  for (std::size_t b : {0, 1}) {
    auto gb = ConvGeometry::explicit_sizes(3, b ? 8 : 2, {8, 8, 8}, 8, {4, 4, 4}, 16, {4, 4, 4},
                                           {2, 2, 2}, {1, 1, 1}, {1, 1, 1});
    auto xb = random_vec(gb.grid_positions() * 16, 1);
    std::vector<float> yb(gb.image_positions() * 8);
    kernels::reset_conv_workspace_peak();
    kernels::conv_transpose_forward(gb, xb.data(), kernel.data(), yb.data());
    peak_at_batch[b] = kernels::conv_workspace_peak_bytes();
  }
  CHECK(peak_at_batch[0] > 0);
  CHECK(peak_at_batch[0] == peak_at_batch[1]);
  CHECK(peak_at_batch[0] <= std::size_t(get_num_threads()) * (std::size_t(512) << 10));

  // A 1x1 conv needs no column buffer at all.
  auto one = ConvGeometry::forward(1, 4, {5}, 3, 2, {1}, {1}, {1}, {0}, {0});
  std::vector<float> in(60, 1.f), k(6, 1.f), out1(40);
  kernels::reset_conv_workspace_peak();
  kernels::conv_forward(one, in.data(), k.data(), out1.data());
  CHECK(kernels::conv_workspace_peak_bytes() == 0);
  CHECK(out1[0] == 3.f);
}

TEST_CASE("conv_transpose_forward with bias matches the definition, for any thread count") {
  // The geometries above, plus shapes whose GEMM tile holds only a few grid rows (many depth
  // taps times wide planes: the tile is cut within a grid plane) and k == s with a bias.
  auto gs = geometries();
  // (a depth tap's columns: 8 * 8 * 64 = 4096 floats, so a 512 KiB tile holds 32 of the 48
  // rows of a grid plane)
  gs.push_back(ConvGeometry::explicit_sizes(3, 2, {9, 18, 16}, 64, {4, 8, 6}, 2, {3, 8, 8},
                                            {2, 2, 2}, {1, 1, 1}, {1, 3, 2}));
  gs.push_back(
      ConvGeometry::explicit_sizes(2, 3, {10, 12}, 5, {5, 4}, 3, {2, 3}, {2, 3}, {1, 1}, {0, 0}));
  gs.push_back(ConvGeometry::explicit_sizes(1, 3, {12}, 4, {6}, 2, {2}, {2}, {1}, {0}));
  const int saved = get_num_threads();
  for (int threads : {1, 2, 3, 5}) {
    set_num_threads(threads);
    for (const auto& g : gs) {
      CAPTURE(g.str());
      CAPTURE(threads);
      auto grid = random_vec(g.grid_positions() * g.grid_channels, 21);
      auto kernel = random_vec(g.kernel_size(), 22);
      auto bias = random_vec(g.image_channels, 23);
      std::vector<float> y(g.image_positions() * g.image_channels, 7.f);
      kernels::conv_transpose_forward(g, grid.data(), kernel.data(), y.data(), bias.data());
      CHECK(close(y, naive_conv_transpose(g, grid, kernel, bias)));
      std::vector<float> y0(y.size(), 7.f);
      kernels::conv_transpose_forward(g, grid.data(), kernel.data(), y0.data());
      CHECK(close(y0, naive_conv_transpose(g, grid, kernel, {})));
      // Ordinary conv with bias too.
      auto image = random_vec(g.image_positions() * g.image_channels, 24);
      auto gbias = random_vec(g.grid_channels, 25);
      std::vector<float> out(g.grid_positions() * g.grid_channels, 7.f);
      kernels::conv_forward(g, image.data(), kernel.data(), out.data(), gbias.data());
      auto expected = naive_conv(g, image, kernel);
      for (std::size_t i = 0; i < expected.size(); ++i) expected[i] += gbias[i % g.grid_channels];
      CHECK(close(out, expected));
    }
  }
  set_num_threads(saved);
}

TEST_CASE("conv_transpose_forward: the sums do not depend on the thread count") {
  auto g = ConvGeometry::explicit_sizes(3, 2, {8, 8, 8}, 8, {4, 4, 4}, 16, {4, 4, 4}, {2, 2, 2},
                                        {1, 1, 1}, {1, 1, 1});
  auto grid = random_vec(g.grid_positions() * 16, 31);
  auto kernel = random_vec(g.kernel_size(), 32);
  auto bias = random_vec(8, 33);
  const int saved = get_num_threads();
  std::vector<float> first;
  for (int threads : {1, 2, 4}) {
    set_num_threads(threads);
    std::vector<float> y(g.image_positions() * 8);
    kernels::conv_transpose_forward(g, grid.data(), kernel.data(), y.data(), bias.data());
    if (first.empty())
      first = y;
    else
      CHECK(y == first);
  }
  set_num_threads(saved);
}
