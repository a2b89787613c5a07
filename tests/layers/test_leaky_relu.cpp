#include <limits>

#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/layers/leaky_relu.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;

TEST_CASE("LeakyReLU: default alpha 0.3, shape and values") {
  reset_default_graph();
  LeakyReLU act;
  CHECK(act.name() == "leaky_re_lu");
  Variable y = act(Variable(Tensor{{-1.f, 0.f, 2.f}, {-10.f, 0.5f, -0.5f}}));
  CHECK(y.shape() == Shape{2, 3});
  TF_CHECK_CLOSE(y.value(), (Tensor{{-0.3f, 0.f, 2.f}, {-3.f, 0.5f, -0.15f}}));
  CHECK(act.variables().empty());

  LeakyReLU a2(LeakyReLUOptions().alpha(0.1f));
  CHECK(a2.name() == "leaky_re_lu_1");
  TF_CHECK_CLOSE(a2(Variable(Tensor{-2.f, 3.f})).value(), (Tensor{-0.2f, 3.f}));
  LeakyReLU a3(LeakyReLUOptions().negative_slope(0.5f));
  TF_CHECK_CLOSE(a3(Variable(Tensor{-2.f, 3.f})).value(), (Tensor{-1.f, 3.f}));
}

TEST_CASE("LeakyReLU: gradcheck") {
  reset_default_graph();
  LeakyReLU act(LeakyReLUOptions().alpha(0.2f));
  // keep elements away from the kink at 0, where finite differences straddle two slopes
  Tensor x = random_tensor({2, 3, 2}, 3);
  for (auto& v : x) v += v >= 0 ? 0.1f : -0.1f;
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return act(in[0]); }, {x});
}

TEST_CASE("LeakyReLU: errors, config, pretty_print") {
  reset_default_graph();
  LeakyReLU act(LeakyReLUOptions().alpha(0.1f));
  TF_CHECK_ERROR(LeakyReLU(LeakyReLUOptions().alpha(std::numeric_limits<float>::quiet_NaN())),
                 "leaky_re_lu_1", "alpha", "finite");
  CHECK(act.get_config()["alpha"] == "0.1");
  CHECK(act.get_config()["name"] == "leaky_re_lu");
  CHECK(act.pretty_print() == "LeakyReLU(alpha=0.1)");
}

TEST_CASE("LeakyReLU propagates NaN, for any alpha") {
  reset_default_graph();
  const float nan = std::nanf("");
  for (float alpha : {0.3f, 0.f, 1.f}) {
    CAPTURE(alpha);
    LeakyReLU act(LeakyReLUOptions().alpha(alpha));
    Tensor y = act(Variable(Tensor{nan, -2.f, 3.f})).value();
    CHECK(std::isnan(y(0)));
    CHECK(y(1) == doctest::Approx(-2.f * alpha));
    CHECK(y(2) == 3.f);
  }
}
