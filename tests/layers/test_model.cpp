// Keras' functional API (layers/model.hpp, layers/symbolic_tensor.hpp, layers/input_layer.hpp):
// a model built from symbolic calls computes what its layers compute eagerly (a 3-D U-Net, in
// inference and training), gradients through skip connections, shared layers and nested
// models, several inputs and outputs, the layer accessors, Keras' summary table, config and
// file round trips (in this process and in a fresh one, tests/tools/predict_model.cpp), the
// errors of bad graphs and bad calls, and the lifetime of the layers a model calls.
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <sstream>
#include <xtensor/xnpy.hpp>

#include "framework/io/io_test_util.hpp"
#include "tapeflow/framework/io/file_header.hpp"
#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/framework/runtime/random.hpp"
#include "tapeflow/layers/batch_normalization.hpp"
#include "tapeflow/layers/conv.hpp"
#include "tapeflow/layers/conv3d_transpose.hpp"
#include "tapeflow/layers/dense.hpp"
#include "tapeflow/layers/input_layer.hpp"
#include "tapeflow/layers/merge.hpp"
#include "tapeflow/layers/model.hpp"
#include "tapeflow/layers/pooling.hpp"
#include "tapeflow/layers/registry.hpp"
#include "tapeflow/layers/saving.hpp"
#include "tapeflow/layers/sequential.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
namespace L = tapeflow::layers;
namespace S = tapeflow::serialization;
using namespace tapeflow;
using test::bit_identical;
using test::random_tensor;
using test::read_bytes;
using test::Seeded;
using test::T;
using test::temp_path;
using test::write_bytes;

namespace {

bool all_equal(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!bit_identical(a[i], b[i])) return false;
  return true;
}

std::vector<std::string> names_of(const std::vector<std::shared_ptr<L::Layer>>& layers) {
  std::vector<std::string> out;
  for (const auto& l : layers) out.push_back(l->name());
  return out;
}

std::vector<std::string> classes_of(const std::vector<std::shared_ptr<L::Layer>>& layers) {
  std::vector<std::string> out;
  for (const auto& l : layers) out.push_back(l->class_name());
  return out;
}

// A model with a skip connection, a BatchNormalization and a shared-nothing head, built from
// temporaries: x (4) -> dense(6, relu) -> batch_normalization -> dense_1(4) -> add(., x)
// -> concatenate(., batch_normalization) -> dense_2(2, sigmoid).
std::shared_ptr<Model> make_skip_model() {
  auto x = Input({4});
  auto h = L::Dense(L::DenseOptions(6).activation("relu"))(x);
  auto n = L::BatchNormalization()(h);
  auto r = L::Add()({L::Dense(L::DenseOptions(4))(n), x});
  auto c = L::Concatenate()({r, n});
  auto y = L::Dense(L::DenseOptions(2).activation("sigmoid"))(c);
  return std::make_shared<Model>(x, y, "skip_model");
}

// A deterministic input for every process.
Tensor smooth_input(const Shape& shape) {
  Tensor t = Tensor::from_shape(shape);
  for (std::size_t i = 0; i < t.size(); ++i)
    t.data()[i] = std::sin(0.37f * static_cast<float>(i) + 0.1f);
  return t;
}

// One row of Keras 2's functional summary (columns of 32, 21, 12 and 33 characters), for the
// tests that look for a row in a longer table.
std::string keras_row(const std::vector<std::string>& cells) {
  const std::size_t widths[] = {32, 21, 12, 33};
  std::string line;
  for (std::size_t i = 0; i < cells.size() && i < 4; ++i)
    line +=
        cells[i] + std::string(widths[i] > cells[i].size() ? widths[i] - cells[i].size() : 1, ' ');
  return line;
}

std::string predict_model_program() {
#ifdef TAPEFLOW_PREDICT_MODEL
  return TAPEFLOW_PREDICT_MODEL;
#else
  return (fs::read_symlink("/proc/self/exe").parent_path() / "predict_model").string();
#endif
}

// A layer of the test's own that is not registered: a temporary of it cannot be twinned.
class Unregistered : public L::Layer {
 public:
  Unregistered() : Layer("unregistered") {}
  std::string class_name() const override { return "Unregistered"; }

 protected:
  Variable call(const Variable& x, bool) override { return x; }
};

}  // namespace

// ---- forward: the model is its layers ---------------------------------------------------------

