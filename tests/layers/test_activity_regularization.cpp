#include <cmath>

#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/activity_regularization.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;

TEST_CASE("ActivityRegularization: the identity, with l1 * sum|x| + l2 * sum x^2 per sample") {
  reset_default_graph();
  ActivityRegularization reg(ActivityRegularizationOptions().l1(0.1f).l2(0.01f));
  CHECK(reg.name() == "activity_regularization");
  const Tensor x = random_tensor({4, 3}, 1);
  Variable y = reg(Variable(x));
  TF_CHECK_CLOSE(y.value(), x);
  CHECK(reg.variables().empty());
  const double want = (0.1 * xt::sum(xt::abs(x))() + 0.01 * xt::sum(x * x)()) / 4;
  REQUIRE(reg.losses().size() == 1);
  CHECK(reg.losses()[0].item() == doctest::Approx(want).epsilon(1e-5));
  auto in_graph = get_regularization_losses();
  REQUIRE(in_graph.size() == 1);
  CHECK(in_graph[0].item() == doctest::Approx(want).epsilon(1e-5));
  // A later call replaces the loss; the defaults add nothing.
  reg(Variable(Tensor(xt::zeros<float>({2, 3}))));
  CHECK(reg.losses()[0].item() == 0.f);
  ActivityRegularization none;
  none(Variable(x));
  CHECK(none.losses()[0].item() == 0.f);
}

TEST_CASE("ActivityRegularization: gradient of output plus penalty, gradcheck") {
  reset_default_graph();
  ActivityRegularization reg(ActivityRegularizationOptions().l1(0.3f).l2(0.2f));
  TF_GRADCHECK(
      [&](const std::vector<Variable>& in) {
        Variable y = reg(in[0]);
        return add(sum(mul(y, y)), reg.losses()[0]);
      },
      {tapeflow::test::away_from(random_tensor({2, 3}, 2), {0.f})});
}

TEST_CASE("ActivityRegularization: errors, config, pretty_print") {
  reset_default_graph();
  TF_CHECK_ERROR(ActivityRegularization(ActivityRegularizationOptions().l1(-1.f)),
                 "activity_regularization", "l1", ">= 0");
  CHECK_THROWS_AS(ActivityRegularization(ActivityRegularizationOptions().l2(std::nanf(""))),
                  ValueError);
  TF_CHECK_ERROR(ActivityRegularization(
                     ActivityRegularizationOptions().activity_regularizer(regularizers::l2())),
                 "activity_regularizer", "l1 and l2");
  ActivityRegularization reg(ActivityRegularizationOptions().l2(0.5f));
  Config c = reg.get_config();
  CHECK(c["l1"] == "0");
  CHECK(c["l2"] == "0.5");
  CHECK(c.count("activity_regularizer") == 0);
  CHECK(reg.pretty_print() == "ActivityRegularization(l1=0, l2=0.5)");
}
