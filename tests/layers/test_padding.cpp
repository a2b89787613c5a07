#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/padding.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using tapeflow::test::iota;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;

namespace {
// A tensor of the given shape holding `values` in row-major order.
Tensor tensor(const Shape& s, std::vector<float> values) {
  Tensor t = Tensor::from_shape(s);
  std::copy(values.begin(), values.end(), t.begin());
  return t;
}
using P = AxisPairs::Pairs;
}  // namespace

TEST_CASE("AxisPairs: Keras argument forms") {
  CHECK(AxisPairs(2).resolve(3, "l", "padding") == P{{2, 2}, {2, 2}, {2, 2}});
  CHECK(AxisPairs({1, 2}).resolve(2, "l", "padding") == P{{1, 1}, {2, 2}});
  // For one axis, two numbers are Keras' (before, after) tuple.
  CHECK(AxisPairs({1, 2}).resolve(1, "l", "padding") == P{{1, 2}});
  CHECK(AxisPairs({{1, 2}, {3, 4}}).resolve(2, "l", "padding") == P{{1, 2}, {3, 4}});
  CHECK(AxisPairs({{0, 3}}).resolve(1, "l", "padding") == P{{0, 3}});
  CHECK(AxisPairs(std::vector<long>{4, 5, 6}).resolve(3, "l", "c") == P{{4, 4}, {5, 5}, {6, 6}});
  TF_CHECK_ERROR(AxisPairs({1, 2}).resolve(3, "zp", "padding"), "zp", "padding",
                 "one number, 3 numbers", "(1, 2)");
  TF_CHECK_ERROR(AxisPairs({{1, 2}}).resolve(2, "zp", "cropping"), "cropping", "((1, 2),)");
  TF_CHECK_ERROR(AxisPairs({1, 2, 3}).resolve(1, "zp", "padding"),
                 "one number or a (before, after) pair");
  TF_CHECK_ERROR(AxisPairs({{1, -2}, {0, 0}}).resolve(2, "zp", "padding"), "must not be negative",
                 "((1, -2), (0, 0))");
}

TEST_CASE("ZeroPadding1D: shape and values") {
  Graph g;
  auto scope = g.as_default();
  ZeroPadding1D pad;
  CHECK(pad.name() == "zero_padding1d");
  Variable y = pad(Variable(iota({1, 2, 2}, 1.f)));
  CHECK(y.shape() == Shape{1, 4, 2});
  TF_CHECK_CLOSE(y.value(), Tensor({{{0, 0}, {1, 2}, {3, 4}, {0, 0}}}));
  ZeroPadding1D asym(ZeroPadding1DOptions().padding({0, 2}));
  Variable z = asym(Variable(iota({1, 2, 1}, 1.f)));
  TF_CHECK_CLOSE(z.value(), tensor({1, 4, 1}, {1, 2, 0, 0}));
}

TEST_CASE("ZeroPadding2D/3D: pairs, per-axis and both data formats") {
  Graph g;
  auto scope = g.as_default();
  ZeroPadding2D pad(ZeroPadding2DOptions().padding({{1, 0}, {0, 2}}));
  Variable y = pad(Variable(iota({1, 2, 2, 1}, 1.f)));
  CHECK(y.shape() == Shape{1, 3, 4, 1});
  Tensor expect = Tensor({{0, 0, 0, 0}, {1, 2, 0, 0}, {3, 4, 0, 0}});
  expect.reshape({1, 3, 4, 1});
  TF_CHECK_CLOSE(y.value(), expect);

  ZeroPadding2D cf(ZeroPadding2DOptions().padding({{1, 0}, {0, 2}}).data_format("channels_first"));
  Variable z = cf(Variable(iota({1, 1, 2, 2}, 1.f)));
  expect.reshape({1, 1, 3, 4});
  TF_CHECK_CLOSE(z.value(), expect);

  ZeroPadding3D p3(ZeroPadding3DOptions().padding({1, 0, 2}));
  CHECK(p3(Variable(iota({2, 2, 3, 4, 5}))).shape() == Shape{2, 4, 3, 8, 5});
  ZeroPadding3D p3f(ZeroPadding3DOptions().padding({1, 0, 2}).data_format("channels_first"));
  Tensor x = random_tensor({2, 5, 2, 3, 4});
  Variable w = p3f(Variable(x));
  CHECK(w.shape() == Shape{2, 5, 4, 3, 8});
  CHECK(w.value()(1, 4, 1, 2, 2) == x(1, 4, 0, 2, 0));
  CHECK(w.value()(1, 4, 0, 2, 2) == 0.f);
  CHECK(w.value()(0, 0, 2, 1, 7) == 0.f);
}

