#include <algorithm>
#include <numeric>
#include <random>
#include <xtensor/xmanipulation.hpp>

#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/pooling.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::distinct_values;
using tapeflow::test::random_tensor;
using tapeflow::test::T;

TEST_CASE("Pooling layers: names, defaults and output shapes") {
  reset_default_graph();
  MaxPooling2D m2;
  CHECK(m2.name() == "max_pooling2d");
  CHECK(m2.class_name() == "MaxPooling2D");
  CHECK(m2.pool_size() == std::array<long, 2>{2, 2});
  CHECK(m2.strides() == std::array<long, 2>{2, 2});  // strides=None -> pool_size
  CHECK(m2.padding() == "valid");
  CHECK(m2(Variable(random_tensor({2, 7, 6, 3}))).shape() == Shape{2, 3, 3, 3});
  CHECK(m2.variables().empty());
  CHECK(MaxPooling2D().name() == "max_pooling2d_1");

  MaxPooling1D m1(MaxPooling1DOptions(3).strides(1).padding("same"));
  CHECK(m1.name() == "max_pooling1d");
  CHECK(m1.class_name() == "MaxPooling1D");
  CHECK(m1(Variable(random_tensor({1, 5, 2}))).shape() == Shape{1, 5, 2});
  MaxPooling3D m3(MaxPooling3DOptions({1, 2, 3}).data_format("channels_first"));
  CHECK(m3.name() == "max_pooling3d");
  CHECK(m3.class_name() == "MaxPooling3D");
  CHECK(m3(Variable(random_tensor({1, 2, 3, 4, 7}))).shape() == Shape{1, 2, 3, 2, 2});

  AveragePooling1D a1(AveragePooling1DOptions(3));
  CHECK(a1.name() == "average_pooling1d");
  CHECK(a1.class_name() == "AveragePooling1D");
  CHECK(a1.strides() == std::array<long, 1>{3});
  CHECK(a1(Variable(random_tensor({2, 10, 1}))).shape() == Shape{2, 3, 1});
  AveragePooling2D a2(AveragePooling2DOptions().strides({1, 3}).padding("same"));
  CHECK(a2.name() == "average_pooling2d");
  CHECK(a2.class_name() == "AveragePooling2D");
  CHECK(a2.compute_output_shape({1, 4, 7, 2}) == Shape{1, 4, 3, 2});
  CHECK(a2(Variable(random_tensor({1, 4, 7, 2}))).shape() == Shape{1, 4, 3, 2});
  AveragePooling3D a3;
  CHECK(a3.name() == "average_pooling3d");
  CHECK(a3.class_name() == "AveragePooling3D");
  CHECK(a3(Variable(random_tensor({1, 4, 5, 2, 3}))).shape() == Shape{1, 2, 2, 1, 3});
}

TEST_CASE("Pooling layers: known values") {
  reset_default_graph();
  const Tensor x = T({1, 5, 1}, {1, 3, 2, 5, 4});
  MaxPooling1D m(MaxPooling1DOptions(2).padding("same"));
  TF_CHECK_CLOSE(m(Variable(x)).value(), T({1, 3, 1}, {3, 5, 4}));
  // same: the last window holds 4 only, and averages over it alone (TF)
  AveragePooling1D a(AveragePooling1DOptions(2).padding("same"));
  TF_CHECK_CLOSE(a(Variable(x)).value(), T({1, 3, 1}, {2, 3.5f, 4}));

  // 4x4, channel 0 = 0..15, channel 1 = its negation
  Tensor x2 = Tensor::from_shape({1, 4, 4, 2});
  for (std::size_t i = 0; i < 16; ++i) {
    x2.data()[2 * i] = float(i);
    x2.data()[2 * i + 1] = -float(i);
  }
  MaxPooling2D m2;
  TF_CHECK_CLOSE(m2(Variable(x2)).value(), T({1, 2, 2, 2}, {5, 0, 7, -2, 13, -8, 15, -10}));
  AveragePooling2D a2(AveragePooling2DOptions({2, 4}).strides({2, 1}));
  TF_CHECK_CLOSE(a2(Variable(x2)).value(), T({1, 2, 1, 2}, {3.5f, -3.5f, 11.5f, -11.5f}));
  // channels_first: the same numbers, transposed
  MaxPooling2D m2f(MaxPooling2DOptions().data_format("channels_first"));
  TF_CHECK_CLOSE(m2f(Variable(Tensor(xt::transpose(x2, {0, 3, 1, 2})))).value(),
                 T({1, 2, 2, 2}, {5, 7, 13, 15, 0, -2, -8, -10}));

  Tensor x3 = Tensor::from_shape({1, 2, 2, 2, 1});
  std::iota(x3.begin(), x3.end(), 0.f);
  MaxPooling3D m3;
  AveragePooling3D a3;
  TF_CHECK_CLOSE(m3(Variable(x3)).value(), T({1, 1, 1, 1, 1}, {7}));
  TF_CHECK_CLOSE(a3(Variable(x3)).value(), T({1, 1, 1, 1, 1}, {3.5f}));
}

