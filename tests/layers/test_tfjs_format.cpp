// The TF.js Layers format (layers/tfjs_format.hpp) against TensorFlow.js 4.22 itself: models
// TF.js built and saved (tests/data/tfjs_models, from tests/tfjs/interop.mjs) load and predict
// as TF.js did; models tapeflow trains and saves load in TF.js with every weight equal and the
// same predictions (live, when Node and the package of tests/tfjs are installed); and every
// problem with the files is a FileError.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "framework/io/io_test_util.hpp"
#include "tapeflow/framework/io/atomic_file.hpp"
#include "tapeflow/framework/io/npy.hpp"
#include "tapeflow/layers/activation.hpp"
#include "tapeflow/layers/batch_normalization.hpp"
#include "tapeflow/layers/conv.hpp"
#include "tapeflow/layers/conv3d_transpose.hpp"
#include "tapeflow/layers/dense.hpp"
#include "tapeflow/layers/dropout.hpp"
#include "tapeflow/layers/input_layer.hpp"
#include "tapeflow/layers/keras_json.hpp"
#include "tapeflow/layers/merge.hpp"
#include "tapeflow/layers/model.hpp"
#include "tapeflow/layers/pooling.hpp"
#include "tapeflow/layers/saving.hpp"
#include "tapeflow/layers/sequential.hpp"
#include "tapeflow/layers/tfjs_format.hpp"
#include "tapeflow/optim/training/compile_args.hpp"
#include "tapeflow/optim/training/history.hpp"
#include "tapeflow/optim/training/run_options.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using tapeflow::test::contains;
using tapeflow::test::error_of;
using test::bit_identical;
using test::random_tensor;
using test::Seeded;
using test::V;
using Json = nlohmann::json;
namespace fs = std::filesystem;
namespace S = tapeflow::serialization;
namespace L = tapeflow::layers;

namespace {

const std::string kFixtures = std::string(TAPEFLOW_TEST_DATA_DIR) + "/tfjs_models";

std::vector<Tensor> npy_list(const std::string& dir, const char* prefix) {
  std::vector<Tensor> out;
  for (int i = 0; fs::exists(dir + "/" + prefix + std::to_string(i) + ".npy"); ++i)
    out.push_back(S::load_npy(dir + "/" + prefix + std::to_string(i) + ".npy"));
  return out;
}

std::vector<Tensor> predict_all(L::Layer& model, const std::vector<Tensor>& xs) {
  std::vector<Variable> in;
  for (const Tensor& x : xs) in.push_back(V(x));
  std::vector<Variable> out = model.call_on_list(in, /*training=*/false);
  std::vector<Tensor> values;
  for (const Variable& v : out) values.push_back(v.value());
  return values;
}

// Largest |a - b| / max(1, |b|): TF.js' tolerance in interop.mjs.
float max_relative_error(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  return xt::amax(xt::abs(a - b) / xt::maximum(xt::abs(b), 1.f))();
}

// Loads every model of `root` (TF.js' output) and checks its predictions against TF.js'.
void check_tfjs_models(const std::string& root, std::size_t expected) {
  std::size_t seen = 0;
  for (const auto& entry : fs::directory_iterator(root)) {
    const std::string dir = entry.path().string();
    CAPTURE(dir);
    auto model = S::load(dir + "/model.json");
    const std::vector<Tensor> ys = npy_list(dir, "y");
    const std::vector<Tensor> got = predict_all(*model, npy_list(dir, "x"));
    REQUIRE(got.size() == ys.size());
    for (std::size_t i = 0; i < ys.size(); ++i) CHECK(max_relative_error(got[i], ys[i]) <= 1e-5f);
    ++seen;
  }
  CHECK(seen == expected);
}

// Node and tests/tfjs' package, when installed: the live round trips run then. With
// TAPEFLOW_REQUIRE_TFJS set (CI) their absence is a failure, not a skip.
bool tfjs_installed() {
  const std::string node = TAPEFLOW_NODE;
  const bool installed = !node.empty() && fs::exists(std::string(TAPEFLOW_TFJS_DIR) +
                                                     "/node_modules/@tensorflow/tfjs");
  if (std::getenv("TAPEFLOW_REQUIRE_TFJS"))
    REQUIRE_MESSAGE(installed, "TAPEFLOW_REQUIRE_TFJS is set but Node (found at configure time: '"
                                   << node << "') or tests/tfjs/node_modules is missing");
  return installed;
}

// Runs `node interop.mjs COMMAND DIR`; its output goes to the test's log when it fails.
int run_interop(const std::string& command, const std::string& dir) {
  const std::string log = dir + ".log";
  const std::string cmd = std::string(TAPEFLOW_NODE) + " " + TAPEFLOW_TFJS_DIR + "/interop.mjs " +
                          command + " " + dir + " > " + log + " 2>&1";
  const int status = std::system(cmd.c_str());
  if (status != 0) MESSAGE("interop.mjs " << command << " failed:\n" << test::read_bytes(log));
  return status == 0 ? 0 : 1;
}

// Saves `model` for interop.mjs check: model.json, weights.bin, each weight as weights/N.npy,
// the inputs and tapeflow's predictions.
void export_for_tfjs(L::Layer& model, const std::string& dir, const std::vector<Tensor>& xs,
                     bool weights_only = false) {
  fs::create_directories(dir + "/weights");
  S::save(model, dir + "/model.json");
  const auto weights = model.weights();
  for (std::size_t i = 0; i < weights.size(); ++i)
    S::write_npy(dir + "/weights/" + std::to_string(i) + ".npy", weights[i].value());
  const std::vector<Tensor> ys = predict_all(model, xs);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    S::write_npy(dir + "/x" + std::to_string(i) + ".npy", xs[i]);
    S::write_npy(dir + "/y" + std::to_string(i) + ".npy", ys[i]);
  }
  if (weights_only) test::write_bytes(dir + "/weights_only", "");
  // tapeflow reads its own export back to the same predictions.
  auto back = S::load(dir + "/model.json");
  const std::vector<Tensor> again = predict_all(*back, xs);
  for (std::size_t i = 0; i < ys.size(); ++i) CHECK(bit_identical(again[i], ys[i]));
}

