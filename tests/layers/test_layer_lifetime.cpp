// Dead layers leave the graph (issue 19, part 4): loading and dropping a model three times grew
// GLOBAL_VARIABLES from 110 to 140 and a later get_regularization_loss() included the penalties
// of the dead models; layers of the TF1 functional form sat in a process-wide list that only
// grew; a model reloaded in the same process came back as conv3d_transpose_4.
#include <memory>

#include "framework/io/io_test_util.hpp"
#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/layers/batch_normalization.hpp"
#include "tapeflow/layers/conv3d_transpose.hpp"
#include "tapeflow/layers/dense.hpp"
#include "tapeflow/layers/saving.hpp"
#include "tapeflow/layers/sequential.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;
namespace S = tapeflow::serialization;

namespace {
std::size_t count(const Graph& g, const char* key) { return g.collection_size(key); }

std::shared_ptr<Sequential> small_model() {
  auto m = std::make_shared<Sequential>();
  m->add<Conv3DTranspose>(Conv3DTransposeOptions(2, 2)
                              .strides(2)
                              .kernel_regularizer(regularizers::l2(0.1f))
                              .activity_regularizer(regularizers::l1(0.01f)));
  m->add<BatchNormalization>();
  m->add<Dense>(DenseOptions(3).kernel_regularizer(regularizers::l1(0.2f)));
  return m;
}
}  // namespace

TEST_CASE("A destroyed layer takes its variables, losses and update ops out of the graph") {
  Graph g;
  auto scope = g.as_default();
  Dense keep(DenseOptions(2).kernel_regularizer(regularizers::l2(1.f)));
  keep(Variable(Tensor{{1.f, 2.f}}));
  const std::size_t vars = count(g, GraphKeys::GLOBAL_VARIABLES);
  const float loss = get_regularization_loss(g).item();
  {
    auto m = small_model();
    (*m)(Variable(random_tensor({2, 2, 2, 2, 1})), /*training=*/true);
    CHECK(count(g, GraphKeys::GLOBAL_VARIABLES) == vars + 2 + 4 + 2);
    CHECK(count(g, GraphKeys::TRAINABLE_VARIABLES) == 2 + 2 + 2 + 2);
    CHECK(count(g, GraphKeys::REGULARIZATION_LOSSES) == 1 + 3);  // 2 kernels + 1 activity
    CHECK(count(g, GraphKeys::UPDATE_OPS) == 2);
    CHECK(get_regularization_loss(g).item() > loss);
  }
  // Only the live layer's entries are left; its penalty is the whole loss.
  CHECK(count(g, GraphKeys::GLOBAL_VARIABLES) == vars);
  CHECK(count(g, GraphKeys::TRAINABLE_VARIABLES) == 2);
  CHECK(count(g, GraphKeys::REGULARIZATION_LOSSES) == 1);
  CHECK(count(g, GraphKeys::UPDATE_OPS) == 0);
  CHECK(get_regularization_loss(g).item() == doctest::Approx(loss));
  CHECK(g.get_collection(GraphKeys::GLOBAL_VARIABLES)[0].is_same(keep.kernel()));
  // A layer made non-trainable and back: still removed once, from both collections.
  {
    Dense d(DenseOptions(2));
    d(Variable(Tensor{{1.f, 2.f}}));
    d.set_trainable(false);
    d.set_trainable(true);
    CHECK(count(g, GraphKeys::TRAINABLE_VARIABLES) == 4);
  }
  CHECK(count(g, GraphKeys::TRAINABLE_VARIABLES) == 2);
  CHECK(count(g, GraphKeys::GLOBAL_VARIABLES) == vars);
}

TEST_CASE("Loading and dropping a model three times: the graph does not grow, names come back") {
  Graph g;
  auto scope = g.as_default();
  const std::string path = test::temp_path("lifetime_model.tfw");
  Tensor x = random_tensor({1, 2, 2, 2, 1}, 3);
  Tensor expected;
  {
    auto m = small_model();
    expected = (*m)(Variable(x)).value();
    S::save(*m, path);
  }
  CHECK(count(g, GraphKeys::GLOBAL_VARIABLES) == 0);
  CHECK(get_regularization_loss(g).item() == 0.f);
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    auto loaded = std::dynamic_pointer_cast<Model>(S::load(path));
    REQUIRE(loaded);
    TF_CHECK_CLOSE((*loaded)(Variable(x)).value(), expected);
    CHECK(count(g, GraphKeys::GLOBAL_VARIABLES) == 8);
    CHECK(count(g, GraphKeys::REGULARIZATION_LOSSES) == 3);
    // The saved names, free again since the saving model is gone.
    CHECK(loaded->name() == "sequential");
    CHECK(loaded->get_layer("conv3d_transpose")->name() == "conv3d_transpose");
    CHECK(loaded->get_layer("dense")->name() == "dense");
    CHECK(loaded->get_layer(0)->variables()[0].name() == "conv3d_transpose/kernel");
  }
  CHECK(count(g, GraphKeys::GLOBAL_VARIABLES) == 0);
  CHECK(count(g, GraphKeys::REGULARIZATION_LOSSES) == 0);
  CHECK(get_regularization_loss(g).item() == 0.f);
  // While a model holds a name, a second load gets new names, as any new layer would.
  auto a = std::dynamic_pointer_cast<Model>(S::load(path));
  auto b = std::dynamic_pointer_cast<Model>(S::load(path));
  CHECK(a->get_layer(0)->name() == "conv3d_transpose");
  CHECK(b->get_layer(0)->name() != "conv3d_transpose");
  // New unnamed layers still never reuse a name handed out before.
  a.reset();
  b.reset();
  Dense fresh(DenseOptions(1));
  CHECK(fresh.name() != "dense");
}

TEST_CASE("TF1 functional layers are owned by their graph and freed with it") {
  std::weak_ptr<Layer> weak;
  {
    Graph g;
    auto scope = g.as_default();
    Variable x(random_tensor({1, 2, 2, 2, 3}, 1));
    layers::conv3d_transpose(x, 4, 3, Conv3DTransposeOptions().kernel_regularizer("l2"));
    weak = layers::functional_layers().back();
    CHECK_FALSE(weak.expired());  // the graph keeps it
    CHECK(count(g, GraphKeys::GLOBAL_VARIABLES) == 2);
    CHECK(get_regularization_loss(g).item() > 0.f);
  }
  CHECK(weak.expired());  // freed with the graph
  // The default graph: freed by reset_default_graph().
  reset_default_graph();
  layers::conv3d_transpose(Variable(random_tensor({1, 2, 2, 2, 3}, 2)), 2, 2);
  weak = layers::functional_layers().back();
  CHECK_FALSE(weak.expired());
  CHECK(global_variables().size() == 2);
  reset_default_graph();
  CHECK(weak.expired());
  CHECK(global_variables().empty());
  // A pointer kept past the graph keeps the layer (its weights), not the graph.
  std::shared_ptr<Layer> kept;
  {
    Graph g;
    auto scope = g.as_default();
    layers::conv3d_transpose(Variable(random_tensor({1, 2, 2, 2, 3}, 3)), 2, 2);
    kept = layers::functional_layers().back();
  }
  CHECK(kept->get_weights().size() == 2);
  kept.reset();  // destroying it after its graph is safe
}
