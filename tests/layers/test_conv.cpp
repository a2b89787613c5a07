#include <xtensor/xmanipulation.hpp>

#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/conv.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using tapeflow::test::iota;
using tapeflow::test::run_with_weights;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;
using tapeflow::test::T;

TEST_CASE("Conv1D/2D/3D: names, weight shapes and output shapes") {
  reset_default_graph();
  Conv1D c1(Conv1DOptions(4, 3));
  CHECK(c1.name() == "conv1d");
  CHECK(c1.class_name() == "Conv1D");
  CHECK(c1(Variable(random_tensor({2, 10, 3}))).shape() == Shape{2, 8, 4});
  CHECK(c1.kernel().shape() == Shape{3, 3, 4});
  CHECK(c1.bias().shape() == Shape{4});
  CHECK(c1.kernel().name() == "conv1d/kernel");
  CHECK(c1.bias().name() == "conv1d/bias");
  CHECK(c1.count_params() == 40);
  CHECK(Conv1D(Conv1DOptions(1, 1)).name() == "conv1d_1");

  Conv2D c2(Conv2DOptions(8, {3, 2}).strides({2, 1}).padding("same"));
  CHECK(c2.name() == "conv2d");
  CHECK(c2.class_name() == "Conv2D");
  CHECK(c2.compute_output_shape({1, 7, 5, 2}) == Shape{1, 4, 5, 8});
  CHECK(c2(Variable(random_tensor({1, 7, 5, 2}))).shape() == Shape{1, 4, 5, 8});
  CHECK(c2.kernel().shape() == Shape{3, 2, 2, 8});
  CHECK(c2.kernel_size() == std::array<long, 2>{3, 2});
  CHECK(c2.strides() == std::array<long, 2>{2, 1});

  Conv3D c3(Conv3DOptions(2, 3).use_bias(false));
  CHECK(c3.name() == "conv3d");
  CHECK(c3.class_name() == "Conv3D");
  CHECK(c3(Variable(random_tensor({1, 5, 6, 7, 1}))).shape() == Shape{1, 3, 4, 5, 2});
  CHECK(c3.variables().size() == 1);
  CHECK_FALSE(c3.bias().defined());

  Conv3D cf(Conv3DOptions(2, 3).data_format("channels_first"));
  CHECK(cf(Variable(random_tensor({1, 1, 5, 6, 7}))).shape() == Shape{1, 2, 3, 4, 5});
  CHECK(cf.kernel().shape() == Shape{3, 3, 3, 1, 2});

  // dilated kernel 3 with rate 2 spans 5
  Conv2D dil(Conv2DOptions(1, 3).dilation_rate(2));
  CHECK(dil(Variable(random_tensor({1, 7, 8, 1}))).shape() == Shape{1, 3, 4, 1});
  // causal keeps the length (ceil(in / s) with strides)
  Conv1D causal(Conv1DOptions(2, 3).padding("causal").dilation_rate(2));
  CHECK(causal(Variable(random_tensor({1, 6, 1}))).shape() == Shape{1, 6, 2});
  Conv1D causal_s(Conv1DOptions(2, 3).padding("causal").strides(2));
  CHECK(causal_s(Variable(random_tensor({1, 7, 1}))).shape() == Shape{1, 4, 2});
}

TEST_CASE("Conv1D known values: valid, same with strides, causal, dilation") {
  reset_default_graph();
  const Tensor x = T({1, 5, 1}, {1, 2, 3, 4, 5});
  const Tensor k = T({3, 1, 1}, {1, 2, 3});
  const Tensor b = T({1}, {0.5f});
  // y[i] = x[i] + 2 x[i+1] + 3 x[i+2] + 0.5
  Conv1D valid(Conv1DOptions(1, 3));
  TF_CHECK_CLOSE(run_with_weights(valid, x, {k, b}).value(), T({1, 3, 1}, {14.5f, 20.5f, 26.5f}));
  // same, stride 2: 3 outputs, TF pads 2 in total, 1 before: windows start at -1, 1, 3
  Conv1D same(Conv1DOptions(1, 3).strides(2).padding("same"));
  TF_CHECK_CLOSE(run_with_weights(same, x, {k, b}).value(), T({1, 3, 1}, {8.5f, 20.5f, 14.5f}));
  // causal, dilation 2, kernel [1, 10]: y[i] = x[i - 2] + 10 x[i]
  Conv1D causal(Conv1DOptions(1, 2).padding("causal").dilation_rate(2).use_bias(false));
  TF_CHECK_CLOSE(run_with_weights(causal, x, {T({2, 1, 1}, {1, 10})}).value(),
                 T({1, 5, 1}, {10, 20, 31, 42, 53}));
  // dilation 2 spans all 5 inputs: x0 + 2 x2 + 3 x4
  Conv1D dil(Conv1DOptions(1, 3).dilation_rate(2).use_bias(false));
  TF_CHECK_CLOSE(run_with_weights(dil, x, {k}).value(), T({1, 1, 1}, {22}));
}

