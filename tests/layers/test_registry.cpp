// The layer registry (layers/registry.hpp): each layer registers itself with one line in its own
// .cpp, collected at configure time; configs read into options (defaults for missing keys,
// errors naming the layer, the key and the value); the saved config format of each kind of
// option; a layer from outside the library; and a program that references no layer class
// loading a model (the library is static: see TAPEFLOW_REGISTER_LAYER).
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "framework/io/io_test_util.hpp"
#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/layers/batch_normalization.hpp"
#include "tapeflow/layers/conv_transpose.hpp"
#include "tapeflow/layers/dense.hpp"
#include "tapeflow/layers/dropout.hpp"
#include "tapeflow/layers/global_pooling.hpp"
#include "tapeflow/layers/leaky_relu.hpp"
#include "tapeflow/layers/merge.hpp"
#include "tapeflow/layers/padding.hpp"
#include "tapeflow/layers/pooling.hpp"
#include "tapeflow/layers/prelu.hpp"
#include "tapeflow/layers/registry.hpp"
#include "tapeflow/layers/saving.hpp"
#include "tapeflow/layers/sequential.hpp"
#include "tapeflow/layers/upsampling.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
namespace L = tapeflow::layers;
namespace S = tapeflow::serialization;
using namespace tapeflow;
using test::read_bytes;
using test::temp_path;

namespace {

// The classes of the TAPEFLOW_REGISTER_LAYER lines of layers/*.cpp, read as CMake reads them.
std::set<std::string> registration_lines() {
  const fs::path dir = fs::path(TAPEFLOW_TEST_DATA_DIR) / ".." / ".." / "layers";
  std::set<std::string> classes;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".cpp") continue;
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);)
      for (const std::string macro : {"TAPEFLOW_REGISTER_LAYER(", "TAPEFLOW_REGISTER_LAYER_AS("})
        if (line.rfind(macro, 0) == 0)
          classes.insert(line.substr(macro.size(), line.find_first_of(",)") - macro.size()));
  }
  return classes;
}

// A layer from outside the library: y = x * factor.
#define TIMES_FIELDS(F) F(float, factor, 2.f)
struct TimesOptions : L::LayerOptionsBase<TimesOptions> {
  TAPEFLOW_DERIVED_FIELDS(TimesOptions, LayerOptionsBase, TIMES_FIELDS)
  static constexpr L::PrintedFields printed{"factor"};
};
class Times : public L::LayerWith<TimesOptions> {
 public:
  explicit Times(const TimesOptions& o = {}) : LayerWith("times", o) {}
  std::string class_name() const override { return "Times"; }

 protected:
  Variable call(const Variable& x, bool) override { return mul(x, scalar(options().factor())); }
};

// inspect_model (tests/tools/inspect_model.cpp) names no layer class but Sequential. The tests'
// CMakeLists builds it next to the test programs.
std::string inspect_model_program() {
#ifdef TAPEFLOW_INSPECT_MODEL
  return TAPEFLOW_INSPECT_MODEL;
#else
  return (fs::read_symlink("/proc/self/exe").parent_path() / "inspect_model").string();
#endif
}

}  // namespace

TEST_CASE("registry: every TAPEFLOW_REGISTER_LAYER line of layers/*.cpp is a registered class") {
  const std::set<std::string> lines = registration_lines();
  REQUIRE(lines.size() >= 42);
  const auto known = L::registered_layers();
  for (const auto& c : lines)
    CHECK_MESSAGE(std::find(known.begin(), known.end(), c) != known.end(), c);
  // The classes this test program registers itself (TAPEFLOW_REGISTER_CUSTOM_LAYER in
  // test_composite_layer.cpp, a static registrar that has run before any test; register_layer
  // in the test below) have no line in layers/*.cpp.
  const std::set<std::string> own_classes{"ResBlock", "MemberBlock", "Times"};
  for (const auto& c : known)
    if (!own_classes.count(c)) CHECK_MESSAGE(lines.count(c) == 1, c);
}

