// `fit_child DIR [--hang-at EPOCH BATCH]`: trains a small model (Dense, Dropout, Dense; Adam;
// shuffled batches) with BackupAndRestore(DIR/backup, every 2 batches), then saves the model to
// DIR/final.tfw. With --hang-at it stops before that batch instead: it writes DIR/ready and
// waits to be killed. Run again on the same DIR, it resumes from the backup.
// tests/optim/test_backup_and_restore.cpp drives it.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <tapeflow.hpp>
#include <xtensor/xview.hpp>

namespace tf = tapeflow;
namespace L = tapeflow::layers;
namespace TR = tapeflow::training;

int main(int argc, char** argv) {
  if (argc != 2 && argc != 5) {
    std::fprintf(stderr, "usage: fit_child DIR [--hang-at EPOCH BATCH]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const bool hang = argc == 5;
  const int hang_epoch = hang ? std::atoi(argv[3]) : -1;
  const long hang_batch = hang ? std::atol(argv[4]) : -1;
  try {
    tf::set_random_seed(42);
    auto model = std::make_shared<L::Sequential>();
    model->add<L::Dense>(L::DenseOptions(8).activation("relu"));
    model->add<L::Dropout>(L::DropoutOptions(0.25));
    model->add<L::Dense>(L::DenseOptions(1).activation("sigmoid"));
    model->build({1, 4});
    tf::Tensor x = tf::random::uniform({24, 4}, -1.f, 1.f, 3);
    tf::Tensor y = xt::cast<float>(xt::view(x, xt::all(), xt::range(0, 1)) > 0.f);
    model->compile(std::make_shared<tf::optim::Adam>(tf::optim::AdamOptions().learning_rate(0.05f)),
                   "binary_crossentropy", {"accuracy"});
    auto backup = std::make_shared<TR::BackupAndRestore>(dir + "/backup", /*save_freq=*/2);
    TR::LambdaCallback::Hooks hooks;
    int epoch_now = 0;
    hooks.on_epoch_begin = [&](int e, TR::Logs&) { epoch_now = e; };
    hooks.on_train_batch_begin = [&](std::int64_t b, TR::Logs&) {
      if (epoch_now == hang_epoch && b == hang_batch) {
        std::ofstream(dir + "/ready") << "ready\n";
        for (;;) pause();  // until the test kills this process
      }
    };
    model->fit(x, y,
               TR::FitOptions().epochs(3).batch_size(4).seed(7).verbose(0).callbacks(
                   {backup, std::make_shared<TR::LambdaCallback>(hooks)}));
    if (auto from = backup->resumed_from())
      std::printf("resumed at epoch %d batch %lld\n", from->epoch,
                  static_cast<long long>(from->batch));
    tf::serialization::save(*model, dir + "/final.tfw");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fit_child: %s\n", e.what());
    return 1;
  }
  return 0;
}
