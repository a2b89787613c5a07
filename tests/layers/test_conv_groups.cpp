#include <xtensor/xmanipulation.hpp>

#include "tapeflow/framework/core/tape.hpp"
#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/conv.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/conv.hpp"
#include "tapeflow/layers/registry.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;
using tapeflow::test::run_with_weights;

namespace {

// Channels [c0, c0 + n) of `t` (the last axis).
Tensor groups_channel_block(const Tensor& t, std::size_t c0, std::size_t n) {
  Shape s(t.shape().begin(), t.shape().end());
  const std::size_t C = s.back(), rows = t.size() / C;
  s.back() = n;
  Tensor out = Tensor::from_shape(s);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < n; ++j) out.data()[r * n + j] = t.data()[r * C + c0 + j];
  return out;
}

// The definition of a grouped convolution, from ungrouped ones: input channel block i (of
// C / groups) convolved with the kernel's filter block i (of F / groups), the results
// concatenated along the channel axis, plus the bias. channels_last tensors.
Tensor groups_reference(const Tensor& x, const Tensor& k, const Tensor& b, long groups,
                        const ConvOptions& o) {
  const std::size_t C = x.shape().back(), F = k.shape().back();
  const std::size_t ci = C / std::size_t(groups), fo = F / std::size_t(groups);
  Tensor y;
  for (std::size_t g = 0; g < std::size_t(groups); ++g) {
    Tensor yg = conv(Variable(groups_channel_block(x, g * ci, ci)),
                     Variable(groups_channel_block(k, g * fo, fo)), o)
                    .value();
    if (g == 0) {
      Shape s(yg.shape().begin(), yg.shape().end());
      s.back() = F;
      y = Tensor::from_shape(s);
    }
    const std::size_t rows = yg.size() / fo;
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t j = 0; j < fo; ++j)
        y.data()[r * F + g * fo + j] = yg.data()[r * fo + j] + (b.size() ? b(g * fo + j) : 0.f);
  }
  return y;
}

}  // namespace

TEST_CASE("conv groups: the op equals the concatenation of per-group convolutions") {
  struct Case {
    const char* what;
    Shape x, k;
    long groups;
    ConvOptions o;
  };
  const std::vector<Case> cases = {
      {"1-D valid, 2 groups", {2, 7, 4}, {3, 2, 6}, 2, ConvOptions()},
      {"1-D same, stride 2, 4 groups",
       {1, 8, 4},
       {3, 1, 8},
       4,
       ConvOptions().strides(2).padding("same")},
      {"2-D same, dilation 2, 3 groups",
       {2, 5, 6, 6},
       {2, 3, 2, 3},
       3,
       ConvOptions().dilation(2).padding("same")},
      {"2-D valid, strides (2, 1), 2 groups",
       {1, 6, 5, 4},
       {3, 2, 2, 4},
       2,
       ConvOptions().strides({2, 1})},
      {"2-D 1x1 (one GEMM per group), 2 groups", {2, 3, 3, 4}, {1, 1, 2, 6}, 2, ConvOptions()},
      {"3-D same, depthwise (groups = channels)",
       {1, 4, 3, 4, 3},
       {2, 2, 3, 1, 6},
       3,
       ConvOptions().padding("same")},
      {"2-D explicit pads, 2 groups",
       {1, 4, 4, 2},
       {3, 3, 1, 2},
       2,
       ConvOptions().pads({{1, 0}, {0, 2}})},
  };
  unsigned seed = 100;
  for (const Case& c : cases) {
    CAPTURE(c.what);
    Tensor x = random_tensor(c.x, seed++), k = random_tensor(c.k, seed++);
    Tensor b = random_tensor({c.k.back()}, seed++);
    ConvOptions o = c.o;
    o.groups(c.groups);
    TF_CHECK_CLOSE(conv(Variable(x), Variable(k), Variable(b), o).value(),
                   groups_reference(x, k, b, c.groups, c.o), 1e-5f, 1e-5f);
    // channels_first: the same numbers, transposed.
    std::vector<std::size_t> to_first{0, x.dimension() - 1};
    for (std::size_t a = 1; a + 1 < x.dimension(); ++a) to_first.push_back(a);
    std::vector<std::size_t> to_last{0};
    for (std::size_t a = 2; a < x.dimension(); ++a) to_last.push_back(a);
    to_last.push_back(1);
    ConvOptions of = o;
    of.data_format("channels_first");
    Tensor yf =
        conv(Variable(Tensor(xt::transpose(x, to_first))), Variable(k), Variable(b), of).value();
    TF_CHECK_CLOSE(Tensor(xt::transpose(yf, to_last)), groups_reference(x, k, b, c.groups, c.o),
                   1e-5f, 1e-5f);
  }
}

