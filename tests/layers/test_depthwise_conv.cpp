#include <array>
#include <xtensor/xmanipulation.hpp>

#include "layers/depthwise_reference.hpp"
#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/depthwise_conv.hpp"
#include "tapeflow/layers/registry.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;
using tapeflow::test::run_with_weights;
using tapeflow::test::T;

using tapeflow::test::depthwise_reference;
using tapeflow::test::depthwise_reference_1d;

TEST_CASE("DepthwiseConv1D/2D: names, weight shapes and output shapes") {
  reset_default_graph();
  DepthwiseConv2D c(DepthwiseConv2DOptions(3).depth_multiplier(2));
  CHECK(c.name() == "depthwise_conv2d");
  CHECK(c.class_name() == "DepthwiseConv2D");
  CHECK(c.compute_output_shape({2, 6, 5, 3}) == Shape{2, 4, 3, 6});
  CHECK(c(Variable(random_tensor({2, 6, 5, 3}))).shape() == Shape{2, 4, 3, 6});
  CHECK(c.depthwise_kernel().shape() == Shape{3, 3, 3, 2});
  CHECK(c.depthwise_kernel().name() == "depthwise_conv2d/depthwise_kernel");
  CHECK(c.bias().shape() == Shape{6});
  CHECK(c.bias().name() == "depthwise_conv2d/bias");
  CHECK(c.count_params() == 54 + 6);
  CHECK(DepthwiseConv2D(DepthwiseConv2DOptions(1)).name() == "depthwise_conv2d_1");

  DepthwiseConv1D c1(DepthwiseConv1DOptions(2).padding("same").strides(2).use_bias(false));
  CHECK(c1.name() == "depthwise_conv1d");
  CHECK(c1.class_name() == "DepthwiseConv1D");
  CHECK(c1(Variable(random_tensor({1, 7, 4}))).shape() == Shape{1, 4, 4});
  CHECK(c1.depthwise_kernel().shape() == Shape{2, 4, 1});
  CHECK(c1.variables().size() == 1);
  CHECK_FALSE(c1.bias().defined());

  DepthwiseConv2D cf(DepthwiseConv2DOptions({2, 3}).data_format("channels_first"));
  CHECK(cf(Variable(random_tensor({1, 2, 5, 6}))).shape() == Shape{1, 2, 4, 4});
  CHECK(cf.depthwise_kernel().shape() == Shape{2, 3, 2, 1});
}

TEST_CASE("DepthwiseConv2D known values: output channel c * depth_multiplier + m") {
  reset_default_graph();
  // 1x1 kernel, 2 channels, multiplier 2: y = (x0 k00, x0 k01, x1 k10, x1 k11) + bias.
  DepthwiseConv2D c(DepthwiseConv2DOptions(1).depth_multiplier(2));
  Tensor y = run_with_weights(c, T({1, 1, 1, 2}, {2, 3}),
                              {T({1, 1, 2, 2}, {1, 10, 100, 1000}), T({4}, {0, 0.5f, 0, -1})})
                 .value();
  TF_CHECK_CLOSE(y, T({1, 1, 1, 4}, {2, 20.5f, 300, 2999}));
  // 1-D, kernel [1, 2] per channel ([1, 2] and [3, -1]), valid: y[i] = k0 x[i] + k1 x[i + 1].
  DepthwiseConv1D c1(DepthwiseConv1DOptions(2).use_bias(false));
  Tensor y1 =
      run_with_weights(c1, T({1, 3, 2}, {1, 4, 2, 5, 3, 6}), {T({2, 2, 1}, {1, 3, 2, -1})}).value();
  TF_CHECK_CLOSE(y1, T({1, 2, 2}, {5, 7, 8, 9}));
}

