#include <cmath>
#include <limits>
#include <optional>

#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/layers/relu.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;

namespace {
// Keras' ReLU layer, element by element: x above the threshold (capped), the slope below it.
float relu_definition(float x, std::optional<float> max_value, float slope, float threshold) {
  float y = x > threshold ? x : slope * (x - threshold);
  if (max_value && y > *max_value) y = *max_value;
  return y;
}
}  // namespace

TEST_CASE("ReLU: defaults and every option against Keras' definition") {
  reset_default_graph();
  ReLU plain;
  CHECK(plain.name() == "re_lu");
  TF_CHECK_CLOSE(plain(Variable(Tensor{-2.f, 0.f, 3.f})).value(), (Tensor{0.f, 0.f, 3.f}));
  CHECK(plain.variables().empty());
  const Tensor x = random_tensor({3, 8}, 2, -4.f, 8.f);
  struct Opt {
    std::optional<float> max_value;
    float slope, threshold;
  };
  for (Opt o : {Opt{6.f, 0.f, 0.f}, Opt{std::nullopt, 0.1f, 0.f}, Opt{std::nullopt, 0.f, 1.5f},
                Opt{5.f, 0.2f, 1.f}}) {
    CAPTURE(o.slope);
    CAPTURE(o.threshold);
    ReLUOptions opts;
    opts.negative_slope(o.slope).threshold(o.threshold);
    if (o.max_value) opts.max_value(*o.max_value);
    ReLU act(opts);
    Tensor y = act(Variable(x)).value();
    REQUIRE(y.shape() == x.shape());
    for (std::size_t i = 0; i < x.size(); ++i)
      CHECK(y.flat(i) ==
            doctest::Approx(relu_definition(x.flat(i), o.max_value, o.slope, o.threshold)));
  }
}

TEST_CASE("ReLU: gradcheck away from the kinks") {
  reset_default_graph();
  ReLU act(ReLUOptions().max_value(1.5f).negative_slope(0.2f).threshold(0.5f));
  Tensor x = tapeflow::test::away_from(random_tensor({2, 3, 4}, 3, -2.f, 3.f), {0.5f, 1.5f}, 0.05f);
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return act(in[0]); }, {x});
}

TEST_CASE("ReLU: errors, config, pretty_print") {
  reset_default_graph();
  TF_CHECK_ERROR(ReLU(ReLUOptions().max_value(-1.f).name("r")), "r", "max_value", ">= 0", "-1");
  TF_CHECK_ERROR(ReLU(ReLUOptions().negative_slope(-0.1f).name("r")), "r", "negative_slope");
  TF_CHECK_ERROR(ReLU(ReLUOptions().threshold(std::nanf("")).name("r")), "r", "threshold");
  CHECK_THROWS_AS(ReLU(ReLUOptions().threshold(-1.f)), ValueError);
  ReLU r6(ReLUOptions().max_value(6.f));
  CHECK(r6.get_config()["max_value"] == "6");
  CHECK(r6.get_config()["negative_slope"] == "0");
  CHECK(r6.get_config()["threshold"] == "0");
  CHECK(ReLU().get_config()["max_value"] == "None");
  CHECK(r6.pretty_print() == "ReLU(max_value=6)");
  CHECK(ReLU().pretty_print() == "ReLU()");
}