TEST_CASE("Model: a 3-D U-Net computes what its layers compute eagerly, inference and training") {
  const Seeded seeded(101);
  reset_default_graph();
  auto conv1 =
      std::make_shared<L::Conv3D>(L::Conv3DOptions(4, 3).padding("same").activation("relu"));
  auto bn = std::make_shared<L::BatchNormalization>();
  auto pool = std::make_shared<L::MaxPooling3D>(L::MaxPooling3DOptions(2));
  auto conv2 =
      std::make_shared<L::Conv3D>(L::Conv3DOptions(6, 3).padding("same").activation("relu"));
  auto up = std::make_shared<L::Conv3DTranspose>(L::Conv3DTransposeOptions(4, 2).strides(2));
  auto cat = std::make_shared<L::Concatenate>();
  auto head = std::make_shared<L::Conv3D>(L::Conv3DOptions(1, 1).activation("sigmoid"));

  auto inputs = Input({8, 8, 8, 1});
  auto c1 = (*conv1)(inputs);
  auto b1 = (*bn)(c1);
  auto p1 = (*pool)(b1);
  auto c2 = (*conv2)(p1);
  auto u1 = (*up)(c2);
  auto m1 = (*cat)({u1, b1});
  auto outputs = (*head)(m1);
  Model model(inputs, outputs, "unet3d");

  CHECK(inputs.shape_str() == "(None, 8, 8, 8, 1)");
  CHECK(p1.shape_str() == "(None, 4, 4, 4, 4)");
  CHECK(u1.shape_str() == "(None, 8, 8, 8, 4)");
  CHECK(m1.shape_str() == "(None, 8, 8, 8, 8)");
  CHECK(outputs.shape_str() == "(None, 8, 8, 8, 1)");
  CHECK(model.name() == "unet3d");
  CHECK(model.class_name() == "Functional");
  CHECK(names_of(model.layers()) ==
        std::vector<std::string>{"input_layer", "conv3d", "batch_normalization", "max_pooling3d",
                                 "conv3d_1", "conv3d_transpose", "concatenate", "conv3d_2"});
  CHECK(model.get_layer("conv3d_transpose") == up);
  // The symbolic calls built the layers in inference mode: the moving statistics are untouched.
  REQUIRE(bn->built());
  CHECK(xt::all(xt::equal(bn->moving_mean().value(), 0.f)));
  CHECK(xt::all(xt::equal(bn->moving_variance().value(), 1.f)));

  auto by_hand = [&](const Variable& x, bool training) {
    Variable a = (*conv1)(x, training);
    Variable b = (*bn)(a, training);
    Variable c = (*conv2)((*pool)(b, training), training);
    Variable u = (*up)(c, training);
    return (*head)((*cat)(std::vector<Variable>{u, b}, training), training);
  };
  const Tensor x = random_tensor({2, 8, 8, 8, 1}, 21);

  // inference
  const Tensor y_model = model(Variable(x)).value();
  CHECK(shape_of(y_model) == Shape{2, 8, 8, 8, 1});
  CHECK_BIT_IDENTICAL(y_model, by_hand(Variable(x), false).value());
  CHECK(xt::all(xt::greater(y_model, 0.f) && xt::less(y_model, 1.f)));

  // training: batch statistics, and one update of the moving statistics per call
  const std::vector<Tensor> before = model.get_weights();
  const Tensor t_model = model(Variable(x), /*training=*/true).value();
  const std::vector<Tensor> after_model = model.get_weights();
  model.set_weights(before);
  const Tensor t_hand = by_hand(Variable(x), true).value();
  const std::vector<Tensor> after_hand = model.get_weights();
  CHECK_BIT_IDENTICAL(t_model, t_hand);
  CHECK_FALSE(bit_identical(t_model, y_model));  // the flag reached BatchNormalization
  CHECK(all_equal(after_model, after_hand));
  CHECK_FALSE(all_equal(after_model, before));  // the moving statistics moved
  CHECK(xt::any(xt::not_equal(bn->moving_mean().value(), 0.f)));

  // gradients of every trainable weight, through the skip connection too
  model.set_weights(before);
  auto vars = model.trainable_variables();
  CHECK(vars.size() == 10);  // 4 kernels and biases of the convolutions, gamma and beta
  std::vector<Variable> g_model, g_hand;
  {
    GradientTape tape;
    Variable loss = sum(model(Variable(x), true));
    g_model = tape.gradient(loss, vars);
  }
  model.set_weights(before);
  {
    GradientTape tape;
    Variable loss = sum(by_hand(Variable(x), true));
    g_hand = tape.gradient(loss, vars);
  }
  REQUIRE(g_model.size() == vars.size());
  for (std::size_t i = 0; i < vars.size(); ++i) {
    CAPTURE(vars[i].name());
    REQUIRE(g_model[i].defined());
    REQUIRE(g_hand[i].defined());
    TF_CHECK_CLOSE(g_model[i].value(), g_hand[i].value(), 1e-6f, 1e-6f);
  }
}

// ---- gradients
// -----------------------------------------------------------------------------------

TEST_CASE("Model: gradcheck through a skip connection, on the input and every weight") {
  const Seeded seeded(102);
  reset_default_graph();
  auto x = Input({3});
  auto d1 = std::make_shared<L::Dense>(L::DenseOptions(4).activation("tanh"));
  auto d2 = std::make_shared<L::Dense>(L::DenseOptions(3));
  auto h = (*d1)(x);
  auto r = L::Add()({(*d2)(h), x});
  auto y = L::Concatenate()({r, h});
  Model model(x, y);
  CHECK(y.shape_str() == "(None, 7)");

  const Tensor xv = random_tensor({2, 3}, 4);
  auto by_hand = [&](const Variable& in) {
    Variable hv = (*d1)(in);
    return concat({add((*d2)(hv), in), hv}, -1);
  };
  CHECK_BIT_IDENTICAL(model(Variable(xv)).value(), by_hand(Variable(xv)).value());
  CHECK(model.trainable_variables().size() == 4);

  TF_GRADCHECK([&](const std::vector<Variable>& in) { return model(in[0]); }, {xv});
  TF_GRADCHECK_VARIABLES([&] { return model(Variable(xv)); }, model.trainable_variables());

  // The input's gradient has the skip's identity in it: the same as the hand composition's.
  Variable a(xv, true, "a"), b(xv, true, "b");
  std::vector<Variable> ga, gb;
  {
    GradientTape tape;
    ga = tape.gradient(sum(model(a)), {a});
  }
  {
    GradientTape tape;
    gb = tape.gradient(sum(by_hand(b)), {b});
  }
  REQUIRE(ga[0].defined());
  TF_CHECK_CLOSE(ga[0].value(), gb[0].value(), 1e-6f, 1e-6f);
}

// ---- shared layers
// -------------------------------------------------------------------------------

TEST_CASE("Model: a layer called on two inputs shares one set of weights, gradients add up") {
  const Seeded seeded(103);
  reset_default_graph();
  auto a = Input({3}, "a");
  auto b = Input({3}, "b");
  auto shared = std::make_shared<L::Dense>(L::DenseOptions(2));
  auto y = L::Add()({(*shared)(a), (*shared)(b)});
  Model model({a, b}, y, "siamese");

  CHECK(names_of(model.layers()) == std::vector<std::string>{"a", "b", "dense", "add"});
  auto vars = model.variables();
  REQUIRE(vars.size() == 2);
  CHECK(vars[0].is_same(shared->kernel()));
  CHECK(vars[1].is_same(shared->bias()));
  CHECK(model.trainable_variables().size() == 2);
  CHECK(model.count_params() == 8);
  CHECK(model.get_weights().size() == 2);
  // both calls are nodes of the model
  CHECK(model.get_config()["nodes"] ==
        R"([["dense",[["a",0,0]]],["dense",[["b",0,0]]],["add",[["dense",0,0],["dense",1,0]]]])");

  const Tensor xa = T({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor xb = T({2, 3}, {-1, 0.5f, 2, 0, 1, -3});
  std::vector<Variable> out = model({Variable(xa), Variable(xb)});
  REQUIRE(out.size() == 1);
  CHECK_BIT_IDENTICAL(out[0].value(),
                      add((*shared)(Variable(xa)), (*shared)(Variable(xb))).value());

  // loss = sum(y) = sum(xa W + b + xb W + b): dW[i][j] = sum_n (xa + xb)[n][i], db[j] = 2 * 2
  std::vector<Variable> grads;
  {
    GradientTape tape;
    Variable loss = sum(model({Variable(xa), Variable(xb)})[0]);
    grads = tape.gradient(loss, {shared->kernel(), shared->bias()});
  }
  REQUIRE(grads[0].defined());
  REQUIRE(grads[1].defined());
  TF_CHECK_CLOSE(grads[0].value(), T({3, 2}, {4, 4, 8.5f, 8.5f, 8, 8}));
  TF_CHECK_CLOSE(grads[1].value(), T({2}, {4, 4}));
  TF_GRADCHECK_VARIABLES([&] { return model({Variable(xa), Variable(xb)})[0]; }, vars);
}

TEST_CASE("Model: a layer called twice in a chain shares its weights") {
  const Seeded seeded(104);
  reset_default_graph();
  auto x = Input({3});
  auto d = std::make_shared<L::Dense>(L::DenseOptions(3).activation("tanh"));
  auto y = (*d)((*d)(x));
  Model model(x, y);
  CHECK(model.layers().size() == 2);
  CHECK(model.variables().size() == 2);
  CHECK(model.count_params() == 12);
  CHECK(model.get_config()["output_layers"] == R"([["dense",1,0]])");
  CHECK(model.get_config()["nodes"] ==
        R"([["dense",[["input_layer",0,0]]],["dense",[["dense",0,0]]]])");
  const Tensor xv = random_tensor({2, 3}, 8);
  CHECK_BIT_IDENTICAL(model(Variable(xv)).value(), (*d)((*d)(Variable(xv))).value());
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return model(in[0]); }, {xv});
  TF_GRADCHECK_VARIABLES([&] { return model(Variable(xv)); }, model.trainable_variables());
  const std::string s = model.summary();
  CHECK(
      s.find(keras_row({"dense (Dense)", "(None, 3)", "12", "input_layer[0][0]"}).substr(0, 82)) !=
      std::string::npos);
}

