// Training checkpoints (optim/checkpoint.hpp): resuming is bit-identical to training that never
// stopped (optimizer state, global seed, op-seed counter, Dropout's stream), old files still
// load, the error type of each problem, and the inspect_model tool on a checkpoint.
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <xtensor/xnpy.hpp>

#include "framework/io/io_test_util.hpp"
#include "tapeflow/framework/io/atomic_file.hpp"
#include "tapeflow/framework/io/file_header.hpp"
#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/runtime/random.hpp"
#include "tapeflow/layers/batch_normalization.hpp"
#include "tapeflow/layers/dense.hpp"
#include "tapeflow/layers/dropout.hpp"
#include "tapeflow/layers/merge.hpp"
#include "tapeflow/layers/model.hpp"
#include "tapeflow/layers/saving.hpp"
#include "tapeflow/layers/sequential.hpp"
#include "tapeflow/optim/adam.hpp"
#include "tapeflow/optim/checkpoint.hpp"
#include "tapeflow/optim/sgd.hpp"
#include "test_util.hpp"

namespace L = tapeflow::layers;
namespace S = tapeflow::serialization;
using namespace tapeflow;
using test::bit_identical;
using test::read_bytes;
using test::temp_path;
using test::write_bytes;

namespace {

// The two halves of a resumed run, on fixed data (mean squared error, Adam at 0.05, training
// mode): `steps` steps of `model`.
void train(L::Layer& model, optim::Optimizer& opt, int steps) {
  const Tensor x = test::random_tensor({8, 3}, 5);
  const Tensor y = test::random_tensor({8, 1}, 6);
  for (int i = 0; i < steps; ++i)
    opt.minimize([&] { return mean(square(model(Variable(x), true) - Variable(y))); },
                 model.trainable_variables());
}

// A model from `make` under random seed `seed`, in a graph of its own: its weights after six
// steps without a stop, and a checkpoint at `path` after three (the seed cleared afterwards).
std::vector<Tensor> six_steps_and_a_checkpoint_at_three(
    const std::function<std::shared_ptr<L::Layer>()>& make, std::uint64_t seed,
    const std::string& path) {
  std::vector<Tensor> uninterrupted;
  {
    Graph g;
    auto scope = g.as_default();
    set_random_seed(seed);
    auto m = make();
    optim::Adam opt(optim::AdamOptions().learning_rate(0.05f));
    train(*m, opt, 6);
    uninterrupted = m->get_weights();
  }
  {
    Graph g;
    auto scope = g.as_default();
    set_random_seed(seed);
    auto m = make();
    optim::Adam opt(optim::AdamOptions().learning_rate(0.05f));
    train(*m, opt, 3);
    S::save_checkpoint(*m, opt, path);
  }
  clear_random_seed();
  return uninterrupted;
}

void check_same_weights(const std::vector<Tensor>& w, const std::vector<Tensor>& expected) {
  REQUIRE(w.size() == expected.size());
  for (std::size_t i = 0; i < w.size(); ++i) CHECK_BIT_IDENTICAL(w[i], expected[i]);
}

}  // namespace

TEST_CASE("checkpoint: resuming training is bit-identical to training that never stopped") {
  auto make_model = [] {
    auto m = std::make_shared<L::Sequential>();
    m->add<L::Dense>(
        L::DenseOptions(4).activation("tanh").kernel_initializer(initializers::glorot_uniform(11)));
    m->add<L::Dense>(L::DenseOptions(1).kernel_initializer(initializers::glorot_uniform(12)));
    m->build({1, 3});
    return std::shared_ptr<L::Layer>(m);
  };
  std::string path = temp_path("ckpt.xml");
  const std::vector<Tensor> uninterrupted =
      six_steps_and_a_checkpoint_at_three(make_model, 3, path);
  {
    Graph g;
    auto scope = g.as_default();
    auto m = make_model();  // different initial weights: the checkpoint must overwrite them
    optim::Adam opt(optim::AdamOptions().learning_rate(0.05f));
    S::load_checkpoint(*m, opt, path);
    CHECK(get_random_seed() == std::optional<std::uint64_t>(3));
    CHECK(opt.iterations() == 3);
    train(*m, opt, 3);
    check_same_weights(m->get_weights(), uninterrupted);
    auto info = S::inspect(path);
    CHECK(info.has_optimizer);
    CHECK(info.optimizer_class == "Adam");
    CHECK(info.random_seed == std::optional<std::uint64_t>(3));
    optim::SGD sgd;
    TF_CHECK_ERROR(S::load_checkpoint(*m, sgd, path), "'Adam'", "'SGD'");
    std::string model_only = temp_path("model_only.bin");
    S::save(*m, model_only);
    TF_CHECK_ERROR(S::load_checkpoint(*m, opt, model_only), "no optimizer state");
  }
}

