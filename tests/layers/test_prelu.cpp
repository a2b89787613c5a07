#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/prelu.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;

namespace {
// Elements at least 0.1 away from 0, the kink of the PReLU.
Tensor away_from_zero(Tensor x) {
  for (auto& v : x) v += v >= 0 ? 0.1f : -0.1f;
  return x;
}
}  // namespace

TEST_CASE("PReLU: alpha shape, default zeros, names") {
  reset_default_graph();
  PReLU p;
  CHECK(p.name() == "p_re_lu");
  Variable y = p(Variable(Tensor{{-1.f, 2.f, -3.f}}));
  CHECK(p.alpha().shape() == Shape{3});
  CHECK(p.alpha().name() == "p_re_lu/alpha");
  TF_CHECK_CLOSE(y.value(), (Tensor{{0.f, 2.f, 0.f}}));  // alpha = 0: relu
  PReLU q(PReLUOptions().shared_axes({1, 2}));
  q(Variable(random_tensor({2, 4, 5, 3})));
  CHECK(q.alpha().shape() == Shape{1, 1, 3});
  CHECK(q.count_params() == 3);
}

TEST_CASE("PReLU: known values with per-element and shared slopes") {
  reset_default_graph();
  PReLU p(PReLUOptions().shared_axes({1}));
  Tensor x = {{{-1.f, 2.f}, {-4.f, -2.f}}};  // (1, 2, 2)
  p(Variable(x));
  REQUIRE(p.alpha().shape() == Shape{1, 2});
  p.set_weights({Tensor{{0.5f, 0.25f}}});
  TF_CHECK_CLOSE(p(Variable(x)).value(), (Tensor{{{-0.5f, 2.f}, {-2.f, -0.5f}}}));

  PReLU c(PReLUOptions().alpha_initializer(initializers::constant(0.1f)));
  TF_CHECK_CLOSE(c(Variable(Tensor{{-5.f, 5.f}})).value(), (Tensor{{-0.5f, 5.f}}));
}

TEST_CASE("PReLU: gradcheck of input and alpha") {
  reset_default_graph();
  PReLU p(PReLUOptions().shared_axes({2}));
  Tensor x = away_from_zero(random_tensor({2, 3, 2}, 4));
  p(Variable(x));
  p.set_weights({random_tensor({3, 1}, 5, 0.1f, 0.5f)});
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return p(in[0]); }, {x});
  TF_GRADCHECK_VARIABLES([&] { return p(Variable(x)); }, p.trainable_variables());
}

TEST_CASE("PReLU: regularizer and constraint") {
  reset_default_graph();
  PReLU p(PReLUOptions()
              .alpha_initializer(initializers::constant(-0.5f))
              .alpha_regularizer(regularizers::l1(2.f))
              .alpha_constraint(constraints::non_neg()));
  p(Variable(random_tensor({1, 2})));
  auto losses = p.losses();
  REQUIRE(losses.size() == 1);
  CHECK(losses[0].item() == doctest::Approx(2.f));  // 2 * (0.5 + 0.5)
  REQUIRE(p.alpha().constraint());
  TF_CHECK_CLOSE(p.alpha().constraint()(p.alpha().value()), (Tensor{0.f, 0.f}));
}

TEST_CASE("PReLU: bad input errors") {
  reset_default_graph();
  TF_CHECK_ERROR(PReLU(PReLUOptions().shared_axes({0})), "p_re_lu", "shared_axes", "batch");
  PReLU p(PReLUOptions().shared_axes({3}));
  TF_CHECK_ERROR(p(Variable(random_tensor({2, 3, 4}))), "p_re_lu", "shared_axes", "axis 3",
                 "(2, 3, 4)");
  CHECK_FALSE(p.built());
  PReLU q;
  TF_CHECK_ERROR(q(Variable(Tensor{1.f, 2.f})), "p_re_lu", "rank >= 2");
  q(Variable(random_tensor({2, 3})));
  TF_CHECK_ERROR(q(Variable(random_tensor({2, 4}))), "p_re_lu", "axis 1", "size 3");
  TF_CHECK_ERROR(q(Variable(random_tensor({2, 3, 1}))), "p_re_lu", "rank 2");
}

TEST_CASE("PReLU: config and pretty_print") {
  reset_default_graph();
  PReLU p(PReLUOptions().shared_axes({1, 2}));
  Config c = p.get_config();
  CHECK(c["shared_axes"] == "(1, 2)");
  CHECK(c["alpha_initializer"].find("zeros") == 0);
  CHECK(c["alpha_regularizer"] == "None");
  CHECK(p.pretty_print() == "PReLU(shared_axes=(1, 2))");
  PReLU q;
  CHECK(q.pretty_print() == "PReLU()");
  CHECK(q.get_config()["shared_axes"] == "None");
}

TEST_CASE("PReLU propagates NaN (relu(NaN) was 0, so PReLU(NaN) was 0)") {
  reset_default_graph();
  const float nan = std::nanf("");
  PReLU p(PReLUOptions().alpha_initializer(initializers::constant(0.25f)));
  test::check_close_nan(p(Variable(Tensor{{nan, -4.f, 2.f}})).value(), Tensor{{nan, -1.f, 2.f}});
  PReLU zero;  // alpha 0: relu(x) - 0 * relu(-x)
  test::check_close_nan(zero(Variable(Tensor{{nan, -4.f}})).value(), Tensor{{nan, 0.f}});
}
