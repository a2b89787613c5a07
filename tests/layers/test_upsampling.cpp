#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/upsampling.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using tapeflow::test::iota;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;

TEST_CASE("UpSampling1D: shape and values") {
  Graph g;
  auto scope = g.as_default();
  UpSampling1D up;
  CHECK(up.name() == "up_sampling1d");
  CHECK(up.class_name() == "UpSampling1D");
  // (batch 1, steps 2, features 2), default size 2: each step repeated.
  Variable y = up(Variable(iota({1, 2, 2})));
  CHECK(y.shape() == Shape{1, 4, 2});
  TF_CHECK_CLOSE(y.value(), Tensor({{{0, 1}, {0, 1}, {2, 3}, {2, 3}}}));
  UpSampling1D up3(UpSampling1DOptions().size(3));
  CHECK(up3(Variable(iota({2, 5, 4}))).shape() == Shape{2, 15, 4});
}

TEST_CASE("UpSampling2D: per-axis size, both data formats") {
  Graph g;
  auto scope = g.as_default();
  UpSampling2D up(UpSampling2DOptions().size({1, 2}));
  CHECK(up.name() == "up_sampling2d");
  // channels_last (1, 2, 2, 1)
  Variable y = up(Variable(iota({1, 2, 2, 1})));
  CHECK(y.shape() == Shape{1, 2, 4, 1});
  Tensor expect = Tensor({{0, 0, 1, 1}, {2, 2, 3, 3}});
  expect.reshape({1, 2, 4, 1});
  TF_CHECK_CLOSE(y.value(), expect);

  // channels_first (1, C=2, 2, 1), size (2, 3): y[0, c, i, j] = x[0, c, i / 2, j / 3].
  UpSampling2D cf(UpSampling2DOptions().size({2, 3}).data_format("CHANNELS_FIRST"));
  Tensor x = iota({1, 2, 2, 1});
  Variable z = cf(Variable(x));
  CHECK(z.shape() == Shape{1, 2, 4, 3});
  for (std::size_t c = 0; c < 2; ++c)
    for (std::size_t i = 0; i < 4; ++i)
      for (std::size_t j = 0; j < 3; ++j) CHECK(z.value()(0, c, i, j) == x(0, c, i / 2, 0));
}

TEST_CASE("UpSampling3D: values in both data formats agree") {
  Graph g;
  auto scope = g.as_default();
  UpSampling3D last(UpSampling3DOptions().size({2, 1, 3}));
  UpSampling3D first(UpSampling3DOptions().size({2, 1, 3}).data_format("channels_first"));
  Tensor x = random_tensor({2, 2, 3, 2, 3}, 5);  // (batch, d, h, w, c)
  Variable y = last(Variable(x));
  CHECK(y.shape() == Shape{2, 4, 3, 6, 3});
  for (std::size_t d = 0; d < 4; ++d)
    for (std::size_t w = 0; w < 6; ++w) CHECK(y.value()(1, d, 2, w, 1) == x(1, d / 2, 2, w / 3, 1));
  Variable xf = transpose(Variable(x), {0, 4, 1, 2, 3});
  Variable yf = first(xf);
  CHECK(yf.shape() == Shape{2, 3, 4, 3, 6});
  TF_CHECK_CLOSE(Tensor(transpose(yf, {0, 2, 3, 4, 1}).value()), y.value(), 0.f, 0.f);
  UpSampling3D cube;
  CHECK(cube(Variable(x)).shape() == Shape{2, 4, 6, 4, 3});
}

TEST_CASE("UpSampling: gradcheck (each input gets the sum of its copies)") {
  Graph g;
  auto scope = g.as_default();
  UpSampling1D up1(UpSampling1DOptions().size(3));
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return up1(in[0]); },
               {random_tensor({1, 3, 2})});
  UpSampling2D up2(UpSampling2DOptions().size({2, 3}).data_format("channels_first"));
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return up2(in[0]); },
               {random_tensor({1, 2, 2, 2})});
  UpSampling3D up3(UpSampling3DOptions().size({1, 2, 2}));
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return up3(in[0]); },
               {random_tensor({1, 2, 2, 2, 2})});

  // Known gradient: L = sum(y) gives 2 * 3 = 6 for every input element.
  Variable x(random_tensor({1, 2, 2, 1}), true, "x");
  GradientTape tape;
  Variable loss = sum(up2(transpose(x, {0, 3, 1, 2})));
  auto grads = tape.gradient(loss, {x});
  TF_CHECK_CLOSE(grads[0].value(), Tensor(xt::full_like(x.value(), 6.f)));
}

TEST_CASE("UpSampling: errors") {
  Graph g;
  auto scope = g.as_default();
  TF_CHECK_ERROR(UpSampling2D(UpSampling2DOptions().size({2, 2, 2}).name("up")), "up", "size",
                 "one number or 2", "(2, 2, 2)");
  TF_CHECK_ERROR(UpSampling3D(UpSampling3DOptions().size({2, 0, 2})), "up_sampling3d",
                 "size must be positive", "(2, 0, 2)");
  TF_CHECK_ERROR(UpSampling1D(UpSampling1DOptions().size(-1)), "up_sampling1d", "positive");
  TF_CHECK_ERROR(UpSampling2D(UpSampling2DOptions().interpolation("bilinear")), "interpolation",
                 "bilinear", "nearest");
  TF_CHECK_ERROR(UpSampling2D(UpSampling2DOptions().data_format("nhwc")), "data_format", "nhwc");
  UpSampling2D up;
  TF_CHECK_ERROR(up(Variable(iota({1, 2, 2}))), up.name().c_str(), "rank 4", "(1, 2, 2)");
}

TEST_CASE("UpSampling: config and pretty_print") {
  Graph g;
  auto scope = g.as_default();
  UpSampling1D up1(UpSampling1DOptions().size(3));
  CHECK(up1.pretty_print() == "UpSampling1D(size=3)");
  CHECK(up1.get_config().at("size") == "3");
  CHECK(up1.get_config().count("data_format") == 0);
  UpSampling2D up2(UpSampling2DOptions().size({2, 3}).data_format("channels_first"));
  CHECK(up2.pretty_print() == "UpSampling2D(size=(2, 3), data_format=channels_first)");
  CHECK(up2.get_config().at("size") == "(2, 3)");
  CHECK(up2.get_config().at("interpolation") == "nearest");
  CHECK(up2.get_config().at("data_format") == "channels_first");
  UpSampling3D up3;
  CHECK(up3.pretty_print() == "UpSampling3D(size=(2, 2, 2))");
  CHECK(up3.size() == std::vector<long>{2, 2, 2});
}
