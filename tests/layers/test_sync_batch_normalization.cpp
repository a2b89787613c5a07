// SyncBatchNormalization (layers/sync_batch_normalization.hpp) in a single process, where the
// global batch is the local one: training output, moving statistics and gradients equal to
// BatchNormalization's, inference identical, its config, saving and Keras JSON (Keras 2's class
// name and Keras 3's `BatchNormalization(synchronized=True)`), errors. The multi-rank behaviour
// is tested under mpirun elsewhere.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "framework/io/io_test_util.hpp"
#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/runtime/communicator.hpp"
#include "tapeflow/layers/batch_normalization.hpp"
#include "tapeflow/layers/input_layer.hpp"
#include "tapeflow/layers/keras_json.hpp"
#include "tapeflow/layers/model.hpp"
#include "tapeflow/layers/registry.hpp"
#include "tapeflow/layers/saving.hpp"
#include "tapeflow/layers/sequential.hpp"
#include "tapeflow/layers/sync_batch_normalization.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;

namespace {

// Random weights of shape `param`: gamma, beta (those present), moving mean and moving
// variance (positive).
std::vector<Tensor> sbn_weights(const Shape& param, bool scale, bool center, unsigned seed) {
  std::vector<Tensor> w;
  if (scale) w.push_back(random_tensor(param, seed, 0.5f, 1.5f));
  if (center) w.push_back(random_tensor(param, seed + 1));
  w.push_back(random_tensor(param, seed + 2));
  w.push_back(random_tensor(param, seed + 3, 0.5f, 2.f));
  return w;
}

// The options of one comparison with BatchNormalization, and the input.
struct SbnCase {
  const char* what;
  BatchNormalizationOptions options;
  Shape input;
  Shape param;
};

std::vector<SbnCase> sbn_cases() {
  return {
      {"5-D channels_last", BatchNormalizationOptions().momentum(0.9f), {2, 3, 4, 3, 5}, {5}},
      {"channels_first axis=1",
       BatchNormalizationOptions().axis(1).momentum(0.8f),
       {3, 4, 5, 2},
       {4}},
      {"two axes, no scale",
       BatchNormalizationOptions().axis({1, -1}).scale(false),
       {3, 2, 4, 3},
       {1, 2, 1, 3}},
      {"no center, epsilon 0.1",
       BatchNormalizationOptions().center(false).epsilon(0.1f),
       {6, 3},
       {3}},
  };
}

}  // namespace

TEST_CASE("SyncBatchNormalization: name, class, weights and config are BatchNormalization's") {
  reset_default_graph();
  SyncBatchNormalization sbn;
  CHECK(sbn.name() == "sync_batch_normalization");
  CHECK(sbn.class_name() == "SyncBatchNormalization");
  sbn(Variable(random_tensor({2, 3, 4})));
  auto vars = sbn.variables();
  REQUIRE(vars.size() == 4);
  CHECK(vars[0].name() == "sync_batch_normalization/gamma");
  CHECK(vars[1].name() == "sync_batch_normalization/beta");
  CHECK(vars[2].name() == "sync_batch_normalization/moving_mean");
  CHECK(vars[3].name() == "sync_batch_normalization/moving_variance");
  CHECK(sbn.trainable_variables().size() == 2);
  CHECK(get_collection(GraphKeys::UPDATE_OPS, "sync_batch_normalization/AssignMovingAvg").size() ==
        2);
  CHECK(sbn.pretty_print() == "SyncBatchNormalization(axis=-1, momentum=0.99, epsilon=0.001)");
  // The config: BatchNormalization's keys and values.
  Config c = sbn.get_config();
  Config bn_config = BatchNormalization().get_config();
  CHECK(c.at("name") == "sync_batch_normalization");
  c.erase("name");
  bn_config.erase("name");
  CHECK(c == bn_config);
  // get_config round trip through the registry (in another graph: a name is unique per graph).
  SyncBatchNormalization custom(SyncBatchNormalizationOptions()
                                    .axis({1, 2})
                                    .momentum(0.5f)
                                    .epsilon(0.01f)
                                    .center(false)
                                    .gamma_initializer(initializers::constant(2.f))
                                    .name("sbn_custom"));
  Graph other;
  auto scope = other.as_default();
  auto made = create_layer("SyncBatchNormalization", custom.get_config());
  REQUIRE(dynamic_cast<SyncBatchNormalization*>(made.get()) != nullptr);
  CHECK(made->class_name() == "SyncBatchNormalization");
  CHECK(made->get_config() == custom.get_config());
  CHECK(made->get_config().at("momentum") == "0.5");
}

