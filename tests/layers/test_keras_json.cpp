// Keras topology JSON (layers/keras_json.hpp): config values as Keras writes them, every zoo
// layer through to_json / model_from_json with the same config and predictions, the forms
// Keras 2, Keras 3 and TF.js write, and the errors for what tapeflow cannot build.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "framework/io/io_test_util.hpp"
#include "layers/merge_layer_configs.hpp"
#include "tapeflow/framework/nn/initializers.hpp"
#include "tapeflow/layers/dense.hpp"
#include "tapeflow/layers/detail/keras_values.hpp"
#include "tapeflow/layers/input_layer.hpp"
#include "tapeflow/layers/keras_json.hpp"
#include "tapeflow/layers/merge.hpp"
#include "tapeflow/layers/model.hpp"
#include "tapeflow/layers/registry.hpp"
#include "tapeflow/layers/sequential.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using tapeflow::test::contains;
using tapeflow::test::error_of;
using test::bit_identical;
using test::random_tensor;
using test::V;
using Json = nlohmann::json;
namespace S = tapeflow::serialization;
namespace LD = tapeflow::layers::detail;

TEST_CASE("keras_json: config text becomes the JSON value Keras writes, and back") {
  CHECK(LD::config_text_to_json("kernel_size", "(3, 3, 3)") == Json({3, 3, 3}));
  CHECK(LD::config_text_to_json("padding", "((1, 1), (2, 0))") == Json({{1, 1}, {2, 0}}));
  CHECK(LD::config_text_to_json("noise_shape", "(None, 1, 4)") == Json({nullptr, 1, 4}));
  CHECK(LD::config_text_to_json("seed", "None").is_null());
  CHECK(LD::config_text_to_json("use_bias", "false") == Json(false));
  CHECK(LD::config_text_to_json("epsilon", "0.001") == Json(0.001));
  CHECK(LD::config_text_to_json("axis", "-1") == Json(-1));
  CHECK(LD::config_text_to_json("padding", "same") == Json("same"));
  CHECK(LD::config_text_to_json("name", "123") == Json("123"));  // a name stays a string
  CHECK(LD::config_text_to_json("kernel_initializer", "he_normal(seed=None)") ==
        Json({{"class_name", "HeNormal"}, {"config", {{"seed", nullptr}}}}));
  CHECK(LD::config_text_to_json("kernel_regularizer", "None").is_null());
  // TF.js has only L1L2, and no LecunNormal: both are written as what both read.
  CHECK(LD::config_text_to_json("kernel_regularizer", "l2(l2=0.01)") ==
        Json({{"class_name", "L1L2"}, {"config", {{"l1", 0.0}, {"l2", 0.01}}}}));
  const Json lecun = LD::config_text_to_json("kernel_initializer", "lecun_normal(seed=7)");
  CHECK(lecun["class_name"] == "VarianceScaling");
  CHECK(
      lecun["config"] ==
      Json(
          {{"scale", 1.0}, {"mode", "fan_in"}, {"distribution", "truncated_normal"}, {"seed", 7}}));
  CHECK(LD::config_text_to_json("kernel_constraint", "max_norm(axis=0, max_value=2)") ==
        Json({{"class_name", "MaxNorm"}, {"config", {{"axis", 0}, {"max_value", 2}}}}));

  CHECK(LD::json_to_config_text("w", "kernel_size", Json({3, 3})) == "(3, 3)");
  CHECK(LD::json_to_config_text("w", "kernel_size", Json({3})) == "(3,)");
  CHECK(LD::json_to_config_text("w", "cropping", Json({{1, 0}, {0, 1}})) == "((1, 0), (0, 1))");
  CHECK(LD::json_to_config_text("w", "rate", Json(0.25)) == "0.25");
  CHECK(LD::json_to_config_text("w", "seed", Json(nullptr)) == "None");
  // What TF.js writes for its default kernel initializer rebuilds as that initializer.
  const Json tfjs_init = {
      {"class_name", "VarianceScaling"},
      {"config",
       {{"scale", 1}, {"mode", "fan_avg"}, {"distribution", "normal"}, {"seed", nullptr}}}};
  Initializer init;
  config_read("w", "kernel_initializer",
              LD::json_to_config_text("w", "kernel_initializer", tfjs_init), init);
  CHECK(init.name() == "variance_scaling");
  CHECK(init.get_config().at("mode") == "fan_avg");
  CHECK(init.get_config().at("distribution") == "truncated_normal");  // Keras' alias of normal
  // Keras 3 objects carry module and registered_name; TF.js says LeCunNormal.
  const Json keras3 = {{"module", "keras.initializers"},
                       {"class_name", "LeCunNormal"},
                       {"config", {{"seed", 3}}},
                       {"registered_name", nullptr}};
  config_read("w", "kernel_initializer", LD::json_to_config_text("w", "kernel_initializer", keras3),
              init);
  CHECK(init.name() == "lecun_normal");
  CHECK(contains(error_of<FileError>([] {
                   LD::json_to_config_text("Dense 'd'", "kernel_initializer", Json({{"a", 1}}));
                 }),
                 "Dense 'd': config field 'kernel_initializer' is an object without a class_name"));
}