TEST_CASE("Conv2D known values: kernel layout (kh, kw, in, out), bias, activation") {
  reset_default_graph();
  // 3x3 image 1..9, 2x2 kernel [[1, 2], [3, 4]], bias -40, relu:
  // 37, 47, 67, 77 before the bias
  Conv2D c(Conv2DOptions(1, 2).activation("relu"));
  TF_CHECK_CLOSE(
      run_with_weights(c, iota({1, 3, 3, 1}, 1.f), {T({2, 2, 1, 1}, {1, 2, 3, 4}), T({1}, {-40})})
          .value(),
      T({1, 2, 2, 1}, {0, 7, 27, 37}));
  // 1x1 kernel, 2 -> 2 channels: y[out] = sum_in x[in] K[in, out] + b[out]
  Conv2D m(Conv2DOptions(2, 1));
  const Tensor x = T({1, 1, 2, 2}, {1, 2, 3, -1});
  const Tensor k = T({1, 1, 2, 2}, {1, -1, 2, 3});
  const Tensor b = T({2}, {0.5f, -0.5f});
  TF_CHECK_CLOSE(run_with_weights(m, x, {k, b}).value(),
                 T({1, 1, 2, 2}, {5.5f, 4.5f, 1.5f, -6.5f}));
  // channels_first: the same numbers, transposed
  Conv2D mf(Conv2DOptions(2, 1).data_format("channels_first"));
  TF_CHECK_CLOSE(run_with_weights(mf, Tensor(xt::transpose(x, {0, 3, 1, 2})), {k, b}).value(),
                 T({1, 2, 1, 2}, {5.5f, 1.5f, 4.5f, -6.5f}));
}

TEST_CASE("Conv3D known values: valid sum and same padding with strides") {
  reset_default_graph();
  Conv3D sum3(
      Conv3DOptions(1, 2).kernel_initializer("ones").bias_initializer(initializers::constant(1.f)));
  TF_CHECK_CLOSE(sum3(Variable(iota({1, 2, 2, 2, 1}, 0.f))).value(), T({1, 1, 1, 1, 1}, {29}));
  // 4^3 ones, kernel 3, stride 2, same: pad 1 in total, after; windows cover 3 or 2 inputs
  Conv3D same(Conv3DOptions(1, 3).strides(2).padding("same").kernel_initializer("ones"));
  Tensor y = same(Variable(Tensor(xt::ones<float>({1, 4, 4, 4, 1})))).value();
  REQUIRE(shape_of(y) == Shape{1, 2, 2, 2, 1});
  CHECK(y(0, 0, 0, 0, 0) == doctest::Approx(27));
  CHECK(y(0, 1, 1, 1, 0) == doctest::Approx(8));
  CHECK(y(0, 0, 1, 1, 0) == doctest::Approx(12));
  CHECK(y(0, 1, 0, 0, 0) == doctest::Approx(18));
}