TEST_CASE("SyncBatchNormalization: training in one process equals BatchNormalization") {
  REQUIRE(distributed::size() == 1);
  unsigned seed = 11;
  for (const SbnCase& c : sbn_cases()) {
    CAPTURE(c.what);
    reset_default_graph();
    BatchNormalizationOptions o = c.options;
    SyncBatchNormalization sbn(o);
    BatchNormalization bn(o);
    // An offset input: the moments formula must hold away from mean 0.
    Tensor x0 = random_tensor(c.input, seed++, 0.5f, 2.5f);
    sbn(Variable(x0));
    bn(Variable(x0));
    const auto w = sbn_weights(c.param, o.scale(), o.center(), seed++);
    sbn.set_weights(w);
    bn.set_weights(w);
    for (int step = 0; step < 3; ++step) {
      CAPTURE(step);
      Tensor x = random_tensor(c.input, seed++, -1.f, 3.f);
      TF_CHECK_CLOSE(sbn(Variable(x), true).value(), bn(Variable(x), true).value(), 1e-5f, 1e-5f);
      TF_CHECK_CLOSE(sbn.moving_mean().value(), bn.moving_mean().value(), 1e-5f, 1e-5f);
      TF_CHECK_CLOSE(sbn.moving_variance().value(), bn.moving_variance().value(), 1e-5f, 1e-5f);
    }
    // The moving statistics moved (the comparison above is not of two unchanged values).
    CHECK_FALSE(test::allclose(sbn.moving_mean().value(), w[w.size() - 2]));
  }
  // An empty batch (a rank may have none): an empty output, the moving statistics unchanged.
  reset_default_graph();
  SyncBatchNormalization sbn;
  sbn(Variable(random_tensor({2, 3})));
  const Tensor mm = sbn.moving_mean().value(), mv = sbn.moving_variance().value();
  CHECK(sbn(Variable(Tensor::from_shape({0, 3})), true).shape() == Shape{0, 3});
  CHECK_BIT_IDENTICAL(sbn.moving_mean().value(), mm);
  CHECK_BIT_IDENTICAL(sbn.moving_variance().value(), mv);
}

TEST_CASE("SyncBatchNormalization: gradients of the input, gamma and beta equal BatchNorm's") {
  unsigned seed = 31;
  for (const SbnCase& c : sbn_cases()) {
    CAPTURE(c.what);
    reset_default_graph();
    SyncBatchNormalization sbn(c.options);
    BatchNormalization bn(c.options);
    Tensor xt = random_tensor(c.input, seed++, -1.f, 2.f);
    sbn(Variable(xt));
    bn(Variable(xt));
    const auto w = sbn_weights(c.param, c.options.scale(), c.options.center(), seed++);
    sbn.set_weights(w);
    bn.set_weights(w);
    const Tensor gy = random_tensor(c.input, seed++);
    auto grads = [&](Layer& layer) {
      Variable x(xt, true);
      GradientTape tape;
      Variable y = layer(x, true);
      std::vector<Variable> wrt{x};
      for (const Variable& v : layer.trainable_variables()) wrt.push_back(v);
      std::vector<Tensor> out;
      for (const Variable& g : tape.gradient(y, wrt, Variable(gy))) out.push_back(g.value());
      return out;
    };
    const auto gs = grads(sbn), gb = grads(bn);
    REQUIRE(gs.size() == gb.size());
    for (std::size_t i = 0; i < gs.size(); ++i) {
      CAPTURE(i);
      TF_CHECK_CLOSE(gs[i], gb[i], 1e-4f, 1e-4f);
    }
  }
}

TEST_CASE("SyncBatchNormalization: gradcheck in the input, gamma and beta (training)") {
  for (int axis : {-1, 1}) {
    CAPTURE(axis);
    reset_default_graph();
    SyncBatchNormalization sbn(SyncBatchNormalizationOptions().axis(axis));
    Tensor x = random_tensor({3, 2, 3}, 41);
    sbn(Variable(x));
    const std::size_t c = axis == 1 ? 2 : 3;
    sbn.set_weights(sbn_weights({c}, true, true, 42));
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return sbn(in[0], true); }, {x});
    TF_GRADCHECK_VARIABLES([&] { return sbn(Variable(x), true); }, sbn.trainable_variables());
    // A nonlinear function of the output: the normalized output's plain sum has no gradient in
    // x (each feature's outputs sum to a constant), which would hide a wrong one.
    TF_GRADCHECK(
        [&](const std::vector<Variable>& in) {
          Variable y = sbn(in[0], true);
          return sum(mul(y, mul(y, Variable(random_tensor({3, 2, 3}, 43)))));
        },
        {x});
  }
}

