#include <array>
#include <xtensor/xmanipulation.hpp>

#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/registry.hpp"
#include "tapeflow/layers/separable_conv.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;
using tapeflow::test::run_with_weights;
using tapeflow::test::T;

namespace {

// TF's separable_conv2d written out with loops: the depthwise step (channel c * dm + m from
// input channel c and depthwise[a, b, c, m]), then y[..., f] = bias[f] + sum_j z[..., j] *
// pointwise[0, 0, j, f]. x (n, h, w, c), TF's "same" padding (the smaller half before).
Tensor separable_reference(const Tensor& x, const Tensor& dk, const Tensor& pk, const Tensor& bias,
                           std::array<long, 2> s, std::array<long, 2> d, bool same) {
  const long N = long(x.shape()[0]), C = long(x.shape()[3]), DM = long(dk.shape()[3]);
  const long F = long(pk.shape().back());
  const std::array<long, 2> in{long(x.shape()[1]), long(x.shape()[2])};
  const std::array<long, 2> ks{long(dk.shape()[0]), long(dk.shape()[1])};
  std::array<long, 2> out{}, pad{};
  for (int a = 0; a < 2; ++a) {
    const long span = d[a] * (ks[a] - 1) + 1;
    out[a] = same ? (in[a] + s[a] - 1) / s[a] : (in[a] - span) / s[a] + 1;
    pad[a] = same ? std::max((out[a] - 1) * s[a] + span - in[a], 0L) / 2 : 0;
  }
  Tensor y = Tensor::from_shape(
      {std::size_t(N), std::size_t(out[0]), std::size_t(out[1]), std::size_t(F)});
  std::vector<double> z(std::size_t(C * DM));
  for (long n = 0; n < N; ++n)
    for (long i = 0; i < out[0]; ++i)
      for (long j = 0; j < out[1]; ++j) {
        for (long c = 0; c < C; ++c)
          for (long m = 0; m < DM; ++m) {
            double acc = 0;
            for (long a = 0; a < ks[0]; ++a)
              for (long b = 0; b < ks[1]; ++b) {
                const long r = i * s[0] + a * d[0] - pad[0], q = j * s[1] + b * d[1] - pad[1];
                if (r < 0 || r >= in[0] || q < 0 || q >= in[1]) continue;
                acc += double(x(n, r, q, c)) * double(dk(a, b, c, m));
              }
            z[std::size_t(c * DM + m)] = acc;
          }
        for (long f = 0; f < F; ++f) {
          double acc = bias.size() ? bias(f) : 0.0;
          for (long q = 0; q < C * DM; ++q)
            acc += z[std::size_t(q)] * double(pk.data()[std::size_t(q * F + f)]);
          y(n, i, j, f) = float(acc);
        }
      }
  return y;
}

}  // namespace

TEST_CASE("SeparableConv1D/2D: names, weights in Keras' order and output shapes") {
  reset_default_graph();
  SeparableConv2D c(SeparableConv2DOptions(5, 3).depth_multiplier(2));
  CHECK(c.name() == "separable_conv2d");
  CHECK(c.class_name() == "SeparableConv2D");
  CHECK(c.compute_output_shape({2, 6, 5, 3}) == Shape{2, 4, 3, 5});
  CHECK(c(Variable(random_tensor({2, 6, 5, 3}))).shape() == Shape{2, 4, 3, 5});
  CHECK(c.depthwise_kernel().shape() == Shape{3, 3, 3, 2});
  CHECK(c.pointwise_kernel().shape() == Shape{1, 1, 6, 5});
  CHECK(c.bias().shape() == Shape{5});
  REQUIRE(c.variables().size() == 3);
  CHECK(c.variables()[0].name() == "separable_conv2d/depthwise_kernel");
  CHECK(c.variables()[1].name() == "separable_conv2d/pointwise_kernel");
  CHECK(c.variables()[2].name() == "separable_conv2d/bias");
  CHECK(c.count_params() == 54 + 30 + 5);
  CHECK(c.filters() == 5);

  SeparableConv1D c1(SeparableConv1DOptions(2, 3).padding("same").strides(2).use_bias(false));
  CHECK(c1.name() == "separable_conv1d");
  CHECK(c1.class_name() == "SeparableConv1D");
  CHECK(c1(Variable(random_tensor({1, 7, 4}))).shape() == Shape{1, 4, 2});
  CHECK(c1.depthwise_kernel().shape() == Shape{3, 4, 1});
  CHECK(c1.pointwise_kernel().shape() == Shape{1, 4, 2});
  CHECK(c1.variables().size() == 2);
  CHECK_FALSE(c1.bias().defined());

  SeparableConv2D cf(SeparableConv2DOptions(3, {2, 3}).data_format("channels_first"));
  CHECK(cf(Variable(random_tensor({1, 2, 5, 6}))).shape() == Shape{1, 3, 4, 4});
}

