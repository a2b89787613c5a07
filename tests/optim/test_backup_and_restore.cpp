// BackupAndRestore (optim/training/callbacks/backup_and_restore.hpp): a fit killed mid-epoch
// (a child process, fork + exec + SIGKILL) and started again ends bit-identical to a run that
// was never interrupted; a corrupt backup is an error, not a silent restart.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "framework/io/io_test_util.hpp"
#include "tapeflow/layers/dense.hpp"
#include "tapeflow/layers/saving.hpp"
#include "tapeflow/layers/sequential.hpp"
#include "tapeflow/optim/training/callbacks/backup_and_restore.hpp"
#include "tapeflow/optim/training/compile_args.hpp"
#include "tapeflow/optim/training/history.hpp"
#include "tapeflow/optim/training/run_options.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
namespace L = tapeflow::layers;
namespace TR = tapeflow::training;
using namespace tapeflow;

namespace {

// Runs fit_child with `args` to its end; returns its exit status and what it printed.
int run_child(const std::string& args, std::string* out = nullptr) {
  const std::string log = test::temp_path("fit_child.log");
  // Appended piece by piece: GCC 12 warns falsely (-Warray-bounds) on a chain of `+`.
  std::string cmd = TAPEFLOW_FIT_CHILD;
  cmd += ' ';
  cmd += args;
  cmd += " > ";
  cmd += log;
  cmd += " 2>&1";
  int rc = std::system(cmd.c_str());
  if (out) *out = test::read_bytes(log);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::vector<Tensor> final_weights(const std::string& dir) {
  return serialization::load(dir + "/final.tfw")->get_weights();
}

}  // namespace

TEST_CASE("BackupAndRestore: a fit killed mid-epoch resumes and ends bit-identical") {
  const std::string whole = test::temp_path("bar_whole"), killed = test::temp_path("bar_killed");
  fs::create_directories(whole);
  fs::create_directories(killed);
  REQUIRE(run_child(whole) == 0);
  CHECK_FALSE(fs::exists(whole + "/backup"));  // removed when fit ends normally

  // Kill it before batch 3 of epoch 1: the last backup (every 2 batches) is after batch 1.
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    execl(TAPEFLOW_FIT_CHILD, TAPEFLOW_FIT_CHILD, killed.c_str(), "--hang-at", "1", "3",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (!fs::exists(killed + "/ready") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(fs::exists(killed + "/ready"));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFSIGNALED(status));
  CHECK(test::read_bytes(killed + "/backup/state.json").find("\"batch\":2") != std::string::npos);
  CHECK_FALSE(fs::exists(killed + "/final.tfw"));

  std::string printed;
  REQUIRE(run_child(killed, &printed) == 0);
  CHECK(printed.find("resumed at epoch 1 batch 2") != std::string::npos);
  auto a = final_weights(whole), b = final_weights(killed);
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK_BIT_IDENTICAL(b[i], a[i]);
}

TEST_CASE("BackupAndRestore: a corrupt backup is an error naming the file, bad arguments") {
  const std::string dir = test::temp_path("bar_corrupt");
  fs::create_directories(dir);
  test::write_bytes(dir + "/state.json", "{\"checkpoint\": \"checkpoint-0.tfw\", \"epoch\": 1");
  test::Seeded seed(1);
  auto m = std::make_shared<L::Sequential>();
  m->add<L::Dense>(L::DenseOptions(1));
  m->build({1, 2});
  m->compile("sgd", "mse");
  Tensor x = xt::zeros<float>({4, 2}), y = xt::zeros<float>({4, 1});
  auto backup = std::make_shared<TR::BackupAndRestore>(dir);
  try {
    m->fit(x, y, TR::FitOptions().verbose(0).callbacks({backup}));
    FAIL("no error");
  } catch (const FileError& e) {
    CHECK(std::string(e.what()).find("state.json") != std::string::npos);
  }
  test::write_bytes(
      dir + "/state.json",
      "{\"checkpoint\": \"../x.tfw\", \"epoch\": 1, \"batch\": 0, \"shuffle_seed\": 1}");
  TF_CHECK_ERROR(m->fit(x, y, TR::FitOptions().verbose(0).callbacks({backup})),
                 "not one of its own");
  TF_CHECK_ERROR(TR::BackupAndRestore(""), "backup_dir");
  TF_CHECK_ERROR(TR::BackupAndRestore("d", -1), "save_freq");
}