TEST_CASE("DepthwiseConv1D/2D values against the per-channel loops") {
  reset_default_graph();
  struct Case2 {
    const char* what;
    Shape x;
    std::array<long, 2> k, s, d;
    long dm;
    const char* padding;
  };
  const std::vector<Case2> cases = {
      {"valid", {2, 5, 6, 3}, {3, 2}, {1, 1}, {1, 1}, 1, "valid"},
      {"same, strides", {1, 6, 5, 2}, {3, 3}, {2, 2}, {1, 1}, 2, "same"},
      {"same, dilation", {1, 6, 7, 2}, {2, 3}, {1, 1}, {2, 2}, 3, "same"},
      {"valid, strides and dilation (beyond TF)", {1, 7, 7, 2}, {2, 2}, {2, 1}, {2, 2}, 1, "valid"},
  };
  unsigned seed = 300;
  for (const auto& c : cases) {
    CAPTURE(c.what);
    Tensor x = random_tensor(c.x, seed++);
    Tensor k = random_tensor({std::size_t(c.k[0]), std::size_t(c.k[1]), c.x[3], std::size_t(c.dm)},
                             seed++);
    Tensor b = random_tensor({c.x[3] * std::size_t(c.dm)}, seed++);
    const bool same = std::string(c.padding) == "same";
    auto o = DepthwiseConv2DOptions({c.k[0], c.k[1]})
                 .strides({c.s[0], c.s[1]})
                 .dilation_rate({c.d[0], c.d[1]})
                 .depth_multiplier(c.dm)
                 .padding(c.padding);
    DepthwiseConv2D last(o);
    Tensor want = depthwise_reference(x, k, b, c.s, c.d, same);
    TF_CHECK_CLOSE(run_with_weights(last, x, {k, b}).value(), want, 1e-5f, 1e-5f);
    DepthwiseConv2D first(o.data_format("channels_first"));
    Tensor yf = run_with_weights(first, Tensor(xt::transpose(x, {0, 3, 1, 2})), {k, b}).value();
    TF_CHECK_CLOSE(Tensor(xt::transpose(yf, {0, 2, 3, 1})), want, 1e-5f, 1e-5f);
  }
  Tensor x = random_tensor({2, 9, 3}, 310), k = random_tensor({3, 3, 2}, 311);
  Tensor b = random_tensor({6}, 312);
  DepthwiseConv1D s(DepthwiseConv1DOptions(3).strides(2).padding("same").depth_multiplier(2));
  TF_CHECK_CLOSE(run_with_weights(s, x, {k, b}).value(),
                 depthwise_reference_1d(x, k, b, 2, 1, true), 1e-5f, 1e-5f);
  DepthwiseConv1D d(
      DepthwiseConv1DOptions(3).dilation_rate(3).depth_multiplier(2).data_format("channels_first"));
  Tensor yd = run_with_weights(d, Tensor(xt::transpose(x, {0, 2, 1})), {k, b}).value();
  TF_CHECK_CLOSE(Tensor(xt::transpose(yd, {0, 2, 1})), depthwise_reference_1d(x, k, b, 1, 3, false),
                 1e-5f, 1e-5f);
}

TEST_CASE("DepthwiseConv1D/2D: gradcheck of input, depthwise kernel and bias") {
  reset_default_graph();
  SUBCASE("2-D same, strides, multiplier 2, tanh") {
    DepthwiseConv2D c(
        DepthwiseConv2DOptions(2).strides(2).padding("same").depth_multiplier(2).activation(
            "tanh"));
    Tensor x = random_tensor({1, 3, 4, 2}, 41);
    run_with_weights(c, x, {random_tensor({2, 2, 2, 2}, 42), random_tensor({4}, 43)});
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return c(in[0]); }, {x});
    TF_GRADCHECK_VARIABLES([&] { return c(Variable(x)); }, c.trainable_variables());
  }
  SUBCASE("2-D channels_first, dilated") {
    DepthwiseConv2D c(
        DepthwiseConv2DOptions({2, 1}).dilation_rate(2).data_format("channels_first"));
    Tensor x = random_tensor({2, 3, 4, 2}, 44);
    run_with_weights(c, x, {random_tensor({2, 1, 3, 1}, 45), random_tensor({3}, 46)});
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return c(in[0]); }, {x});
    TF_GRADCHECK_VARIABLES([&] { return c(Variable(x)); }, c.trainable_variables());
  }
  SUBCASE("1-D valid, multiplier 3") {
    DepthwiseConv1D c(DepthwiseConv1DOptions(3).depth_multiplier(3));
    Tensor x = random_tensor({2, 5, 2}, 47);
    run_with_weights(c, x, {random_tensor({3, 2, 3}, 48), random_tensor({6}, 49)});
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return c(in[0]); }, {x});
    TF_GRADCHECK_VARIABLES([&] { return c(Variable(x)); }, c.trainable_variables());
  }
}

TEST_CASE("DepthwiseConv2D: regularizers, constraints, activity regularizer, trainable") {
  reset_default_graph();
  DepthwiseConv2D c(DepthwiseConv2DOptions(1)
                        .depthwise_initializer("ones")
                        .bias_initializer(initializers::constant(2.f))
                        .depthwise_regularizer(regularizers::l2(0.1f))
                        .bias_regularizer(regularizers::l1(0.5f))
                        .depthwise_constraint(constraints::non_neg())
                        .activity_regularizer(regularizers::l1(1.f)));
  Variable y = c(Variable(T({1, 1, 1, 3}, {1, 1, 1})));
  TF_CHECK_CLOSE(y.value(), T({1, 1, 1, 3}, {3, 3, 3}));
  auto losses = c.losses();
  REQUIRE(losses.size() == 3);
  CHECK(losses[0].item() == doctest::Approx(0.1f * 3));  // l2 depthwise: 3 ones
  CHECK(losses[1].item() == doctest::Approx(0.5f * 6));  // l1 bias: 3 x |2|
  CHECK(losses[2].item() == doctest::Approx(9.f));       // l1 activity / batch 1
  REQUIRE(c.depthwise_kernel().constraint());
  CHECK_FALSE(c.bias().constraint());
  DepthwiseConv1D frozen(DepthwiseConv1DOptions(1).trainable(false));
  frozen(Variable(random_tensor({1, 2, 1})));
  CHECK(frozen.trainable_variables().empty());
  CHECK(frozen.non_trainable_variables().size() == 2);
}

