#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/embedding.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;

namespace {
// A (1, 1) tensor holding v (xtensor's {{v}} is ambiguous).
Tensor one_by_one(float v) {
  Tensor t = {v};
  t.reshape({1, 1});
  return t;
}
}  // namespace

TEST_CASE("Embedding: output shape, weight, default initializer") {
  reset_default_graph();
  set_random_seed(1);
  Embedding emb(EmbeddingOptions(10, 4));
  CHECK(emb.name() == "embedding");
  Variable y = emb(Variable(Tensor{{1.f, 7.f, 7.f}, {0.f, 9.f, 2.f}}));
  CHECK(y.shape() == Shape{2, 3, 4});
  CHECK(emb.embeddings().shape() == Shape{10, 4});
  CHECK(emb.embeddings().name() == "embedding/embeddings");
  CHECK(emb.count_params() == 40);
  CHECK(xt::amax(xt::abs(emb.embeddings().value()))() <= 0.05f);
  CHECK(xt::amax(xt::abs(emb.embeddings().value()))() > 0.f);
  Variable z = emb(Variable(Tensor{3.f, 4.f}));  // rank 1 ids
  CHECK(z.shape() == Shape{2, 4});
  clear_random_seed();
}

TEST_CASE("Embedding: known values are rows of the table") {
  reset_default_graph();
  Embedding emb(EmbeddingOptions(3, 2));
  emb(Variable(one_by_one(0.f)));
  emb.set_weights({Tensor{{1.f, 2.f}, {3.f, 4.f}, {5.f, 6.f}}});
  Variable y = emb(Variable(Tensor{{2.f, 0.f}, {1.f, 1.f}}));
  TF_CHECK_CLOSE(y.value(), (Tensor{{{5.f, 6.f}, {1.f, 2.f}}, {{3.f, 4.f}, {3.f, 4.f}}}));
}

TEST_CASE("Embedding: the gradient sums into the rows that were looked up") {
  reset_default_graph();
  Embedding emb(EmbeddingOptions(4, 2));
  Tensor ids = {{1.f, 3.f, 1.f}};
  emb(Variable(ids));
  GradientTape tape;
  Variable y = emb(Variable(ids));
  auto g = tape.gradient(sum(y), {emb.embeddings()});
  TF_CHECK_CLOSE(g[0].value(), (Tensor{{0.f, 0.f}, {2.f, 2.f}, {0.f, 0.f}, {1.f, 1.f}}));
  TF_GRADCHECK_VARIABLES([&] { return emb(Variable(ids)); }, emb.trainable_variables());
  // The ids get no gradient.
  Variable x(ids, true, "ids");
  GradientTape tape2;
  Variable y2 = emb(x);
  CHECK_FALSE(tape2.gradient(sum(y2), {x})[0].defined());
}

TEST_CASE("Embedding: regularizer and constraint") {
  reset_default_graph();
  Embedding emb(EmbeddingOptions(2, 2)
                    .embeddings_initializer("ones")
                    .embeddings_regularizer(regularizers::l2(0.25f))
                    .embeddings_constraint(constraints::max_norm(1.f)));
  emb(Variable(Tensor{1.f}));
  REQUIRE(emb.losses().size() == 1);
  CHECK(emb.losses()[0].item() == doctest::Approx(1.f));
  CHECK(static_cast<bool>(emb.embeddings().constraint()));
}

TEST_CASE("Embedding: bad input errors") {
  reset_default_graph();
  TF_CHECK_ERROR(Embedding(EmbeddingOptions(0, 4)), "embedding", "input_dim", "0");
  TF_CHECK_ERROR(Embedding(EmbeddingOptions(5, -1)), "output_dim", "-1");
  Embedding emb(EmbeddingOptions(5, 2).name("emb"));
  TF_CHECK_ERROR(emb(Variable(Tensor{{1.f, 7.f}})), "emb", "id 7", "out of range", "input_dim 5");
  TF_CHECK_ERROR(emb(Variable(one_by_one(-1.f))), "emb", "id -1", "input_dim 5");
  TF_CHECK_ERROR(emb(Variable(one_by_one(5.f))), "emb", "id 5");
  TF_CHECK_ERROR(emb(Variable(one_by_one(1.5f))), "emb", "integer ids", "1.5");
  TF_CHECK_ERROR(emb(Variable(Tensor(2.f))), "emb", "rank >= 1");
}

TEST_CASE("Embedding: config and pretty_print") {
  reset_default_graph();
  Embedding emb(EmbeddingOptions(1000, 64));
  Config c = emb.get_config();
  CHECK(c["input_dim"] == "1000");
  CHECK(c["output_dim"] == "64");
  CHECK(c["embeddings_initializer"].find("random_uniform") == 0);
  CHECK(c["embeddings_regularizer"] == "None");
  CHECK(emb.pretty_print() == "Embedding(input_dim=1000, output_dim=64)");
}