TEST_CASE("Cropping: shape, values, both data formats") {
  Graph g;
  auto scope = g.as_default();
  Cropping1D c1;  // Keras default (1, 1)
  CHECK(c1.name() == "cropping1d");
  Variable y = c1(Variable(iota({1, 4, 1})));
  TF_CHECK_CLOSE(y.value(), tensor({1, 2, 1}, {1, 2}));
  Cropping1D c1a(Cropping1DOptions().cropping({0, 2}));
  TF_CHECK_CLOSE(Tensor(c1a(Variable(iota({1, 4, 1}))).value()), tensor({1, 2, 1}, {0, 1}));

  Cropping2D c2(Cropping2DOptions().cropping({{1, 0}, {0, 2}}));
  Variable z = c2(Variable(iota({1, 3, 4, 1})));
  Tensor expect = Tensor({{4, 5}, {8, 9}});
  expect.reshape({1, 2, 2, 1});
  TF_CHECK_CLOSE(z.value(), expect);
  Cropping2D c2f(Cropping2DOptions().cropping({{1, 0}, {0, 2}}).data_format("channels_first"));
  expect.reshape({1, 1, 2, 2});
  TF_CHECK_CLOSE(Tensor(c2f(Variable(iota({1, 1, 3, 4}))).value()), expect);
  Cropping2D none;  // Keras default ((0, 0), (0, 0))
  CHECK(none(Variable(iota({1, 3, 4, 1}))).shape() == Shape{1, 3, 4, 1});

  Cropping3D c3;  // Keras default ((1, 1), (1, 1), (1, 1))
  Tensor x = random_tensor({1, 3, 4, 5, 2});
  Variable w = c3(Variable(x));
  CHECK(w.shape() == Shape{1, 1, 2, 3, 2});
  CHECK(w.value()(0, 0, 1, 2, 1) == x(0, 1, 2, 3, 1));
  Cropping3D c3f(Cropping3DOptions().cropping({0, 1, 2}).data_format("channels_first"));
  CHECK(c3f(Variable(random_tensor({1, 2, 3, 4, 5}))).shape() == Shape{1, 2, 3, 2, 1});
}

TEST_CASE("ZeroPadding then Cropping by the same amounts is the identity") {
  Graph g;
  auto scope = g.as_default();
  AxisPairs amounts({{1, 2}, {0, 1}, {2, 0}});
  ZeroPadding3D pad(ZeroPadding3DOptions().padding(amounts).data_format("channels_first"));
  Cropping3D crop(Cropping3DOptions().cropping(amounts).data_format("channels_first"));
  Tensor x = random_tensor({2, 2, 2, 3, 2});
  TF_CHECK_CLOSE(Tensor(crop(pad(Variable(x))).value()), x, 0.f, 0.f);
}

