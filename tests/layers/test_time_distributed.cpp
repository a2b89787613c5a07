#include <memory>

#include "framework/io/io_test_util.hpp"
#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/conv.hpp"
#include "tapeflow/layers/dense.hpp"
#include "tapeflow/layers/keras_json.hpp"
#include "tapeflow/layers/model.hpp"
#include "tapeflow/layers/reshaping.hpp"
#include "tapeflow/layers/saving.hpp"
#include "tapeflow/layers/time_distributed.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;
namespace S = tapeflow::serialization;

TEST_CASE("TimeDistributed: the wrapped layer on every time step, with shared weights") {
  reset_default_graph();
  auto dense = std::make_shared<Dense>(DenseOptions(2));
  TimeDistributed td(dense);
  CHECK(td.name() == "time_distributed");
  const Tensor x = random_tensor({3, 4, 5}, 1);
  Variable y = td(Variable(x));
  CHECK(y.shape() == Shape{3, 4, 2});
  REQUIRE(td.variables().size() == 2);
  CHECK(td.variables()[0].name() == "time_distributed/dense/kernel");
  // Against the wrapped layer on each slice.
  for (std::size_t t = 0; t < 4; ++t) {
    const Tensor slice = xt::view(x, xt::all(), t, xt::all());
    const Tensor want = (*dense)(Variable(slice)).value();
    TF_CHECK_CLOSE(Tensor(xt::view(y.value(), xt::all(), t, xt::all())), want);
  }
  // A 2-D convolution over the frames of a video.
  TimeDistributed frames(std::make_shared<Conv2D>(Conv2DOptions(3, 2)));
  CHECK(frames(Variable(random_tensor({2, 3, 4, 4, 1}, 2))).shape() == Shape{2, 3, 3, 3, 3});
  CHECK(frames.count_params() == 2 * 2 * 1 * 3 + 3);
}

TEST_CASE("TimeDistributed: gradcheck of the input and the wrapped layer's weights") {
  reset_default_graph();
  TimeDistributed td(std::make_shared<Dense>(DenseOptions(2).activation("tanh")));
  const Tensor x = random_tensor({2, 3, 2}, 3);
  td(Variable(x));
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return td(in[0]); }, {x});
  TF_GRADCHECK_VARIABLES([&] { return td(Variable(x)); }, td.trainable_variables());
}

TEST_CASE("TimeDistributed: saves, reloads and converts to Keras JSON with its layer") {
  reset_default_graph();
  auto in = Input({4, 3});
  auto td =
      std::make_shared<TimeDistributed>(std::make_shared<Dense>(DenseOptions(2).name("per_step")),
                                        TimeDistributedOptions().name("td"));
  Model model(in, (*td)(in), "sequence_model");
  const Tensor x = random_tensor({2, 4, 3}, 4);
  const Tensor y = model(Variable(x)).value();
  CHECK(td->get_config()["layer"].rfind("Dense(", 0) == 0);
  const std::string path = tapeflow::test::temp_path("time_distributed.bin");
  S::save(model, path);
  {
    Graph g;
    auto scope = g.as_default();
    auto back = std::dynamic_pointer_cast<Model>(S::load(path));
    REQUIRE(back);
    CHECK(back->get_config() == model.get_config());
    CHECK(back->layers().back()->name() == "td");
    CHECK(tapeflow::test::bit_identical((*back)(Variable(x)).value(), y));
  }
  Graph g2;
  auto scope2 = g2.as_default();
  auto twin = std::dynamic_pointer_cast<Model>(S::model_from_json(S::to_json(model)));
  REQUIRE(twin);
  auto* back_td = dynamic_cast<TimeDistributed*>(twin->layers().back().get());
  REQUIRE(back_td);
  CHECK(back_td->layer()->class_name() == "Dense");
  CHECK(back_td->layer()->get_config()["units"] == "2");
}

TEST_CASE("TimeDistributed: errors, config, pretty_print") {
  reset_default_graph();
  TF_CHECK_ERROR(TimeDistributed(nullptr), "time_distributed", "null");
  auto dense = std::make_shared<Dense>(DenseOptions(2));
  TimeDistributed td(dense, TimeDistributedOptions().name("t"));
  CHECK_THROWS_AS(td(Variable(random_tensor({2, 3}))), ShapeError);
  td(Variable(random_tensor({2, 3, 4})));
  CHECK_THROWS_AS(td(Variable(random_tensor({2, 5, 4}))), ShapeError);
  // A wrapped layer that does not keep the (batch * time) axis.
  TimeDistributed flat(std::make_shared<Reshape>(ReshapeOptions({-1})));
  CHECK_NOTHROW(flat(Variable(random_tensor({2, 3, 4, 2}))));
  CHECK(td.pretty_print() == "TimeDistributed(" + dense->pretty_print() + ")");
  CHECK(td.get_config()["name"] == "t");
}
