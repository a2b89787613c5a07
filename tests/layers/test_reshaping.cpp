#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/reshaping.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using tapeflow::test::iota;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;

TEST_CASE("Flatten: shape, values, channels_first order, rank 1") {
  Graph g;
  auto scope = g.as_default();
  Flatten flat;
  CHECK(flat.name() == "flatten");
  Variable y = flat(Variable(iota({2, 3, 2})));
  CHECK(y.shape() == Shape{2, 6});
  TF_CHECK_CLOSE(y.value(), Tensor({{0, 1, 2, 3, 4, 5}, {6, 7, 8, 9, 10, 11}}));

  // channels_first (batch, C=2, L=3): Keras moves channels last first, so element (c, l) lands at
  // l * 2 + c.
  Flatten cf(FlattenOptions().data_format("Channels_First"));
  CHECK(cf.name() == "flatten_1");
  Variable z = cf(Variable(iota({1, 2, 3})));
  TF_CHECK_CLOSE(z.value(), Tensor({{0, 3, 1, 4, 2, 5}}));

  // Rank 2 is unchanged by channels_first (nothing to move), rank 1 gets a unit axis.
  TF_CHECK_CLOSE(Tensor(cf(Variable(iota({2, 3}))).value()), iota({2, 3}));
  Flatten f1;
  CHECK(f1(Variable(iota({4}))).shape() == Shape{4, 1});
}

TEST_CASE("Flatten: gradcheck") {
  Graph g;
  auto scope = g.as_default();
  Flatten cf(FlattenOptions().data_format("channels_first"));
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return cf(in[0]); },
               {random_tensor({2, 3, 2, 2})});
}

TEST_CASE("Flatten: errors, config, pretty_print") {
  Graph g;
  auto scope = g.as_default();
  TF_CHECK_ERROR(Flatten(FlattenOptions().name("f").data_format("nchw")), "f", "data_format",
                 "nchw");
  Flatten f;
  TF_CHECK_ERROR(f(Variable(Tensor(1.f))), "flatten", "rank >= 1");
  CHECK(f.pretty_print() == "Flatten()");
  Flatten cf(FlattenOptions().data_format("channels_first"));
  CHECK(cf.pretty_print() == "Flatten(data_format=channels_first)");
  CHECK(cf.get_config().at("data_format") == "channels_first");
  CHECK(cf.get_config().at("name") == "flatten_1");
  f(Variable(iota({2, 3})));
  CHECK(f.count_params() == 0);
  CHECK(f.variables().empty());
}

TEST_CASE("Reshape: shape, values, inferred axis") {
  Graph g;
  auto scope = g.as_default();
  Reshape r(ReshapeOptions({3, 2}));
  CHECK(r.name() == "reshape");
  Variable y = r(Variable(iota({2, 2, 3})));
  CHECK(y.shape() == Shape{2, 3, 2});
  TF_CHECK_CLOSE(y.value(), iota({2, 3, 2}));

  Reshape inferred(ReshapeOptions({-1, 4}));
  CHECK(inferred(Variable(iota({3, 8}))).shape() == Shape{3, 2, 4});
  CHECK(inferred(Variable(iota({1, 2, 2, 3}))).shape() == Shape{1, 3, 4});
  // The batch axis is never part of the target: a batch of 5 stays 5.
  CHECK(r(Variable(iota({5, 6}))).shape() == Shape{5, 3, 2});
}

TEST_CASE("Reshape: gradcheck") {
  Graph g;
  auto scope = g.as_default();
  Reshape r(ReshapeOptions({2, -1}));
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return r(in[0]); },
               {random_tensor({2, 3, 2})});
}

TEST_CASE("Reshape: errors, config, pretty_print") {
  Graph g;
  auto scope = g.as_default();
  Reshape r(ReshapeOptions({5, 2}).name("to_5x2"));
  TF_CHECK_ERROR(r(Variable(iota({2, 3, 4}))), "to_5x2", "(2, 3, 4)", "12 elements",
                 "target_shape (5, 2)", "(10 elements)");
  Reshape inferred(ReshapeOptions({-1, 5}));
  TF_CHECK_ERROR(inferred(Variable(iota({2, 12}))), "reshape", "(2, 12)", "(-1, 5)",
                 "not a multiple of 5");
  TF_CHECK_ERROR(Reshape(ReshapeOptions({-1, -1})), "reshape_1", "target_shape (-1, -1)",
                 "more than one unknown");
  TF_CHECK_ERROR(Reshape(ReshapeOptions({2, -3})), "target_shape (2, -3)", "-3");
  TF_CHECK_ERROR(Reshape(ReshapeOptions({2, 0})), "target_shape (2, 0)");

  CHECK(r.pretty_print() == "Reshape(target_shape=(5, 2))");
  CHECK(r.get_config().at("target_shape") == "(5, 2)");
  CHECK(r.get_config().at("name") == "to_5x2");
}

