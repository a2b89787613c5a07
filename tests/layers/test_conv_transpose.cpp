#include <xtensor/xmanipulation.hpp>

#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/conv_transpose.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;

namespace {
Tensor T(const Shape& shape, const std::vector<float>& values) {
  Tensor t = Tensor::from_shape(shape);
  REQUIRE(t.size() == values.size());
  std::copy(values.begin(), values.end(), t.begin());
  return t;
}
template <class L>
Variable run(L& layer, const Tensor& x, const std::vector<Tensor>& weights) {
  layer(Variable(x));
  layer.set_weights(weights);
  return layer(Variable(x));
}
Tensor plus(const Tensor& t, float v) { return Tensor(t + v); }
}  // namespace

TEST_CASE("Conv1DTranspose/Conv2DTranspose: names, weight shapes and output shapes") {
  reset_default_graph();
  Conv1DTranspose t1(Conv1DTransposeOptions(2, 3).strides(2));
  CHECK(t1.name() == "conv1d_transpose");
  CHECK(t1.class_name() == "Conv1DTranspose");
  // valid: in * s + max(k - s, 0) = 4 * 2 + 1
  CHECK(t1(Variable(random_tensor({3, 4, 5}))).shape() == Shape{3, 9, 2});
  CHECK(t1.kernel().shape() == Shape{3, 2, 5});  // (k, filters, in)
  CHECK(t1.bias().shape() == Shape{2});
  CHECK(t1.kernel().name() == "conv1d_transpose/kernel");
  CHECK(t1.bias().name() == "conv1d_transpose/bias");
  CHECK_FALSE(t1.output_padding().has_value());
  CHECK(Conv1DTranspose(Conv1DTransposeOptions(1, 1)).name() == "conv1d_transpose_1");

  Conv1DTranspose same(Conv1DTransposeOptions(2, 3).strides(2).padding("same"));
  CHECK(same(Variable(random_tensor({1, 4, 1}))).shape() == Shape{1, 8, 2});
  // output_padding (PyTorch rule): (in - 1) * s + k - 2 * pad + op, pad = k / 2 for same
  Conv1DTranspose opv(Conv1DTransposeOptions(2, 3).strides(2).output_padding(1));
  CHECK(opv.compute_output_shape({1, 4, 1}) == Shape{1, 10, 2});
  Conv1DTranspose ops(Conv1DTransposeOptions(2, 3).strides(2).padding("same").output_padding(1));
  CHECK(ops.compute_output_shape({1, 4, 1}) == Shape{1, 8, 2});
  CHECK(ops.output_padding() == std::array<long, 1>{1});
  // dilation: dk = 5, valid: in + dk - 1
  Conv1DTranspose dil(Conv1DTransposeOptions(1, 3).dilation_rate(2));
  CHECK(dil(Variable(random_tensor({1, 4, 1}))).shape() == Shape{1, 8, 1});

  Conv2DTranspose t2(Conv2DTransposeOptions(3, {3, 2}).strides({2, 1}).padding("same"));
  CHECK(t2.name() == "conv2d_transpose");
  CHECK(t2.class_name() == "Conv2DTranspose");
  CHECK(t2(Variable(random_tensor({1, 3, 4, 2}))).shape() == Shape{1, 6, 4, 3});
  CHECK(t2.kernel().shape() == Shape{3, 2, 3, 2});
  Conv2DTranspose tf(Conv2DTransposeOptions(3, 2).strides(3).data_format("channels_first"));
  // valid with stride > kernel: in * s
  CHECK(tf(Variable(random_tensor({2, 1, 2, 3}))).shape() == Shape{2, 3, 6, 9});
  CHECK(tf.kernel().shape() == Shape{2, 2, 3, 1});
}

