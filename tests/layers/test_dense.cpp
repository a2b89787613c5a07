#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/dense.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;

TEST_CASE("Dense: output shape, weight shapes and names") {
  reset_default_graph();
  Dense d(DenseOptions(4));
  Variable y = d(Variable(random_tensor({2, 3})));
  CHECK(y.shape() == Shape{2, 4});
  CHECK(d.kernel().shape() == Shape{3, 4});
  CHECK(d.bias().shape() == Shape{4});
  CHECK(d.kernel().name() == "dense/kernel");
  CHECK(d.bias().name() == "dense/bias");
  CHECK(d.count_params() == 16);
  CHECK(d.trainable_variables().size() == 2);
  Dense d2(DenseOptions(2).use_bias(false));
  CHECK(d2.name() == "dense_1");
  d2(Variable(random_tensor({5, 3})));
  CHECK(d2.variables().size() == 1);
  CHECK_FALSE(d2.bias().defined());
  CHECK(d2.count_params() == 6);
}

TEST_CASE("Dense: known values, rank 2 and rank 3, activation") {
  reset_default_graph();
  Dense d(DenseOptions(2).activation("relu"));
  Tensor x = {{1.f, 2.f, 3.f}, {-1.f, 0.f, 1.f}};
  d(Variable(x));
  d.set_weights({Tensor{{1.f, -1.f}, {0.5f, 2.f}, {-1.f, 0.f}}, Tensor{0.5f, -0.5f}});
  // row 0: [1 + 1 - 3 + 0.5, -1 + 4 + 0 - 0.5] = [-0.5, 2.5] -> relu [0, 2.5]
  // row 1: [-1 + 0 - 1 + 0.5, 1 + 0 + 0 - 0.5] = [-1.5, 0.5] -> relu [0, 0.5]
  TF_CHECK_CLOSE(d(Variable(x)).value(), (Tensor{{0.f, 2.5f}, {0.f, 0.5f}}));

  // Rank 3: the same rows, laid out (1, 2, 3), give the same numbers on the last axis.
  Tensor x3 = x;
  x3.reshape({1, 2, 3});
  Variable y3 = d(Variable(x3));
  CHECK(y3.shape() == Shape{1, 2, 2});
  TF_CHECK_CLOSE(y3.value(), (Tensor{{{0.f, 2.5f}, {0.f, 0.5f}}}));
}

TEST_CASE("Dense: default initializers (glorot_uniform kernel, zero bias)") {
  reset_default_graph();
  set_random_seed(3);
  Dense d(DenseOptions(40));
  d(Variable(random_tensor({1, 20})));
  float limit = std::sqrt(6.f / 60.f);
  CHECK(xt::amax(xt::abs(d.kernel().value()))() <= limit);
  CHECK(xt::amax(xt::abs(d.kernel().value()))() > 0.5f * limit);
  CHECK(xt::all(xt::equal(d.bias().value(), 0.f)));
  clear_random_seed();
}

TEST_CASE("Dense: gradcheck of input, kernel and bias (rank 2 and rank 3)") {
  reset_default_graph();
  Dense d(DenseOptions(3).activation("tanh"));
  Tensor x = random_tensor({2, 4}, 5);
  d(Variable(x));
  d.set_weights({random_tensor({4, 3}, 6), random_tensor({3}, 7)});
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return d(in[0]); }, {x});
  TF_GRADCHECK_VARIABLES([&] { return d(Variable(x)); }, d.trainable_variables());
  Tensor x3 = random_tensor({2, 2, 4}, 8);
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return d(in[0]); }, {x3});
  TF_GRADCHECK_VARIABLES([&] { return d(Variable(x3)); }, d.trainable_variables());
}

TEST_CASE("Dense: regularizers, constraints and activity regularizer") {
  reset_default_graph();
  Dense d(DenseOptions(2)
              .kernel_initializer("ones")
              .bias_initializer(initializers::constant(2.f))
              .kernel_regularizer(regularizers::l2(0.1f))
              .bias_regularizer(regularizers::l1(0.5f))
              .kernel_constraint(constraints::non_neg())
              .activity_regularizer(regularizers::l1(1.f)));
  Variable y = d(Variable(Tensor{{1.f, 1.f, 1.f}}));
  TF_CHECK_CLOSE(y.value(), (Tensor{{5.f, 5.f}}));
  auto losses = d.losses();
  REQUIRE(losses.size() == 3);
  CHECK(losses[0].item() == doctest::Approx(0.1f * 6));  // l2 kernel: 6 ones
  CHECK(losses[1].item() == doctest::Approx(0.5f * 4));  // l1 bias: |2| + |2|
  CHECK(losses[2].item() == doctest::Approx(10.f));      // l1 activity / batch 1
  CHECK(get_regularization_loss().item() == doctest::Approx(0.6f + 2.f + 10.f));
  REQUIRE(d.kernel().constraint());
  TF_CHECK_CLOSE(d.kernel().constraint()(Tensor{{-1.f, 2.f}}), (Tensor{{0.f, 2.f}}));
}

TEST_CASE("Dense: trainable=false keeps weights out of TRAINABLE_VARIABLES") {
  reset_default_graph();
  Dense d(DenseOptions(2).trainable(false).name("frozen"));
  d(Variable(random_tensor({1, 3})));
  CHECK(d.trainable_variables().empty());
  CHECK(d.non_trainable_variables().size() == 2);
  CHECK(trainable_variables().empty());
  CHECK(global_variables().size() == 2);
  CHECK(d.kernel().name() == "frozen/kernel");
}

TEST_CASE("Dense: bad input errors") {
  reset_default_graph();
  TF_CHECK_ERROR(Dense(DenseOptions(0)), "dense", "units", "0");
  TF_CHECK_ERROR(Dense(DenseOptions(-3)), "units", "-3");
  Dense d(DenseOptions(2));
  TF_CHECK_ERROR(d(Variable(Tensor{1.f, 2.f})), "dense", "rank >= 2", "(2,)");
  d(Variable(random_tensor({2, 3})));
  TF_CHECK_ERROR(d(Variable(random_tensor({2, 4}))), "dense", "axis -1", "size 3", "(2, 4)");
}

TEST_CASE("Dense: get_config and pretty_print") {
  reset_default_graph();
  Dense d(DenseOptions(4).activation("relu").kernel_regularizer(regularizers::l2(0.01f)));
  Config c = d.get_config();
  CHECK(c["name"] == "dense");
  CHECK(c["units"] == "4");
  CHECK(c["activation"] == "relu");
  CHECK(c["use_bias"] == "true");
  CHECK(c["kernel_initializer"].find("glorot_uniform") == 0);
  CHECK(c["kernel_regularizer"] == "l2(l2=0.01)");
  CHECK(c["bias_regularizer"] == "None");
  CHECK(d.pretty_print() == "Dense(units=4, activation=relu)");
  Dense e(DenseOptions(3).use_bias(false));
  CHECK(e.pretty_print() == "Dense(units=3, activation=linear, use_bias=false)");
}
