#include <cmath>
#include <limits>

#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/layers/elu.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;

TEST_CASE("ELU: x above 0, alpha * (exp(x) - 1) below, for the default and another alpha") {
  reset_default_graph();
  const Tensor x = random_tensor({3, 5}, 2, -3.f, 3.f);
  for (float alpha : {1.f, 0.5f}) {
    CAPTURE(alpha);
    ELU elu(ELUOptions().alpha(alpha));
    Tensor y = elu(Variable(x)).value();
    for (std::size_t i = 0; i < x.size(); ++i) {
      const float v = x.flat(i);
      CHECK(y.flat(i) == doctest::Approx(v > 0 ? v : alpha * (std::exp(v) - 1.f)));
    }
  }
  CHECK(ELU().name() == "elu_2");
}

TEST_CASE("ELU: gradcheck, errors, config") {
  reset_default_graph();
  ELU elu(ELUOptions().alpha(0.7f).name("e"));
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return elu(in[0]); },
               {tapeflow::test::away_from(random_tensor({2, 4}, 5), {0.f})});
  TF_CHECK_ERROR(ELU(ELUOptions().alpha(std::numeric_limits<float>::infinity()).name("bad")), "bad",
                 "alpha", "finite");
  CHECK_THROWS_AS(ELU(ELUOptions().alpha(std::nanf(""))), ValueError);
  CHECK(elu.get_config()["alpha"] == "0.7");
  CHECK(elu.pretty_print() == "ELU(alpha=0.7)");
  CHECK(ELU().pretty_print() == "ELU()");
}