namespace {

struct ZooCase {
  const char* class_name;
  Config config;
  std::vector<long> input;  // one sample's shape
};

// Every zoo layer that takes one input, with options away from their defaults.
const std::vector<ZooCase>& zoo_cases() {
  static const std::vector<ZooCase> cases = {
      {"Activation", {{"activation", "tanh"}}, {5}},
      {"AveragePooling1D", {{"pool_size", "(2,)"}, {"padding", "same"}}, {5, 2}},
      {"AveragePooling2D", {{"pool_size", "(2, 2)"}, {"strides", "(1, 2)"}}, {4, 4, 2}},
      {"AveragePooling3D", {{"pool_size", "(2, 2, 2)"}}, {4, 4, 4, 1}},
      {"BatchNormalization",
       {{"momentum", "0.9"}, {"epsilon", "0.01"}, {"center", "false"}},
       {3, 4}},
      {"Conv1D", {{"filters", "3"}, {"kernel_size", "(2,)"}, {"dilation_rate", "(2,)"}}, {7, 2}},
      {"Conv1D", {{"filters", "4"}, {"kernel_size", "(2,)"}, {"groups", "2"}}, {6, 2}},
      {"Conv1DTranspose", {{"filters", "2"}, {"kernel_size", "(3,)"}, {"strides", "(2,)"}}, {4, 3}},
      {"Conv2D",
       {{"filters", "3"},
        {"kernel_size", "(3, 2)"},
        {"padding", "same"},
        {"kernel_initializer", "he_uniform(seed=5)"},
        {"kernel_regularizer", "l1_l2(l1=0.001, l2=0.01)"},
        {"bias_constraint", "non_neg()"},
        {"activation", "relu"}},
       {5, 5, 2}},
      {"Conv2DTranspose",
       {{"filters", "2"},
        {"kernel_size", "(3, 3)"},
        {"strides", "(2, 2)"},
        {"output_padding", "(1, 0)"}},
       {3, 3, 2}},
      {"Conv3D",
       {{"filters", "2"}, {"kernel_size", "(2, 2, 2)"}, {"use_bias", "false"}},
       {3, 3, 3, 1}},
      {"Conv3DTranspose",
       {{"filters", "2"},
        {"kernel_size", "(2, 2, 2)"},
        {"strides", "(2, 2, 2)"},
        {"kernel_constraint", "max_norm(axis=(0, 1, 2, 3), max_value=1.5)"}},
       {2, 2, 2, 3}},
      {"Cropping1D", {{"cropping", "(1, 2)"}}, {6, 2}},
      {"DepthwiseConv1D",
       {{"kernel_size", "(3,)"}, {"depth_multiplier", "2"}, {"padding", "same"}},
       {5, 2}},
      {"DepthwiseConv2D",
       {{"kernel_size", "(2, 2)"},
        {"strides", "(2, 1)"},
        {"depthwise_regularizer", "l1_l2(l1=0.001, l2=0.01)"},
        {"bias_initializer", "constant(value=0.5)"}},
       {5, 4, 3}},
      {"SeparableConv1D",
       {{"filters", "3"}, {"kernel_size", "(2,)"}, {"dilation_rate", "(2,)"}},
       {6, 2}},
      {"SeparableConv2D",
       {{"filters", "4"},
        {"kernel_size", "(3, 3)"},
        {"padding", "same"},
        {"depth_multiplier", "2"},
        {"pointwise_constraint", "non_neg()"},
        {"activation", "relu"}},
       {4, 4, 2}},
      {"Cropping2D", {{"cropping", "((1, 0), (0, 2))"}}, {5, 5, 1}},
      {"Cropping3D", {{"cropping", "((1, 0), (0, 1), (1, 1))"}}, {4, 4, 4, 1}},
      {"Dense",
       {{"units", "3"}, {"activation", "softmax"}, {"bias_initializer", "constant(value=0.5)"}},
       {4}},
      {"Dropout", {{"rate", "0.3"}, {"seed", "4"}, {"noise_shape", "(None, 1)"}}, {3, 2}},
      {"Embedding",
       {{"input_dim", "6"},
        {"output_dim", "3"},
        {"embeddings_initializer", "random_normal(mean=0, seed=2, stddev=0.1)"},
        {"mask_zero", "true"}},
       {4}},
      {"Masking", {{"mask_value", "0.5"}}, {3, 2}},

      {"Flatten", {}, {2, 3}},
      {"GlobalAveragePooling1D", {{"keepdims", "true"}}, {4, 2}},
      {"GlobalAveragePooling2D", {}, {3, 3, 2}},
      {"GlobalAveragePooling3D", {}, {2, 2, 2, 2}},
      {"GlobalMaxPooling1D", {}, {4, 2}},
      {"GlobalMaxPooling2D", {{"keepdims", "true"}}, {3, 3, 2}},
      {"GlobalMaxPooling3D", {}, {2, 2, 2, 2}},
      {"LayerNormalization", {{"axis", "(-2, -1)"}, {"epsilon", "0.0001"}}, {3, 4}},
      {"LeakyReLU", {{"alpha", "0.1"}}, {5}},
      {"ReLU", {{"max_value", "6"}, {"negative_slope", "0.1"}, {"threshold", "0.5"}}, {5}},
      {"Softmax", {{"axis", "1"}}, {3, 4}},
      {"MultiHeadAttention",
       {{"num_heads", "2"},
        {"key_dim", "3"},
        {"value_dim", "2"},
        {"output_shape", "(5,)"},
        {"dropout", "0.1"},
        {"kernel_initializer", "glorot_uniform(seed=3)"}},
       {3, 4}},
      {"ELU", {{"alpha", "0.5"}}, {5}},
      {"RepeatVector", {{"n", "3"}}, {4}},
      {"MaxPooling1D", {{"pool_size", "(3,)"}, {"strides", "(1,)"}}, {5, 2}},
      {"MaxPooling2D", {{"pool_size", "(2, 2)"}, {"padding", "same"}}, {5, 5, 1}},
      {"MaxPooling3D", {{"pool_size", "(2, 2, 2)"}}, {4, 4, 4, 1}},
      {"PReLU", {{"alpha_initializer", "constant(value=0.25)"}, {"shared_axes", "(1,)"}}, {3, 2}},
      {"Permute", {{"dims", "(2, 1)"}}, {3, 2}},
      {"Reshape", {{"target_shape", "(3, 2)"}}, {6}},
      {"GaussianNoise", {{"stddev", "0.2"}, {"seed", "3"}}, {5}},
      {"GaussianDropout", {{"rate", "0.3"}}, {5}},
      {"AlphaDropout", {{"rate", "0.3"}, {"noise_shape", "(None, 1)"}}, {3, 2}},
      {"ActivityRegularization", {{"l1", "0.01"}, {"l2", "0.5"}}, {4}},
      {"GroupNormalization", {{"groups", "2"}, {"epsilon", "0.0001"}}, {3, 4}},
      {"SpatialDropout1D", {{"rate", "0.2"}, {"seed", "3"}}, {4, 3}},
      {"SpatialDropout2D", {{"rate", "0.2"}, {"data_format", "channels_first"}}, {3, 2, 2}},
      {"SimpleRNN", {{"units", "3"}, {"return_sequences", "true"}}, {4, 2}},
      {"LSTM", {{"units", "2"}, {"go_backwards", "true"}, {"unit_forget_bias", "false"}}, {3, 2}},
      {"GRU", {{"units", "2"}, {"reset_after", "false"}}, {3, 2}},
      {"Bidirectional",
       {{"layer", "LSTM(units=2, return_sequences=true)"}, {"merge_mode", "sum"}},
       {3, 2}},
      {"SpatialDropout3D", {{"rate", "0.2"}}, {2, 2, 2, 3}},
      {"SyncBatchNormalization", {{"axis", "1"}, {"momentum", "0.9"}, {"scale", "false"}}, {3, 4}},
      {"UpSampling1D", {{"size", "3"}}, {2, 2}},
      {"UpSampling2D", {{"size", "(2, 1)"}, {"interpolation", "nearest"}}, {2, 2, 1}},
      {"UpSampling3D", {{"size", "(1, 2, 2)"}}, {2, 2, 2, 1}},
      {"ZeroPadding1D", {{"padding", "(0, 2)"}}, {3, 2}},
      {"ZeroPadding2D", {{"padding", "((1, 0), (2, 1))"}}, {3, 3, 1}},
      {"ZeroPadding3D", {{"padding", "((1, 1), (0, 1), (1, 0))"}}, {2, 2, 2, 1}},
  };
  return cases;
}

Config without_name(Config c) {
  c.erase("name");
  return c;
}

}  // namespace

