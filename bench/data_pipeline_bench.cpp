// What prefetching buys: one epoch of `fit` over volumes read from .nii.gz files, against the
// same volumes in memory.
//
//   data_pipeline_bench [--volumes 48] [--size 32] [--batch 4] [--epochs 5] [--threads 2]
//                       [--dir PATH]
//
// It writes --volumes image/label pairs (a noisy ball and its mask, --size^3 voxels, float32 and
// uint8, gzipped as nibabel does) to a temporary folder, then alternates three ways of running an
// epoch of a small 3-D segmentation network (Conv3D 8 + BatchNormalization + ReLU, twice, then a
// 1x1x1 Conv3D with a sigmoid; binary cross-entropy, Adam; batch --batch, shuffled):
//   memory:   fit(x, y) on tensors loaded beforehand;
//   files:    fit(dataset) over from_file_pairs(...).shuffle(...).batch(...): each volume read
//             and decompressed when the step needs it;
//   prefetch: the same dataset with .prefetch(2): the next batches are read on a background
//             thread while the model trains.
// It prints the median epoch time of each (over --epochs epochs after one warm-up epoch), the
// ratios to memory, the time to read one epoch's files alone, and the peak RSS. Target: prefetch
// within 10% of memory.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <tapeflow.hpp>
#include <vector>

#include "harness.hpp"

namespace tf = tapeflow;
namespace L = tapeflow::layers;
namespace D = tapeflow::data;
namespace S = tapeflow::serialization;
namespace TR = tapeflow::training;
namespace fs = std::filesystem;
using tapeflow::bench::median;
using tapeflow::bench::peak_rss_mib;

namespace {

struct Args {
  std::size_t volumes = 48, size = 32, batch = 4;
  int epochs = 5, threads = 2;
  std::string dir;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "error: %s\nusage: data_pipeline_bench [--volumes N] [--size N] [--batch N] "
               "[--epochs N] [--threads N] [--dir PATH]\n",
               why.c_str());
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (i + 1 >= argc) usage("missing value after " + k);
    const std::string v = argv[++i];
    const long n = std::atol(v.c_str());
    if (k == "--dir") {
      a.dir = v;
      continue;
    }
    if (n <= 0) usage(k + ": a positive number was expected, got '" + v + "'");
    if (k == "--volumes")
      a.volumes = static_cast<std::size_t>(n);
    else if (k == "--size")
      a.size = static_cast<std::size_t>(n);
    else if (k == "--batch")
      a.batch = static_cast<std::size_t>(n);
    else if (k == "--epochs")
      a.epochs = static_cast<int>(n);
    else if (k == "--threads")
      a.threads = static_cast<int>(n);
    else
      usage("unknown option " + k);
  }
  return a;
}

// Volume i: a ball of random center and radius under Gaussian noise; the label is the ball.
void write_volumes(const Args& a, const std::string& dir) {
  std::mt19937 rng(1);
  std::normal_distribution<float> noise(0.f, 0.3f);
  const auto n = static_cast<float>(a.size);
  std::uniform_real_distribution<float> center(0.3f * n, 0.7f * n), radius(0.15f * n, 0.3f * n);
  for (std::size_t v = 0; v < a.volumes; ++v) {
    tf::Tensor image = tf::Tensor::from_shape({a.size, a.size, a.size});
    tf::Tensor label = tf::Tensor::from_shape({a.size, a.size, a.size});
    const float cx = center(rng), cy = center(rng), cz = center(rng), r = radius(rng);
    for (std::size_t x = 0; x < a.size; ++x)
      for (std::size_t y = 0; y < a.size; ++y)
        for (std::size_t z = 0; z < a.size; ++z) {
          const float dx = float(x) - cx, dy = float(y) - cy, dz = float(z) - cz;
          const bool in = dx * dx + dy * dy + dz * dz <= r * r;
          label(x, y, z) = in ? 1.f : 0.f;
          image(x, y, z) = (in ? 0.8f : 0.f) + noise(rng);
        }
    const std::string stem = dir + "/vol" + std::to_string(1000 + v);
    S::write_nifti(stem + "_image.nii.gz", image);
    S::write_nifti(stem + "_label.nii.gz", label,
                   S::NiftiWriteOptions().datatype(S::NiftiDatatype::uint8));
  }
}

tf::Tensor load_volume(const std::string& path) {
  tf::Tensor v = S::read_nifti(path).data;
  v.reshape({v.shape()[0], v.shape()[1], v.shape()[2], std::size_t(1)});
  return v;
}