// ---- nested models
// -------------------------------------------------------------------------------

TEST_CASE("Model: a functional model nested in another one") {
  const Seeded seeded(105);
  reset_default_graph();
  auto ix = Input({4}, "inner_input");
  auto inner_dense = std::make_shared<L::Dense>(L::DenseOptions(3).activation("tanh"));
  auto inner = std::make_shared<Model>(ix, (*inner_dense)(ix), "inner");

  auto x = Input({4}, "x");
  auto h = (*inner)(x);
  auto outer_dense = std::make_shared<L::Dense>(L::DenseOptions(2));
  auto y = (*outer_dense)(h);
  Model outer(x, y, "outer");

  CHECK(h.shape_str() == "(None, 3)");
  CHECK(h.layer_name() == "inner");
  CHECK(names_of(outer.layers()) == std::vector<std::string>{"x", "inner", "dense_1"});
  CHECK(outer.get_layer("inner") == inner);
  CHECK(outer.variables().size() == 4);
  CHECK(outer.trainable_variables().size() == 4);
  CHECK(outer.count_params() == 15 + 8);
  CHECK(outer.sublayers().size() == 3);

  const Tensor xv = random_tensor({2, 4}, 9);
  CHECK_BIT_IDENTICAL(outer(Variable(xv)).value(),
                      (*outer_dense)((*inner_dense)(Variable(xv))).value());
  {
    GradientTape tape;
    auto vars = outer.trainable_variables();
    auto grads = tape.gradient(sum(outer(Variable(xv))), vars);
    for (std::size_t i = 0; i < grads.size(); ++i) {
      CAPTURE(vars[i].name());
      REQUIRE(grads[i].defined());
      CHECK(xt::any(xt::not_equal(grads[i].value(), 0.f)));
    }
  }
  TF_GRADCHECK_VARIABLES([&] { return outer(Variable(xv)); }, outer.trainable_variables());
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return outer(in[0]); }, {xv});

  // The nested model called twice: its weights once.
  auto x2 = Input({4}, "x2");
  Model twice({x, x2}, L::Add()({(*inner)(x), (*inner)(x2)}), "twice");
  CHECK(twice.variables().size() == 2);
  CHECK(twice.count_params() == 15);
  std::vector<Variable> got = twice({Variable(xv), Variable(Tensor(-xv))});
  CHECK_BIT_IDENTICAL(
      got[0].value(),
      add((*inner_dense)(Variable(xv)), (*inner_dense)(Variable(Tensor(-xv)))).value());
  // The summary lists the nested model as one layer.
  CHECK(outer.summary().find(keras_row({"inner (Functional)", "(None, 3)", "15", "x[0][0]"})) !=
        std::string::npos);
}

TEST_CASE("Model: a built Sequential nested in a functional model") {
  const Seeded seeded(106);
  reset_default_graph();
  auto seq = std::make_shared<L::Sequential>(L::SequentialOptions().name("stack"));
  auto s1 = seq->add<L::Dense>(L::DenseOptions(5).activation("tanh"));
  auto s2 = seq->add<L::Dense>(L::DenseOptions(3));
  seq->build({1, 4});
  auto x = Input({4});
  auto side = std::make_shared<L::Dense>(L::DenseOptions(3));
  auto y = L::Add()({(*seq)(x), (*side)(x)});
  Model model(x, y);
  // (the Sequential's build made the Input "input_layer")
  CHECK(names_of(model.layers()) ==
        std::vector<std::string>{"input_layer_1", "stack", "dense_2", "add"});
  CHECK(model.variables().size() == 6);
  CHECK(model.count_params() == 25 + 18 + 15);

  const Tensor xv = random_tensor({3, 4}, 10);
  CHECK_BIT_IDENTICAL(model(Variable(xv)).value(),
                      add((*s2)((*s1)(Variable(xv))), (*side)(Variable(xv))).value());
  TF_GRADCHECK_VARIABLES([&] { return model(Variable(xv)); }, model.trainable_variables());
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return model(in[0]); }, {xv});
}

TEST_CASE("Model: an unbuilt Sequential called on a symbolic tensor builds, as in Keras") {
  const Seeded seeded(107);
  reset_default_graph();
  auto seq = std::make_shared<L::Sequential>();
  auto s1 = seq->add<L::Dense>(L::DenseOptions(3));
  auto x = Input({4});
  L::SymbolicTensor h;
  CHECK_NOTHROW(h = (*seq)(x));
  REQUIRE(h.defined());
  CHECK(h.shape_str() == "(None, 3)");
  Model model(x, h);
  const Tensor xv = random_tensor({2, 4}, 11);
  CHECK_BIT_IDENTICAL(model(Variable(xv)).value(), (*s1)(Variable(xv)).value());
}

// ---- several inputs and outputs
// ------------------------------------------------------------------