TEST_CASE("ZeroPadding/Cropping: gradcheck") {
  Graph g;
  auto scope = g.as_default();
  ZeroPadding1D p1(ZeroPadding1DOptions().padding({1, 2}));
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return p1(in[0]); },
               {random_tensor({2, 3, 2})});
  ZeroPadding2D p2(ZeroPadding2DOptions().padding({{1, 0}, {0, 2}}).data_format("channels_first"));
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return p2(in[0]); },
               {random_tensor({1, 2, 2, 2})});
  ZeroPadding3D p3(ZeroPadding3DOptions().padding({1, 0, 1}));
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return p3(in[0]); },
               {random_tensor({1, 2, 2, 2, 1})});
  Cropping1D c1(Cropping1DOptions().cropping({1, 0}));
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return c1(in[0]); },
               {random_tensor({2, 3, 2})});
  Cropping2D c2(Cropping2DOptions().cropping({{1, 0}, {0, 1}}).data_format("channels_first"));
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return c2(in[0]); },
               {random_tensor({1, 2, 3, 3})});
  Cropping3D c3(Cropping3DOptions().cropping({{0, 1}, {1, 0}, {1, 1}}));
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return c3(in[0]); },
               {random_tensor({1, 2, 2, 3, 2})});
}

TEST_CASE("ZeroPadding/Cropping: errors") {
  Graph g;
  auto scope = g.as_default();
  TF_CHECK_ERROR(ZeroPadding2D(ZeroPadding2DOptions().padding({1, 2, 3}).name("zp")), "zp",
                 "padding must be one number, 2 numbers", "(1, 2, 3)");
  TF_CHECK_ERROR(ZeroPadding1D(ZeroPadding1DOptions().padding(-1)), "zero_padding1d", "padding",
                 "negative");
  TF_CHECK_ERROR(Cropping3D(Cropping3DOptions().cropping({{1, 1}, {1, 1}})), "cropping3d",
                 "cropping must be", "3 (before, after) pairs");
  TF_CHECK_ERROR(Cropping2D(Cropping2DOptions().data_format("NHWC")), "data_format", "NHWC");

  Cropping2D crop(Cropping2DOptions().cropping({{2, 2}, {0, 0}}).name("crop"));
  TF_CHECK_ERROR(crop(Variable(iota({1, 4, 5, 2}))), "crop", "((2, 2), (0, 0))",
                 "removes 4 elements from axis 1", "size 4", "(1, 4, 5, 2)");
  Cropping1D crop1(Cropping1DOptions().cropping({3, 4}));
  TF_CHECK_ERROR(crop1(Variable(iota({1, 6, 2}))), "cropping1d", "removes 7", "size 6");
  Cropping2D cf(Cropping2DOptions().cropping({0, 3}).data_format("channels_first"));
  TF_CHECK_ERROR(cf(Variable(iota({1, 2, 4, 5}))), "axis 3", "size 5", "channels_first");
  ZeroPadding3D zp;
  TF_CHECK_ERROR(zp(Variable(iota({1, 2, 2, 2}))), "zero_padding3d", "rank 5", "(1, 2, 2, 2)");
}

TEST_CASE("ZeroPadding/Cropping: config and pretty_print") {
  Graph g;
  auto scope = g.as_default();
  ZeroPadding1D p1(ZeroPadding1DOptions().padding({0, 2}));
  CHECK(p1.pretty_print() == "ZeroPadding1D(padding=(0, 2))");
  CHECK(p1.get_config().at("padding") == "(0, 2)");
  CHECK(p1.get_config().count("data_format") == 0);
  ZeroPadding2D p2;
  CHECK(p2.pretty_print() == "ZeroPadding2D(padding=((1, 1), (1, 1)))");
  Cropping3D c3(Cropping3DOptions().cropping({1, 0, 2}).data_format("channels_first"));
  CHECK(c3.pretty_print() ==
        "Cropping3D(cropping=((1, 1), (0, 0), (2, 2)), data_format=channels_first)");
  CHECK(c3.get_config().at("cropping") == "((1, 1), (0, 0), (2, 2))");
  CHECK(c3.get_config().at("data_format") == "channels_first");
  CHECK(c3.class_name() == "Cropping3D");
  CHECK(c3.cropping() == P{{1, 1}, {0, 0}, {2, 2}});
}
