#include <array>
#include <xtensor/xmanipulation.hpp>

#include "layers/depthwise_reference.hpp"
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

// TF's separable_conv2d: the depthwise step (depthwise_reference, no bias: a size-0 one), then
// y[..., f] = bias[f] + sum_j z[..., j] * pointwise[0, 0, j, f]. x (n, h, w, c).
Tensor separable_reference(const Tensor& x, const Tensor& dk, const Tensor& pk, const Tensor& bias,
                           std::array<long, 2> s, std::array<long, 2> d, bool same) {
  const Tensor z = tapeflow::test::depthwise_reference(x, dk, Tensor::from_shape({0}), s, d, same);
  const std::size_t F = pk.shape().back(), J = z.shape()[3], positions = z.size() / J;
  Tensor y = Tensor::from_shape({z.shape()[0], z.shape()[1], z.shape()[2], F});
  for (std::size_t p = 0; p < positions; ++p)
    for (std::size_t f = 0; f < F; ++f) {
      double acc = bias.size() ? bias(f) : 0.0;
      for (std::size_t j = 0; j < J; ++j)
        acc += double(z.data()[p * J + j]) * double(pk.data()[j * F + f]);
      y.data()[p * F + f] = float(acc);
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
