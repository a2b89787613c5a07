#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/activation.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;

TEST_CASE("Activation layer: shape, known values, names") {
  reset_default_graph();
  layers::Activation relu(ActivationOptions("relu"));
  CHECK(relu.name() == "activation");
  Variable y = relu(Variable(Tensor{{-1.f, 0.f, 2.f}}));
  CHECK(y.shape() == Shape{1, 3});
  TF_CHECK_CLOSE(y.value(), (Tensor{{0.f, 0.f, 2.f}}));
  CHECK(relu.variables().empty());
  CHECK(relu.count_params() == 0);

  layers::Activation sm(ActivationOptions("softmax"));
  CHECK(sm.name() == "activation_1");
  // softmax([0, ln 3]) = [1/4, 3/4]
  TF_CHECK_CLOSE(sm(Variable(Tensor{{0.f, std::log(3.f)}})).value(), (Tensor{{0.25f, 0.75f}}));

  // a custom callable
  layers::Activation twice(
      ActivationOptions([](const Variable& x) { return mul(x, scalar(2.f)); }));
  TF_CHECK_CLOSE(twice(Variable(Tensor{1.f, -3.f})).value(), (Tensor{2.f, -6.f}));
  CHECK(twice.get_config()["activation"] == "custom");
}

TEST_CASE("Activation layer: gradcheck") {
  reset_default_graph();
  layers::Activation act(ActivationOptions("tanh"));
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return act(in[0]); },
               {random_tensor({2, 3, 2})});
  layers::Activation sm(ActivationOptions("softmax"));
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return sm(in[0]); },
               {random_tensor({2, 4}, 2)});
}

TEST_CASE("Activation layer: errors, config, pretty_print") {
  reset_default_graph();
  TF_CHECK_ERROR(layers::Activation(ActivationOptions("relux")), "activation", "relux");
  layers::Activation act(ActivationOptions("sigmoid").name("gate"));
  CHECK(act.name() == "gate");
  Config c = act.get_config();
  CHECK(c["name"] == "gate");
  CHECK(c["activation"] == "sigmoid");
  CHECK(act.pretty_print() == "Activation(activation=sigmoid)");
}
