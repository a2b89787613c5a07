#include <algorithm>
#include <numeric>
#include <random>
#include <xtensor/xmanipulation.hpp>

#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/global_pooling.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::distinct_values;
using tapeflow::test::random_tensor;
using tapeflow::test::T;

TEST_CASE("Global pooling layers: names and output shapes") {
  reset_default_graph();
  GlobalMaxPooling1D m1;
  CHECK(m1.name() == "global_max_pooling1d");
  CHECK(m1.class_name() == "GlobalMaxPooling1D");
  CHECK(m1(Variable(random_tensor({2, 5, 3}))).shape() == Shape{2, 3});
  CHECK(GlobalMaxPooling1D().name() == "global_max_pooling1d_1");
  GlobalMaxPooling2D m2(GlobalMaxPooling2DOptions().data_format("channels_first"));
  CHECK(m2.name() == "global_max_pooling2d");
  CHECK(m2.class_name() == "GlobalMaxPooling2D");
  CHECK(m2(Variable(random_tensor({2, 3, 4, 5}))).shape() == Shape{2, 3});
  GlobalMaxPooling3D m3(GlobalMaxPooling3DOptions().keepdims(true));
  CHECK(m3.name() == "global_max_pooling3d");
  CHECK(m3.class_name() == "GlobalMaxPooling3D");
  CHECK(m3(Variable(random_tensor({1, 2, 3, 4, 5}))).shape() == Shape{1, 1, 1, 1, 5});

  GlobalAveragePooling1D a1(GlobalAveragePooling1DOptions().keepdims(true));
  CHECK(a1.name() == "global_average_pooling1d");
  CHECK(a1.class_name() == "GlobalAveragePooling1D");
  CHECK(a1(Variable(random_tensor({2, 5, 3}))).shape() == Shape{2, 1, 3});
  GlobalAveragePooling2D a2(
      GlobalAveragePooling2DOptions().data_format("channels_first").keepdims(true));
  CHECK(a2.name() == "global_average_pooling2d");
  CHECK(a2.class_name() == "GlobalAveragePooling2D");
  CHECK(a2.compute_output_shape({2, 3, 4, 5}) == Shape{2, 3, 1, 1});
  CHECK(a2(Variable(random_tensor({2, 3, 4, 5}))).shape() == Shape{2, 3, 1, 1});
  GlobalAveragePooling3D a3;
  CHECK(a3.name() == "global_average_pooling3d");
  CHECK(a3.class_name() == "GlobalAveragePooling3D");
  CHECK(a3(Variable(random_tensor({4, 2, 2, 2, 6}))).shape() == Shape{4, 6});
  CHECK(a3.variables().empty());
}

TEST_CASE("Global pooling layers: known values") {
  reset_default_graph();
  // (2, 3, 2): batch 0 steps [1, -1], [4, 0], [1, 2]; batch 1 all 5
  const Tensor x = T({2, 3, 2}, {1, -1, 4, 0, 1, 2, 5, 5, 5, 5, 5, 5});
  GlobalMaxPooling1D m;
  TF_CHECK_CLOSE(m(Variable(x)).value(), T({2, 2}, {4, 2, 5, 5}));
  GlobalAveragePooling1D a;
  TF_CHECK_CLOSE(a(Variable(x)).value(), T({2, 2}, {2, 1.f / 3, 5, 5}));
  // channels_first 2-D: (1, 2, 2, 2), channel 0 = 1..4, channel 1 = -1..-4
  const Tensor xf = T({1, 2, 2, 2}, {1, 2, 3, 4, -1, -2, -3, -4});
  GlobalMaxPooling2D mf(GlobalMaxPooling2DOptions().data_format("channels_first"));
  TF_CHECK_CLOSE(mf(Variable(xf)).value(), T({1, 2}, {4, -1}));
  GlobalAveragePooling2D af(GlobalAveragePooling2DOptions().data_format("channels_first"));
  TF_CHECK_CLOSE(af(Variable(xf)).value(), T({1, 2}, {2.5f, -2.5f}));
  // channels_last 3-D over 0..7
  Tensor x3 = Tensor::from_shape({1, 2, 2, 2, 1});
  std::iota(x3.begin(), x3.end(), 0.f);
  GlobalMaxPooling3D m3(GlobalMaxPooling3DOptions().keepdims(true));
  TF_CHECK_CLOSE(m3(Variable(x3)).value(), T({1, 1, 1, 1, 1}, {7}));
  GlobalAveragePooling3D a3;
  TF_CHECK_CLOSE(a3(Variable(x3)).value(), T({1, 1}, {3.5f}));
}

