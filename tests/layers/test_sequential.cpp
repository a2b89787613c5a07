#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/losses.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/batch_normalization.hpp"
#include "tapeflow/layers/conv.hpp"
#include "tapeflow/layers/conv3d_transpose.hpp"
#include "tapeflow/layers/dense.hpp"
#include "tapeflow/layers/dropout.hpp"
#include "tapeflow/layers/elu.hpp"
#include "tapeflow/layers/merge.hpp"
#include "tapeflow/layers/relu.hpp"
#include "tapeflow/layers/reshaping.hpp"
#include "tapeflow/layers/sequential.hpp"
#include "tapeflow/layers/softmax.hpp"
#include "tapeflow/optim/sgd.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;

TEST_CASE("Sequential: calls the layers in order") {
  reset_default_graph();
  Sequential model;
  CHECK(model.name() == "sequential");
  auto d1 = model.add<Dense>(DenseOptions(3).activation("relu"));
  auto d2 = std::make_shared<Dense>(DenseOptions(2));
  model.add(d2);
  REQUIRE(model.layers().size() == 2);
  CHECK(model.layers()[0] == d1);
  CHECK(model.get_layer("dense_1") == d2);
  CHECK(model.get_layer(0) == d1);
  Tensor x = random_tensor({4, 5});
  Variable y = model(Variable(x));
  CHECK(y.shape() == Shape{4, 2});
  TF_CHECK_CLOSE(y.value(), (*d2)((*d1)(Variable(x))).value());
  CHECK(d1->kernel().name() == "dense/kernel");

  Sequential listed({std::make_shared<Dense>(DenseOptions(2))});
  CHECK(listed.name() == "sequential_1");
  CHECK(listed.layers().size() == 1);
  CHECK(model.pop() == d2);
  CHECK(model.layers().size() == 1);
  CHECK(model(Variable(x)).shape() == Shape{4, 3});
}

TEST_CASE("Sequential: the training flag reaches Dropout and BatchNormalization") {
  reset_default_graph();
  set_random_seed(2);
  Sequential model;
  model.add<Dropout>(DropoutOptions(0.5f));
  auto bn = model.add<BatchNormalization>(BatchNormalizationOptions().center(false).scale(false));
  Tensor x = random_tensor({64, 3}, 3, 1.f, 2.f);
  // inference: dropout off, moving stats (0, 1): y = x / sqrt(1 + eps)
  TF_CHECK_CLOSE(model(Variable(x)).value(), Tensor(x / std::sqrt(1.001f)));
  TF_CHECK_CLOSE(bn->moving_mean().value(), (Tensor{0.f, 0.f, 0.f}));
  model(Variable(x), true);
  CHECK(xt::all(xt::greater(bn->moving_mean().value(), 0.f)));  // updated from the batch
  clear_random_seed();
}

TEST_CASE("Sequential: variables, trainability, weights and losses of all layers") {
  reset_default_graph();
  Sequential model;
  model.add<Dense>(DenseOptions(4).kernel_regularizer(regularizers::l2(0.5f)));
  model.add<BatchNormalization>();
  model.add<Dense>(DenseOptions(2).kernel_initializer("ones"));
  model(Variable(random_tensor({3, 3})));
  CHECK(model.variables().size() == 8);
  CHECK(model.trainable_variables().size() == 6);
  CHECK(model.non_trainable_variables().size() == 2);
  CHECK(model.count_params() == 16 + 16 + 10);
  // through a Layer&: the virtual accessors
  const Layer& as_layer = model;
  CHECK(as_layer.trainable_variables().size() == 6);
  CHECK(as_layer.count_params() == 42);

  auto w = model.get_weights();
  REQUIRE(w.size() == 8);
  CHECK(w[0].shape() == std::vector<std::size_t>{3, 4});
  w[0].fill(1.f);
  model.set_weights(w);
  CHECK(model.variables()[0].value()(0, 0) == 1.f);
  TF_CHECK_ERROR(model.set_weights({w[0]}), "sequential", "8 weights", "1 values");

  auto losses = model.losses();
  REQUIRE(losses.size() == 1);
  CHECK(losses[0].item() == doctest::Approx(0.5f * 12));

  model.set_trainable(false);
  CHECK(model.trainable_variables().empty());
  CHECK(model.non_trainable_variables().size() == 8);
  CHECK_FALSE(model.layers()[0]->trainable());
  CHECK(trainable_variables().empty());
  model.set_trainable(true);
  CHECK(model.trainable_variables().size() == 6);
}

TEST_CASE("Sequential: gradcheck through the stack, input and every weight") {
  reset_default_graph();
  Sequential model;
  model.add<Dense>(DenseOptions(3).activation("tanh"));
  model.add<Dense>(DenseOptions(2));
  Tensor x = random_tensor({2, 4}, 5);
  model(Variable(x));
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return model(in[0]); }, {x});
  TF_GRADCHECK_VARIABLES([&] { return model(Variable(x)); }, model.trainable_variables());
}