TEST_CASE("Model: several inputs and outputs, and call_symbolic on a multi-output model") {
  const Seeded seeded(108);
  reset_default_graph();
  auto a = Input({3}, "a");
  auto b = Input({2}, "b");
  auto da = std::make_shared<L::Dense>(L::DenseOptions(4).activation("tanh"));
  auto c = L::Concatenate()({(*da)(a), b});
  auto d1 = std::make_shared<L::Dense>(L::DenseOptions(1));
  auto d2 = std::make_shared<L::Dense>(L::DenseOptions(2));
  Model model({a, b}, {(*d1)(c), (*d2)(c)}, "two_heads");
  CHECK(model.inputs().size() == 2);
  CHECK(model.outputs().size() == 2);
  CHECK(model.get_config()["input_layers"] == R"([["a",0,0],["b",0,0]])");
  CHECK(model.get_config()["output_layers"] == R"([["dense_1",0,0],["dense_2",0,0]])");

  const Tensor xa = random_tensor({5, 3}, 12), xb = random_tensor({5, 2}, 13);
  std::vector<Variable> out = model({Variable(xa), Variable(xb)});
  REQUIRE(out.size() == 2);
  CHECK(out[0].shape() == Shape{5, 1});
  CHECK(out[1].shape() == Shape{5, 2});
  Variable hc = concat({(*da)(Variable(xa)), Variable(xb)}, -1);
  CHECK_BIT_IDENTICAL(out[0].value(), (*d1)(hc).value());
  CHECK_BIT_IDENTICAL(out[1].value(), (*d2)(hc).value());
  TF_GRADCHECK(
      [&](const std::vector<Variable>& in) {
        auto o = model({in[0], in[1]});
        return concat({o[0], o[1]}, -1);
      },
      (std::vector<Tensor>{xa, xb}));

  // One output cannot come from the single-result calls.
  TF_CHECK_ERROR(model(Variable(xa)), "two_heads", "2 outputs");
  auto a2 = Input({3}, "a2");
  auto b2 = Input({2}, "b2");
  TF_CHECK_ERROR(model({a2, b2}), "two_heads", "call_symbolic");

  // call_symbolic: one symbolic tensor per output, usable in another model.
  std::vector<L::SymbolicTensor> sym = model.call_symbolic({a2, b2});
  REQUIRE(sym.size() == 2);
  CHECK(sym[0].shape_str() == "(None, 1)");
  CHECK(sym[1].shape_str() == "(None, 2)");
  CHECK(sym[0].index() == 0);
  CHECK(sym[1].index() == 1);
  CHECK(sym[1].layer_name() == "two_heads");
  Model wrapper({a2, b2}, L::Concatenate()({sym[0], sym[1]}), "wrapper");
  CHECK(wrapper.get_config()["nodes"] ==
        R"([["two_heads",[["a2",0,0],["b2",0,0]]],)"
        R"(["concatenate_1",[["two_heads",0,0],["two_heads",0,1]]]])");
  Variable w = wrapper({Variable(xa), Variable(xb)})[0];
  CHECK_BIT_IDENTICAL(w.value(), concat({out[0], out[1]}, -1).value());
  CHECK(wrapper.variables().size() == 6);
  const std::string s = wrapper.summary();
  CHECK(s.find(keras_row({"two_heads (Functional)"}) + "[(None, 1), (None, 2)]") !=
        std::string::npos);
}

// ---- accessors
// -----------------------------------------------------------------------------------

TEST_CASE("Model: layers, get_layer, count_params, trainable and non-trainable, set_trainable") {
  const Seeded seeded(109);
  reset_default_graph();
  auto x = Input({3});
  auto fc = std::make_shared<L::Dense>(L::DenseOptions(4).name("fc"));
  auto bn = std::make_shared<L::BatchNormalization>();
  auto h = (*bn)((*fc)(x));
  auto y = L::Dense(L::DenseOptions(2))(h);
  Model model(x, y);
  CHECK(model.name() == "functional");

  auto layers = model.layers();
  CHECK(names_of(layers) ==
        std::vector<std::string>{"input_layer", "fc", "batch_normalization", "dense"});
  CHECK(classes_of(layers) ==
        std::vector<std::string>{"InputLayer", "Dense", "BatchNormalization", "Dense"});
  CHECK(model.get_layer("fc") == fc);
  CHECK(model.get_layer(std::size_t{1}) == fc);
  CHECK(model.get_layer(std::size_t{2}) == bn);
  CHECK(model.get_layer(std::size_t{0})->class_name() == "InputLayer");
  TF_CHECK_ERROR(model.get_layer("nope"), "functional", "nope",
                 "input_layer, fc, batch_normalization, dense");
  TF_CHECK_ERROR(model.get_layer(std::size_t{9}), "functional", "index 9", "4 layers");

  CHECK(model.count_params() == 16 + 16 + 10);
  CHECK(model.variables().size() == 8);
  auto trainable = model.trainable_variables();
  auto frozen = model.non_trainable_variables();
  REQUIRE(trainable.size() == 6);
  REQUIRE(frozen.size() == 2);
  CHECK(frozen[0].is_same(bn->moving_mean()));
  CHECK(frozen[1].is_same(bn->moving_variance()));
  for (const auto& v : trainable) CHECK(v.trainable());
  CHECK(model.get_weights().size() == 8);

  const Tensor xv = random_tensor({4, 3}, 14);
  model.set_trainable(false);
  CHECK_FALSE(model.trainable());
  CHECK(model.trainable_variables().empty());
  CHECK(model.non_trainable_variables().size() == 8);
  for (const auto& l : model.layers())
    if (l->class_name() != "InputLayer") CHECK_MESSAGE(!l->trainable(), l->name());
  for (const auto& v : model.variables()) CHECK_FALSE(v.trainable());
  CHECK(tapeflow::trainable_variables().empty());
  // a frozen BatchNormalization runs in inference mode: training does not move its statistics
  const Tensor mean = bn->moving_mean().value();
  model(Variable(xv), /*training=*/true);
  CHECK_BIT_IDENTICAL(bn->moving_mean().value(), mean);

  model.set_trainable(true);
  CHECK(model.trainable_variables().size() == 6);
  CHECK(tapeflow::trainable_variables().size() == 6);
  model(Variable(xv), /*training=*/true);
  CHECK_FALSE(bit_identical(bn->moving_mean().value(), mean));
}

// ---- summary
// -------------------------------------------------------------------------------------

