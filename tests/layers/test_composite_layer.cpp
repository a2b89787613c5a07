// Subclassed layers made of sublayers (Layer::register_sublayer, Keras' tracked attributes): a
// residual block defined here, registered with TAPEFLOW_REGISTER_CUSTOM_LAYER. Its weights,
// trainability, losses and parameter count cover its sublayers, named under its scope; it
// differentiates, works in a functional model and a Sequential, saves and loads with nothing
// but the registration; a sublayer held by reference (a member) works the same; registering
// null, the layer itself or one layer twice is an Error.
#include <cstring>
#include <memory>

#include "framework/io/io_test_util.hpp"
#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/nn/regularizers.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/framework/runtime/random.hpp"
#include "tapeflow/layers/dense.hpp"
#include "tapeflow/layers/input_layer.hpp"
#include "tapeflow/layers/model.hpp"
#include "tapeflow/layers/registry.hpp"
#include "tapeflow/layers/saving.hpp"
#include "tapeflow/layers/sequential.hpp"
#include "test_util.hpp"

namespace L = tapeflow::layers;
namespace S = tapeflow::serialization;
using namespace tapeflow;
using test::random_tensor;
using test::Seeded;
using test::temp_path;

namespace {

// ---- the layers of these tests -----------------------------------------------------------------

// y = x + dense_2(dense_1(x)): dense_1 (tanh, an l2 kernel regularizer), dense_2 (linear), both
// with `units` units (the input's last axis must have as many).
#define RES_BLOCK_FIELDS(F) \
  F(long, units, 4)         \
  F(float, l2, 0.01f)
struct ResBlockOptions : L::LayerOptionsBase<ResBlockOptions> {
  TAPEFLOW_DERIVED_FIELDS(ResBlockOptions, LayerOptionsBase, RES_BLOCK_FIELDS)
  static constexpr L::PrintedFields printed{"units, l2"};
};

class ResBlock : public L::LayerWith<ResBlockOptions> {
 public:
  explicit ResBlock(const ResBlockOptions& o = {}) : LayerWith("res_block", o) {
    first_ = register_sublayer(
        std::make_shared<L::Dense>(L::DenseOptions(options().units())
                                       .activation("tanh")
                                       .kernel_regularizer(regularizers::l2(options().l2()))));
    second_ = register_sublayer(std::make_shared<L::Dense>(L::DenseOptions(options().units())));
  }
  std::string class_name() const override { return "ResBlock"; }
  const std::shared_ptr<L::Dense>& first() const { return first_; }
  const std::shared_ptr<L::Dense>& second() const { return second_; }

 protected:
  Variable call(const Variable& x, bool training) override {
    return add(x, (*second_)((*first_)(x, training), training));
  }

 private:
  std::shared_ptr<L::Dense> first_, second_;
};

TAPEFLOW_REGISTER_CUSTOM_LAYER(ResBlock);

// y = x + dense(x), the Dense a member registered by reference.
#define MEMBER_BLOCK_FIELDS(F) F(long, units, 3)
struct MemberBlockOptions : L::LayerOptionsBase<MemberBlockOptions> {
  TAPEFLOW_DERIVED_FIELDS(MemberBlockOptions, LayerOptionsBase, MEMBER_BLOCK_FIELDS)
};

class MemberBlock : public L::LayerWith<MemberBlockOptions> {
 public:
  explicit MemberBlock(const MemberBlockOptions& o = {})
      : LayerWith("member_block", o),
        dense_(L::DenseOptions(o.units()).activation("tanh").bias_initializer("ones")) {
    register_sublayer(dense_);
  }
  std::string class_name() const override { return "MemberBlock"; }
  L::Dense& dense() { return dense_; }

 protected:
  Variable call(const Variable& x, bool training) override { return add(x, dense_(x, training)); }

 private:
  L::Dense dense_;
};

TAPEFLOW_REGISTER_CUSTOM_LAYER(MemberBlock);

// A layer that lets the test call register_sublayer from outside.
class Holder : public L::Layer {
 public:
  Holder() : Layer("holder") {}
  std::string class_name() const override { return "Holder"; }
  using Layer::register_sublayer;