TEST_CASE("Global pooling layers: gradients") {
  reset_default_graph();
  SUBCASE("tied maxima share the gradient (TF reduce_max)") {
    GlobalMaxPooling1D m;
    Variable x(T({1, 3, 1}, {1, 3, 3}));
    GradientTape tape;
    tape.watch(x);
    Variable y = m(x);
    TF_CHECK_CLOSE(tape.gradient(y, {x})[0].value(), T({1, 3, 1}, {0, 0.5f, 0.5f}));
  }
  SUBCASE("gradcheck") {
    GlobalMaxPooling1D m1;
    GlobalAveragePooling1D a1;
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return m1(in[0]); },
                 {distinct_values({2, 4, 3}, 9)});
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return a1(in[0]); },
                 {random_tensor({2, 4, 3}, 1)});
    GlobalMaxPooling2D m2(GlobalMaxPooling2DOptions().data_format("channels_first").keepdims(true));
    GlobalAveragePooling2D a2(GlobalAveragePooling2DOptions().data_format("channels_first"));
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return m2(in[0]); },
                 {distinct_values({1, 2, 3, 3}, 9)});
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return a2(in[0]); },
                 {random_tensor({1, 2, 3, 3}, 2)});
    GlobalMaxPooling3D m3;
    GlobalAveragePooling3D a3(GlobalAveragePooling3DOptions().keepdims(true));
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return m3(in[0]); },
                 {distinct_values({1, 2, 2, 3, 2}, 9)});
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return a3(in[0]); },
                 {random_tensor({1, 2, 2, 3, 2}, 3)});
  }
}

TEST_CASE("Global pooling layers: bad arguments and inputs") {
  reset_default_graph();
  TF_CHECK_ERROR(GlobalMaxPooling2D(GlobalMaxPooling2DOptions().data_format("NCHW")),
                 "global_max_pooling2d", "unknown data_format 'NCHW'");
  GlobalAveragePooling2D a(GlobalAveragePooling2DOptions().name("probe"));
  TF_CHECK_ERROR(a(Variable(random_tensor({2, 3, 4}))), "probe:", "rank 4", "(2, 3, 4)");
  TF_CHECK_ERROR(a.compute_output_shape({2, 3, 4, 5, 6}), "probe:", "rank 4");
  GlobalMaxPooling1D m(GlobalMaxPooling1DOptions().name("probe1"));
  TF_CHECK_ERROR(m(Variable(random_tensor({2, 3, 4, 5}))), "probe1:", "rank 3");
}

TEST_CASE("Global pooling layers: get_config and pretty_print") {
  reset_default_graph();
  GlobalMaxPooling2D m;
  CHECK(m.pretty_print() == "GlobalMaxPooling2D()");
  Config c = m.get_config();
  CHECK(c["name"] == "global_max_pooling2d");
  CHECK(c["data_format"] == "channels_last");
  CHECK(c["keepdims"] == "false");
  GlobalAveragePooling3D a(
      GlobalAveragePooling3DOptions().data_format("Channels_First").keepdims(true));
  CHECK(a.pretty_print() == "GlobalAveragePooling3D(data_format=channels_first, keepdims=true)");
  CHECK(a.get_config()["keepdims"] == "true");
  CHECK(GlobalAveragePooling1D(GlobalAveragePooling1DOptions().keepdims(true)).pretty_print() ==
        "GlobalAveragePooling1D(keepdims=true)");
}

TEST_CASE("Global pooling layers propagate NaN (as TF's reduce_max / reduce_mean)") {
  reset_default_graph();
  const float nan = std::nanf("");
  // (batch 2, 3 steps, 2 channels): a NaN in sample 0, channel 1, at the first and middle steps
  // of two copies of the input (the old max dropped a NaN that was not last).
  for (std::size_t at : {0u, 1u, 2u}) {
    CAPTURE(at);
    Tensor x = T({2, 3, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
    x(0, at, 1) = nan;
    test::check_close_nan(GlobalMaxPooling1D()(Variable(x)).value(), T({2, 2}, {5, nan, 11, 12}));
    test::check_close_nan(GlobalAveragePooling1D()(Variable(x)).value(),
                          T({2, 2}, {3, nan, 9, 10}));
  }
  Tensor x3 = xt::ones<float>({1, 2, 2, 2, 3});
  x3(0, 0, 1, 0, 2) = nan;
  test::check_close_nan(GlobalMaxPooling3D()(Variable(x3)).value(), T({1, 3}, {1, 1, nan}));
  test::check_close_nan(GlobalAveragePooling3D()(Variable(x3)).value(), T({1, 3}, {1, 1, nan}));
  Tensor x2 = xt::ones<float>({1, 2, 2, 2});  // channels_first: channel 0 holds the NaN
  x2(0, 0, 0, 1) = nan;
  test::check_close_nan(
      GlobalMaxPooling2D(GlobalMaxPooling2DOptions().data_format("channels_first"))(Variable(x2))
          .value(),
      T({1, 2}, {nan, 1}));
}