TEST_CASE("Model: summary is Keras 2's functional table with the Connected to column") {
  const Seeded seeded(110);
  reset_default_graph();
  auto x = Input({4});
  auto h = L::Dense(L::DenseOptions(8))(x);
  auto y = L::Add()({L::Dense(L::DenseOptions(4))(h), x});
  Model model(x, y, "skip");
  // tf.keras 2 (layer_utils.print_summary, line_length 98, positions .33/.55/.67): an input
  // row has no connection, and a layer with several inbound tensors gets one line per tensor.
  // clang-format off
  const std::string expected =
      "Model: \"skip\"\n"
      "__________________________________________________________________________________________________\n"
      "Layer (type)                    Output Shape         Param #     Connected to                     \n"
      "==================================================================================================\n"
      "input_layer (InputLayer)        [(None, 4)]          0                                            \n"
      "__________________________________________________________________________________________________\n"
      "dense (Dense)                   (None, 8)            40          input_layer[0][0]                \n"
      "__________________________________________________________________________________________________\n"
      "dense_1 (Dense)                 (None, 4)            36          dense[0][0]                      \n"
      "__________________________________________________________________________________________________\n"
      "add (Add)                       (None, 4)            0           dense_1[0][0]                    \n"
      "                                                                 input_layer[0][0]                \n"
      "==================================================================================================\n"
      "Total params: 76\n"
      "Trainable params: 76\n"
      "Non-trainable params: 0\n"
      "__________________________________________________________________________________________________\n";
  // clang-format on
  CHECK(model.summary() == expected);
  std::ostringstream os;
  model.summary(os);
  CHECK(os.str() == model.summary());
}

TEST_CASE("Model: summary counts non-trainable weights and widens a long column") {
  const Seeded seeded(111);
  reset_default_graph();
  auto x = Input({7});
  auto y = L::BatchNormalization()(L::Dense(L::DenseOptions(1000))(x));
  Model model(x, y, "wide");
  const std::string s = model.summary();
  CHECK(s.find("Model: \"wide\"\n") == 0);
  CHECK(s.find("batch_normalization (BatchNormalization) (None, 1000)") != std::string::npos);
  CHECK(s.find("8,000") != std::string::npos);
  CHECK(s.find("Total params: 12,000\n") != std::string::npos);
  CHECK(s.find("Trainable params: 10,000\n") != std::string::npos);
  CHECK(s.find("Non-trainable params: 2,000\n") != std::string::npos);
}

// ---- config
// --------------------------------------------------------------------------------------

TEST_CASE("Model: get_config and from_config rebuild the same model") {
  const Seeded seeded(112);
  Graph g1;
  auto scope1 = g1.as_default();
  auto model = make_skip_model();
  const Config c = model->get_config();
  CHECK(c.at("name") == "skip_model");
  CHECK(c.at("trainable") == "true");
  CHECK(c.at("layers").find(R"([{"class_name":"InputLayer","config":{)") == 0);
  CHECK(c.at("input_layers") == R"([["input_layer",0,0]])");
  CHECK(c.at("output_layers") == R"([["dense_2",0,0]])");
  CHECK(c.at("nodes") ==
        R"([["dense",[["input_layer",0,0]]],["batch_normalization",[["dense",0,0]]],)"
        R"(["dense_1",[["batch_normalization",0,0]]],)"
        R"(["add",[["dense_1",0,0],["input_layer",0,0]]],)"
        R"(["concatenate",[["add",0,0],["batch_normalization",0,0]]],)"
        R"(["dense_2",[["concatenate",0,0]]]])");
  const Tensor x = random_tensor({3, 4}, 15);
  (*model)(Variable(x), true);  // moving statistics away from their initial values
  const Tensor expected = (*model)(Variable(x)).value();

  {
    // In a fresh graph the names are free: the same config, the same summary.
    Graph g2;
    auto scope2 = g2.as_default();
    std::shared_ptr<Model> copy = Model::from_config(c);
    CHECK(copy->get_config() == c);
    CHECK(names_of(copy->layers()) == names_of(model->layers()));
    CHECK(classes_of(copy->layers()) == classes_of(model->layers()));
    CHECK(copy->summary() == model->summary());
    copy->set_weights(model->get_weights());
    CHECK_BIT_IDENTICAL((*copy)(Variable(x)).value(), expected);
    // The registry rebuilds it too, by Keras' class name.
    auto again = L::create_layer("Functional", c);
    CHECK(again->class_name() == "Functional");
    CHECK(again->count_params() == model->count_params());
  }
  // In the same graph the layers get new names, and the model its structure all the same.
  std::shared_ptr<Model> twin = Model::from_config(c);
  CHECK(classes_of(twin->layers()) == classes_of(model->layers()));
  CHECK(names_of(twin->layers()) != names_of(model->layers()));
  twin->set_weights(model->get_weights());
  CHECK_BIT_IDENTICAL((*twin)(Variable(x)).value(), expected);
  std::shared_ptr<Model> twice = Model::from_config(twin->get_config());
  twice->set_weights(model->get_weights());
  CHECK_BIT_IDENTICAL((*twice)(Variable(x)).value(), expected);
}

// ---- saving
// ----------------------------------------------------------------------------------------

TEST_CASE("Model: save and load round trip in every archive kind, bit-identical predictions") {
  const Seeded seeded(113);
  for (const std::string ext : {".bin", ".txt", ".xml"}) {
    CAPTURE(ext);
    const Tensor x = smooth_input({3, 4});
    const std::string path = temp_path("skip_model" + ext);
    Tensor expected;
    Config config;
    std::vector<Tensor> weights;
    {
      Graph g;
      auto scope = g.as_default();
      auto model = make_skip_model();
      (*model)(Variable(x), true);  // moving statistics away from their initial values
      expected = (*model)(Variable(x)).value();
      config = model->get_config();
      weights = model->get_weights();
      S::save(*model, path);
    }
    CHECK(read_bytes(path).rfind("tapeflow-model 1 " + std::string(ext == ".bin"   ? "binary"
                                                                   : ext == ".txt" ? "text"
                                                                                   : "xml"),
                                 0) == 0);
    {
      Graph g;
      auto scope = g.as_default();
      std::shared_ptr<L::Layer> loaded = S::load(path);
      REQUIRE(loaded);
      CHECK(loaded->class_name() == "Functional");
      auto* model = dynamic_cast<Model*>(loaded.get());
      REQUIRE(model);
      CHECK(model->get_config() == config);
      CHECK(all_equal(model->get_weights(), weights));
      CHECK_BIT_IDENTICAL((*model)(Variable(x)).value(), expected);
    }
    {
      // load_weights into a freshly built twin
      Graph g;
      auto scope = g.as_default();
      auto twin = make_skip_model();
      CHECK_FALSE(bit_identical((*twin)(Variable(x)).value(), expected));
      S::load_weights(*twin, path);
      CHECK(all_equal(twin->get_weights(), weights));
      CHECK_BIT_IDENTICAL((*twin)(Variable(x)).value(), expected);
    }
  }
}