TEST_CASE("SeparableConv1D/2D values against the loops") {
  reset_default_graph();
  struct Case2 {
    const char* what;
    Shape x;
    std::array<long, 2> k, s, d;
    long dm, filters;
    const char* padding;
  };
  const std::vector<Case2> cases = {
      {"valid", {2, 5, 6, 3}, {3, 2}, {1, 1}, {1, 1}, 1, 4, "valid"},
      {"same, strides, multiplier 2", {1, 6, 5, 2}, {3, 3}, {2, 2}, {1, 1}, 2, 3, "same"},
      {"same, dilation", {1, 6, 7, 2}, {2, 3}, {1, 1}, {2, 2}, 3, 2, "same"},
  };
  unsigned seed = 500;
  for (const auto& c : cases) {
    CAPTURE(c.what);
    const std::size_t C = c.x[3], M = std::size_t(c.dm), F = std::size_t(c.filters);
    Tensor x = random_tensor(c.x, seed++);
    Tensor dk = random_tensor({std::size_t(c.k[0]), std::size_t(c.k[1]), C, M}, seed++);
    Tensor pk = random_tensor({1, 1, C * M, F}, seed++);
    Tensor b = random_tensor({F}, seed++);
    const bool same = std::string(c.padding) == "same";
    auto o = SeparableConv2DOptions(c.filters, {c.k[0], c.k[1]})
                 .strides({c.s[0], c.s[1]})
                 .dilation_rate({c.d[0], c.d[1]})
                 .depth_multiplier(c.dm)
                 .padding(c.padding);
    SeparableConv2D last(o);
    Tensor want = separable_reference(x, dk, pk, b, c.s, c.d, same);
    TF_CHECK_CLOSE(run_with_weights(last, x, {dk, pk, b}).value(), want, 1e-5f, 1e-5f);
    SeparableConv2D first(o.data_format("channels_first"));
    Tensor yf =
        run_with_weights(first, Tensor(xt::transpose(x, {0, 3, 1, 2})), {dk, pk, b}).value();
    TF_CHECK_CLOSE(Tensor(xt::transpose(yf, {0, 2, 3, 1})), want, 1e-5f, 1e-5f);
  }
  // 1-D: the 2-D loops over a height of 1.
  Tensor x = random_tensor({2, 9, 3}, 520), dk = random_tensor({3, 3, 2}, 521);
  Tensor pk = random_tensor({1, 6, 4}, 522), b = random_tensor({4}, 523);
  SeparableConv1D s(
      SeparableConv1DOptions(4, 3).strides(2).padding("same").depth_multiplier(2).activation(
          "relu"));
  Tensor want =
      xt::squeeze(separable_reference(Tensor(xt::expand_dims(x, 1)), Tensor(xt::expand_dims(dk, 0)),
                                      Tensor(xt::expand_dims(pk, 0)), b, {1, 2}, {1, 1}, true),
                  1);
  TF_CHECK_CLOSE(run_with_weights(s, x, {dk, pk, b}).value(), Tensor(xt::maximum(want, 0.f)), 1e-5f,
                 1e-5f);
}

TEST_CASE("SeparableConv1D/2D: gradcheck of input and every weight") {
  reset_default_graph();
  SUBCASE("2-D same, strides, multiplier 2, tanh") {
    SeparableConv2D c(
        SeparableConv2DOptions(3, 2).strides(2).padding("same").depth_multiplier(2).activation(
            "tanh"));
    Tensor x = random_tensor({1, 3, 4, 2}, 61);
    run_with_weights(
        c, x,
        {random_tensor({2, 2, 2, 2}, 62), random_tensor({1, 1, 4, 3}, 63), random_tensor({3}, 64)});
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return c(in[0]); }, {x});
    TF_GRADCHECK_VARIABLES([&] { return c(Variable(x)); }, c.trainable_variables());
  }
  SUBCASE("2-D channels_first, dilated") {
    SeparableConv2D c(
        SeparableConv2DOptions(2, {2, 1}).dilation_rate(2).data_format("channels_first"));
    Tensor x = random_tensor({2, 3, 4, 2}, 65);
    c(Variable(x));
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return c(in[0]); }, {x});
    TF_GRADCHECK_VARIABLES([&] { return c(Variable(x)); }, c.trainable_variables());
  }
  SUBCASE("1-D valid") {
    SeparableConv1D c(SeparableConv1DOptions(2, 3).bias_initializer("ones"));
    Tensor x = random_tensor({2, 5, 2}, 66);
    c(Variable(x));
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return c(in[0]); }, {x});
    TF_GRADCHECK_VARIABLES([&] { return c(Variable(x)); }, c.trainable_variables());
  }
}