TEST_CASE("keras_json: every zoo layer comes back with its config and predictions") {
  // Covered by the functional and merge tests below; MemberBlock and ResBlock are custom layers
  // other test files of this program register; Lambda needs a registered function
  // (test_lambda.cpp); TimeDistributed's layer takes a fresh name in the same graph (its JSON
  // round trip: test_time_distributed.cpp).
  std::set<std::string> covered{"Add",        "Concatenate", "Subtract",       "Multiply",
                                "Average",    "Maximum",     "Minimum",        "Dot",
                                "Functional", "InputLayer",  "Sequential",     "MemberBlock",
                                "ResBlock",   "Lambda",      "TimeDistributed"};
  unsigned seed = 1;
  for (const ZooCase& c : zoo_cases()) {
    CAPTURE(c.class_name);
    covered.insert(c.class_name);
    auto layer = layers::create_layer(c.class_name, c.config);
    auto input = Input(c.input);
    Model model(input, (*layer)(input), "zoo_model");
    const std::string json = S::to_json(model);
    auto back = std::dynamic_pointer_cast<Model>(S::model_from_json(json));
    REQUIRE(back);
    REQUIRE(back->layers().size() == 2);
    CHECK(back->layers()[1]->class_name() == c.class_name);
    CHECK(without_name(back->layers()[1]->get_config()) == without_name(layer->get_config()));
    back->set_weights(model.get_weights());
    Shape shape{2};
    for (long d : c.input) shape.push_back(static_cast<std::size_t>(d));
    Tensor x = random_tensor(shape, seed++);
    if (std::string(c.class_name) == "Embedding") x = xt::floor(xt::abs(x) * 5.f);
    CHECK(bit_identical(model(V(x)).value(), (*back)(V(x)).value()));
  }
  // The table covers the whole registry (a new layer must be added here).
  for (const std::string& name : layers::registered_layers()) {
    CAPTURE(name);
    CHECK(covered.count(name) == 1);
  }
}

