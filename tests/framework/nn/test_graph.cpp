#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "test_util.hpp"

using namespace tapeflow;

TEST_CASE("collections hold variables and callables, filtered by scope") {
  Graph g;
  Variable a(Tensor{1.f}, true, "block/a"), b(Tensor{2.f}, true, "other/b");
  g.add_to_collection(GraphKeys::GLOBAL_VARIABLES, a);
  g.add_to_collection(GraphKeys::GLOBAL_VARIABLES, b);
  auto all = g.get_collection(GraphKeys::GLOBAL_VARIABLES);
  REQUIRE(all.size() == 2);
  CHECK(all[0].is_same(a));
  CHECK(all[1].is_same(b));
  auto scoped = g.get_collection(GraphKeys::GLOBAL_VARIABLES, "block");
  REQUIRE(scoped.size() == 1);
  CHECK(scoped[0].is_same(a));
  CHECK(g.get_collection("nothing").empty());
  CHECK(g.collection_size(GraphKeys::GLOBAL_VARIABLES) == 2);
  CHECK(g.get_all_collection_keys() == std::vector<std::string>{"variables"});

  // A callable is evaluated at each read, on current values.
  g.add_to_collection(
      GraphKeys::REGULARIZATION_LOSSES, [a] { return sum(square(a)); }, "block/a/Regularizer");
  CHECK(g.get_collection(GraphKeys::REGULARIZATION_LOSSES)[0].item() == 1.f);
  a.assign(Tensor{3.f});
  CHECK(g.get_collection(GraphKeys::REGULARIZATION_LOSSES)[0].item() == 9.f);
  CHECK(g.get_collection(GraphKeys::REGULARIZATION_LOSSES, "other").empty());

  CHECK(g.remove_from_collection(GraphKeys::GLOBAL_VARIABLES, a) == 1);
  CHECK(g.collection_size(GraphKeys::GLOBAL_VARIABLES) == 1);
  auto id = g.add_to_collection(GraphKeys::UPDATE_OPS, a);
  CHECK(g.remove_from_collection(GraphKeys::UPDATE_OPS, id));
  CHECK_FALSE(g.remove_from_collection(GraphKeys::UPDATE_OPS, id));
  g.clear_collection(GraphKeys::GLOBAL_VARIABLES);
  CHECK(g.collection_size(GraphKeys::GLOBAL_VARIABLES) == 0);

  TF_CHECK_ERROR(g.add_to_collection("k", Variable()), "add_to_collection", "k", "undefined");
  TF_CHECK_ERROR(g.add_to_collection("k", LossFn()), "add_to_collection", "empty");
  g.add_to_collection(
      "k", [] { return Variable(); }, "broken");
  TF_CHECK_ERROR(g.get_collection("k"), "get_collection", "broken", "undefined");
}

TEST_CASE("regularization losses: sum, zero when empty, differentiable") {
  Graph g;
  Variable total = get_regularization_loss(g);
  CHECK(total.dim() == 0);
  CHECK(total.item() == 0.f);
  Variable w(Tensor{1.f, 2.f}, true, "w");
  g.add_to_collection(GraphKeys::REGULARIZATION_LOSSES, [w] { return sum(square(w)); });
  g.add_to_collection(GraphKeys::REGULARIZATION_LOSSES, [w] { return sum(w) * 3.f; });
  CHECK(get_regularization_losses(g).size() == 2);
  GradientTape tape;
  Variable loss = get_regularization_loss(g);
  CHECK(loss.item() == doctest::Approx(5 + 9));
  auto grad = tape.gradient(loss, {w});
  TF_CHECK_CLOSE(grad[0].value(), (Tensor{2.f + 3.f, 4.f + 3.f}));
}

TEST_CASE("unique names per graph") {
  Graph g, h;
  CHECK(g.unique_name("dense") == "dense");
  CHECK(g.unique_name("dense") == "dense_1");
  CHECK(g.unique_name("dense_1") == "dense_1_1");  // taken already
  CHECK(g.unique_name("conv") == "conv");
  CHECK(g.unique_name("dense_3") == "dense_3");  // an explicit name, free
  CHECK(g.unique_name("dense") == "dense_2");
  CHECK(g.unique_name("dense") == "dense_4");  // skips the taken dense_3
  CHECK(h.unique_name("dense") == "dense");    // another graph, another namespace
  CHECK(g.is_name_used("dense_4"));
  CHECK_FALSE(g.is_name_used("dense_5"));
  TF_CHECK_ERROR(g.unique_name(""), "unique_name", "empty");
}

TEST_CASE("name scopes nest and unwind") {
  Graph g;
  CHECK(g.current_name_scope().empty());
  CHECK(g.scoped("x") == "x");
  {
    auto outer = g.name_scope("encoder");
    {
      auto inner = g.name_scope("block");
      CHECK(g.current_name_scope() == "encoder/block");
      CHECK(g.scoped("conv") == "encoder/block/conv");
    }
    CHECK(g.current_name_scope() == "encoder");
  }
  CHECK(g.current_name_scope().empty());
  TF_CHECK_ERROR(g.name_scope(""), "name_scope", "empty");
}

TEST_CASE("default graph: scoped graphs, nesting, reset") {
  reset_default_graph();
  Graph d = get_default_graph();
  CHECK(get_default_graph() == d);
  Graph g, h;
  CHECK(g != h);
  {
    auto s = g.as_default();
    CHECK(get_default_graph() == g);
    add_to_collection(GraphKeys::UPDATE_OPS, Variable(Tensor{1.f}, false, "u"));
    {
      auto s2 = h.as_default();
      CHECK(get_default_graph() == h);
      auto ns = name_scope("inner");
      CHECK(h.current_name_scope() == "inner");
      CHECK(g.current_name_scope().empty());
    }
    CHECK(get_default_graph() == g);
    TF_CHECK_ERROR(reset_default_graph(), "reset_default_graph", "as_default");
  }
  CHECK(get_default_graph() == d);
  CHECK(g.collection_size(GraphKeys::UPDATE_OPS) == 1);
  CHECK(d.collection_size(GraphKeys::UPDATE_OPS) == 0);

  Variable v(Tensor{1.f}, true, "v");
  add_to_collection(GraphKeys::GLOBAL_VARIABLES, v);
  add_to_collection(GraphKeys::TRAINABLE_VARIABLES, v);
  CHECK(global_variables().size() == 1);
  CHECK(trainable_variables().size() == 1);
  CHECK(get_collection(GraphKeys::GLOBAL_VARIABLES)[0].is_same(v));
  reset_default_graph();
  CHECK(get_default_graph() != d);
  CHECK(global_variables().empty());
  CHECK(d.collection_size(GraphKeys::GLOBAL_VARIABLES) == 1);  // the old graph lives on
  CHECK(get_regularization_loss().item() == 0.f);
}