TEST_CASE("Conv1DTranspose known values: valid, same, output_padding, dilation") {
  reset_default_graph();
  const Tensor x = T({1, 2, 1}, {1, 2});
  const Tensor k = T({3, 1, 1}, {1, 10, 100});
  const Tensor b = T({1}, {0.5f});
  // y[i * 2 + t] += x[i] k[t]: [1, 10, 100 + 2, 20, 200]
  Conv1DTranspose valid(Conv1DTransposeOptions(1, 3).strides(2));
  TF_CHECK_CLOSE(run(valid, x, {k, b}).value(), plus(T({1, 5, 1}, {1, 10, 102, 20, 200}), 0.5f));
  // same: 4 outputs; TF pads max(0, (2 - 1) * 2 + 3 - 4) / 2 = 0 before: the last one drops
  Conv1DTranspose same(Conv1DTransposeOptions(1, 3).strides(2).padding("same"));
  TF_CHECK_CLOSE(run(same, x, {k, b}).value(), plus(T({1, 4, 1}, {1, 10, 102, 20}), 0.5f));
  // output_padding 1, valid: one more (zero) position at the end
  Conv1DTranspose opv(Conv1DTransposeOptions(1, 3).strides(2).output_padding(1));
  TF_CHECK_CLOSE(run(opv, x, {k, b}).value(), plus(T({1, 6, 1}, {1, 10, 102, 20, 200, 0}), 0.5f));
  // output_padding 1, same: PyTorch padding k / 2 = 1 trims one position before
  Conv1DTranspose ops(Conv1DTransposeOptions(1, 3).strides(2).padding("same").output_padding(1));
  TF_CHECK_CLOSE(run(ops, x, {k, b}).value(), plus(T({1, 4, 1}, {10, 102, 20, 200}), 0.5f));
  // dilation 2, kernel [1, 10]: y[i + 2 t] += x[i] k[t]
  Conv1DTranspose dil(Conv1DTransposeOptions(1, 2).dilation_rate(2).use_bias(false));
  TF_CHECK_CLOSE(run(dil, x, {T({2, 1, 1}, {1, 10})}).value(), T({1, 4, 1}, {1, 2, 10, 20}));
}

TEST_CASE("Conv2DTranspose known values: kernel layout (kh, kw, filters, in), activation") {
  reset_default_graph();
  // one pixel 2, kernel [[1, 2], [3, 4]], stride 2: the kernel scaled by 2
  Conv2DTranspose up(Conv2DTransposeOptions(1, 2).strides(2).use_bias(false));
  TF_CHECK_CLOSE(run(up, T({1, 1, 1, 1}, {2}), {T({2, 2, 1, 1}, {1, 2, 3, 4})}).value(),
                 T({1, 2, 2, 1}, {2, 4, 6, 8}));
  // 1x1 kernel K[filter][in] = [[1, 2], [3, 4]]: y[f] = sum_c x[c] K[f][c] + b, then relu
  Conv2DTranspose m(Conv2DTransposeOptions(2, 1).activation("relu"));
  TF_CHECK_CLOSE(
      run(m, T({1, 1, 1, 2}, {1, 2}), {T({1, 1, 2, 2}, {1, 2, 3, 4}), T({2}, {-6, 1})}).value(),
      T({1, 1, 1, 2}, {0, 12}));
  // channels_first gives the transposed result
  Tensor x = random_tensor({2, 2, 3, 2}, 31);
  Tensor kk = random_tensor({3, 2, 3, 2}, 32), bb = random_tensor({3}, 33);
  Conv2DTranspose last(Conv2DTransposeOptions(3, {3, 2}).strides(2).padding("same"));
  Conv2DTranspose first(
      Conv2DTransposeOptions(3, {3, 2}).strides(2).padding("same").data_format("channels_first"));
  Tensor yl = run(last, x, {kk, bb}).value();
  Tensor yf = run(first, Tensor(xt::transpose(x, {0, 3, 1, 2})), {kk, bb}).value();
  TF_CHECK_CLOSE(yf, Tensor(xt::transpose(yl, {0, 3, 1, 2})));
}