 protected:
  Variable call(const Variable& x, bool) override { return x; }
};

std::vector<std::string> names_of(const std::vector<Variable>& vars) {
  std::vector<std::string> out;
  for (const auto& v : vars) out.push_back(v.name());
  return out;
}

std::vector<std::string> names_of(const std::vector<std::shared_ptr<L::Layer>>& layers) {
  std::vector<std::string> out;
  for (const auto& l : layers) out.push_back(l->name());
  return out;
}

Tensor by_hand(const ResBlock& block, const Tensor& x) {
  return add(Variable(x), (*block.second())((*block.first())(Variable(x)))).value();
}

float l2_of(const Variable& v, float l2) {
  double total = 0;
  for (float w : v.value()) total += double(w) * w;
  return static_cast<float>(l2 * total);
}

}  // namespace

TEST_CASE("composite layer: its weights, trainability and parameter count cover its sublayers") {
  const Seeded seeded(101);
  reset_default_graph();
  ResBlock block(ResBlockOptions().units(4));
  CHECK(block.name() == "res_block");
  REQUIRE(block.sublayers().size() == 2);
  CHECK(block.sublayers()[0] == block.first().get());
  CHECK(block.sublayers()[1] == block.second().get());
  CHECK(block.first()->name() == "dense");
  CHECK(block.second()->name() == "dense_1");
  CHECK(block.pretty_print() == "ResBlock(units=4, l2=0.01)");
  CHECK_FALSE(block.built());
  TF_CHECK_ERROR(block.count_params(), "res_block", "not built");
  CHECK(block.variables().empty());

  const Tensor x = random_tensor({3, 4}, 31);
  const Tensor y = block(Variable(x)).value();
  CHECK(block.built());
  CHECK(block.first()->built());
  CHECK(block.second()->built());
  CHECK_BIT_IDENTICAL(y, by_hand(block, x));

  CHECK(names_of(block.variables()) ==
        std::vector<std::string>{"res_block/dense/kernel", "res_block/dense/bias",
                                 "res_block/dense_1/kernel", "res_block/dense_1/bias"});
  CHECK(block.scope_name() == "res_block");
  CHECK(block.first()->scope_name() == "res_block/dense");
  CHECK(block.trainable_variables().size() == 4);
  CHECK(block.non_trainable_variables().empty());
  CHECK(block.count_params() == 2 * (16 + 4));
  CHECK(tapeflow::global_variables().size() == 4);
  CHECK(tapeflow::global_variables("res_block").size() == 4);
  CHECK(tapeflow::trainable_variables().size() == 4);

  // get_weights / set_weights go through the sublayers in order
  auto w = block.get_weights();
  REQUIRE(w.size() == 4);
  for (auto& t : w) t.fill(0.f);
  block.set_weights(w);
  CHECK_BIT_IDENTICAL(block(Variable(x)).value(), x);  // both Dense give 0: y = x
  TF_CHECK_ERROR(block.set_weights({w[0]}), "res_block", "4 weights", "1 values");

  block.set_trainable(false);
  CHECK(block.trainable_variables().empty());
  CHECK(block.non_trainable_variables().size() == 4);
  CHECK_FALSE(block.first()->trainable());
  CHECK_FALSE(block.second()->trainable());
  CHECK(tapeflow::trainable_variables().empty());
  block.set_trainable(true);
  CHECK(block.trainable_variables().size() == 4);
  CHECK(tapeflow::trainable_variables().size() == 4);
}

TEST_CASE("composite layer: its sublayers are named under an outer name scope too") {
  const Seeded seeded(102);
  reset_default_graph();
  ResBlock block;
  {
    auto scope = tapeflow::name_scope("outer");
    block(Variable(random_tensor({2, 4}, 32)));
  }
  CHECK(block.scope_name() == "outer/res_block");
  CHECK(block.first()->kernel().name() == "outer/res_block/dense/kernel");
  CHECK(block.second()->bias().name() == "outer/res_block/dense_1/bias");
}

TEST_CASE("composite layer: losses include the sublayers' regularizers") {
  const Seeded seeded(103);
  reset_default_graph();
  ResBlock block(ResBlockOptions().l2(0.5f));
  block(Variable(random_tensor({2, 4}, 33)));
  auto losses = block.losses();
  REQUIRE(losses.size() == 1);
  CHECK(losses[0].item() == doctest::Approx(l2_of(block.first()->kernel(), 0.5f)));
  auto reg = tapeflow::get_regularization_losses();
  REQUIRE(reg.size() == 1);
  CHECK(reg[0].item() == losses[0].item());
  // the loss follows the current weights
  auto w = block.get_weights();
  w[0].fill(1.f);
  block.set_weights(w);
  CHECK(block.losses()[0].item() == doctest::Approx(0.5f * 16));
  // and is differentiable: d(0.5 * sum(k^2))/dk = k
  GradientTape tape;
  Variable loss = block.losses()[0];
  auto g = tape.gradient(loss, {block.first()->kernel()});
  REQUIRE(g[0].defined());
  TF_CHECK_CLOSE(g[0].value(), block.first()->kernel().value());
}