TEST_CASE("Conv2D and Conv3D: channels_first equals channels_last transposed") {
  reset_default_graph();
  Tensor x = random_tensor({2, 5, 6, 3}, 11);
  Tensor k = random_tensor({3, 2, 3, 4}, 12), b = random_tensor({4}, 13);
  Conv2D last(Conv2DOptions(4, {3, 2}).strides(2).padding("same").activation("tanh"));
  Conv2D first(Conv2DOptions(4, {3, 2}).strides(2).padding("same").activation("tanh").data_format(
      "channels_first"));
  Tensor yl = run_with_weights(last, x, {k, b}).value();
  Tensor yf = run_with_weights(first, Tensor(xt::transpose(x, {0, 3, 1, 2})), {k, b}).value();
  TF_CHECK_CLOSE(yf, Tensor(xt::transpose(yl, {0, 3, 1, 2})));

  Tensor x3 = random_tensor({1, 4, 3, 5, 2}, 14);
  Tensor k3 = random_tensor({2, 2, 2, 2, 3}, 15), b3 = random_tensor({3}, 16);
  Conv3D l3(Conv3DOptions(3, 2).dilation_rate({1, 1, 2}));
  Conv3D f3(Conv3DOptions(3, 2).dilation_rate({1, 1, 2}).data_format("CHANNELS_FIRST"));
  CHECK(f3.data_format() == "channels_first");
  Tensor y3l = run_with_weights(l3, x3, {k3, b3}).value();
  Tensor y3f = run_with_weights(f3, Tensor(xt::transpose(x3, {0, 4, 1, 2, 3})), {k3, b3}).value();
  TF_CHECK_CLOSE(y3f, Tensor(xt::transpose(y3l, {0, 4, 1, 2, 3})));
}

TEST_CASE("Conv layers: gradcheck of input, kernel and bias") {
  reset_default_graph();
  SUBCASE("Conv1D same, stride 2") {
    Conv1D c(Conv1DOptions(2, 3).strides(2).padding("same").activation("tanh"));
    Tensor x = random_tensor({2, 5, 2}, 21);
    run_with_weights(c, x, {random_tensor({3, 2, 2}, 22), random_tensor({2}, 23)});
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return c(in[0]); }, {x});
    TF_GRADCHECK_VARIABLES([&] { return c(Variable(x)); }, c.trainable_variables());
  }
  SUBCASE("Conv1D causal, dilated") {
    Conv1D c(Conv1DOptions(2, 2).padding("causal").dilation_rate(2));
    Tensor x = random_tensor({1, 5, 2}, 24);
    c(Variable(x));
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return c(in[0]); }, {x});
    TF_GRADCHECK_VARIABLES([&] { return c(Variable(x)); }, c.trainable_variables());
  }
  SUBCASE("Conv2D channels_first, same, strides") {
    Conv2D c(Conv2DOptions(2, {2, 3})
                 .strides({2, 1})
                 .padding("same")
                 .data_format("channels_first")
                 .bias_initializer("ones"));
    Tensor x = random_tensor({1, 2, 3, 4}, 25);
    c(Variable(x));
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return c(in[0]); }, {x});
    TF_GRADCHECK_VARIABLES([&] { return c(Variable(x)); }, c.trainable_variables());
  }
  SUBCASE("Conv2D dilated, sigmoid") {
    Conv2D c(Conv2DOptions(3, 2).dilation_rate(2).activation("sigmoid"));
    Tensor x = random_tensor({2, 4, 3, 1}, 26);
    c(Variable(x));
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return c(in[0]); }, {x});
    TF_GRADCHECK_VARIABLES([&] { return c(Variable(x)); }, c.trainable_variables());
  }
  SUBCASE("Conv3D valid and same") {
    Conv3D c(Conv3DOptions(2, 2).bias_initializer("ones"));
    Tensor x = random_tensor({1, 3, 2, 3, 2}, 27);
    c(Variable(x));
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return c(in[0]); }, {x});
    TF_GRADCHECK_VARIABLES([&] { return c(Variable(x)); }, c.trainable_variables());
    Conv3D s(Conv3DOptions(1, {2, 3, 1}).strides(2).padding("same").data_format("channels_first"));
    Tensor xf = random_tensor({1, 2, 3, 3, 2}, 28);
    s(Variable(xf));
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return s(in[0]); }, {xf});
    TF_GRADCHECK_VARIABLES([&] { return s(Variable(xf)); }, s.trainable_variables());
  }
}