std::shared_ptr<Model> small_unet(bool batch_norm) {
  auto x = Input({8, 8, 8, 1}, "volume");
  auto conv = [&](long f, long k, const char* act, SymbolicTensor t) {
    t = L::Conv3D(L::Conv3DOptions(f, k).padding("same").activation(batch_norm ? "linear" : act))(
        t);
    if (batch_norm)
      t = L::Activation(L::ActivationOptions().activation(act))(L::BatchNormalization()(t));
    return t;
  };
  auto c1 = conv(4, 3, "relu", x);
  auto p1 = L::MaxPooling3D(L::MaxPooling3DOptions(2))(c1);
  auto c2 = conv(8, 3, "relu", p1);
  auto u1 = L::Conv3DTranspose(L::Conv3DTransposeOptions(4, 2).strides(2))(c2);
  auto m1 = L::Concatenate()({u1, c1});
  auto y = L::Conv3D(L::Conv3DOptions(1, 1).activation("sigmoid"))(m1);
  return std::make_shared<Model>(x, y, batch_norm ? "unet3d_bn" : "unet3d");
}

// A few steps of `fit`, so the exported weights are trained ones.
void train_for_export(Model& model, const std::vector<Tensor>& x, const std::vector<Tensor>& y) {
  model.compile("adam", "mse");
  model.fit(x, y, training::FitOptions().epochs(2).batch_size(2).verbose(0));
}

}  // namespace

TEST_CASE("tfjs: models TF.js saved load in tapeflow and predict as TF.js (committed files)") {
  // unet3d, classifier (Sequential) and its uint8 / uint16 / float16 quantized copies (two
  // shards each), two_in_two_out, zoo2d, zoo1d.
  check_tfjs_models(kFixtures, 8);
  auto unet = std::dynamic_pointer_cast<Model>(S::load(kFixtures + "/unet3d/model.json"));
  REQUIRE(unet);
  CHECK(unet->name() == "unet3d");
  CHECK(unet->get_layer("conv3d_transpose_Conv3DTranspose1")->class_name() == "Conv3DTranspose");
  auto seq = S::load(kFixtures + "/classifier/model.json");
  CHECK(seq->class_name() == "Sequential");
}