TEST_CASE("conv groups: gradcheck of input, kernel and bias, and second order") {
  SUBCASE("2-D strided, 2 groups") {
    auto o = ConvOptions().strides(2).padding("same").groups(2);
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return conv(in[0], in[1], in[2], o); },
                 (std::vector<Tensor>{random_tensor({1, 4, 5, 4}, 1),
                                      random_tensor({3, 2, 2, 4}, 2), random_tensor({4}, 3)}));
  }
  SUBCASE("1-D dilated, depthwise with multiplier 2") {
    auto o = ConvOptions().dilation(2).groups(3);
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return conv(in[0], in[1], in[2], o); },
                 (std::vector<Tensor>{random_tensor({2, 6, 3}, 4), random_tensor({2, 1, 6}, 5),
                                      random_tensor({6}, 6)}));
  }
  SUBCASE("3-D, 1x1x1 kernel, 2 groups, channels_first") {
    auto o = ConvOptions().groups(2).data_format("channels_first");
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return conv(in[0], in[1], in[2], o); },
                 (std::vector<Tensor>{random_tensor({1, 4, 2, 2, 3}, 7),
                                      random_tensor({1, 1, 1, 2, 2}, 8), random_tensor({2}, 9)}));
  }
  SUBCASE("second order: the input gradient differentiated again") {
    // d/dx sum(conv(x, K)^2) = 2 conv_transpose(conv(x, K), K), grouped in both ops; its
    // derivative w.r.t. K runs the grouped kernel gradient of a transposed convolution.
    TF_GRADCHECK(
        [](const std::vector<Variable>& in) {
          GradientTape inner;
          Variable y = conv(in[0], in[1], ConvOptions().strides(2).groups(2));
          return inner.gradient(sum(mul(y, y)), {in[0]})[0];
        },
        (std::vector<Tensor>{random_tensor({1, 5, 4}, 10), random_tensor({3, 2, 4}, 11)}));
    // Depthwise (one input channel per group, the kernels' multiply-add path), multiplier 2.
    TF_GRADCHECK(
        [](const std::vector<Variable>& in) {
          GradientTape inner;
          Variable y = conv(in[0], in[1], ConvOptions().strides(2).padding("same").groups(2));
          return inner.gradient(sum(mul(y, y)), {in[0]})[0];
        },
        (std::vector<Tensor>{random_tensor({1, 5, 2}, 12), random_tensor({3, 1, 4}, 13)}));
  }
}