TEST_CASE("Conv2D: regularizers, constraints and activity regularizer") {
  reset_default_graph();
  Conv2D c(Conv2DOptions(2, 1)
               .kernel_initializer("ones")
               .bias_initializer(initializers::constant(2.f))
               .kernel_regularizer(regularizers::l2(0.1f))
               .bias_regularizer(regularizers::l1(0.5f))
               .kernel_constraint(constraints::non_neg())
               .activity_regularizer(regularizers::l1(1.f)));
  Variable y = c(Variable(T({1, 1, 1, 3}, {1, 1, 1})));
  TF_CHECK_CLOSE(y.value(), T({1, 1, 1, 2}, {5, 5}));
  auto losses = c.losses();
  REQUIRE(losses.size() == 3);
  CHECK(losses[0].item() == doctest::Approx(0.1f * 6));  // l2 kernel: 6 ones
  CHECK(losses[1].item() == doctest::Approx(0.5f * 4));  // l1 bias: |2| + |2|
  CHECK(losses[2].item() == doctest::Approx(10.f));      // l1 activity / batch 1
  REQUIRE(c.kernel().constraint());
  TF_CHECK_CLOSE(c.kernel().constraint()(T({2}, {-1, 2})), T({2}, {0, 2}));
  Conv1D frozen(Conv1DOptions(1, 1).trainable(false));
  frozen(Variable(random_tensor({1, 2, 1})));
  CHECK(frozen.trainable_variables().empty());
  CHECK(frozen.non_trainable_variables().size() == 2);
}

TEST_CASE("Conv layers: bad arguments and inputs") {
  reset_default_graph();
  TF_CHECK_ERROR(Conv2D(Conv2DOptions(0, 3).name("bad")), "bad", "filters", "0");
  TF_CHECK_ERROR(Conv1D(Conv1DOptions(-2, 3)), "conv1d", "filters", "-2");
  TF_CHECK_ERROR(Conv2D(Conv2DOptions(2, {3, 3, 3})), "conv2d", "kernel_size (3, 3, 3)",
                 "expected 1 or 2");
  TF_CHECK_ERROR(Conv3D(Conv3DOptions(2, {3, 0, 3})), "conv3d", "kernel_size (3, 0, 3)", "> 0");
  TF_CHECK_ERROR(Conv2D(Conv2DOptions(2, 3).strides({1, 0})), "conv2d", "strides (1, 0)");
  TF_CHECK_ERROR(Conv2D(Conv2DOptions(2, 3).strides({1, 1, 1})), "conv2d", "strides (1, 1, 1)",
                 "expected 1 or 2");
  TF_CHECK_ERROR(Conv2D(Conv2DOptions(2, 3).dilation_rate(0)), "conv2d", "dilation_rate (0,)");
  TF_CHECK_ERROR(Conv2D(Conv2DOptions(2, 3).strides(2).dilation_rate({1, 2})), "conv2d",
                 "strides (2, 2) > 1", "dilation_rate (1, 2) > 1");
  TF_CHECK_ERROR(Conv2D(Conv2DOptions(2, 3).padding("full")), "conv2d", "unknown padding 'full'");
  TF_CHECK_ERROR(Conv1D(Conv1DOptions(2, 3).padding("full")), "conv1d", "'causal'");
  TF_CHECK_ERROR(Conv2D(Conv2DOptions(2, 3).padding("causal")), "conv2d", "causal",
                 "only supported for Conv1D");
  TF_CHECK_ERROR(Conv2D(Conv2DOptions(2, 3).data_format("NHWC")), "conv2d",
                 "unknown data_format 'NHWC'");
  TF_CHECK_ERROR(Conv2D(Conv2DOptions(2, 3).activation("nope")), "conv2d", "activation", "nope");

  Conv2D c(Conv2DOptions(2, 3).name("probe"));
  TF_CHECK_ERROR(c(Variable(random_tensor({1, 5, 5}))), "probe:", "rank 4", "(1, 5, 5)");
  TF_CHECK_ERROR(c(Variable(random_tensor({1, 2, 5, 1}))), "probe:", "too small", "spatial axis 0",
                 "kernel_size 3");
  CHECK_FALSE(c.built());  // the failed first call created no weights
  c(Variable(random_tensor({1, 5, 5, 3})));
  TF_CHECK_ERROR(c(Variable(random_tensor({1, 5, 5, 4}))), "probe:", "4 channels", "built for 3");
  Conv2D cf(Conv2DOptions(2, 3).data_format("channels_first").name("probe_cf"));
  cf(Variable(random_tensor({1, 3, 5, 5})));
  TF_CHECK_ERROR(cf(Variable(random_tensor({1, 2, 5, 5}))), "probe_cf:", "2 channels (axis 1)");
}

