#include <cmath>

#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/layers/softmax.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;

TEST_CASE("Softmax: along the last axis and along another, against the definition") {
  reset_default_graph();
  const Tensor x = random_tensor({2, 3, 4}, 1, -3.f, 3.f);
  for (int axis : {-1, 1, 0}) {
    CAPTURE(axis);
    Softmax sm(SoftmaxOptions().axis(axis));
    Tensor y = sm(Variable(x)).value();
    REQUIRE(y.shape() == x.shape());
    const std::size_t a = static_cast<std::size_t>(axis < 0 ? axis + 3 : axis);
    for (std::size_t i = 0; i < 2; ++i)
      for (std::size_t j = 0; j < 3; ++j)
        for (std::size_t k = 0; k < 4; ++k) {
          std::size_t idx[3] = {i, j, k};
          float denom = 0.f;
          for (std::size_t m = 0; m < x.shape()[a]; ++m) {
            std::size_t o[3] = {i, j, k};
            o[a] = m;
            denom += std::exp(x(o[0], o[1], o[2]));
          }
          CHECK(y(i, j, k) == doctest::Approx(std::exp(x(idx[0], idx[1], idx[2])) / denom));
        }
  }
  CHECK(Softmax().name() == "softmax_3");
}

TEST_CASE("Softmax: gradcheck, errors, config") {
  reset_default_graph();
  Softmax sm(SoftmaxOptions().axis(1).name("probs"));
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return sm(in[0]); },
               {random_tensor({2, 3, 2}, 4)});
  TF_CHECK_ERROR(sm(Variable(random_tensor({4}))), "probs", "axis 1", "(4");
  CHECK_THROWS_AS(sm(Variable(random_tensor({4}))), ShapeError);
  CHECK(sm.get_config()["axis"] == "1");
  CHECK(sm.pretty_print() == "Softmax(axis=1)");
  CHECK(Softmax().pretty_print() == "Softmax()");
  // large logits stay finite (computed stably)
  Tensor y = Softmax()(Variable(Tensor{{1000.f, 0.f}})).value();
  TF_CHECK_CLOSE(y, (Tensor{{1.f, 0.f}}));
}