TEST_CASE("keras_json: functional graphs, nested models and Sequential round trip") {
  namespace L = tapeflow::layers;
  auto a = Input({6}, "a");
  auto b = Input({4}, "b");
  L::Dense shared(L::DenseOptions(4).activation("relu"));
  auto inner = std::make_shared<L::Sequential>(L::SequentialOptions().name("inner"));
  inner->add<L::Dense>(L::DenseOptions(4).activation("tanh"));
  inner->add<L::Dense>(L::DenseOptions(4));
  inner->build({1, 4});
  auto ha = L::Dense(L::DenseOptions(4))(a);
  auto hb = (*inner)(b);
  auto s1 = shared(ha);
  auto s2 = shared(hb);  // the same layer twice: two nodes, one set of weights
  auto sum = L::Add()({s1, s2});
  auto cat = L::Concatenate()({s1, sum});
  Model model(L::SymbolicTensors{a, b}, L::SymbolicTensors{cat, sum}, "graph");
  auto back = std::dynamic_pointer_cast<Model>(S::model_from_json(S::to_json(model)));
  REQUIRE(back);
  CHECK(back->layers().size() == model.layers().size());
  for (std::size_t i = 0; i < model.layers().size(); ++i) {
    CHECK(back->layers()[i]->class_name() == model.layers()[i]->class_name());
    CHECK(back->layers()[i]->count_params() == model.layers()[i]->count_params());
  }
  back->set_weights(model.get_weights());
  const Tensor xa = random_tensor({3, 6}, 1), xb = random_tensor({3, 4}, 2);
  auto y0 = model({V(xa), V(xb)});
  auto y1 = (*back)({V(xa), V(xb)});
  CHECK(bit_identical(y0[0].value(), y1[0].value()));
  CHECK(bit_identical(y0[1].value(), y1[1].value()));

  // A built Sequential is written with its InputLayer and comes back built.
  const Json seq = Json::parse(S::to_json(*inner));
  CHECK(seq["class_name"] == "Sequential");
  CHECK(seq["config"]["layers"][0]["class_name"] == "InputLayer");
  CHECK(seq["config"]["layers"][0]["config"]["batch_input_shape"] == Json({nullptr, 4}));
  auto seq_back = S::model_from_json(seq.dump());
  CHECK(seq_back->count_params() == inner->count_params());
}