TEST_CASE("Conv2DTranspose is the adjoint of Conv2D with the same kernel tensor") {
  reset_default_graph();
  // Conv2D kernel (k, k, in=2, out=3) read as a Conv2DTranspose kernel (k, k, filters=2, in=3):
  // <conv(x), g> = <x, conv_transpose(g)>.
  Tensor k = random_tensor({3, 3, 2, 3}, 41);
  Tensor x = random_tensor({1, 6, 6, 2}, 42), g = random_tensor({1, 3, 3, 3}, 43);
  Conv2D c(Conv2DOptions(3, 3).strides(2).padding("same").use_bias(false));
  Conv2DTranspose t(Conv2DTransposeOptions(2, 3).strides(2).padding("same").use_bias(false));
  Tensor cx = run(c, x, {k}).value();
  Tensor tg = run(t, g, {k}).value();
  REQUIRE(shape_of(tg) == shape_of(x));
  CHECK(double(xt::sum(cx * g)()) == doctest::Approx(double(xt::sum(x * tg)())).epsilon(1e-5));
}

TEST_CASE("Conv transposes: gradcheck of input, kernel and bias") {
  reset_default_graph();
  SUBCASE("Conv1DTranspose same, stride 2, tanh") {
    Conv1DTranspose c(Conv1DTransposeOptions(2, 3).strides(2).padding("same").activation("tanh"));
    Tensor x = random_tensor({2, 3, 2}, 51);
    run(c, x, {random_tensor({3, 2, 2}, 52), random_tensor({2}, 53)});
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return c(in[0]); }, {x});
    TF_GRADCHECK_VARIABLES([&] { return c(Variable(x)); }, c.trainable_variables());
  }
  SUBCASE("Conv1DTranspose output_padding, dilation") {
    Conv1DTranspose c(Conv1DTransposeOptions(2, 2).strides(2).output_padding(1));
    Tensor x = random_tensor({1, 3, 2}, 54);
    c(Variable(x));
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return c(in[0]); }, {x});
    TF_GRADCHECK_VARIABLES([&] { return c(Variable(x)); }, c.trainable_variables());
    Conv1DTranspose d(Conv1DTransposeOptions(1, 2).dilation_rate(2).bias_initializer("ones"));
    d(Variable(x));
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return d(in[0]); }, {x});
    TF_GRADCHECK_VARIABLES([&] { return d(Variable(x)); }, d.trainable_variables());
  }
  SUBCASE("Conv2DTranspose channels_first, valid, strides") {
    Conv2DTranspose c(Conv2DTransposeOptions(2, {2, 3})
                          .strides({2, 1})
                          .data_format("channels_first")
                          .bias_initializer("ones"));
    Tensor x = random_tensor({1, 2, 2, 3}, 55);
    c(Variable(x));
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return c(in[0]); }, {x});
    TF_GRADCHECK_VARIABLES([&] { return c(Variable(x)); }, c.trainable_variables());
  }
  SUBCASE("Conv2DTranspose same, output_padding, sigmoid") {
    Conv2DTranspose c(
        Conv2DTransposeOptions(2, 3).strides(2).padding("same").output_padding(1).activation(
            "sigmoid"));
    Tensor x = random_tensor({1, 2, 2, 2}, 56);
    c(Variable(x));
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return c(in[0]); }, {x});
    TF_GRADCHECK_VARIABLES([&] { return c(Variable(x)); }, c.trainable_variables());
  }
}