TEST_CASE("checkpoint: a functional model with a skip resumes bit-identically") {
  // Dense -> BatchNormalization -> Dropout, concatenated with the input, then Dense: the
  // optimizer's slots, the moving statistics and the Dropout stream all carry over.
  auto make_model = [] {
    auto x = Input({3});
    auto h = L::Dense(L::DenseOptions(4).activation("tanh").kernel_initializer(
        initializers::glorot_uniform(11)))(x);
    h = L::BatchNormalization()(h);
    h = L::Dropout(L::DropoutOptions(0.25f))(h);
    auto y = L::Dense(L::DenseOptions(1).kernel_initializer(initializers::glorot_uniform(12)))(
        L::Concatenate()({h, x}));
    return std::shared_ptr<L::Layer>(std::make_shared<L::Model>(x, y, "skip"));
  };
  std::string path = temp_path("ckpt_functional.bin");
  const std::vector<Tensor> uninterrupted =
      six_steps_and_a_checkpoint_at_three(make_model, 4, path);
  for (bool from_file : {false, true}) {
    CAPTURE(from_file);
    Graph g;
    auto scope = g.as_default();
    // Either the same code builds the model again, or the file alone does.
    std::shared_ptr<L::Layer> m = from_file ? S::load(path) : make_model();
    optim::Adam opt(optim::AdamOptions().learning_rate(0.05f));
    S::load_checkpoint(*m, opt, path);
    CHECK(opt.iterations() == 3);
    train(*m, opt, 3);
    REQUIRE(uninterrupted.size() == 8);  // two Dense (kernel, bias), BatchNormalization's four
    check_same_weights(m->get_weights(), uninterrupted);
  }
}

TEST_CASE("checkpoint: Dropout masks and unseeded random ops resume bit-identically") {
  // Dropout without an op seed draws its stream from the op-seed counter at its first training
  // call, and each step adds noise from an unseeded random op (the next counter value). Both
  // must continue after a resume as if training had never stopped.
  auto make_model = [] {
    auto m = std::make_shared<L::Sequential>();
    m->add<L::Dense>(
        L::DenseOptions(6).activation("relu").kernel_initializer(initializers::glorot_uniform(21)));
    m->add<L::Dropout>(L::DropoutOptions(0.5f));
    m->add<L::Dense>(L::DenseOptions(1).kernel_initializer(initializers::glorot_uniform(22)));
    m->build({1, 3});
    return m;
  };
  const Tensor x = test::random_tensor({8, 3}, 7);
  const Tensor y = test::random_tensor({8, 1}, 8);
  auto train = [&](L::Sequential& m, optim::Optimizer& opt, int steps) {
    for (int i = 0; i < steps; ++i) {
      Tensor noise = random::normal({8, 3}, 0.f, 0.1f);
      opt.minimize([&] { return mean(square(m(Variable(x + noise), true) - Variable(y))); },
                   m.trainable_variables());
    }
  };
  std::vector<Tensor> uninterrupted;
  {
    Graph g;
    auto scope = g.as_default();
    set_random_seed(5);
    auto m = make_model();
    optim::Adam opt(optim::AdamOptions().learning_rate(0.05f));
    train(*m, opt, 8);
    uninterrupted = m->get_weights();
  }
  for (const char* ext : {"bin", "txt", "xml"}) {
    CAPTURE(ext);
    std::string path = temp_path(std::string("ckpt_random.") + ext);
    {
      Graph g;
      auto scope = g.as_default();
      set_random_seed(5);
      auto m = make_model();
      optim::Adam opt(optim::AdamOptions().learning_rate(0.05f));
      train(*m, opt, 4);
      S::save_checkpoint(*m, opt, path);
    }
    set_random_seed(1234);  // a different seed and counter: the checkpoint must restore both
    random::normal({5});
    {
      Graph g;
      auto scope = g.as_default();
      auto m = make_model();  // its Dropout has not drawn yet
      optim::Adam opt(optim::AdamOptions().learning_rate(0.05f));
      S::load_checkpoint(*m, opt, path);
      CHECK(get_random_seed() == std::optional<std::uint64_t>(5));
      CHECK_FALSE(m->layers()[1]->random_state().empty());
      train(*m, opt, 4);
      auto w = m->get_weights();
      REQUIRE(w.size() == uninterrupted.size());
      for (std::size_t i = 0; i < w.size(); ++i)
        CHECK_MESSAGE(bit_identical(w[i], uninterrupted[i]),
                      "resumed " << w[i] << " vs " << uninterrupted[i]);
    }
  }
  // A plain model file carries no random stream: loading it leaves Dropout to start afresh.
  {
    Graph g;
    auto scope = g.as_default();
    set_random_seed(5);
    auto m = make_model();
    optim::SGD opt;
    train(*m, opt, 1);
    REQUIRE_FALSE(m->layers()[1]->random_state().empty());
    std::string path = temp_path("model_random.bin");
    S::save(*m, path);
    auto loaded = S::load(path);
    auto* seq = dynamic_cast<L::Sequential*>(loaded.get());
    REQUIRE(seq != nullptr);
    CHECK(seq->layers()[1]->random_state().empty());
  }
  // A layer without a stream refuses a state; Dropout refuses a malformed one.
  {
    L::Dense dense(L::DenseOptions(2));
    TF_CHECK_ERROR(dense.set_random_state("1 2 3"), "dense", "has no random stream");
    L::Dropout drop(L::DropoutOptions(0.5f));
    TF_CHECK_ERROR(drop.set_random_state("garbage"), "dropout", "set_random_state");
    drop.set_random_state("");
    CHECK(drop.random_state().empty());
  }
}