TEST_CASE("SeparableConv2D: regularizers and constraints of every weight") {
  reset_default_graph();
  SeparableConv2D c(SeparableConv2DOptions(2, 1)
                        .depthwise_initializer("ones")
                        .pointwise_initializer("ones")
                        .bias_initializer(initializers::constant(2.f))
                        .depthwise_regularizer(regularizers::l2(0.1f))
                        .pointwise_regularizer(regularizers::l1(0.2f))
                        .bias_regularizer(regularizers::l1(0.5f))
                        .pointwise_constraint(constraints::non_neg())
                        .bias_constraint(constraints::max_norm(1.f)));
  Variable y = c(Variable(T({1, 1, 1, 3}, {1, 1, 1})));
  TF_CHECK_CLOSE(y.value(), T({1, 1, 1, 2}, {5, 5}));
  auto losses = c.losses();
  REQUIRE(losses.size() == 3);
  CHECK(losses[0].item() == doctest::Approx(0.1f * 3));  // l2 depthwise: 3 ones
  CHECK(losses[1].item() == doctest::Approx(0.2f * 6));  // l1 pointwise: 6 ones
  CHECK(losses[2].item() == doctest::Approx(0.5f * 4));  // l1 bias
  CHECK_FALSE(c.depthwise_kernel().constraint());
  CHECK(c.pointwise_kernel().constraint());
  CHECK(c.bias().constraint());
}

TEST_CASE("SeparableConv1D/2D: bad arguments and inputs") {
  reset_default_graph();
  CHECK_THROWS_AS(SeparableConv2D(SeparableConv2DOptions(0, 3)), ValueError);
  TF_CHECK_ERROR(SeparableConv2D(SeparableConv2DOptions(-1, 3).name("bad")), "bad:", "filters",
                 "-1");
  TF_CHECK_ERROR(SeparableConv1D(SeparableConv1DOptions(2, 3).depth_multiplier(0).name("dm")),
                 "dm:", "depth_multiplier", "0");
  CHECK_THROWS_AS(SeparableConv2D(SeparableConv2DOptions(2, {3, 3, 3})), ValueError);
  CHECK_THROWS_AS(SeparableConv1D(SeparableConv1DOptions(2, 3).padding("causal")), ValueError);
  CHECK_THROWS_AS(SeparableConv2D(SeparableConv2DOptions(2, 3).strides({1, 0})), ValueError);
  CHECK_THROWS_AS(SeparableConv2D(SeparableConv2DOptions(2, 3).data_format("NHWC")), ValueError);

  SeparableConv2D c(SeparableConv2DOptions(2, 3).name("probe"));
  CHECK_THROWS_AS(c(Variable(random_tensor({1, 5, 5}))), ShapeError);
  CHECK_THROWS_AS(c(Variable(random_tensor({1, 2, 5, 1}))), ShapeError);
  CHECK_FALSE(c.built());
  c(Variable(random_tensor({1, 5, 5, 3})));
  TF_CHECK_ERROR(c(Variable(random_tensor({1, 5, 5, 4}))), "probe:", "4 channels", "built for 3");
  CHECK_THROWS_AS(c(Variable(random_tensor({1, 5, 5, 4}))), ShapeError);
}

TEST_CASE("SeparableConv1D/2D: get_config, pretty_print and rebuilding") {
  reset_default_graph();
  SeparableConv2D c(
      SeparableConv2DOptions(8, 3).padding("Same").depth_multiplier(2).activation("relu"));
  CHECK(c.pretty_print() ==
        "SeparableConv2D(filters=8, kernel_size=(3, 3), strides=(1, 1), padding=same, "
        "depth_multiplier=2, activation=relu)");
  Config cfg = c.get_config();
  CHECK(cfg["filters"] == "8");
  CHECK(cfg["kernel_size"] == "(3, 3)");
  CHECK(cfg["depth_multiplier"] == "2");
  CHECK(cfg["pointwise_initializer"].find("glorot_uniform") == 0);
  CHECK(cfg["depthwise_initializer"].find("glorot_uniform") == 0);
  CHECK(cfg["pointwise_regularizer"] == "None");
  CHECK(cfg["pointwise_constraint"] == "None");
  CHECK(cfg.count("kernel_initializer") == 0);
  auto copy = create_layer("SeparableConv2D", cfg);
  Config back = copy->get_config();
  back.erase("name");
  cfg.erase("name");
  CHECK(back == cfg);
  SeparableConv1D c1(SeparableConv1DOptions(4, 2).data_format("channels_first"));
  CHECK(c1.pretty_print() ==
        "SeparableConv1D(filters=4, kernel_size=(2,), strides=(1,), padding=valid, "
        "data_format=channels_first)");
}