TEST_CASE("Model: a saved model with a shared layer, a nested model and two inputs reloads") {
  const Seeded seeded(114);
  const std::string path = temp_path("nested.bin");
  const Tensor xa = smooth_input({2, 3}), xb = smooth_input({2, 3}) * 0.5f;
  std::vector<Tensor> expected;
  Config config;
  {
    Graph g;
    auto scope = g.as_default();
    auto ix = Input({3});
    auto inner =
        std::make_shared<Model>(ix, L::Dense(L::DenseOptions(3).activation("tanh"))(ix), "inner");
    auto a = Input({3}, "a");
    auto b = Input({3}, "b");
    auto shared = std::make_shared<L::Dense>(L::DenseOptions(3));
    auto ha = (*inner)((*shared)(a));
    auto hb = (*shared)(b);
    Model model({a, b}, {L::Add()({ha, hb}), hb}, "outer");
    for (const auto& v : model.get_weights()) CHECK(v.size() > 0);
    for (const auto& v : model({Variable(xa), Variable(xb)})) expected.push_back(v.value());
    config = model.get_config();
    S::save(model, path);
  }
  Graph g;
  auto scope = g.as_default();
  auto loaded = std::dynamic_pointer_cast<Model>(S::load(path));
  REQUIRE(loaded);
  CHECK(loaded->get_config() == config);
  CHECK(loaded->variables().size() == 4);
  auto inner = std::dynamic_pointer_cast<Model>(loaded->get_layer("inner"));
  REQUIRE(inner);
  CHECK(inner->layers().size() == 2);
  std::vector<Variable> got = (*loaded)({Variable(xa), Variable(xb)});
  REQUIRE(got.size() == 2);
  CHECK_BIT_IDENTICAL(got[0].value(), expected[0]);
  CHECK_BIT_IDENTICAL(got[1].value(), expected[1]);
}

TEST_CASE("Model: a saved functional model with a nested Sequential reloads") {
  const Seeded seeded(115);
  const std::string path = temp_path("with_sequential.bin");
  const Tensor x = smooth_input({2, 4});
  Tensor expected;
  {
    Graph g;
    auto scope = g.as_default();
    auto seq = std::make_shared<L::Sequential>();
    seq->add<L::Dense>(L::DenseOptions(3).activation("relu"));
    seq->add<L::Dense>(L::DenseOptions(2));
    seq->build({1, 4});
    auto in = Input({4});
    Model model(in, L::Dense(L::DenseOptions(1))((*seq)(in)));
    expected = model(Variable(x)).value();
    S::save(model, path);
  }
  Graph g;
  auto scope = g.as_default();
  std::shared_ptr<L::Layer> loaded;
  CHECK_NOTHROW(loaded = S::load(path));
  REQUIRE(loaded);
  CHECK_BIT_IDENTICAL((*loaded)(Variable(x)).value(), expected);
}

TEST_CASE("Model: saved and reloaded in a fresh process, the prediction is bit-identical") {
  const Seeded seeded(116);
  const std::string program = predict_model_program();
  REQUIRE_MESSAGE(fs::exists(program), "build the predict_model target first: " << program);
  for (const std::string ext : {".bin", ".txt", ".xml"}) {
    CAPTURE(ext);
    Graph g;
    auto scope = g.as_default();
    auto model = make_skip_model();
    const Tensor x = random_tensor({5, 4}, 16);
    (*model)(Variable(x), true);
    const Tensor expected = (*model)(Variable(x)).value();
    const std::string path = temp_path("process" + ext);
    const std::string in = temp_path("process_in.npy");
    const std::string out = temp_path("process_out" + ext + ".npy");
    std::remove(out.c_str());
    S::save(*model, path);
    xt::dump_npy(in, xt::xarray<float>(x));
    const std::string log = temp_path("process.log");
    const std::string cmd =
        "'" + program + "' '" + path + "' '" + in + "' '" + out + "' >'" + log + "' 2>&1";
    const int rc = std::system(cmd.c_str());
    CAPTURE(read_bytes(log));
    REQUIRE(WIFEXITED(rc));
    REQUIRE(WEXITSTATUS(rc) == 0);
    const Tensor got = xt::load_npy<float>(out);
    CHECK_BIT_IDENTICAL(got, expected);
  }
  // The tool's own errors: a missing file is one "error:" line and exit status 1.
  const std::string log = temp_path("process_err.log");
  const std::string cmd = "'" + program + "' '" + temp_path("missing.bin") + "' '" +
                          temp_path("none.npy") + "' '" + temp_path("none_out.npy") + "' >'" + log +
                          "' 2>&1";
  const int rc = std::system(cmd.c_str());
  REQUIRE(WIFEXITED(rc));
  CHECK(WEXITSTATUS(rc) == 1);
  CHECK(read_bytes(log).rfind("error: ", 0) == 0);
}

// ---- errors ------------------------------------------------------------------------------------

TEST_CASE(
    "Model: Concatenate of tensors whose other dimensions differ fails at the symbolic call") {
  const Seeded seeded(117);
  reset_default_graph();
  auto a = Input({4, 3});
  auto b = Input({5, 2});
  TF_CHECK_ERROR(L::Concatenate()({a, b}), "concatenate", "(None, 4, 3)", "(None, 5, 2)",
                 "matching shapes except for the concatenation axis");
  CHECK_THROWS_AS(L::Concatenate()({a, b}), ShapeError);
  L::Concatenate join(L::ConcatenateOptions().name("join").axis(1));
  TF_CHECK_ERROR(join({a, b}), "join", "(None, 4, 3)", "(None, 5, 2)");
  // The failed call leaves the layer usable on compatible tensors.
  auto c = Input({2, 3});
  auto joined = join({a, c});
  CHECK(joined.shape_str() == "(None, 6, 3)");
  // A Dense that cannot take its input names itself at the symbolic call too.
  auto d = std::make_shared<L::Dense>(L::DenseOptions(2).name("fc"));
  (*d)(Input({3}));
  TF_CHECK_ERROR((*d)(Input({5})), "fc", "(None, 5)");
  CHECK_THROWS_AS((*d)(Input({5})), ShapeError);
}