TEST_CASE("checkpoint: format version 0 files (before the random streams) still load") {
  // Written by the version-0 code: a Sequential(Dense, Dropout, Dense) checkpoint with Adam
  // after 3 steps under set_random_seed(3), in each archive kind. Its model part:
  // tests/layers/test_saving.cpp.
  for (const char* ext : {"bin", "txt", "xml"}) {
    CAPTURE(ext);
    std::string path = std::string(TAPEFLOW_TEST_DATA_DIR) + "/serialization/checkpoint_v0." + ext;
    Graph g;
    auto scope = g.as_default();
    auto m = S::load(path);
    optim::Adam opt;
    clear_random_seed();
    S::load_checkpoint(*m, opt, path);
    CHECK(opt.iterations() == 3);
    CHECK(get_random_seed() == std::optional<std::uint64_t>(3));
    CHECK(get_random_state().op_counter == 0);  // version 0 kept the seed only
    Tensor out = (*m)(Variable(xt::ones<float>({2, 3})), false).value();
    CHECK(out.shape() == Shape{2, 1});
    CHECK(std::isfinite(out(0, 0)));
  }
}

TEST_CASE("checkpoint: each problem has its error type, and a refused load changes nothing") {
  Graph g;
  auto scope = g.as_default();
  auto make_model = [](long units) {
    auto m = std::make_shared<L::Sequential>();
    m->add<L::Dense>(L::DenseOptions(units));
    m->add<L::Dropout>(L::DropoutOptions(0.5f));
    m->add<L::Dense>(L::DenseOptions(1));
    m->build({1, 3});
    return m;
  };
  auto m = make_model(4);
  optim::Adam opt;
  opt.minimize(
      [&] {
        return mean(square((*m)(Variable(xt::ones<float>({2, 3})), true)));
      },
      m->trainable_variables());
  const std::string path = temp_path("ckpt_errors.xml");
  S::save_checkpoint(*m, opt, path);
  const std::string good = read_bytes(path);

  // File problems: FileError, the operation and the file named once.
  const std::string missing = temp_path("no_ckpt.bin");
  const std::string missing_message =
      "load_checkpoint: '" + missing + "': cannot open: No such file or directory";
  CHECK_THROWS_WITH_AS(S::load_checkpoint(*m, opt, missing), missing_message.c_str(), FileError);
  const std::string bad = temp_path("ckpt_bad.xml");
  write_bytes(bad, good.substr(0, good.size() / 2));
  CHECK_THROWS_AS(S::load_checkpoint(*m, opt, bad), FileError);
  write_bytes(bad, "PK\x03\x04 zip file");
  CHECK_THROWS_AS(S::load_checkpoint(*m, opt, bad), FileError);
  write_bytes(bad, "tapeflow-model 2 xml 0 0000000000000000\n");
  TF_CHECK_ERROR(S::load_checkpoint(*m, opt, bad), "load_checkpoint: '", "version 2 is newer");
  CHECK_THROWS_AS(S::load_checkpoint(*m, opt, bad), FileError);
  S::detail::set_write_failure_after(10);
  TF_CHECK_ERROR(S::save_checkpoint(*m, opt, bad), "save_checkpoint: '", "injected failure");
  CHECK_THROWS_AS(S::save_checkpoint(*m, opt, bad), FileError);
  S::detail::set_write_failure_after(std::nullopt);

  // A malformed random stream of a layer (checksum and all intact): a corrupted file.
  const std::size_t body = good.find('\n') + 1;
  std::string payload = good.substr(body);
  const std::string open_tag = "<random_state>", close_tag = "</random_state>";
  std::size_t stream = payload.find(open_tag);
  while (stream != std::string::npos &&
         payload.compare(stream + open_tag.size(), close_tag.size(), close_tag) == 0)
    stream = payload.find(open_tag, stream + 1);  // skip the empty streams of the Dense layers
  REQUIRE(stream != std::string::npos);
  const std::size_t from = stream + open_tag.size();
  payload.replace(from, payload.find(close_tag, from) - from, "garbage");
  write_bytes(bad, S::make_file_image(S::Archive::xml, payload));
  TF_CHECK_ERROR(S::load_checkpoint(*m, opt, bad), "load_checkpoint: '", "corrupted file",
                 "set_random_state");
  CHECK_THROWS_AS(S::load_checkpoint(*m, opt, bad), FileError);

  // The wrong file or optimizer: ValueError, checked before the model or optimizer changes.
  const std::vector<Tensor> weights = m->get_weights();
  const std::string model_only = temp_path("ckpt_model_only.bin");
  S::save(*make_model(4), model_only);
  CHECK_THROWS_AS(S::load_checkpoint(*m, opt, model_only), ValueError);
  optim::SGD sgd;
  CHECK_THROWS_AS(S::load_checkpoint(*m, sgd, path), ValueError);
  const std::vector<Tensor> after = m->get_weights();
  REQUIRE(after.size() == weights.size());
  for (std::size_t i = 0; i < after.size(); ++i) CHECK(bit_identical(after[i], weights[i]));
  CHECK(opt.iterations() == 1);

  // A model that does not fit the file's weights: ShapeError.
  auto wider = make_model(5);
  optim::Adam fresh;
  TF_CHECK_ERROR(S::load_checkpoint(*wider, fresh, path), "load_weights", "shape (3, 5)");
  CHECK_THROWS_AS(S::load_checkpoint(*wider, fresh, path), ShapeError);
}