TEST_CASE("registry: a config holds every option in the saved format, and rebuilds the layer") {
  // The keys and value texts of the files saved before the options were declared as fields.
  const std::string glorot = "glorot_uniform(seed=None)";
  struct Case {
    std::function<std::shared_ptr<L::Layer>()> make;
    Config config;
  };
  const std::vector<Case> cases = {
      {[] { return std::make_shared<L::Dense>(L::DenseOptions(4).name("fc")); },
       {{"activation", "linear"},
        {"bias_constraint", "None"},
        {"bias_initializer", "zeros()"},
        {"bias_regularizer", "None"},
        {"kernel_constraint", "None"},
        {"kernel_initializer", glorot},
        {"kernel_regularizer", "None"},
        {"name", "fc"},
        {"trainable", "true"},
        {"units", "4"},
        {"use_bias", "true"}}},
      {[] {
         return std::make_shared<L::Conv1DTranspose>(
             L::Conv1DTransposeOptions(2, 3).strides(2).padding("SAME").name("up"));
       },
       {{"activation", "linear"},
        {"bias_constraint", "None"},
        {"bias_initializer", "zeros()"},
        {"bias_regularizer", "None"},
        {"data_format", "channels_last"},
        {"dilation_rate", "(1,)"},
        {"filters", "2"},
        {"kernel_constraint", "None"},
        {"kernel_initializer", glorot},
        {"kernel_regularizer", "None"},
        {"kernel_size", "(3,)"},
        {"name", "up"},
        {"output_padding", "None"},
        {"padding", "same"},
        {"strides", "(2,)"},
        {"trainable", "true"},
        {"use_bias", "true"}}},
      {[] { return std::make_shared<L::MaxPooling2D>(L::MaxPooling2DOptions(3).name("pool")); },
       {{"data_format", "channels_last"},
        {"name", "pool"},
        {"padding", "valid"},
        {"pool_size", "(3, 3)"},
        {"strides", "(3, 3)"},
        {"trainable", "true"}}},
      {[] {
         return std::make_shared<L::BatchNormalization>(
             L::BatchNormalizationOptions().axis({1, 2}).name("bn").trainable(false));
       },
       {{"axis", "(1, 2)"},
        {"beta_constraint", "None"},
        {"beta_initializer", "zeros()"},
        {"beta_regularizer", "None"},
        {"center", "true"},
        {"epsilon", "0.001"},
        {"gamma_constraint", "None"},
        {"gamma_initializer", "ones()"},
        {"gamma_regularizer", "None"},
        {"momentum", "0.99"},
        {"moving_mean_initializer", "zeros()"},
        {"moving_variance_initializer", "ones()"},
        {"name", "bn"},
        {"scale", "true"},
        {"trainable", "false"}}},
      {[] {
         return std::make_shared<L::Dropout>(L::DropoutOptions(0.25f)
                                                 .noise_shape({-1, 1})
                                                 .seed(3)
                                                 .activity_regularizer(regularizers::l1(0.5f))
                                                 .name("drop"));
       },
       {{"activity_regularizer", "l1(l1=0.5)"},
        {"name", "drop"},
        {"noise_shape", "(None, 1)"},
        {"rate", "0.25"},
        {"seed", "3"},
        {"trainable", "true"}}},
      {[] {
         return std::make_shared<L::UpSampling1D>(L::UpSampling1DOptions().size(3).name("u1"));
       },
       {{"name", "u1"}, {"size", "3"}, {"trainable", "true"}}},
      {[] { return std::make_shared<L::UpSampling2D>(L::UpSampling2DOptions().name("u2")); },
       {{"data_format", "channels_last"},
        {"interpolation", "nearest"},
        {"name", "u2"},
        {"size", "(2, 2)"},
        {"trainable", "true"}}},
      {[] {
         return std::make_shared<L::ZeroPadding1D>(L::ZeroPadding1DOptions().padding(2).name("p1"));
       },
       {{"name", "p1"}, {"padding", "(2, 2)"}, {"trainable", "true"}}},
      {[] {
         return std::make_shared<L::Cropping2D>(
             L::Cropping2DOptions().cropping({1, 2}).data_format("Channels_First").name("c2"));
       },
       {{"cropping", "((1, 1), (2, 2))"},
        {"data_format", "channels_first"},
        {"name", "c2"},
        {"trainable", "true"}}},
      {[] { return std::make_shared<L::PReLU>(L::PReLUOptions().shared_axes({1}).name("act")); },
       {{"alpha_constraint", "None"},
        {"alpha_initializer", "zeros()"},
        {"alpha_regularizer", "None"},
        {"name", "act"},
        {"shared_axes", "(1,)"},
        {"trainable", "true"}}},
      {[] { return std::make_shared<L::LeakyReLU>(L::LeakyReLUOptions().name("lr")); },
       {{"alpha", "0.3"}, {"name", "lr"}, {"trainable", "true"}}},
      {[] {
         return std::make_shared<L::GlobalAveragePooling3D>(
             L::GlobalPoolingOptions().keepdims(true).name("gap"));
       },
       {{"data_format", "channels_last"},
        {"keepdims", "true"},
        {"name", "gap"},
        {"trainable", "true"}}},
      {[] { return std::make_shared<L::Concatenate>(L::ConcatenateOptions().axis(1).name("cat")); },
       {{"axis", "1"}, {"name", "cat"}, {"trainable", "true"}}},
      {[] { return std::make_shared<L::Sequential>(L::SequentialOptions().name("seq")); },
       {{"layers", "[]"}, {"name", "seq"}, {"trainable", "true"}}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.config.at("name"));
    Graph g;
    auto scope = g.as_default();
    auto layer = c.make();
    CHECK(layer->get_config() == c.config);
    Graph g2;
    auto scope2 = g2.as_default();
    auto copy = L::create_layer(layer->class_name(), c.config);
    CHECK(copy->class_name() == layer->class_name());
    CHECK(copy->get_config() == c.config);
    CHECK(copy->pretty_print() == layer->pretty_print());
  }
}