TEST_CASE("keras_json: every merge layer round trips in a two-input model") {
  namespace L = tapeflow::layers;
  for (const auto& merge_config : test::merge_layer_configs()) {
    const std::string& cls = merge_config.first;  // not bound: see test_util.hpp
    const auto& config = merge_config.second;
    CAPTURE(cls);
    auto a = Input({4}, "a");
    auto b = Input({4}, "b");
    auto merge = L::create_layer(cls, config);
    Model model(L::SymbolicTensors{a, b}, (*merge)(std::vector<L::SymbolicTensor>{a, b}), "merged");
    auto back = std::dynamic_pointer_cast<Model>(S::model_from_json(S::to_json(model)));
    REQUIRE(back);
    CHECK(back->layers().back()->class_name() == cls);
    const Tensor xa = random_tensor({3, 4}, 1), xb = random_tensor({3, 4}, 2);
    CHECK(bit_identical(model({V(xa), V(xb)})[0].value(), (*back)({V(xa), V(xb)})[0].value()));
  }
}

TEST_CASE("keras_json: reads what Keras 2 and Keras 3 write") {
  // Keras 2.15's model.to_json() of Sequential([Input((3,)), Dense(2, activation="relu")]):
  // every layer has dtype, Dense has no groups, the InputLayer has ragged and sparse.
  const std::string keras2 = R"({"class_name": "Sequential", "config": {"name": "sequential",
    "layers": [{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3],
    "dtype": "float32", "sparse": false, "ragged": false, "name": "input_1"}},
    {"class_name": "Dense", "config": {"name": "dense", "trainable": true, "dtype": "float32",
    "units": 2, "activation": "relu", "use_bias": true, "kernel_initializer": {"module":
    "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": null},
    "registered_name": null}, "bias_initializer": {"module": "keras.initializers", "class_name":
    "Zeros", "config": {}, "registered_name": null}, "kernel_regularizer": null,
    "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null,
    "bias_constraint": null}}]}, "keras_version": "2.15.0", "backend": "tensorflow"})";
  auto seq = S::model_from_json(keras2);
  CHECK(seq->class_name() == "Sequential");
  CHECK(seq->count_params() == 8);
  // Keras 2 functional, with Conv2D's groups and a converter's model_config wrapper.
  const std::string functional = R"({"model_config": {"class_name": "Functional", "config": {
    "name": "model", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 1],
       "dtype": "float32", "sparse": false, "ragged": false, "name": "image"}, "name": "image",
       "inbound_nodes": []},
      {"class_name": "Conv2D", "config": {"name": "conv", "trainable": true, "dtype": "float32",
       "filters": 2, "kernel_size": [3, 3], "strides": [1, 1], "padding": "same",
       "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1,
       "activation": "linear", "use_bias": true}, "name": "conv",
       "inbound_nodes": [[["image", 0, 0, {}]]]},
      {"class_name": "LeakyReLU", "config": {"name": "act", "negative_slope": 0.2},
       "name": "act", "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config":
       {"shape": [null, 4, 4, 2], "dtype": "float32", "keras_history": ["conv", 0, 0]}}],
       "kwargs": {}}]}],
    "input_layers": [["image", 0, 0]], "output_layers": [["act", 0, 0]]}},
    "training_config": {}})";
  auto model = std::dynamic_pointer_cast<Model>(S::model_from_json(functional));
  REQUIRE(model);
  CHECK(model->get_layer("act")->get_config().at("alpha") == "0.2");
  CHECK(model->get_layer("conv")->count_params() == 20);
}