TEST_CASE("conv groups: many small slabs give the one-slab results") {
  // A tiny workspace budget splits the grid into slabs of one or two positions: the kernel
  // gradient then accumulates over slabs, and the transposed direction scatters slab by slab.
  struct Case {
    Shape x, k;
    long groups;
  };
  const std::vector<Case> cases = {{{2, 5, 6, 4}, {3, 2, 2, 6}, 2},   // per-group GEMMs
                                   {{2, 5, 6, 3}, {3, 2, 1, 6}, 3},   // depthwise, multiplier 2
                                   {{1, 4, 4, 4}, {1, 1, 2, 4}, 2}};  // 1x1
  unsigned seed = 200;
  for (const Case& c : cases) {
    CAPTURE(c.groups);
    Variable x(random_tensor(c.x, seed++)), k(random_tensor(c.k, seed++));
    Variable b(random_tensor({c.k.back()}, seed++));
    auto o = ConvOptions().strides({2, 1}).padding("same").groups(c.groups);
    auto run = [&] {
      GradientTape tape;
      tape.watch(x);
      tape.watch(k);
      tape.watch(b);
      Variable y = conv(x, k, b, o);
      auto g = tape.gradient(sum(mul(y, y)), {x, k, b});
      return std::vector<Tensor>{y.value(), g[0].value(), g[1].value(), g[2].value()};
    };
    const std::vector<Tensor> one = run();
    const std::size_t limit = kernels::conv_workspace_limit();
    kernels::set_conv_workspace_limit(64);
    const std::vector<Tensor> many = run();
    kernels::set_conv_workspace_limit(limit);
    for (std::size_t i = 0; i < one.size(); ++i) TF_CHECK_CLOSE(many[i], one[i], 1e-5f, 1e-5f);
  }
}

TEST_CASE("conv groups: bad groups in the op") {
  Variable x(random_tensor({1, 5, 4}, 1));
  CHECK_THROWS_AS(conv(x, Variable(random_tensor({3, 2, 6}, 2)), ConvOptions().groups(0)),
                  ValueError);
  TF_CHECK_ERROR(conv(x, Variable(random_tensor({3, 2, 3}, 2)), ConvOptions().groups(2)),
                 "conv:", "groups 2", "3 filters");
  TF_CHECK_ERROR(conv(x, Variable(random_tensor({3, 1, 6}, 2)), ConvOptions().groups(3)),
                 "conv:", "groups 3", "4 input channels");
  // A kernel whose in_channels axis is not in / groups: a ShapeError.
  CHECK_THROWS_AS(conv(x, Variable(random_tensor({3, 4, 6}, 2)), ConvOptions().groups(2)),
                  ShapeError);
  TF_CHECK_ERROR(conv(x, Variable(random_tensor({3, 4, 6}, 2)), ConvOptions().groups(2)),
                 "with groups 2 it must be 2");
  TF_CHECK_ERROR(conv_transpose(x, Variable(random_tensor({3, 2, 4}, 2)), ConvOptions().groups(2)),
                 "conv_transpose:", "groups 2 applies to conv only");
}

TEST_CASE("Conv1D/2D/3D groups: weights, values, gradcheck") {
  reset_default_graph();
  Conv2D c(Conv2DOptions(6, 3).groups(3).padding("same"));
  Tensor x = random_tensor({2, 4, 5, 3}, 20);
  CHECK(c(Variable(x)).shape() == Shape{2, 4, 5, 6});
  CHECK(c.kernel().shape() == Shape{3, 3, 1, 6});
  CHECK(c.bias().shape() == Shape{6});
  CHECK(c.groups() == 3);
  CHECK(c.count_params() == 3 * 3 * 6 + 6);
  Tensor k = random_tensor({3, 3, 1, 6}, 21), b = random_tensor({6}, 22);
  TF_CHECK_CLOSE(run_with_weights(c, x, {k, b}).value(),
                 groups_reference(x, k, b, 3, ConvOptions().padding("same")), 1e-5f, 1e-5f);

  SUBCASE("Conv1D causal, 2 groups, tanh") {
    Conv1D c1(Conv1DOptions(4, 2).groups(2).padding("causal").dilation_rate(2).activation("tanh"));
    Tensor x1 = random_tensor({1, 5, 4}, 23);
    c1(Variable(x1));
    CHECK(c1.kernel().shape() == Shape{2, 2, 4});
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return c1(in[0]); }, {x1});
    TF_GRADCHECK_VARIABLES([&] { return c1(Variable(x1)); }, c1.trainable_variables());
  }
  SUBCASE("Conv2D channels_first, strides, 2 groups") {
    Conv2D c2(Conv2DOptions(2, {2, 3}).groups(2).strides(2).data_format("channels_first"));
    Tensor x2 = random_tensor({1, 4, 4, 5}, 24);
    c2(Variable(x2));
    CHECK(c2.kernel().shape() == Shape{2, 3, 2, 2});
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return c2(in[0]); }, {x2});
    TF_GRADCHECK_VARIABLES([&] { return c2(Variable(x2)); }, c2.trainable_variables());
  }
  SUBCASE("Conv3D, 2 groups") {
    Conv3D c3(Conv3DOptions(2, 2).groups(2).bias_initializer("ones"));
    Tensor x3 = random_tensor({1, 3, 2, 3, 2}, 25);
    c3(Variable(x3));
    CHECK(c3.kernel().shape() == Shape{2, 2, 2, 1, 2});
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return c3(in[0]); }, {x3});
    TF_GRADCHECK_VARIABLES([&] { return c3(Variable(x3)); }, c3.trainable_variables());
  }
}