TEST_CASE("Pooling layers: gradients") {
  reset_default_graph();
  SUBCASE("max gradient goes to the first largest element") {
    MaxPooling1D m;
    Variable x(T({1, 4, 1}, {2, 2, 1, 0}));
    GradientTape tape;
    tape.watch(x);
    Variable y = m(x);
    TF_CHECK_CLOSE(tape.gradient(y, {x})[0].value(), T({1, 4, 1}, {1, 0, 1, 0}));
  }
  SUBCASE("gradcheck 1-D") {
    MaxPooling1D m(MaxPooling1DOptions(3).strides(2).padding("same"));
    AveragePooling1D a(AveragePooling1DOptions(3).strides(2).padding("same"));
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return m(in[0]); },
                 {distinct_values({2, 6, 2}, 5)});
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return a(in[0]); },
                 {random_tensor({2, 6, 2}, 1)});
  }
  SUBCASE("gradcheck 2-D, channels_first") {
    MaxPooling2D m(MaxPooling2DOptions({2, 3}).strides(1).data_format("channels_first"));
    AveragePooling2D a(
        AveragePooling2DOptions(2).strides({1, 2}).padding("same").data_format("channels_first"));
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return m(in[0]); },
                 {distinct_values({1, 2, 3, 4}, 5)});
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return a(in[0]); },
                 {random_tensor({1, 2, 3, 5}, 2)});
  }
  SUBCASE("gradcheck 3-D") {
    MaxPooling3D m(MaxPooling3DOptions(2).padding("same"));
    AveragePooling3D a(AveragePooling3DOptions(2).strides(1));
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return m(in[0]); },
                 {distinct_values({1, 3, 2, 3, 2}, 5)});
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return a(in[0]); },
                 {random_tensor({1, 3, 2, 3, 2}, 3)});
  }
}

TEST_CASE("Pooling layers: bad arguments and inputs") {
  reset_default_graph();
  TF_CHECK_ERROR(MaxPooling2D(MaxPooling2DOptions({2, 2, 2})), "max_pooling2d",
                 "pool_size (2, 2, 2)", "expected 1 or 2");
  TF_CHECK_ERROR(AveragePooling1D(AveragePooling1DOptions(0)), "average_pooling1d",
                 "pool_size (0,)", "> 0");
  TF_CHECK_ERROR(MaxPooling3D(MaxPooling3DOptions().strides({1, 0, 1})), "max_pooling3d",
                 "strides (1, 0, 1)");
  TF_CHECK_ERROR(MaxPooling1D(MaxPooling1DOptions().padding("causal")), "max_pooling1d",
                 "unknown padding 'causal'");
  TF_CHECK_ERROR(AveragePooling2D(AveragePooling2DOptions().data_format("NHWC")),
                 "average_pooling2d", "unknown data_format 'NHWC'");
  MaxPooling2D m(MaxPooling2DOptions(3).name("probe"));
  TF_CHECK_ERROR(m(Variable(random_tensor({1, 4, 4}))), "probe:", "rank 4", "(1, 4, 4)");
  TF_CHECK_ERROR(m(Variable(random_tensor({1, 4, 2, 1}))), "probe:", "too small", "spatial axis 1",
                 "pool_size 3");
  TF_CHECK_ERROR(m.compute_output_shape({1, 2, 4, 1}), "probe:", "spatial axis 0");
}

TEST_CASE("Pooling layers: get_config and pretty_print") {
  reset_default_graph();
  MaxPooling2D m;
  CHECK(m.pretty_print() == "MaxPooling2D(pool_size=(2, 2), strides=(2, 2), padding=valid)");
  Config c = m.get_config();
  CHECK(c["name"] == "max_pooling2d");
  CHECK(c["pool_size"] == "(2, 2)");
  CHECK(c["strides"] == "(2, 2)");
  CHECK(c["padding"] == "valid");
  CHECK(c["data_format"] == "channels_last");
  AveragePooling1D a(
      AveragePooling1DOptions(3).strides(1).padding("SAME").data_format("channels_first"));
  CHECK(a.pretty_print() ==
        "AveragePooling1D(pool_size=(3,), strides=(1,), padding=same, "
        "data_format=channels_first)");
  CHECK(a.get_config()["strides"] == "(1,)");
  CHECK(MaxPooling3D(MaxPooling3DOptions({1, 2, 3})).pretty_print() ==
        "MaxPooling3D(pool_size=(1, 2, 3), strides=(1, 2, 3), padding=valid)");
}

TEST_CASE("Pooling layers propagate NaN") {
  reset_default_graph();
  const float nan = std::nanf("");
  Tensor x = xt::ones<float>({1, 4, 4, 4, 2});
  x(0, 1, 2, 3, 0) = nan;  // in the window (0, 1, 1) of a 2x2x2 pool, channel 0
  for (bool is_max : {true, false}) {
    CAPTURE(is_max);
    Tensor y = is_max ? MaxPooling3D(MaxPooling3DOptions(2))(Variable(x)).value()
                      : AveragePooling3D(AveragePooling3DOptions(2))(Variable(x)).value();
    REQUIRE(shape_of(y) == Shape{1, 2, 2, 2, 2});
    std::size_t nans = 0;
    for (float v : y) nans += std::isnan(v);
    CHECK(nans == 1);
    CHECK(std::isnan(y(0, 0, 1, 1, 0)));
    CHECK(y(0, 0, 1, 1, 1) == 1.f);
  }
}
