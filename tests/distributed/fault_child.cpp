// fault_child: a distributed fit (2 ranks, a conv model, BackupAndRestore after every batch)
// that tests/distributed/rank_killed.sh runs under mpirun, kills mid-training and resumes.
//
//   fault_child --backup DIR --out WEIGHTS [--kill-at STEP] [--fail-at STEP]
//
// --kill-at: rank 1 sends itself SIGKILL at the end of that global step (counted from 1, over
// the whole run); --fail-at: rank 1's callback throws there instead. Rank 0 writes the final
// weights to WEIGHTS as raw float32.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <tapeflow.hpp>

namespace tf = tapeflow;
namespace D = tapeflow::distributed;
namespace L = tapeflow::layers;
namespace TR = tapeflow::training;

int main(int argc, char** argv) {
  std::string backup, out;
  long kill_at = -1, fail_at = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--backup")
      backup = argv[i + 1];
    else if (flag == "--out")
      out = argv[i + 1];
    else if (flag == "--kill-at")
      kill_at = std::atol(argv[i + 1]);
    else if (flag == "--fail-at")
      fail_at = std::atol(argv[i + 1]);
    else {
      std::fprintf(stderr, "fault_child: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (backup.empty() || out.empty()) {
    std::fprintf(stderr,
                 "usage: fault_child --backup DIR --out WEIGHTS [--kill-at N] [--fail-at N]\n");
    return 2;
  }
  D::init();
  tf::set_num_threads(1);
  tf::set_random_seed(1);
  auto in = tf::Input({4, 4, 4, 1});
  auto x = L::Conv3D(L::Conv3DOptions(3, 3).padding("same").activation("relu"))(in);
  x = L::Conv3DTranspose(L::Conv3DTransposeOptions(2, 2).strides(2))(x);
  auto y = L::Dense(L::DenseOptions(2))(L::Flatten()(x));
  tf::Model model(in, y);
  model.compile("adam", "mse");
  // The same samples on every rank (fixed seeds).
  const tf::Tensor xs = tf::random::uniform({16, 4, 4, 4, 1}, -1.f, 1.f, 7);
  const tf::Tensor ys = tf::random::uniform({16, 2}, -1.f, 1.f, 8);

  long step = 0;
  TR::LambdaCallback::Hooks faults;
  faults.on_train_batch_end = [&](std::int64_t, TR::Logs&) {
    ++step;
    if (D::rank() != 1) return;
    if (step == kill_at) std::raise(SIGKILL);
    if (step == fail_at) throw tf::ValueError("injected failure at step " + std::to_string(step));
  };
  model.fit(xs, ys,
            TR::FitOptions().epochs(4).batch_size(4).seed(9).verbose(0).distributed(true).callbacks(
                {std::make_shared<TR::BackupAndRestore>(backup, /*save_freq=*/1),
                 std::make_shared<TR::LambdaCallback>(faults)}));
  if (D::is_chief()) {
    std::ofstream f(out, std::ios::binary);
    for (const auto& w : model.get_weights())
      f.write(reinterpret_cast<const char*>(w.data()),
              static_cast<std::streamsize>(w.size() * sizeof(float)));
    std::printf("fault_child: %ld steps, weights in %s\n", step, out.c_str());
  }
  return 0;
}