TEST_CASE("registry: a missing key is the option's default, a key that is no option is ignored") {
  Graph g;
  auto scope = g.as_default();
  auto bn = L::create_layer("BatchNormalization", {});
  CHECK(bn->name() == "batch_normalization");
  auto* b = dynamic_cast<L::BatchNormalization*>(bn.get());
  REQUIRE(b != nullptr);
  CHECK(b->options().momentum() == 0.99f);
  CHECK(b->options().axis() == std::vector<int>{-1});
  Config defaults = L::BatchNormalization(L::BatchNormalizationOptions().name("ref")).get_config();
  defaults["name"] = "batch_normalization";
  CHECK(bn->get_config() == defaults);
  auto conv = L::create_layer("Conv2D", {{"filters", "2"}, {"kernel_size", "(3, 3)"}});
  CHECK(conv->get_config().at("strides") == "(1, 1)");
  CHECK(conv->get_config().at("activation") == "linear");
  // A file from a newer version.
  auto d = L::create_layer("Dense", {{"units", "2"}, {"future_option", "1"}});
  CHECK(d->get_config().count("future_option") == 0);
  // A Sequential's "layers" (Keras' JSON list) are its layers; a saved file's Sequential has
  // none in its config (they are records of their own).
  auto seq = L::create_layer(
      "Sequential", {{"layers", R"([{"class_name": "Dense", "config": {"units": "2"}}])"}});
  CHECK(dynamic_cast<L::Sequential&>(*seq).layers().size() == 1);
  CHECK(L::create_layer("Sequential", {})->get_config().at("layers") == "[]");
  TF_CHECK_ERROR(L::create_layer("Sequential", {{"layers", "[Dense(units=2)]"}}), "Sequential",
                 "layers", "JSON");
}

