#include <memory>

#include "framework/io/io_test_util.hpp"
#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/dense.hpp"
#include "tapeflow/layers/keras_json.hpp"
#include "tapeflow/layers/lambda.hpp"
#include "tapeflow/layers/model.hpp"
#include "tapeflow/layers/registry.hpp"
#include "tapeflow/layers/saving.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;

namespace {
// Registered once for the program: the cube of the input.
const bool lambda_cube_registered = [] {
  register_lambda("test_cube", [](const Variable& x) { return mul(x, mul(x, x)); });
  return true;
}();
}  // namespace

TEST_CASE("Lambda: runs its function, from a registered name or a callable") {
  reset_default_graph();
  REQUIRE(lambda_cube_registered);
  Lambda cube(LambdaOptions("test_cube"));
  CHECK(cube.name() == "lambda");
  const Tensor x = random_tensor({2, 3});
  TF_CHECK_CLOSE(cube(Variable(x)).value(), Tensor(x * x * x));
  Lambda shift([](const Variable& v) { return add(v, scalar(1.f)); });
  TF_CHECK_CLOSE(shift(Variable(x)).value(), Tensor(x + 1.f));
  CHECK(cube.variables().empty());
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return cube(in[0]); }, {x});
  auto names = registered_lambdas();
  CHECK(std::find(names.begin(), names.end(), "test_cube") != names.end());
}

TEST_CASE("Lambda: a model with a registered function saves, reloads and converts to JSON") {
  reset_default_graph();
  auto in = Input({3});
  auto h = (*std::make_shared<Dense>(DenseOptions(4)))(in);
  auto cube = std::make_shared<Lambda>(LambdaOptions("test_cube").name("cube"));
  Model model(in, (*cube)(h), "with_lambda");
  const Tensor x = random_tensor({2, 3}, 2);
  const Tensor y = model(Variable(x)).value();
  const std::string path = tapeflow::test::temp_path("lambda_model.bin");
  tapeflow::serialization::save(model, path);
  {
    Graph g;
    auto scope = g.as_default();
    auto back = tapeflow::serialization::load(path);
    CHECK(back->get_config() == model.get_config());
    CHECK(tapeflow::test::bit_identical((*back)(Variable(x)).value(), y));
  }
  auto from_json =
      tapeflow::serialization::model_from_json(tapeflow::serialization::to_json(model));
  CHECK(std::dynamic_pointer_cast<Model>(from_json)->layers().back()->class_name() == "Lambda");
  CHECK(cube->get_config()["function"] == "test_cube");
  CHECK(cube->pretty_print() == "Lambda(function=test_cube)");
}

TEST_CASE("Lambda: saving an unregistered callable and bad arguments are clear Errors") {
  reset_default_graph();
  auto in = Input({3});
  auto anonymous = std::make_shared<Lambda>([](const Variable& v) { return exp(v); },
                                            LambdaOptions().name("anon"));
  Model model(in, (*anonymous)(in));
  model(Variable(random_tensor({1, 3})));
  TF_CHECK_ERROR(tapeflow::serialization::save(model, tapeflow::test::temp_path("anon.bin")),
                 "anon", "register_lambda");
  TF_CHECK_ERROR(tapeflow::serialization::to_json(model), "anon", "register_lambda");
  TF_CHECK_ERROR(Lambda(LambdaOptions("no_such_function")), "lambda", "function",
                 "'no_such_function'", "test_cube");
  CHECK_THROWS_AS(Lambda{LambdaOptions()}, ValueError);
  CHECK_THROWS_AS(Lambda{LambdaFunction()}, ValueError);
  TF_CHECK_ERROR(Lambda([](const Variable& v) { return v; }, LambdaOptions("test_cube")),
                 "not both");
  TF_CHECK_ERROR(register_lambda("test_cube", [](const Variable& v) { return v; }), "already");
  CHECK_THROWS_AS(register_lambda("", [](const Variable& v) { return v; }), ValueError);
  Lambda undefined([](const Variable&) { return Variable(); });
  TF_CHECK_ERROR(undefined(Variable(random_tensor({1, 3}))), "undefined");
}