TEST_CASE("composite layer: gradcheck on the input and every weight, regularizer included") {
  const Seeded seeded(104);
  reset_default_graph();
  ResBlock block(ResBlockOptions().units(3).l2(0.1f));
  const Tensor x = random_tensor({2, 3}, 34);
  block(Variable(x));
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return block(in[0]); }, {x});
  TF_GRADCHECK_VARIABLES([&] { return block(Variable(x)); }, block.trainable_variables());
  TF_GRADCHECK_VARIABLES([&] { return add(sum(block(Variable(x))), block.losses()[0]); },
                         block.trainable_variables());
  // every weight gets a gradient (none is cut off from the tape)
  GradientTape tape;
  auto vars = block.trainable_variables();
  auto grads = tape.gradient(sum(block(Variable(x))), vars);
  for (std::size_t i = 0; i < vars.size(); ++i) {
    CAPTURE(vars[i].name());
    REQUIRE(grads[i].defined());
    CHECK(xt::any(xt::not_equal(grads[i].value(), 0.f)));
  }
}

TEST_CASE("composite layer: in a functional model and in a Sequential") {
  const Seeded seeded(105);
  reset_default_graph();
  const Tensor x = random_tensor({3, 4}, 35);
  SUBCASE("functional, shared_ptr") {
    auto in = Input({4});
    auto block = std::make_shared<ResBlock>();
    auto head = std::make_shared<L::Dense>(L::DenseOptions(2));
    Model model(in, (*head)((*block)(in)), "m");
    CHECK(names_of(model.layers()) ==
          std::vector<std::string>{"input_layer", "res_block", "dense_2"});
    CHECK(model.variables().size() == 6);
    CHECK(model.trainable_variables().size() == 6);
    CHECK(model.count_params() == 40 + 10);
    CHECK(block->first()->kernel().name() == "res_block/dense/kernel");
    REQUIRE(model.losses().size() == 1);
    CHECK(model.losses()[0].item() == doctest::Approx(l2_of(block->first()->kernel(), 0.01f)));
    CHECK_BIT_IDENTICAL(model(Variable(x)).value(), (*head)(Variable(by_hand(*block, x))).value());
    TF_GRADCHECK_VARIABLES([&] { return model(Variable(x)); }, model.trainable_variables());
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return model(in[0]); }, {x});
    const std::string row = "res_block (ResBlock)" + std::string(12, ' ') + "(None, 4)" +
                            std::string(12, ' ') + "40" + std::string(10, ' ') +
                            "input_layer[0][0]";
    CHECK(model.summary().find(row) != std::string::npos);
  }
  SUBCASE("functional, a temporary twinned from its registered config") {
    auto in = Input({4});
    auto h = ResBlock(ResBlockOptions().units(4).l2(0.2f).name("block"))(in);
    CHECK(h.layer_name() == "block");
    Model model(in, h, "m");
    auto block = std::dynamic_pointer_cast<ResBlock>(model.get_layer("block"));
    REQUIRE(block);
    CHECK(block->options().l2() == 0.2f);
    CHECK(block->built());
    CHECK(model.variables().size() == 4);
    for (const auto& v : model.variables())
      CHECK_MESSAGE(v.name().rfind("block/", 0) == 0, v.name());
    CHECK_BIT_IDENTICAL(model(Variable(x)).value(), by_hand(*block, x));
    REQUIRE(model.losses().size() == 1);
  }
  SUBCASE("Sequential") {
    L::Sequential seq;
    auto block = seq.add<ResBlock>();
    auto head = seq.add<L::Dense>(L::DenseOptions(2));
    const Tensor y = seq(Variable(x)).value();
    CHECK_BIT_IDENTICAL(y, (*head)(Variable(by_hand(*block, x))).value());
    CHECK(seq.variables().size() == 6);
    CHECK(seq.count_params() == 50);
    CHECK(seq.losses().size() == 1);
    TF_GRADCHECK_VARIABLES([&] { return seq(Variable(x)); }, seq.trainable_variables());
    seq.set_trainable(false);
    CHECK(block->trainable_variables().empty());
    CHECK_FALSE(block->first()->trainable());
  }
}