std::shared_ptr<L::Sequential> make_model(const Args& a) {
  const long n = static_cast<long>(a.size);
  auto m = std::make_shared<L::Sequential>();
  for (int k = 0; k < 2; ++k) {
    m->add<L::Conv3D>(L::Conv3DOptions(8, 3).padding("same").use_bias(false));
    m->add<L::BatchNormalization>();
    m->add<L::Activation>(L::ActivationOptions("relu"));
  }
  m->add<L::Conv3D>(L::Conv3DOptions(1, 1).activation("sigmoid"));
  m->build({static_cast<std::size_t>(a.batch), static_cast<std::size_t>(n),
            static_cast<std::size_t>(n), static_cast<std::size_t>(n), 1});
  return m;
}

double seconds_of(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  tf::set_num_threads(a.threads);
  const bool own_dir = a.dir.empty();
  const std::string dir =
      own_dir ? (fs::temp_directory_path() / ("tapeflow_data_bench_" + std::to_string(getpid())))
                    .string()
              : a.dir;
  fs::create_directories(dir);
  write_volumes(a, dir);
  std::uintmax_t bytes = 0;
  for (const auto& e : fs::directory_iterator(dir)) bytes += e.file_size();

  const D::Dataset files =
      D::Dataset::from_file_pairs(dir, "_image.nii.gz", "_label.nii.gz", load_volume);
  // The same volumes in memory, for `fit(x, y)`.
  tf::Tensor x, y;
  for (const D::Element& all : files.batch(a.volumes)) x = all[0], y = all[1];
  const D::Dataset unprefetched = files.shuffle(a.volumes, 7).batch(a.batch);
  const D::Dataset prefetched = unprefetched.prefetch(2);

  auto model = make_model(a);
  tf::optim::Adam opt;
  model->compile(opt, "binary_crossentropy");
  // Every way must run the same number of steps: counted, and checked below.
  std::size_t steps_run = 0;
  TR::LambdaCallback::Hooks count;
  count.on_train_batch_end = [&](std::int64_t, TR::Logs&) { ++steps_run; };
  const auto options = TR::FitOptions()
                           .epochs(1)
                           .batch_size(static_cast<long>(a.batch))
                           .verbose(0)
                           .seed(7)
                           .callbacks({std::make_shared<TR::LambdaCallback>(count)});
  const std::size_t steps = (a.volumes + a.batch - 1) / a.batch;
  const std::vector<std::pair<std::string, std::function<void()>>> ways = {
      {"memory", [&] { model->fit(x, y, options); }},
      {"files", [&] { model->fit(unprefetched, options); }},
      {"prefetch", [&] { model->fit(prefetched, options); }},
  };
  std::vector<std::vector<double>> times(ways.size());
  for (int e = -1; e < a.epochs; ++e)  // epoch -1: warm-up, not counted
    for (std::size_t w = 0; w < ways.size(); ++w) {
      steps_run = 0;
      const double s = seconds_of(ways[w].second);
      if (e >= 0) times[w].push_back(s);
      if (steps_run != steps) {
        std::fprintf(stderr, "data_pipeline_bench: %s ran %zu steps, not %zu\n",
                     ways[w].first.c_str(), steps_run, steps);
        return 1;
      }
    }
  std::vector<double> reads;
  for (int e = 0; e < a.epochs; ++e)
    reads.push_back(seconds_of([&] {
      for (const D::Element& b : unprefetched) (void)b;
    }));

  std::printf(
      "data_pipeline_bench: %zu volumes of %zu^3 (%.1f MiB of .nii.gz), batch %zu, %d "
      "threads, median of %d epochs (%zu steps each)\n",
      a.volumes, a.size, double(bytes) / (1 << 20), a.batch, a.threads, a.epochs,
      (a.volumes + a.batch - 1) / a.batch);
  std::printf("  reading and decompressing one epoch's files alone: %.3f s\n", median(reads));
  const double memory = median(times[0]);
  std::printf("  %-9s %8s %10s\n", "epoch", "seconds", "/ memory");
  for (std::size_t w = 0; w < ways.size(); ++w)
    std::printf("  %-9s %8.3f %9.3fx\n", ways[w].first.c_str(), median(times[w]),
                median(times[w]) / memory);
  std::printf("  peak RSS %ld MiB\n", peak_rss_mib());
  if (own_dir) fs::remove_all(dir);
  return 0;
}