TEST_CASE("Sequential: summary is Keras' table") {
  reset_default_graph();
  Sequential model;
  model.add<Dense>(DenseOptions(4));
  model.add<Dropout>(DropoutOptions(0.5f));
  model.add<Dense>(DenseOptions(2));
  TF_CHECK_ERROR(model.summary(), "sequential", "not built", "build(input_shape)");
  model.build({1, 3});
  const std::string expected =
      "Model: \"sequential\"\n"
      "_________________________________________________________________\n"
      "Layer (type)                 Output Shape              Param #   \n"
      "=================================================================\n"
      "dense (Dense)                (None, 4)                 16        \n"
      "_________________________________________________________________\n"
      "dropout (Dropout)            (None, 4)                 0         \n"
      "_________________________________________________________________\n"
      "dense_1 (Dense)              (None, 2)                 10        \n"
      "=================================================================\n"
      "Total params: 26\n"
      "Trainable params: 26\n"
      "Non-trainable params: 0\n"
      "_________________________________________________________________\n";
  CHECK(model.summary() == expected);
  std::ostringstream os;
  model.summary(os);
  CHECK(os.str() == expected);

  model.add<Dense>(DenseOptions(1));
  TF_CHECK_ERROR(model.summary(), "sequential", "dense_2", "added after");
  TF_CHECK_ERROR(model.count_params(), "sequential", "dense_2");
  model(Variable(random_tensor({5, 3})));
  CHECK(model.summary().find("dense_2 (Dense)              (None, 1)                 3") !=
        std::string::npos);
}

TEST_CASE("Sequential: summary widens columns, counts non-trainable weights, commas") {
  reset_default_graph();
  Sequential model(SequentialOptions().name("net"));
  model.add<Dense>(DenseOptions(1000));
  model.add<BatchNormalization>();
  model.build({2, 7});
  std::string s = model.summary();
  CHECK(s.find("Model: \"net\"") == 0);
  CHECK(s.find("batch_normalization (BatchNormalization) (None, 1000)") != std::string::npos);
  CHECK(s.find("8,000") != std::string::npos);  // 7 * 1000 + 1000
  CHECK(s.find("Total params: 12,000\n") != std::string::npos);
  CHECK(s.find("Trainable params: 10,000\n") != std::string::npos);
  CHECK(s.find("Non-trainable params: 2,000\n") != std::string::npos);
}

TEST_CASE("Sequential: build runs an unrecorded inference pass") {
  reset_default_graph();
  Sequential model;
  auto bn = model.add<BatchNormalization>();
  GradientTape tape;
  model.build({4, 3});
  CHECK(tape.size() == 0);
  CHECK(model.built());
  CHECK(bn->built());
  TF_CHECK_CLOSE(bn->moving_mean().value(), (Tensor{0.f, 0.f, 0.f}));
  CHECK(model.input_shape() == Shape{4, 3});
}

TEST_CASE("Sequential: nested models") {
  reset_default_graph();
  auto inner = std::make_shared<Sequential>();
  inner->add<Dense>(DenseOptions(3));
  Sequential outer;
  outer.add(inner);
  outer.add<Dense>(DenseOptions(2));
  CHECK(outer.name() == "sequential_1");
  Variable y = outer(Variable(random_tensor({2, 4})));
  CHECK(y.shape() == Shape{2, 2});
  CHECK(outer.trainable_variables().size() == 4);
  CHECK(outer.count_params() == 15 + 8);
  CHECK(outer.summary().find("sequential (Sequential)      (None, 3)                 15") !=
        std::string::npos);
  CHECK(outer.pretty_print() ==
        "Sequential(\n"
        "  (0): Sequential(\n"
        "    (0): Dense(units=3, activation=linear)\n"
        "  )\n"
        "  (1): Dense(units=2, activation=linear)\n"
        ")");
}

TEST_CASE("Sequential: get_config and pretty_print") {
  reset_default_graph();
  Sequential model;
  model.add<Dense>(DenseOptions(4).activation("relu"));
  model.add<Dropout>(DropoutOptions(0.5f));
  auto cfgs = model.layer_configs();
  REQUIRE(cfgs.size() == 2);
  CHECK(cfgs[0].class_name == "Dense");
  CHECK(cfgs[0].config["units"] == "4");
  CHECK(cfgs[1].class_name == "Dropout");
  CHECK(cfgs[1].config["rate"] == "0.5");
  Config c = model.get_config();
  CHECK(c["name"] == "sequential");
  // Keras' form: a JSON list of {"class_name", "config"}.
  CHECK(c["layers"].find("[{\"class_name\":\"Dense\",\"config\":{") == 0);
  CHECK(c["layers"].find("\"units\":\"4\"") != std::string::npos);
  CHECK(c["layers"].find("{\"class_name\":\"Dropout\"") != std::string::npos);
  auto copy = Sequential::from_config(c);
  REQUIRE(copy->layers().size() == 2);
  CHECK(copy->layers()[0]->get_config()["units"] == "4");
  CHECK(copy->layers()[1]->class_name() == "Dropout");
  CHECK(model.pretty_print() ==
        "Sequential(\n"
        "  (0): Dense(units=4, activation=relu)\n"
        "  (1): Dropout(rate=0.5)\n"
        ")");
}