TEST_CASE("registry: a malformed value is a ValueError naming the layer, the key and the value") {
  Graph g;
  auto scope = g.as_default();
  struct Bad {
    std::string class_name;
    Config config;  // valid but for `key`
    std::string key, value;
  };
  const std::vector<Bad> cases = {
      {"BatchNormalization", {}, "momentum", "fast"},
      {"BatchNormalization", {}, "axis", "(1, x)"},
      {"Dense", {{"units", "2"}}, "units", "two"},
      {"Dense", {{"units", "2"}}, "kernel_initializer", "nope()"},
      {"Dense", {{"units", "2"}}, "kernel_regularizer", "l2(l2=0.1"},
      {"Dense", {{"units", "2"}}, "bias_constraint", "max_norm(max_value=big)"},
      {"Dense", {{"units", "2"}}, "activation", "nope"},
      {"Dense", {{"units", "2"}}, "use_bias", "yes"},
      {"Conv2D", {{"filters", "2"}, {"kernel_size", "(3, 3)"}}, "kernel_size", "(3, x)"},
      {"Conv2D", {{"filters", "2"}, {"kernel_size", "(3, 3)"}}, "activation", "nope"},
      {"Conv2DTranspose",
       {{"filters", "2"}, {"kernel_size", "(3, 3)"}},
       "output_padding",
       "(1, x)"},
      {"Dropout", {{"rate", "0.5"}}, "noise_shape", "(None, x)"},
      {"Dropout", {{"rate", "0.5"}}, "seed", "-1"},
      {"ZeroPadding2D", {}, "padding", "((1, 1), 2)"},
      {"UpSampling1D", {}, "size", "(2, 2)"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.class_name);
    CAPTURE(c.key);
    Config config = c.config;
    config["name"] = "bad";
    CHECK_NOTHROW(L::create_layer(c.class_name, config));
    config[c.key] = c.value;
    // Named strings: TF_CHECK_ERROR keeps the pointers past this statement's temporaries.
    const std::string where = c.class_name + " 'bad'";
    const std::string key = "config key '" + c.key + "'";
    TF_CHECK_ERROR(L::create_layer(c.class_name, config), where.c_str(), key.c_str(),
                   c.value.c_str());
    CHECK_THROWS_AS(L::create_layer(c.class_name, config), ValueError);
  }
}

TEST_CASE("registry: a layer from outside the library registers, saves and loads") {
  L::register_layer("Times", L::layer_from_config<Times>);
  const auto known = L::registered_layers();
  CHECK(std::find(known.begin(), known.end(), "Times") != known.end());
  Graph g;
  auto scope = g.as_default();
  auto t = L::create_layer("Times", {{"factor", "3"}, {"name", "t"}});
  CHECK(t->pretty_print() == "Times(factor=3)");
  CHECK(t->get_config() == Config{{"factor", "3"}, {"name", "t"}, {"trainable", "true"}});
  const std::string path = temp_path("times.bin");
  S::save(*t, path);
  Graph g2;
  auto scope2 = g2.as_default();
  auto loaded = S::load(path);
  CHECK(loaded->class_name() == "Times");
  CHECK(loaded->get_config() == t->get_config());
  TF_CHECK_CLOSE((*loaded)(Variable(Tensor{1.f, -2.f})).value(), (Tensor{3.f, -6.f}));
  TF_CHECK_ERROR(L::register_layer("", L::layer_from_config<Times>), "register_layer", "empty");
}

TEST_CASE("registry: a program that names no layer class loads a model of any class") {
  // The library is static: a layer's object file that a program never references is left out
  // by the linker, with any static registrar in it. inspect_model references Sequential only;
  // it must still rebuild every class of this model (the generated registration source links
  // them all in through the registry).
  const std::string program = inspect_model_program();
  REQUIRE_MESSAGE(fs::exists(program), "build the inspect_model target first: " << program);
  Graph g;
  auto scope = g.as_default();
  L::Sequential model;
  model.add<L::Cropping3D>();
  model.add<L::UpSampling3D>(L::UpSampling3DOptions().size({1, 2, 1}));
  model.add<L::GlobalAveragePooling3D>();
  model.add<L::LeakyReLU>(L::LeakyReLUOptions().alpha(0.1f));
  model.add<L::PReLU>();
  model.add<L::Dense>(L::DenseOptions(2));
  model.build({1, 4, 4, 4, 3});
  const std::string path = temp_path("unreferenced.bin");
  S::save(model, path);
  const std::string out = temp_path("unreferenced.out");
  const std::string cmd = "'" + program + "' '" + path + "' >'" + out + "' 2>&1";
  const int rc = std::system(cmd.c_str());
  const std::string printed = read_bytes(out);
  CAPTURE(printed);
  REQUIRE(WIFEXITED(rc));
  CHECK(WEXITSTATUS(rc) == 0);
  for (const char* c : {"(Cropping3D)", "(UpSampling3D)", "(GlobalAveragePooling3D)", "(LeakyReLU)",
                        "(PReLU)", "(Dense)"})
    CHECK_MESSAGE(printed.find(c) != std::string::npos, c);
  CHECK(printed.find("total params: " + std::to_string(model.count_params())) != std::string::npos);
}