TEST_CASE("Conv groups: bad arguments, config and printed form") {
  reset_default_graph();
  CHECK_THROWS_AS(Conv2D(Conv2DOptions(4, 3).groups(0)), ValueError);
  TF_CHECK_ERROR(Conv2D(Conv2DOptions(4, 3).groups(-1).name("g")), "g:", "groups",
                 "positive integer", "-1");
  CHECK_THROWS_AS(Conv1D(Conv1DOptions(6, 3).groups(4)), ValueError);
  TF_CHECK_ERROR(Conv3D(Conv3DOptions(6, 3).groups(4).name("g4")), "g4:", "filters 6",
                 "divisible by groups 4");
  // The input channels are known at the first call (Keras' build): a ValueError then.
  Conv2D c(Conv2DOptions(4, 1).groups(2).name("probe"));
  CHECK_THROWS_AS(c(Variable(random_tensor({1, 3, 3, 3}))), ValueError);
  CHECK_FALSE(c.built());
  TF_CHECK_ERROR(c(Variable(random_tensor({1, 3, 3, 5}))), "probe:", "groups 2",
                 "must divide the input channels", "5 channels");
  c(Variable(random_tensor({1, 3, 3, 4})));
  CHECK(c.kernel().shape() == Shape{1, 1, 2, 4});

  Conv2D g(Conv2DOptions(4, 3).groups(2));
  CHECK(g.get_config().at("groups") == "2");
  CHECK(g.pretty_print() ==
        "Conv2D(filters=4, kernel_size=(3, 3), strides=(1, 1), padding=valid, groups=2)");
  Conv2D plain(Conv2DOptions(4, 3));
  CHECK(plain.get_config().at("groups") == "1");
  CHECK(plain.pretty_print() ==
        "Conv2D(filters=4, kernel_size=(3, 3), strides=(1, 1), padding=valid)");
  auto copy = create_layer("Conv2D", g.get_config());
  CHECK(copy->get_config().at("groups") == "2");
}

TEST_CASE("conv groups: ConvGeometry::with_groups") {
  auto g =
      kernels::ConvGeometry::forward(2, 1, {5, 5}, 6, 4, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1});
  CHECK(g.groups == 1);
  CHECK(g.kernel_size() == 9 * 6 * 4);
  auto g2 = g.with_groups(2);
  CHECK(g2.groups == 2);
  CHECK(g2.group_image_channels() == 3);
  CHECK(g2.group_grid_channels() == 2);
  CHECK(g2.kernel_size() == 9 * 3 * 4);
  CHECK(g2.col_width() == g.col_width());  // every group's columns together
  CHECK(g2.str().find("groups=2") != std::string::npos);
  CHECK(g.str().find("groups") == std::string::npos);
  CHECK_THROWS_AS(g.with_groups(0), ValueError);
  TF_CHECK_ERROR(g.with_groups(3, "here"), "here:", "groups 3", "(6)", "(4)");
}