TEST_CASE("DepthwiseConv1D/2D: bad arguments and inputs") {
  reset_default_graph();
  CHECK_THROWS_AS(DepthwiseConv2D(DepthwiseConv2DOptions(3).depth_multiplier(0)), ValueError);
  TF_CHECK_ERROR(DepthwiseConv2D(DepthwiseConv2DOptions(3).depth_multiplier(-1).name("bad")),
                 "bad:", "depth_multiplier", "-1");
  CHECK_THROWS_AS(DepthwiseConv2D(DepthwiseConv2DOptions({3, 3, 3})), ValueError);
  TF_CHECK_ERROR(DepthwiseConv2D(DepthwiseConv2DOptions({3, 0}).name("k0")),
                 "k0:", "kernel_size (3, 0)");
  CHECK_THROWS_AS(DepthwiseConv1D(DepthwiseConv1DOptions(3).strides(0)), ValueError);
  CHECK_THROWS_AS(DepthwiseConv1D(DepthwiseConv1DOptions(3).dilation_rate({1, 1})), ValueError);
  // Keras' depthwise layers take "valid" or "same" only.
  TF_CHECK_ERROR(DepthwiseConv1D(DepthwiseConv1DOptions(3).padding("causal").name("pc")),
                 "pc:", "unknown padding 'causal'");
  CHECK_THROWS_AS(DepthwiseConv2D(DepthwiseConv2DOptions(3).data_format("NHWC")), ValueError);
  CHECK_THROWS_AS(DepthwiseConv2D(DepthwiseConv2DOptions(3).activation("nope")), ValueError);
  CHECK_THROWS_AS(DepthwiseConv2D(DepthwiseConv2DOptions{}), ValueError);  // no kernel_size

  DepthwiseConv2D c(DepthwiseConv2DOptions(3).name("probe"));
  CHECK_THROWS_AS(c(Variable(random_tensor({1, 5, 5}))), ShapeError);
  TF_CHECK_ERROR(c(Variable(random_tensor({1, 2, 5, 1}))), "probe:", "too small", "spatial axis 0");
  CHECK_FALSE(c.built());
  c(Variable(random_tensor({1, 5, 5, 3})));
  CHECK_THROWS_AS(c(Variable(random_tensor({1, 5, 5, 4}))), ShapeError);
  TF_CHECK_ERROR(c(Variable(random_tensor({1, 5, 5, 4}))), "probe:", "4 channels", "built for 3");
  CHECK_THROWS_AS(c.compute_output_shape({1, 5, 5, 1, 1}), ShapeError);
}

TEST_CASE("DepthwiseConv1D/2D: get_config, pretty_print and rebuilding") {
  reset_default_graph();
  DepthwiseConv2D c(DepthwiseConv2DOptions(3)
                        .strides(2)
                        .padding("SAME")
                        .depth_multiplier(2)
                        .depthwise_regularizer(regularizers::l2(0.01f)));
  CHECK(c.pretty_print() ==
        "DepthwiseConv2D(kernel_size=(3, 3), strides=(2, 2), padding=same, depth_multiplier=2)");
  Config cfg = c.get_config();
  CHECK(cfg["name"] == "depthwise_conv2d");
  CHECK(cfg["kernel_size"] == "(3, 3)");
  CHECK(cfg["strides"] == "(2, 2)");
  CHECK(cfg["padding"] == "same");
  CHECK(cfg["depth_multiplier"] == "2");
  CHECK(cfg["data_format"] == "channels_last");
  CHECK(cfg["dilation_rate"] == "(1, 1)");
  CHECK(cfg["activation"] == "linear");
  CHECK(cfg["use_bias"] == "true");
  CHECK(cfg["depthwise_initializer"].find("glorot_uniform") == 0);
  CHECK(cfg["bias_initializer"].find("zeros") == 0);
  CHECK(cfg["depthwise_regularizer"] == "l2(l2=0.01)");
  CHECK(cfg["depthwise_constraint"] == "None");
  CHECK(cfg.count("kernel_initializer") == 0);
  CHECK(cfg.count("filters") == 0);
  auto copy = create_layer("DepthwiseConv2D", cfg);
  CHECK(copy->class_name() == "DepthwiseConv2D");
  Config back = copy->get_config();
  back.erase("name");
  cfg.erase("name");
  CHECK(back == cfg);

  DepthwiseConv1D c1(
      DepthwiseConv1DOptions(3).dilation_rate(2).data_format("channels_first").use_bias(false));
  CHECK(c1.pretty_print() ==
        "DepthwiseConv1D(kernel_size=(3,), strides=(1,), padding=valid, depth_multiplier=1, "
        "data_format=channels_first, dilation_rate=(2,), use_bias=false)");
}