TEST_CASE("composite layer: a model using it saves and loads with only the registration") {
  const Seeded seeded(106);
  const Tensor x = random_tensor({3, 4}, 36);
  for (const std::string ext : {".bin", ".txt", ".xml"}) {
    CAPTURE(ext);
    const std::string path = temp_path("res_model" + ext);
    Tensor expected;
    Config config;
    std::vector<Tensor> weights, losses;
    {
      Graph g;
      auto scope = g.as_default();
      auto in = Input({4});
      auto h = ResBlock(ResBlockOptions().l2(0.3f))(in);
      Model model(in, L::Dense(L::DenseOptions(2).activation("sigmoid"))(h), "res_model");
      expected = model(Variable(x)).value();
      config = model.get_config();
      weights = model.get_weights();
      for (const auto& l : model.losses()) losses.push_back(l.value());
      S::save(model, path);
    }
    Graph g;
    auto scope = g.as_default();
    auto loaded = std::dynamic_pointer_cast<Model>(S::load(path));
    REQUIRE(loaded);
    CHECK(loaded->get_config() == config);
    auto block = std::dynamic_pointer_cast<ResBlock>(loaded->get_layer("res_block"));
    REQUIRE(block);
    CHECK(block->options().l2() == 0.3f);
    REQUIRE(loaded->get_weights().size() == weights.size());
    for (std::size_t i = 0; i < weights.size(); ++i)
      CHECK_BIT_IDENTICAL(loaded->get_weights()[i], weights[i]);
    for (const auto& v : block->variables())
      CHECK_MESSAGE(v.name().rfind("res_block/", 0) == 0, v.name());
    CHECK_BIT_IDENTICAL((*loaded)(Variable(x)).value(), expected);
    REQUIRE(loaded->losses().size() == losses.size());
    for (std::size_t i = 0; i < losses.size(); ++i)
      CHECK_BIT_IDENTICAL(loaded->losses()[i].value(), losses[i]);
  }
}

TEST_CASE("composite layer: alone and in a Sequential, it saves and loads bit-identically") {
  const Seeded seeded(107);
  const Tensor x = random_tensor({2, 4}, 37);
  const std::string alone = temp_path("res_block.bin");
  const std::string stacked = temp_path("res_stack.xml");
  Tensor want_alone, want_stacked;
  {
    Graph g;
    auto scope = g.as_default();
    ResBlock block;
    want_alone = block(Variable(x)).value();
    S::save(block, alone);
    L::Sequential seq;
    seq.add<ResBlock>(ResBlockOptions().name("inner_block"));
    seq.add<L::Dense>(L::DenseOptions(1));
    want_stacked = seq(Variable(x)).value();
    S::save(seq, stacked);
  }
  Graph g;
  auto scope = g.as_default();
  auto block = S::load(alone);
  CHECK(block->class_name() == "ResBlock");
  CHECK(block->variables().size() == 4);
  CHECK_BIT_IDENTICAL((*block)(Variable(x)).value(), want_alone);
  auto seq = S::load(stacked);
  CHECK(seq->class_name() == "Sequential");
  CHECK(seq->variables().size() == 6);
  CHECK_BIT_IDENTICAL((*seq)(Variable(x)).value(), want_stacked);
}

TEST_CASE("composite layer: a loaded model keeps its layer names whatever its sublayers take") {
  const Seeded seeded(108);
  // The head Dense is made first ("dense"), the block's Dense sublayers after ("dense_1",
  // "dense_2"); the model runs the block first. Loading builds the layers in the model's order:
  // the block's new sublayers come before the head.
  const std::string path = temp_path("names.bin");
  const Tensor x = random_tensor({2, 4}, 38);
  Tensor expected;
  std::vector<std::string> names;
  Config config;
  {
    Graph g;
    auto scope = g.as_default();
    auto head = std::make_shared<L::Dense>(L::DenseOptions(2));
    auto block = std::make_shared<ResBlock>();
    auto in = Input({4});
    Model model(in, (*head)((*block)(in)), "m");
    names = names_of(model.layers());
    REQUIRE(names == std::vector<std::string>{"input_layer", "res_block", "dense"});
    expected = model(Variable(x)).value();
    config = model.get_config();
    S::save(model, path);
  }
  Graph g;
  auto scope = g.as_default();
  auto loaded = std::dynamic_pointer_cast<Model>(S::load(path));
  REQUIRE(loaded);
  CHECK_BIT_IDENTICAL((*loaded)(Variable(x)).value(), expected);
  std::string got_names;
  for (const auto& n : names_of(loaded->layers())) got_names += n + " ";
  CHECK_MESSAGE(names_of(loaded->layers()) == names, "loaded layers: " << got_names);
  CHECK(loaded->get_config() == config);
}