TEST_CASE("Model: a bad graph is a ValueError naming the model") {
  const Seeded seeded(118);
  reset_default_graph();
  auto x = Input({3}, "x");
  auto other = Input({3}, "other");
  auto unused = Input({3}, "unused");
  auto y = L::Dense(L::DenseOptions(2))(x);
  auto y_other = L::Dense(L::DenseOptions(2))(other);

  // an output built from an Input the model is not given
  TF_CHECK_ERROR(Model(x, y_other, "m"), "m", "depends on input", "'other'",
                 "not one of the model's inputs");
  CHECK_THROWS_AS(Model(x, y_other, "m"), ValueError);
  TF_CHECK_ERROR((Model(x, {y, y_other}, "m")), "m", "'other'");
  // an input no output uses
  TF_CHECK_ERROR((Model({x, unused}, y, "m")), "m", "'unused'", "not used by any output");
  CHECK_THROWS_AS((Model({x, unused}, y, "m")), ValueError);
  // an input that is not an Input tensor
  TF_CHECK_ERROR(Model(y, L::Dense(L::DenseOptions(1))(y), "m"), "m", "input 0",
                 "comes from layer 'dense'", "Input(...)");
  CHECK_THROWS_AS(Model(y, L::Dense(L::DenseOptions(1))(y), "m"), ValueError);
  // an input given twice, undefined tensors, empty lists
  TF_CHECK_ERROR((Model({x, x}, y, "m")), "m", "'x'", "twice");
  TF_CHECK_ERROR(Model(L::SymbolicTensor(), y, "m"), "m", "input 0", "undefined");
  TF_CHECK_ERROR(Model(x, L::SymbolicTensor(), "m"), "m", "output 0", "undefined");
  TF_CHECK_ERROR(Model(L::SymbolicTensors(), y, "m"), "m", "at least one input");
  TF_CHECK_ERROR(Model(x, L::SymbolicTensors(), "m"), "m", "at least one output");
  // two layers with one name (made in two graphs, where each name is free)
  std::shared_ptr<L::Dense> d1, d2;
  {
    Graph g1;
    auto s = g1.as_default();
    d1 = std::make_shared<L::Dense>(L::DenseOptions(2).name("same"));
  }
  {
    Graph g2;
    auto s = g2.as_default();
    d2 = std::make_shared<L::Dense>(L::DenseOptions(2).name("same"));
  }
  REQUIRE(d1->name() == d2->name());
  auto z = L::Add()({(*d1)(x), (*d2)(x)});
  TF_CHECK_ERROR(Model(x, z, "m"), "m", "two layers are named 'same'");
  CHECK_THROWS_AS(Model(x, z, "m"), ValueError);
}

TEST_CASE("Model: calls with the wrong number of inputs or the wrong shape") {
  const Seeded seeded(119);
  reset_default_graph();
  auto a = Input({3}, "a");
  auto b = Input({2}, "b");
  Model two({a, b}, L::Concatenate()({a, b}), "two");
  const Variable xa(random_tensor({2, 3})), xb(random_tensor({2, 2}));
  CHECK(two({xa, xb})[0].shape() == Shape{2, 5});
  TF_CHECK_ERROR(two({xa}), "two", "takes 2 input(s), got 1");
  CHECK_THROWS_AS(two({xa}), ValueError);
  TF_CHECK_ERROR(two({xa, xb, xb}), "two", "got 3");
  TF_CHECK_ERROR(two(xa), "two", "2 input(s), got 1");
  // the wrong shape: a ShapeError naming the model and the input
  TF_CHECK_ERROR(two({xb, xb}), "two", "input 'a'", "(None, 3)", "(2, 2)");
  CHECK_THROWS_AS(two({xb, xb}), ShapeError);
  TF_CHECK_ERROR(two({xa, Variable(random_tensor({2, 2, 1}))}), "two", "input 'b'", "(None, 2)",
                 "(2, 2, 1)");

  auto x = Input({3}, "x");
  Model one(x, L::Dense(L::DenseOptions(2))(x), "one");
  TF_CHECK_ERROR(one({xa, xa}), "one", "takes 1 input(s), got 2");
  TF_CHECK_ERROR(one(Variable(random_tensor({2, 4}))), "one", "input 'x'", "(None, 3)", "(2, 4)");
  CHECK_THROWS_AS(one(Variable(random_tensor({2, 4}))), ShapeError);
  TF_CHECK_ERROR(one(Variable(random_tensor({3}))), "one", "input 'x'", "(3,)");
  // a fixed batch size is checked too
  auto fixed = Input({3}, "fixed", 2);
  CHECK(fixed.shape_str() == "(2, 3)");
  Model batch(fixed, L::Dense(L::DenseOptions(1))(fixed), "batch");
  CHECK(batch(Variable(random_tensor({2, 3}))).shape() == Shape{2, 1});
  TF_CHECK_ERROR(batch(Variable(random_tensor({4, 3}))), "batch", "input 'fixed'", "(2, 3)",
                 "(4, 3)");
}

TEST_CASE("Model: from_config with two layers of one name or an unknown class") {
  const Seeded seeded(120);
  reset_default_graph();
  auto x = Input({3});
  auto h = L::Dense(L::DenseOptions(4))(x);
  Model model(x, L::Dense(L::DenseOptions(2))(h), "m");
  const Config good = model.get_config();
  REQUIRE(good.at("layers").find(R"("name":"dense_1")") != std::string::npos);

  auto replaced = [](std::string s, const std::string& from, const std::string& to) {
    for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
      s.replace(p, from.size(), to);
    return s;
  };
  Config same_name = good;
  same_name["layers"] = replaced(good.at("layers"), R"("name":"dense_1")", R"("name":"dense")");
  same_name["nodes"] = replaced(good.at("nodes"), R"("dense_1")", R"("dense")");
  TF_CHECK_ERROR(Model::from_config(same_name), "Functional 'm'", "two layers are named 'dense'");
  CHECK_THROWS_AS(Model::from_config(same_name), ValueError);

  Config unknown = good;
  unknown["layers"] =
      replaced(good.at("layers"), R"("class_name":"Dense")", R"("class_name":"NoSuchLayer")");
  TF_CHECK_ERROR(Model::from_config(unknown), "unknown layer class 'NoSuchLayer'",
                 "Functional 'm'");
  CHECK_THROWS_AS(Model::from_config(unknown), ValueError);

  Config dangling = good;
  dangling["nodes"] = replaced(good.at("nodes"), R"(["dense_1",)", R"(["ghost",)");
  TF_CHECK_ERROR(Model::from_config(dangling), "Functional 'm'", "'ghost'");
  Config no_layers = good;
  no_layers.erase("layers");
  TF_CHECK_ERROR(Model::from_config(no_layers), "Functional 'm'", "'layers'");
  Config bad_json = good;
  bad_json["nodes"] = "[[";
  TF_CHECK_ERROR(Model::from_config(bad_json), "Functional 'm'", "'nodes'", "JSON");
}