TEST_CASE("Conv layers: ValueError for arguments, ShapeError for inputs, on every call") {
  reset_default_graph();
  CHECK_THROWS_AS(Conv2D(Conv2DOptions(0, 3)), ValueError);
  CHECK_THROWS_AS(Conv3D(Conv3DOptions(2, {3, 3})), ValueError);
  CHECK_THROWS_AS(Conv3D(Conv3DOptions(2, 3).padding("causal")), ValueError);
  CHECK_THROWS_AS(Conv2D(Conv2DOptions(2, 3).data_format("NHWC")), ValueError);
  // Keras' rule, kept for the ordinary convolutions (the transposed ones go beyond it).
  CHECK_THROWS_AS(Conv1D(Conv1DOptions(2, 3).strides(2).dilation_rate(2)), ValueError);
  // An unknown activation: the layer adds its name in front, "activation" stays once.
  std::string message;
  try {
    Conv2D bad(Conv2DOptions(2, 3).activation("nope").name("c"));
  } catch (const ValueError& e) {
    message = e.what();
  }
  CHECK(message.rfind("c: activation: unknown activation 'nope' (known", 0) == 0);
  CHECK(message.find("activation: activation") == std::string::npos);

  Conv1D c1(Conv1DOptions(2, 3).name("c1"));
  CHECK_THROWS_AS(c1(Variable(random_tensor({1, 5}))), ShapeError);     // rank, first call
  CHECK_THROWS_AS(c1(Variable(random_tensor({1, 2, 1}))), ShapeError);  // too small, first call
  CHECK_THROWS_AS(c1.compute_output_shape({1, 5, 1, 1}), ShapeError);
  c1(Variable(random_tensor({1, 5, 1})));
  CHECK_THROWS_AS(c1(Variable(random_tensor({1, 5, 1, 1}))), ShapeError);  // rank, later call
  CHECK_THROWS_AS(c1(Variable(random_tensor({1, 5, 2}))), ShapeError);     // channels
  CHECK_THROWS_AS(c1(Variable(random_tensor({1, 2, 1}))), ShapeError);     // too small, later
  Conv3D c3(Conv3DOptions(2, 2).data_format("channels_first").name("c3"));
  c3(Variable(random_tensor({1, 2, 3, 3, 3})));
  TF_CHECK_ERROR(c3(Variable(random_tensor({1, 1, 3, 3, 3}))),
                 "c3: input has 1 channels (axis 1) but the layer was built for 2");
  CHECK_THROWS_AS(c3(Variable(random_tensor({1, 1, 3, 3, 3}))), ShapeError);
}

TEST_CASE("Conv layers: get_config and pretty_print") {
  reset_default_graph();
  Conv2D c(Conv2DOptions(8, 3).strides(2).padding("SAME").activation("relu").kernel_regularizer(
      regularizers::l2(0.01f)));
  CHECK(c.pretty_print() ==
        "Conv2D(filters=8, kernel_size=(3, 3), strides=(2, 2), padding=same, activation=relu)");
  Config cfg = c.get_config();
  CHECK(cfg["name"] == "conv2d");
  CHECK(cfg["filters"] == "8");
  CHECK(cfg["kernel_size"] == "(3, 3)");
  CHECK(cfg["strides"] == "(2, 2)");
  CHECK(cfg["padding"] == "same");
  CHECK(cfg["data_format"] == "channels_last");
  CHECK(cfg["dilation_rate"] == "(1, 1)");
  CHECK(cfg["activation"] == "relu");
  CHECK(cfg["use_bias"] == "true");
  CHECK(cfg["kernel_initializer"].find("glorot_uniform") == 0);
  CHECK(cfg["bias_initializer"].find("zeros") == 0);
  CHECK(cfg["kernel_regularizer"] == "l2(l2=0.01)");
  CHECK(cfg["bias_constraint"] == "None");
  CHECK(cfg.count("output_padding") == 0);

  Conv1D c1(Conv1DOptions(4, 3).padding("causal").dilation_rate(2));
  CHECK(c1.pretty_print() ==
        "Conv1D(filters=4, kernel_size=(3,), strides=(1,), padding=causal, dilation_rate=(2,))");
  Conv3D c3(Conv3DOptions(2, {1, 2, 3}).data_format("channels_first").use_bias(false));
  CHECK(c3.pretty_print() ==
        "Conv3D(filters=2, kernel_size=(1, 2, 3), strides=(1, 1, 1), padding=valid, "
        "data_format=channels_first, use_bias=false)");
}