TEST_CASE("Permute: shape, values") {
  Graph g;
  auto scope = g.as_default();
  Permute p(PermuteOptions({2, 1}));
  CHECK(p.name() == "permute");
  Variable y = p(Variable(iota({1, 2, 3})));
  CHECK(y.shape() == Shape{1, 3, 2});
  TF_CHECK_CLOSE(y.value(), Tensor({{{0, 3}, {1, 4}, {2, 5}}}));

  Permute p3(PermuteOptions({3, 1, 2}));
  Variable z = p3(Variable(iota({2, 2, 3, 4})));
  CHECK(z.shape() == Shape{2, 4, 2, 3});
  // z[b, i, j, k] = x[b, j, k, i]
  CHECK(z.value()(1, 3, 0, 2) == iota({2, 2, 3, 4})(1, 0, 2, 3));
  CHECK(z.value()(0, 1, 1, 0) == iota({2, 2, 3, 4})(0, 1, 0, 1));
}

TEST_CASE("Permute: gradcheck") {
  Graph g;
  auto scope = g.as_default();
  Permute p(PermuteOptions({3, 1, 2}));
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return p(in[0]); },
               {random_tensor({2, 2, 3, 2})});
}

TEST_CASE("Permute: errors, config, pretty_print") {
  Graph g;
  auto scope = g.as_default();
  TF_CHECK_ERROR(Permute(PermuteOptions({0, 1})), "permute", "dims (0, 1)", "permutation of 1..2");
  TF_CHECK_ERROR(Permute(PermuteOptions({1, 1})), "dims (1, 1)");
  TF_CHECK_ERROR(Permute(PermuteOptions({1, 3})), "dims (1, 3)");
  TF_CHECK_ERROR(Permute(PermuteOptions(std::vector<int>{})), "dims must not be empty");
  Permute p(PermuteOptions({2, 1}).name("swap"));
  TF_CHECK_ERROR(p(Variable(iota({2, 3, 4, 5}))), "swap", "rank 3", "(2, 3, 4, 5)");
  CHECK(p.pretty_print() == "Permute(dims=(2, 1))");
  CHECK(p.get_config().at("dims") == "(2, 1)");
}

TEST_CASE("RepeatVector: (batch, features) -> (batch, n, features), gradcheck") {
  reset_default_graph();
  RepeatVector rep(RepeatVectorOptions(3));
  CHECK(rep.name() == "repeat_vector");
  const Tensor x = random_tensor({2, 4}, 1);
  Tensor y = rep(Variable(x)).value();
  REQUIRE(y.shape() == Shape{2, 3, 4});
  for (std::size_t b = 0; b < 2; ++b)
    for (std::size_t t = 0; t < 3; ++t)
      for (std::size_t f = 0; f < 4; ++f) CHECK(y(b, t, f) == x(b, f));
  CHECK(rep.variables().empty());
  // the gradient sums over the repetitions
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return rep(in[0]); }, {x});
}

TEST_CASE("RepeatVector: errors, config, pretty_print") {
  reset_default_graph();
  TF_CHECK_ERROR(RepeatVector(RepeatVectorOptions(0).name("r")), "r", "n must be >= 1", "got 0");
  CHECK_THROWS_AS(RepeatVector(RepeatVectorOptions(-2)), ValueError);
  RepeatVector rep(RepeatVectorOptions(2).name("rep"));
  TF_CHECK_ERROR(rep(Variable(random_tensor({2, 3, 4}))), "rep");
  CHECK_THROWS_AS(rep(Variable(random_tensor({2, 3, 4}))), ShapeError);
  CHECK(rep.get_config()["n"] == "2");
  CHECK(rep.pretty_print() == "RepeatVector(n=2)");
}