TEST_CASE("composite layer: a member sublayer registered by reference") {
  const Seeded seeded(109);
  reset_default_graph();
  const Tensor x = random_tensor({2, 3}, 39);
  MemberBlock block;
  REQUIRE(block.sublayers().size() == 1);
  CHECK(block.sublayers()[0] == &block.dense());
  const Tensor y = block(Variable(x)).value();
  CHECK_BIT_IDENTICAL(y, add(Variable(x), block.dense()(Variable(x))).value());
  CHECK(names_of(block.variables()) ==
        std::vector<std::string>{"member_block/dense/kernel", "member_block/dense/bias"});
  CHECK(block.count_params() == 12);
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return block(in[0]); }, {x});
  TF_GRADCHECK_VARIABLES([&] { return block(Variable(x)); }, block.trainable_variables());
  block.set_trainable(false);
  CHECK_FALSE(block.dense().trainable());
  block.set_trainable(true);

  // in a functional model (shared and as a twinned temporary), saved and loaded
  auto in = Input({3});
  auto owned = std::make_shared<MemberBlock>();
  auto h = (*owned)(in);
  auto out = MemberBlock(MemberBlockOptions().name("second"))(h);
  Model model(in, out, "m");
  CHECK(model.variables().size() == 4);
  auto second = std::dynamic_pointer_cast<MemberBlock>(model.get_layer("second"));
  REQUIRE(second);
  CHECK(second->dense().kernel().name() == "second/" + second->dense().name() + "/kernel");
  const Tensor expected = model(Variable(x)).value();
  CHECK_BIT_IDENTICAL(expected, (*second)((*owned)(Variable(x))).value());
  TF_GRADCHECK_VARIABLES([&] { return model(Variable(x)); }, model.trainable_variables());
  const std::string path = temp_path("member.txt");
  S::save(model, path);
  Graph g;
  auto scope = g.as_default();
  auto loaded = S::load(path);
  CHECK(loaded->variables().size() == 4);
  CHECK_BIT_IDENTICAL((*loaded)(Variable(x)).value(), expected);
}

TEST_CASE("composite layer: registering null, itself or a layer twice is an Error") {
  const Seeded seeded(110);
  reset_default_graph();
  Holder holder;
  TF_CHECK_ERROR(holder.register_sublayer(std::shared_ptr<L::Dense>()), "holder",
                 "register_sublayer", "null");
  TF_CHECK_ERROR(holder.register_sublayer(holder), "holder", "register_sublayer", "itself");
  auto shared_holder = std::make_shared<Holder>();
  TF_CHECK_ERROR(shared_holder->register_sublayer(shared_holder), "holder_1", "itself");

  auto d = std::make_shared<L::Dense>(L::DenseOptions(2));
  CHECK_NOTHROW(holder.register_sublayer(d));
  TF_CHECK_ERROR(holder.register_sublayer(d), "holder", "'dense'", "already registered");
  TF_CHECK_ERROR(holder.register_sublayer(*d), "holder", "'dense'", "already registered");
  CHECK(holder.sublayers().size() == 1);
  CHECK(shared_holder->sublayers().empty());

  // A sublayer held by reference that ends before its parent: an Error naming both.
  Holder parent;
  {
    L::Dense local(L::DenseOptions(2).name("local"));
    parent.register_sublayer(local);
    CHECK(parent.sublayers().size() == 1);
  }
  TF_CHECK_ERROR(parent.sublayers(), "holder_2", "'local'", "destroyed");
  TF_CHECK_ERROR(parent.variables(), "holder_2", "'local'", "destroyed");
  TF_CHECK_ERROR(parent.trainable_variables(), "holder_2", "'local'", "destroyed");
  TF_CHECK_ERROR(parent.losses(), "holder_2", "'local'", "destroyed");
}