TEST_CASE("tfjs: models tapeflow trains load in TF.js with equal weights and predictions") {
  const std::string root = test::temp_path("to_tfjs");
  Seeded seed(7);
  {  // the U-Net: Conv3D, MaxPooling3D, Conv3DTranspose, Concatenate
    auto unet = small_unet(false);
    const Tensor x = random_tensor({4, 8, 8, 8, 1}, 1),
                 y = xt::abs(random_tensor({4, 8, 8, 8, 1}, 2));
    train_for_export(*unet, {x}, {y});
    export_for_tfjs(*unet, root + "/unet3d", {xt::view(x, xt::range(0, 2))});
  }
  {  // BatchNormalization on rank 5: TF.js loads it but cannot run it, so weights only
    auto unet = small_unet(true);
    const Tensor x = random_tensor({4, 8, 8, 8, 1}, 3),
                 y = xt::abs(random_tensor({4, 8, 8, 8, 1}, 4));
    train_for_export(*unet, {x}, {y});
    export_for_tfjs(*unet, root + "/unet3d_batch_norm", {x}, /*weights_only=*/true);
  }
  {  // a Dense classifier (Sequential)
    auto model = std::make_shared<L::Sequential>(L::SequentialOptions().name("classifier"));
    model->add<L::Dense>(L::DenseOptions(16).activation("relu"));
    model->add<L::Dropout>(L::DropoutOptions(0.25f));
    model->add<L::Dense>(L::DenseOptions(3).activation("softmax"));
    model->build({1, 10});
    const Tensor x = random_tensor({8, 10}, 5);
    Tensor y = xt::zeros<float>({8, 3});
    for (std::size_t i = 0; i < 8; ++i) y(i, i % 3) = 1.f;
    train_for_export(*model, {x}, {y});
    export_for_tfjs(*model, root + "/classifier", {x});
  }
  {  // two inputs, two outputs
    auto a = Input({6}, "features");
    auto b = Input({4}, "context");
    auto ha = L::Dense(L::DenseOptions(8).activation("relu"))(a);
    auto hb = L::Dense(L::DenseOptions(8).activation("elu"))(b);
    auto label = L::Dense(L::DenseOptions(2).activation("softmax").name("label"))(
        L::Concatenate()({ha, hb}));
    auto score = L::Dense(L::DenseOptions(1).name("score"))(L::Add()({ha, hb}));
    Model model(L::SymbolicTensors{a, b}, L::SymbolicTensors{label, score}, "two_in_two_out");
    const Tensor xa = random_tensor({4, 6}, 6), xb = random_tensor({4, 4}, 7);
    train_for_export(model, {xa, xb},
                     {xt::abs(random_tensor({4, 2}, 8)), random_tensor({4, 1}, 9)});
    export_for_tfjs(model, root + "/two_in_two_out", {xa, xb});
  }
  if (!tfjs_installed()) {
    MESSAGE("Node or tests/tfjs/node_modules missing (npm ci there): the TF.js side is skipped");
    return;
  }
  CHECK(run_interop("check", root) == 0);
}

TEST_CASE("tfjs: live, models TF.js builds now load in tapeflow and predict as TF.js") {
  if (!tfjs_installed()) {
    MESSAGE("Node or tests/tfjs/node_modules missing (npm ci there): skipped");
    return;
  }
  const std::string root = test::temp_path("from_tfjs");
  REQUIRE(run_interop("make", root) == 0);
  check_tfjs_models(root, 8);
}

TEST_CASE("tfjs: load_weights by name, a topology-only file, and the written files") {
  auto model = S::load(kFixtures + "/two_in_two_out/model.json");
  auto twin = S::model_from_json(S::to_json(*model));  // new weights
  CHECK_FALSE(bit_identical(twin->get_weights()[0], model->get_weights()[0]));
  S::load_weights(*twin, kFixtures + "/two_in_two_out/model.json");
  for (std::size_t i = 0; i < model->get_weights().size(); ++i)
    CHECK(bit_identical(twin->get_weights()[i], model->get_weights()[i]));
  // A bare topology (Keras' model.to_json() in a file) loads with new weights.
  const std::string topology = test::temp_path("topology.json");
  test::write_bytes(topology, S::to_json(*model));
  CHECK(S::load(topology)->count_params() == model->count_params());
  // What save writes: TF.js' keys, one weights.bin, its checksum; no temporary file left.
  const std::string dir = test::temp_path("written");
  fs::create_directories(dir);
  S::save(*model, dir + "/model.json");
  const Json j = Json::parse(test::read_bytes(dir + "/model.json"));
  CHECK(j["format"] == "layers-model");
  CHECK(j["modelTopology"]["class_name"] == "Functional");
  CHECK(j["weightsManifest"][0]["paths"] == Json({"weights.bin"}));
  CHECK(j["weightsManifest"][0]["weights"].size() == model->weights().size());
  CHECK(fs::file_size(dir + "/weights.bin") == 4 * model->count_params());
  CHECK(j["userDefinedMetadata"].contains("tapeflow_weights_checksum"));
  CHECK(test::temporary_files_in(dir) == 0);
}

namespace {

// A copy of the classifier fixture in a scratch folder, its model.json edited by `edit`.
std::string edited_copy(const std::string& name, const std::function<void(Json&)>& edit) {
  const std::string dir = test::temp_path(name);
  fs::create_directories(dir);
  fs::copy_file(kFixtures + "/classifier/weights.bin", dir + "/weights.bin",
                fs::copy_options::overwrite_existing);
  Json j = Json::parse(test::read_bytes(kFixtures + "/classifier/model.json"));
  edit(j);
  test::write_bytes(dir + "/model.json", j.dump());
  return dir + "/model.json";
}

std::string load_error(const std::string& path) {
  return error_of<FileError>([&] { S::load(path); });
}

Json& first_weight(Json& j) { return j["weightsManifest"][0]["weights"][0]; }

}  // namespace