TEST_CASE("Sequential: errors") {
  reset_default_graph();
  Sequential model(SequentialOptions().name("m"));
  TF_CHECK_ERROR(model(Variable(random_tensor({2, 3}))), "m", "no layers");
  TF_CHECK_ERROR(model.add(nullptr), "m", "null");
  auto d = model.add<Dense>(DenseOptions(2));
  TF_CHECK_ERROR(model.add(d), "m", "'dense'", "already");
  TF_CHECK_ERROR(model.get_layer("nope"), "m", "nope", "dense");
  TF_CHECK_ERROR(model.get_layer(5), "m", "index 5");
  model.pop();
  TF_CHECK_ERROR(model.pop(), "m", "no layers");
  model.add<Add>();
  TF_CHECK_ERROR(model(Variable(random_tensor({2, 3}))), "add", "list of inputs");
  Sequential wrong(SequentialOptions().name("w"));
  wrong.add<Dense>(DenseOptions(2));
  wrong(Variable(random_tensor({2, 3})));
  TF_CHECK_ERROR(wrong(Variable(random_tensor({2, 5}))), "dense", "size 3");
}

TEST_CASE("Sequential: Conv3D + BatchNormalization + Conv3DTranspose + Dense trains") {
  reset_default_graph();
  set_random_seed(7);
  Sequential model;
  model.add<Conv3D>(Conv3DOptions(4, 3).padding("same").activation("relu"));
  auto bn = model.add<BatchNormalization>();
  model.add<Conv3DTranspose>(Conv3DTransposeOptions(3, 2).strides(2).padding("same"));
  model.add<Dense>(DenseOptions(1));
  Tensor x = random_tensor({2, 4, 4, 4, 2}, 11);
  Tensor target = random_tensor({2, 8, 8, 8, 1}, 12, 0.f, 1.f);
  model.build({2, 4, 4, 4, 2});
  CHECK(model.summary().find("(None, 8, 8, 8, 3)") != std::string::npos);
  CHECK(model.trainable_variables().size() == 8);
  CHECK(model.non_trainable_variables().size() == 2);

  optim::SGD opt(optim::SGDOptions().learning_rate(0.05f));
  std::vector<float> losses;
  for (int step = 0; step < 20; ++step) {
    GradientTape tape;
    Variable y = model(Variable(x), /*training=*/true);
    Variable loss = losses::mean_squared_error(Variable(target), y);
    auto vars = model.trainable_variables();
    auto grads = tape.gradient(loss, vars);
    for (const auto& g : grads) REQUIRE(g.defined());
    opt.apply_gradients(grads, vars);
    losses.push_back(loss.item());
  }
  MESSAGE("loss " << losses.front() << " -> " << losses.back());
  CHECK(losses.back() < 0.5f * losses.front());
  for (float l : losses) CHECK(std::isfinite(l));
  // the moving statistics followed the training batches
  CHECK(xt::any(xt::not_equal(bn->moving_mean().value(), 0.f)));
  // inference mode runs too, with the moving statistics
  CHECK(model(Variable(x)).shape() == Shape{2, 8, 8, 8, 1});
  clear_random_seed();
}

TEST_CASE("Sequential: summary of the activation and shape layers of the second zoo wave") {
  reset_default_graph();
  Sequential model;
  model.add<Dense>(DenseOptions(3));
  model.add<ReLU>(ReLUOptions().max_value(6.f));
  model.add<ELU>();
  model.add<RepeatVector>(RepeatVectorOptions(2));
  model.add<Softmax>();
  model.build({1, 4});
  const std::string expected =
      "Model: \"sequential\"\n"
      "_________________________________________________________________\n"
      "Layer (type)                 Output Shape              Param #   \n"
      "=================================================================\n"
      "dense (Dense)                (None, 3)                 15        \n"
      "_________________________________________________________________\n"
      "re_lu (ReLU)                 (None, 3)                 0         \n"
      "_________________________________________________________________\n"
      "elu (ELU)                    (None, 3)                 0         \n"
      "_________________________________________________________________\n"
      "repeat_vector (RepeatVector) (None, 2, 3)              0         \n"
      "_________________________________________________________________\n"
      "softmax (Softmax)            (None, 2, 3)              0         \n"
      "=================================================================\n"
      "Total params: 15\n"
      "Trainable params: 15\n"
      "Non-trainable params: 0\n"
      "_________________________________________________________________\n";
  CHECK(model.summary() == expected);
}