TEST_CASE("keras_json: what tapeflow cannot build is a FileError naming the layer and field") {
  auto one_layer = [](const std::string& cls, const std::string& config) {
    return R"({"class_name": "Functional", "config": {"name": "m", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 2], "name": "in"},
       "name": "in", "inbound_nodes": []},
      {"class_name": ")" +
           cls + R"(", "config": )" + config + R"(, "name": "l",
       "inbound_nodes": [[["in", 0, 0, {}]]]}],
      "input_layers": [["in", 0, 0]], "output_layers": [["l", 0, 0]]}})";
  };
  auto error = [&](const std::string& cls, const std::string& config) {
    return error_of<FileError>([&] { S::model_from_json(one_layer(cls, config)); });
  };
  CHECK(contains(error("ConvLSTM2D", R"({"name": "l", "units": 2})"),
                 "unknown layer class 'ConvLSTM2D'"));
  CHECK(contains(error("ConvLSTM2D", R"({"name": "l", "units": 2})"), "ConvLSTM2D 'l'"));
  // Conv2D has groups; the transposed convolutions do not (nor does Keras).
  CHECK(contains(error("Conv2DTranspose",
                       R"({"name": "l", "filters": 2, "kernel_size": [1, 1], "groups": 2})"),
                 "Conv2DTranspose 'l': config field 'groups' (2) is not supported by tapeflow's "
                 "Conv2DTranspose"));
  CHECK(contains(error("Dense", R"({"name": "l", "units": 2, "lora_rank": 4})"),
                 "config field 'lora_rank' (4)"));
  CHECK(contains(error("Dense", R"({"name": "l", "units": 2, "dtype": "float16"})"),
                 "Dense 'l': dtype \"float16\" is not supported"));
  CHECK(contains(error("Dense", R"({"name": "l", "units": "two"})"), "Dense 'l'"));
  CHECK(contains(error("Dense", R"({"name": "l", "units": 2, "kernel_initializer": {"x": 1}})"),
                 "'kernel_initializer' is an object without a class_name"));
  // Graph problems.
  const std::string missing = R"({"class_name": "Functional", "config": {"name": "m", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 2]}, "name": "in",
       "inbound_nodes": []},
      {"class_name": "Dense", "config": {"units": 2}, "name": "d",
       "inbound_nodes": [[["nowhere", 0, 0, {}]]]}],
      "input_layers": [["in", 0, 0]], "output_layers": [["d", 0, 0]]}})";
  CHECK(contains(error_of<FileError>([&] { S::model_from_json(missing); }),
                 "a node's input is made by no layer of the model"));
  CHECK(contains(error_of<FileError>([] { S::model_from_json("{\"class_name\": "); }),
                 "model_from_json: not valid JSON"));
  // Nesting deep enough to exhaust a recursive reader's stack is refused while parsing.
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  CHECK(contains(error_of<FileError>([&] { S::model_from_json(deep); }), "nested deeper"));
  // A model that cannot be described is refused when writing.
  namespace L = tapeflow::layers;
  auto in = Input({2});
  L::Dense custom(L::DenseOptions(2).kernel_initializer(
      [](const Shape& s) { return Tensor(xt::ones<float>(s)); }));
  Model m(in, custom(in));
  CHECK(contains(error_of<ValueError>([&] { S::to_json(m); }), "kernel_initializer"));
}