TEST_CASE("tfjs: every problem with the files is a FileError naming it") {
  const auto untouched = [](Json&) {};
  // The weight bytes: short, long, missing.
  std::string p = edited_copy("short", untouched);
  std::string bin = test::read_bytes(fs::path(p).parent_path() / "weights.bin");
  test::write_bytes(fs::path(p).parent_path() / "weights.bin", bin.substr(0, bin.size() - 4));
  CHECK(contains(load_error(p),
                 "hold " + std::to_string(bin.size() - 4) + " bytes, the manifest describes"));
  test::write_bytes(fs::path(p).parent_path() / "weights.bin", bin + "xxxx");
  CHECK(contains(load_error(p), "the file is larger than"));
  fs::remove(fs::path(p).parent_path() / "weights.bin");
  CHECK(contains(load_error(p), "weights.bin"));
  // The manifest: a wrong shape, a weight the model lacks, one it needs, unsupported dtypes,
  // a path out of the folder, a size beyond any weight.
  CHECK(contains(load_error(edited_copy("shape",
                                        [](Json& j) {
                                          first_weight(j)["shape"] = {16, 10};
                                        })),
                 "has shape (16, 10) in the manifest, the layer needs (10, 16)"));
  CHECK(contains(
      load_error(edited_copy("renamed", [](Json& j) { first_weight(j)["name"] = "x/kernel"; })),
      "is not in the weights manifest"));
  CHECK(contains(
      load_error(edited_copy("int32", [](Json& j) { first_weight(j)["dtype"] = "int32"; })),
      "dtype 'int32' is not supported"));
  CHECK(contains(load_error(edited_copy("quant",
                                        [](Json& j) {
                                          first_weight(j)["quantization"] = {{"dtype", "int4"}};
                                        })),
                 "quantization dtype 'int4' is not supported"));
  CHECK(contains(load_error(edited_copy("quant_scale",
                                        [](Json& j) {
                                          first_weight(j)["quantization"] = {{"dtype", "uint8"}};
                                        })),
                 "needs numbers 'scale' and 'min'"));
  CHECK(contains(
      load_error(edited_copy(
          "escape", [](Json& j) { j["weightsManifest"][0]["paths"] = {"../../etc/passwd"}; })),
      "must be a relative path inside the folder"));
  CHECK(contains(load_error(edited_copy("huge",
                                        [](Json& j) {
                                          first_weight(j)["shape"] = {1u << 31, 1u << 31};
                                        })),
                 "is larger than any weight"));
  CHECK(contains(load_error(edited_copy("graph", [](Json& j) { j["format"] = "graph-model"; })),
                 "is not a Layers model"));
  CHECK(contains(load_error(edited_copy("cls",
                                        [](Json& j) {
                                          j["modelTopology"]["config"]["layers"][1]["class_name"] =
                                              "ConvLSTM2D";
                                        })),
                 "unknown layer class 'ConvLSTM2D'"));
  // A weights.bin that is not the one model.json was written with (same size).
  const std::string dir = test::temp_path("pair");
  fs::create_directories(dir);
  auto model = S::load(kFixtures + "/classifier/model.json");
  S::save(*model, dir + "/model.json");
  std::string bytes = test::read_bytes(dir + "/weights.bin");
  bytes[0] = static_cast<char>(bytes[0] ^ 1);
  test::write_bytes(dir + "/weights.bin", bytes);
  CHECK(contains(load_error(dir + "/model.json"), "does not match model.json (checksum)"));
  // Not JSON, empty, missing.
  test::write_bytes(dir + "/bad.json", "{\"modelTopology\": ");
  CHECK(contains(load_error(dir + "/bad.json"), "not valid JSON"));
  CHECK(contains(load_error(dir + "/none.json"), "none.json"));
  // A failed write keeps the previous files whole.
  S::save(*model, dir + "/model.json");
  const std::string before = test::read_bytes(dir + "/model.json");
  S::detail::set_write_failure_after(10);
  CHECK(contains(error_of<FileError>([&] { S::save(*model, dir + "/model.json"); }), "injected"));
  S::detail::set_write_failure_after(std::nullopt);
  CHECK(test::read_bytes(dir + "/model.json") == before);
  CHECK(test::temporary_files_in(dir) == 0);
  CHECK_NOTHROW(S::load(dir + "/model.json"));
}