TEST_CASE("Conv transposes: bad arguments and inputs") {
  reset_default_graph();
  TF_CHECK_ERROR(Conv2DTranspose(Conv2DTransposeOptions(0, 3).name("bad")), "bad", "filters");
  TF_CHECK_ERROR(Conv1DTranspose(Conv1DTransposeOptions(2, {3, 3})), "conv1d_transpose",
                 "kernel_size (3, 3)", "has 2 values, expected 1 (one");
  TF_CHECK_ERROR(Conv2DTranspose(Conv2DTransposeOptions(2, 0)), "conv2d_transpose",
                 "kernel_size (0,)", "> 0");
  TF_CHECK_ERROR(Conv2DTranspose(Conv2DTransposeOptions(2, 3).strides(0)), "strides (0,)");
  TF_CHECK_ERROR(Conv2DTranspose(Conv2DTransposeOptions(2, 3).strides(2).dilation_rate(2)),
                 "conv2d_transpose", "strides (2, 2) > 1", "dilation_rate (2, 2) > 1");
  TF_CHECK_ERROR(Conv1DTranspose(Conv1DTransposeOptions(2, 3).strides(2).output_padding(2)),
                 "conv1d_transpose", "output_padding (2,) must be smaller than strides (2,)");
  TF_CHECK_ERROR(Conv2DTranspose(Conv2DTransposeOptions(2, 3).output_padding({0, 0, 0})),
                 "output_padding (0, 0, 0)", "expected 1 or 2");
  TF_CHECK_ERROR(Conv2DTranspose(Conv2DTransposeOptions(2, 3).output_padding(-1)),
                 "output_padding (-1,)", ">= 0");
  TF_CHECK_ERROR(Conv1DTranspose(Conv1DTransposeOptions(2, 3).padding("causal")),
                 "conv1d_transpose", "causal", "only supported for Conv1D");
  TF_CHECK_ERROR(Conv2DTranspose(Conv2DTransposeOptions(2, 3).padding("full")),
                 "unknown padding 'full'");
  TF_CHECK_ERROR(Conv2DTranspose(Conv2DTransposeOptions(2, 3).data_format("NCHW")),
                 "unknown data_format 'NCHW'");

  Conv2DTranspose t(Conv2DTransposeOptions(2, 3).name("probe"));
  TF_CHECK_ERROR(t(Variable(random_tensor({1, 3, 3, 1, 1}))), "probe:", "rank 4");
  t(Variable(random_tensor({1, 3, 3, 2})));
  TF_CHECK_ERROR(t(Variable(random_tensor({1, 3, 3, 1}))), "probe:", "1 channels", "built for 2");
  // same with output_padding 0 and an even kernel on one input: (1 - 1) + 2 - 2 + 0 = 0
  Conv1DTranspose z(Conv1DTransposeOptions(1, 2).padding("same").output_padding(0).name("tiny"));
  TF_CHECK_ERROR(z(Variable(random_tensor({1, 1, 1}))), "tiny:", "too small", "would be 0");
}

TEST_CASE("Conv transposes: get_config and pretty_print") {
  reset_default_graph();
  Conv2DTranspose t(Conv2DTransposeOptions(8, 3).strides(2).padding("same").output_padding(1));
  CHECK(t.pretty_print() ==
        "Conv2DTranspose(filters=8, kernel_size=(3, 3), strides=(2, 2), padding=same, "
        "output_padding=(1, 1))");
  Config c = t.get_config();
  CHECK(c["name"] == "conv2d_transpose");
  CHECK(c["filters"] == "8");
  CHECK(c["kernel_size"] == "(3, 3)");
  CHECK(c["output_padding"] == "(1, 1)");
  CHECK(c["dilation_rate"] == "(1, 1)");
  CHECK(c["activation"] == "linear");
  Conv1DTranspose t1(Conv1DTransposeOptions(4, 5)
                         .data_format("channels_first")
                         .activation("tanh")
                         .use_bias(false));
  CHECK(t1.get_config()["output_padding"] == "None");
  CHECK(t1.pretty_print() ==
        "Conv1DTranspose(filters=4, kernel_size=(5,), strides=(1,), padding=valid, "
        "data_format=channels_first, activation=tanh, use_bias=false)");
}