TEST_CASE("SyncBatchNormalization: inference is BatchNormalization's, with the same weights") {
  reset_default_graph();
  for (int axis : {-1, 1}) {
    CAPTURE(axis);
    SyncBatchNormalization sbn(SyncBatchNormalizationOptions().axis(axis));
    BatchNormalization bn(BatchNormalizationOptions().axis(axis));
    Tensor x = random_tensor({2, 3, 4, 2}, 51, -2.f, 2.f);
    sbn(Variable(x));
    bn(Variable(x));
    const std::size_t c = axis == 1 ? 3 : 2;
    const auto w = sbn_weights({c}, true, true, 52);
    sbn.set_weights(w);
    bn.set_weights(w);
    CHECK_BIT_IDENTICAL(sbn(Variable(x)).value(), bn(Variable(x)).value());
    CHECK_BIT_IDENTICAL(sbn(Variable(x), false).value(), bn(Variable(x), false).value());
    CHECK_BIT_IDENTICAL(sbn.moving_mean().value(), w[2]);  // no update in inference
    // A non-trainable layer runs in inference mode, training or not (as BatchNormalization).
    sbn.set_trainable(false);
    CHECK_BIT_IDENTICAL(sbn(Variable(x), true).value(), bn(Variable(x), false).value());
    CHECK_BIT_IDENTICAL(sbn.moving_mean().value(), w[2]);
  }
}

TEST_CASE("SyncBatchNormalization: saving and loading keeps the class, config and weights") {
  for (const std::string ext : {".bin", ".txt"}) {
    CAPTURE(ext);
    Graph g;
    auto scope = g.as_default();
    Sequential model;
    model.add<SyncBatchNormalization>(SyncBatchNormalizationOptions().axis(1).momentum(0.9f));
    Tensor x = random_tensor({4, 3, 2}, 61, 0.f, 2.f);
    model(Variable(x), true);  // builds and moves the moving statistics
    const Tensor expected = model(Variable(x)).value();
    const std::string path = test::temp_path("sbn_model" + ext);
    serialization::save(model, path);
    Graph g2;
    auto scope2 = g2.as_default();
    auto loaded = std::dynamic_pointer_cast<Sequential>(serialization::load(path));
    REQUIRE(loaded);
    auto* sbn = dynamic_cast<SyncBatchNormalization*>(loaded->layers().at(0).get());
    REQUIRE(sbn != nullptr);
    CHECK(sbn->get_config() == model.layers().at(0)->get_config());
    CHECK_BIT_IDENTICAL((*loaded)(Variable(x)).value(), expected);
    const auto weights = model.get_weights(), back = loaded->get_weights();
    REQUIRE(back.size() == weights.size());
    for (std::size_t i = 0; i < weights.size(); ++i) CHECK_BIT_IDENTICAL(back[i], weights[i]);
  }
}