#ifdef TAPEFLOW_INSPECT_MODEL
namespace {
// Runs inspect_model on `path`: exit status, stdout and stderr.
struct Run {
  int status;
  std::string out, err;
};
Run inspect_model(const std::string& path) {
  std::string out = temp_path("inspect.out"), err = temp_path("inspect.err");
  std::string cmd =
      std::string("'") + TAPEFLOW_INSPECT_MODEL + "' '" + path + "' >'" + out + "' 2>'" + err + "'";
  int rc = std::system(cmd.c_str());
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, read_bytes(out), read_bytes(err)};
}
}  // namespace

TEST_CASE("checkpoint: inspect_model prints the summary, or one error: line and exit 1") {
  Graph g;
  auto scope = g.as_default();
  auto m = std::make_shared<L::Sequential>(L::SequentialOptions().name("net"));
  m->add<L::Dense>(L::DenseOptions(4).name("hidden"));
  m->add<L::Dense>(L::DenseOptions(2).name("out"));
  m->build({1, 3});
  optim::Adam opt;
  std::string path = temp_path("inspect.xml");
  S::save_checkpoint(*m, opt, path);
  Run ok = inspect_model(path);
  CHECK(ok.status == 0);
  CHECK(ok.out.find("hidden (Dense)") != std::string::npos);
  CHECK(ok.out.find("total params: 26") != std::string::npos);
  CHECK(ok.out.find("optimizer: Adam") != std::string::npos);
  CHECK(ok.err.empty());
  std::string good = read_bytes(path);
  std::string bad = temp_path("inspect_bad.xml");
  for (const std::string& content :
       {std::string(), good.substr(0, good.size() / 2), std::string("PK\x03\x04 zip file"),
        good.substr(0, 60) + "#" + good.substr(61)}) {
    write_bytes(bad, content);
    Run r = inspect_model(bad);
    CHECK(r.status == 1);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("error: ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  Run missing = inspect_model(temp_path("missing.bin"));
  CHECK(missing.status == 1);
  CHECK(missing.err.rfind("error: ", 0) == 0);
}
#endif

TEST_CASE("checkpoint: a file written before the architecture change restores the same model") {
  // tests/data/serialization/checkpoint_v1.bin: written by the code before the folders, error
  // types and declared-once options (commit f4f9640): a Sequential of Conv3D, BatchNormalization,
  // Conv3DTranspose, MaxPooling3D, Flatten, Dropout and Dense after two Adam steps;
  // checkpoint_v1_output.npy is what that model gave on model_v1_input.npy.
  const std::string dir = std::string(TAPEFLOW_TEST_DATA_DIR) + "/serialization/";
  Graph g;
  auto scope = g.as_default();
  auto m = S::load(dir + "model_v1.bin");  // the architecture, with the weights before training
  optim::Adam opt(optim::AdamOptions().learning_rate(1e-2));
  S::load_checkpoint(*m, opt, dir + "checkpoint_v1.bin");
  CHECK(opt.iterations() == 2);
  const Tensor x = xt::load_npy<float>(dir + "model_v1_input.npy");
  TF_CHECK_CLOSE((*m)(Variable(x), false).value(),
                 xt::load_npy<float>(dir + "checkpoint_v1_output.npy"), 1e-5f, 1e-5f);
}