TEST_CASE("Model: a saved file with an unknown class is a FileError on load") {
  const Seeded seeded(121);
  const std::string path = temp_path("unknown_class.xml");
  {
    Graph g;
    auto scope = g.as_default();
    auto x = Input({3});
    Model model(x, L::Dense(L::DenseOptions(2))(x), "m");
    S::save(model, path);
  }
  // The XML archive holds the class names as element text: rename the Dense class, and give
  // the payload a new header (a valid checksum), so that only the class name is wrong.
  std::string image = read_bytes(path);
  const S::FileHeader header = S::read_file_header(image, true, "test");
  REQUIRE(header.archive == S::Archive::xml);
  std::string payload = image.substr(header.payload_offset);
  const std::size_t at = payload.find(">Dense<");
  REQUIRE(at != std::string::npos);
  payload.replace(at, 7, ">Dunse<");
  REQUIRE(payload.find(">Dense<") == std::string::npos);
  const std::string crafted = temp_path("crafted_unknown.xml");
  write_bytes(crafted, S::make_file_image(S::Archive::xml, payload));

  Graph g;
  auto scope = g.as_default();
  TF_CHECK_ERROR(S::load(crafted), "load", "crafted_unknown.xml", "unknown layer class 'Dunse'");
  CHECK_THROWS_AS(S::load(crafted), FileError);
  TF_CHECK_ERROR(S::inspect(crafted), "crafted_unknown.xml", "Dunse");
  CHECK_THROWS_AS(S::inspect(crafted), FileError);
  // load_weights into a model of the original architecture: the file's class differs
  auto twin_input = Input({3});
  Model twin(twin_input, L::Dense(L::DenseOptions(2))(twin_input), "m");
  TF_CHECK_ERROR(S::load_weights(twin, crafted), "Dunse");
  CHECK_THROWS_AS(S::load_weights(twin, crafted), ShapeError);
  CHECK_NOTHROW(S::load(path));
}

TEST_CASE("Model: a functional model with a layer that cannot be saved writes nothing") {
  const Seeded seeded(122);
  reset_default_graph();
  auto x = Input({3});
  // a custom callable cannot be rebuilt: the layer is shared, not a twinned temporary
  auto custom = std::make_shared<L::Dense>(L::DenseOptions(2).kernel_initializer(
      Initializer([](const Shape& s) { return Tensor(xt::ones<float>(s)); })));
  Model model(x, L::Dense(L::DenseOptions(1))((*custom)(x)), "m");
  const std::string path = temp_path("custom_callable.bin");
  std::remove(path.c_str());
  TF_CHECK_ERROR(S::save(model, path), "dense", "kernel_initializer");
  CHECK_THROWS_AS(S::save(model, path), ValueError);
  CHECK_FALSE(fs::exists(path));
}

// ---- layer lifetimes
// -----------------------------------------------------------------------------

TEST_CASE("Model: a temporary layer is twinned, keeps its name, and the model outlives it") {
  const Seeded seeded(123);
  reset_default_graph();
  auto x = Input({3});
  auto h = L::Dense(L::DenseOptions(4).activation("tanh"))(x);
  auto y = L::Dense(L::DenseOptions(2).name("head"))(h);
  CHECK(h.layer_name() == "dense");
  CHECK(y.layer_name() == "head");
  Model model(x, y);
  CHECK(names_of(model.layers()) == std::vector<std::string>{"input_layer", "dense", "head"});
  auto dense = std::dynamic_pointer_cast<L::Dense>(model.get_layer("dense"));
  auto head = std::dynamic_pointer_cast<L::Dense>(model.get_layer("head"));
  REQUIRE(dense);
  REQUIRE(head);
  CHECK(dense->built());
  CHECK(dense->get_config().at("activation") == "tanh");
  CHECK(dense->kernel().name() == "dense/kernel");
  CHECK(head->kernel().name() == "head/kernel");
  // the names stay taken: the next Dense is dense_1
  L::Dense next(L::DenseOptions(1));
  CHECK(next.name() == "dense_1");

  const Tensor xv = random_tensor({2, 3}, 17);
  Variable out;
  CHECK_NOTHROW(out = model(Variable(xv)));
  CHECK_BIT_IDENTICAL(out.value(), (*head)((*dense)(Variable(xv))).value());
  TF_GRADCHECK_VARIABLES([&] { return model(Variable(xv)); }, model.trainable_variables());

  // a built layer cannot be a temporary, an unregistered class cannot be twinned
  L::Dense built(L::DenseOptions(2).name("built"));
  built(Variable(xv));
  TF_CHECK_ERROR(std::move(built)(x), "built", "temporary", "std::shared_ptr");
  TF_CHECK_ERROR(Unregistered()(x), "unregistered", "TAPEFLOW_REGISTER_CUSTOM_LAYER");
  // ... but one owned by a std::shared_ptr is used as it is
  auto owned = std::make_shared<Unregistered>();
  auto u = std::move(*owned)(x);
  Model by_owner(x, u);
  CHECK(by_owner.get_layer(owned->name()) == owned);
}

TEST_CASE("Model: a stack layer destroyed before the model runs is an Error naming it") {
  const Seeded seeded(124);
  reset_default_graph();
  auto x = Input({3});
  const Tensor xv = random_tensor({2, 3}, 18);
  std::shared_ptr<Model> model;
  {
    L::Dense local(L::DenseOptions(2).name("local"));
    auto y = local(x);
    model = std::make_shared<Model>(x, y, "m");
    CHECK(model->get_layer("local").get() == &local);
    CHECK_BIT_IDENTICAL((*model)(Variable(xv)).value(), local(Variable(xv)).value());
  }
  TF_CHECK_ERROR((*model)(Variable(xv)), "m", "'local'", "destroyed");
  TF_CHECK_ERROR(model->variables(), "m", "'local'", "destroyed");
  TF_CHECK_ERROR(model->summary(), "'local'", "destroyed");
  TF_CHECK_ERROR(model->get_config(), "'local'", "destroyed");
  TF_CHECK_ERROR(model->layers(), "'local'", "destroyed");
}