TEST_CASE("SyncBatchNormalization: Keras JSON, Keras 2's class name and Keras 3's flag") {
  using Json = nlohmann::json;
  reset_default_graph();
  auto input = Input({3, 4});
  SyncBatchNormalization sbn(SyncBatchNormalizationOptions().momentum(0.9f).name("sbn"));
  Model model(input, sbn(input), "sbn_model");
  const Tensor x = random_tensor({2, 3, 4}, 71);
  model(Variable(x), true);
  const Tensor expected = model(Variable(x)).value();
  const Json json = Json::parse(serialization::to_json(model));
  const Json& entry = json["config"]["layers"][1];
  CHECK(entry["class_name"] == "SyncBatchNormalization");
  CHECK(entry["config"]["momentum"] == Json(0.9));
  CHECK_FALSE(entry["config"].contains("synchronized"));

  // Reads back: Keras 2's spelling (as written), Keras 3's (BatchNormalization with
  // synchronized: true) and SyncBatchNormalization with the flag true.
  auto read = [&](const Json& j) {
    Graph other;  // the file's names, as they are
    auto scope = other.as_default();
    auto back = std::dynamic_pointer_cast<Model>(serialization::model_from_json(j.dump()));
    REQUIRE(back);
    return back;
  };
  Json keras3 = json;
  keras3["config"]["layers"][1]["class_name"] = "BatchNormalization";
  keras3["config"]["layers"][1]["config"]["synchronized"] = true;
  Json flagged = json;
  flagged["config"]["layers"][1]["config"]["synchronized"] = true;
  for (const Json* j : std::vector<const Json*>{&json, &keras3, &flagged}) {
    auto back = read(*j);
    auto layer = back->get_layer("sbn");
    REQUIRE(dynamic_cast<SyncBatchNormalization*>(layer.get()) != nullptr);
    CHECK(layer->class_name() == "SyncBatchNormalization");
    CHECK(layer->get_config() == sbn.get_config());
    back->set_weights(model.get_weights());
    CHECK_BIT_IDENTICAL((*back)(Variable(x)).value(), expected);
  }
  // BatchNormalization with synchronized false (or without it) stays BatchNormalization.
  Json plain = keras3;
  plain["config"]["layers"][1]["config"]["synchronized"] = false;
  CHECK(read(plain)->get_layer("sbn")->class_name() == "BatchNormalization");
  plain["config"]["layers"][1]["config"].erase("synchronized");
  CHECK(read(plain)->get_layer("sbn")->class_name() == "BatchNormalization");
  // SyncBatchNormalization with synchronized false says two things.
  Json contradiction = json;
  contradiction["config"]["layers"][1]["config"]["synchronized"] = false;
  TF_CHECK_ERROR(serialization::model_from_json(contradiction.dump()), "SyncBatchNormalization",
                 "'sbn'", "synchronized");
  // What Keras 3 writes for Sequential([Input((3,)), BatchNormalization(synchronized=True)]).
  const std::string keras3_text = R"({"module": "keras", "class_name": "Sequential",
    "config": {"name": "sequential", "trainable": true, "dtype": {"module": "keras",
    "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
    "layers": [{"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape":
    [null, 3], "dtype": "float32", "sparse": false, "name": "input_layer"},
    "registered_name": null}, {"module": "keras.layers", "class_name": "BatchNormalization",
    "config": {"name": "batch_normalization", "trainable": true, "dtype": {"module": "keras",
    "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
    "axis": -1, "momentum": 0.99, "epsilon": 0.001, "center": true, "scale": true,
    "beta_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {},
    "registered_name": null}, "gamma_initializer": {"module": "keras.initializers",
    "class_name": "Ones", "config": {}, "registered_name": null}, "moving_mean_initializer":
    {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name":
    null}, "moving_variance_initializer": {"module": "keras.initializers", "class_name": "Ones",
    "config": {}, "registered_name": null}, "beta_regularizer": null, "gamma_regularizer": null,
    "beta_constraint": null, "gamma_constraint": null, "synchronized": true},
    "registered_name": null, "build_config": {"input_shape": [null, 3]}}],
    "build_input_shape": [null, 3]}, "keras_version": "3.3.3", "backend": "tensorflow"})";
  auto seq = std::dynamic_pointer_cast<Sequential>(serialization::model_from_json(keras3_text));
  REQUIRE(seq);
  REQUIRE(seq->layers().size() == 1);
  CHECK(seq->layers()[0]->class_name() == "SyncBatchNormalization");
  CHECK(seq->layers()[0]->name() == "batch_normalization");
  CHECK(seq->count_params() == 12);
}

TEST_CASE("SyncBatchNormalization: bad arguments name the layer") {
  reset_default_graph();
  TF_CHECK_ERROR(SyncBatchNormalization(SyncBatchNormalizationOptions().momentum(2.f)),
                 "sync_batch_normalization", "momentum", "2");
  CHECK_THROWS_AS(SyncBatchNormalization(SyncBatchNormalizationOptions().momentum(2.f)),
                  ValueError);
  TF_CHECK_ERROR(
      SyncBatchNormalization(SyncBatchNormalizationOptions().momentum(-0.5f).name("sbn_bad")),
      "sbn_bad", "momentum", "-0.5");
  TF_CHECK_ERROR(SyncBatchNormalization(SyncBatchNormalizationOptions().epsilon(-1.f)),
                 "sync_batch_normalization", "epsilon");
  SyncBatchNormalization a(SyncBatchNormalizationOptions().axis(3).name("sbn_a"));
  TF_CHECK_ERROR(a(Variable(random_tensor({2, 3})), true), "sbn_a", "axis 3", "out of range");
  SyncBatchNormalization b(SyncBatchNormalizationOptions().name("sbn_b"));
  b(Variable(random_tensor({2, 3})), true);
  TF_CHECK_ERROR(b(Variable(random_tensor({2, 4})), true), "sbn_b", "axis 1", "size 3");
}
