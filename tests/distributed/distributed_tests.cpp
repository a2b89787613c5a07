// Data-parallel training across processes: run under `mpirun -np 2` (tests/CMakeLists.txt
// registers it as distributed/mpirun_np2). Every rank runs every case; the cases compare the
// ranks with each other through collectives, and with one process trained on the combined
// batch, which each rank computes itself (the same model from the same weights, the whole batch,
// no reduction).
//
// Tolerance against one process: 1e-6 of the largest weight (at least 1) after 20 Adam steps
// (seen: 1.2e-7). The two compute the same mean loss, but each rank's batch-mean gradient is
// summed in another order than the whole batch's (GEMM blocking, the shares' products), so the
// weights differ in the last bits from the first step on; Adam's normalized update keeps those
// differences at a few float32 ulps of the step size per step. The ranks themselves agree
// bitwise: they apply the same reduced gradients to the same weights.
//
// Only CHECK, never REQUIRE: a rank that left a case early would skip the collectives the other
// rank then waits for.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <tapeflow.hpp>
#include <vector>
#include <xtensor/xview.hpp>

#include "test_util.hpp"

namespace tf = tapeflow;
namespace D = tapeflow::distributed;
namespace L = tapeflow::layers;
namespace TR = tapeflow::training;
using tf::test::random_tensor;

namespace {

// The largest difference between the ranks' values of the same variables (0: all identical).
float rank_spread(const std::vector<tf::Tensor>& values) {
  float spread = 0.f;
  for (const auto& v : values) {
    tf::Tensor lo = v, hi = v;
    D::all_reduce(lo.data(), lo.size(), D::ReduceOp::min);
    D::all_reduce(hi.data(), hi.size(), D::ReduceOp::max);
    for (std::size_t i = 0; i < lo.size(); ++i)
      spread = std::max(spread, hi.data()[i] - lo.data()[i]);
  }
  return spread;
}

// max |a - b| over the weights, relative to the largest |b| (at least 1).
float relative_difference(const std::vector<tf::Tensor>& a, const std::vector<tf::Tensor>& b) {
  float diff = 0.f, scale = 1.f;
  CHECK(a.size() == b.size());
  for (std::size_t k = 0; k < a.size() && k < b.size(); ++k)
    for (std::size_t i = 0; i < a[k].size(); ++i) {
      diff = std::max(diff, std::abs(a[k].data()[i] - b[k].data()[i]));
      scale = std::max(scale, std::abs(b[k].data()[i]));
    }
  return diff / scale;
}

enum class Norm { none, batch, sync };

// Conv3D -> [normalization] -> Conv3DTranspose (strides 2) -> Flatten -> Dense, on 4^3 x 1.
std::shared_ptr<tf::Model> conv_model(Norm norm = Norm::none) {
  auto in = tf::Input({4, 4, 4, 1});
  auto x = L::Conv3D(L::Conv3DOptions(3, 3).padding("same").activation("tanh"))(in);
  if (norm == Norm::batch) x = L::BatchNormalization()(x);
  if (norm == Norm::sync) x = L::SyncBatchNormalization()(x);
  x = L::Conv3DTranspose(L::Conv3DTransposeOptions(2, 2).strides(2))(x);
  x = L::Flatten()(x);
  auto out = L::Dense(L::DenseOptions(2))(x);
  return std::make_shared<tf::Model>(in, out);
}

// The same samples on every rank (a shared seed): 8 volumes and their targets.
struct Data {
  tf::Tensor x = random_tensor({8, 4, 4, 4, 1}, 11);
  tf::Tensor y = random_tensor({8, 2}, 12);
};

// A model whose weights start different on each rank (its own seed), as separately started
// processes would, unless the broadcast fixes them.
std::shared_ptr<tf::Model> rank_seeded_model(Norm norm = Norm::none) {
  tf::set_random_seed(100 + static_cast<std::uint64_t>(D::rank()));
  return conv_model(norm);
}

// The distributed model and a single-process reference from the same start, each fit for 20
// steps (10 epochs of 2 global batches of 4); returns {distributed weights, reference weights}.
std::pair<std::vector<tf::Tensor>, std::vector<tf::Tensor>> fit_both(Norm norm) {
  Data d;
  auto model = rank_seeded_model(norm);
  auto reference = conv_model(norm);
  model->compile(std::make_shared<tf::optim::Adam>(tf::optim::AdamOptions().learning_rate(1e-2f)),
                 "mse");
  reference->compile(
      std::make_shared<tf::optim::Adam>(tf::optim::AdamOptions().learning_rate(1e-2f)), "mse");
  const auto options = TR::FitOptions().epochs(10).batch_size(4).seed(5).verbose(0);
  // The reference starts from rank 0's weights, which the distributed fit broadcasts.
  std::vector<tf::Tensor> start = model->get_weights();
  for (auto& t : start) D::broadcast(t.data(), t.size());
  reference->set_weights(start);
  model->fit(d.x, d.y, TR::FitOptions(options).distributed(true));
  reference->fit(d.x, d.y, options);
  return {model->get_weights(), reference->get_weights()};
}

}  // namespace

TEST_CASE("distributed: two ranks, rank 0 the chief") {
  CHECK(D::built_with_mpi());
  CHECK(D::initialized());
  CHECK(D::size() == 2);
  CHECK(D::is_chief() == (D::rank() == 0));
  std::int64_t ranks[1] = {D::rank()};
  D::all_reduce(ranks, 1);
  CHECK(ranks[0] == 1);  // 0 + 1
}

TEST_CASE("distributed: broadcast_variables gives every rank rank 0's weights") {
  auto model = rank_seeded_model(Norm::batch);
  CHECK(rank_spread(model->get_weights()) > 0.f);  // the seeds differ
  D::broadcast_variables(model->variables());
  CHECK(rank_spread(model->get_weights()) == 0.f);
  // A rank with other variables is an error on every rank, not a hang.
  std::vector<tf::Variable> vars = model->variables();
  if (D::rank() == 1) vars.pop_back();
  CHECK_THROWS_AS(D::broadcast_variables(vars), tf::ValueError);
}

TEST_CASE(
    "distributed: the overlapped, bucketed reduction equals a plain all-reduce after backward") {
  Data d;
  auto model = rank_seeded_model();
  D::broadcast_variables(model->variables());
  const auto vars = model->trainable_variables();
  const std::size_t lo = 4 * static_cast<std::size_t>(D::rank());
  tf::Tensor x = xt::view(d.x, xt::range(lo, lo + 4)), y = xt::view(d.y, xt::range(lo, lo + 4));
  auto loss_of = [&] { return tf::mean(tf::square(tf::sub((*model)(tf::Variable(x), true), y))); };
  // Small buckets: several of them, most started while the backward pass runs.
  D::GradientReducer overlapped(D::BucketSizes{256, 1024}), plain(D::BucketSizes{256, 1024});
  std::vector<tf::Variable> during;
  {
    D::DistributedGradientTape tape(overlapped);
    during = tape.gradient(loss_of(), vars);
  }
  std::vector<tf::Variable> local;
  {
    tf::GradientTape tape;
    local = tape.gradient(loss_of(), vars);
  }
  auto after = plain.reduce(local, vars, D::equal_share());
  CHECK(overlapped.last_stats().buckets > 2);
  CHECK(overlapped.last_stats().started_early > 0);
  CHECK(plain.last_stats().started_early == 0);
  for (std::size_t k = 0; k < vars.size(); ++k) {
    CHECK(tf::test::bit_identical(during[k].value(), after[k].value()));
    // The sum of the ranks' halves: not this rank's own gradient.
    CHECK_FALSE(tf::test::bit_identical(after[k].value(), local[k].value()));
  }
  std::vector<tf::Tensor> reduced;
  for (const auto& g : after) reduced.push_back(g.value());
  CHECK(rank_spread(reduced) == 0.f);
}

TEST_CASE("distributed: 20 steps of fit equal one process on the combined batch") {
  auto [dist, single] = fit_both(Norm::none);
  CHECK(rank_spread(dist) == 0.f);
  const float diff = relative_difference(dist, single);
  MESSAGE("max relative difference to one process: " << diff);
  CHECK(diff < 1e-6f);
}

TEST_CASE("distributed: a hand-written loop with DistributedOptimizer equals one process") {
  Data d;
  auto model = rank_seeded_model();
  auto reference = conv_model();
  D::DistributedOptimizer opt(
      std::make_shared<tf::optim::Adam>(tf::optim::AdamOptions().learning_rate(1e-2f)));
  tf::optim::Adam ref_opt(tf::optim::AdamOptions().learning_rate(1e-2f));
  opt.broadcast_state(model->variables());
  reference->set_weights(model->get_weights());
  const auto vars = model->trainable_variables(), ref_vars = reference->trainable_variables();
  for (int step = 0; step < 20; ++step) {
    const std::size_t at = 4 * static_cast<std::size_t>(step % 2);
    tf::Tensor x = xt::view(d.x, xt::range(at, at + 4)), y = xt::view(d.y, xt::range(at, at + 4));
    const std::size_t lo = 2 * static_cast<std::size_t>(D::rank());
    tf::Tensor xr = xt::view(x, xt::range(lo, lo + 2)), yr = xt::view(y, xt::range(lo, lo + 2));
    opt.minimize(
        [&] { return tf::mean(tf::square(tf::sub((*model)(tf::Variable(xr), true), yr))); }, vars);
    ref_opt.minimize(
        [&] { return tf::mean(tf::square(tf::sub((*reference)(tf::Variable(x), true), y))); },
        ref_vars);
  }
  CHECK(opt.optimizer().iterations() == 20);
  CHECK(rank_spread(model->get_weights()) == 0.f);
  const float diff = relative_difference(model->get_weights(), reference->get_weights());
  MESSAGE("max relative difference to one process: " << diff);
  CHECK(diff < 1e-6f);
}

TEST_CASE(
    "distributed: SyncBatchNormalization trains as one process; BatchNormalization does not") {
  auto [dist, single] = fit_both(Norm::sync);
  CHECK(rank_spread(dist) == 0.f);  // moving statistics included: they are global
  const float diff = relative_difference(dist, single);
  MESSAGE("SyncBatchNormalization: max relative difference to one process: " << diff);
  CHECK(diff < 1e-6f);
  // Per-rank statistics (as PyTorch DDP's BatchNorm) follow another trajectory, and leave
  // each rank with its own moving statistics.
  auto [per_rank, single_bn] = fit_both(Norm::batch);
  CHECK(relative_difference(per_rank, single_bn) > 1e-3f);
  CHECK(rank_spread(per_rank) > 0.f);
}

TEST_CASE("distributed: constraints apply after each update, alike on every rank") {
  Data d;
  tf::set_random_seed(100 + static_cast<std::uint64_t>(D::rank()));
  auto in = tf::Input({4, 4, 4, 1});
  auto x = L::Flatten()(in);
  auto out = L::Dense(L::DenseOptions(2).kernel_constraint("non_neg"))(x);
  auto model = std::make_shared<tf::Model>(in, out);
  model->compile("sgd", "mse");
  model->fit(d.x, d.y, TR::FitOptions().epochs(3).batch_size(4).verbose(0).distributed(true));
  const tf::Tensor kernel = model->get_weights()[0];
  CHECK(*std::min_element(kernel.begin(), kernel.end()) >= 0.f);
  CHECK(*std::max_element(kernel.begin(), kernel.end()) > 0.f);
  CHECK(rank_spread(model->get_weights()) == 0.f);
}

TEST_CASE("distributed: dataset shards of unequal length run the fewest steps on every rank") {
  Data d;
  // 5 batches of 1 + 1 left: rank 0's shard has 3, rank 1's 2; both run 2 steps per epoch.
  auto ds = tf::data::Dataset::from_tensor_slices({d.x, d.y}).take(5).batch(1);
  auto model = rank_seeded_model();
  model->compile("sgd", "mse");
  std::int64_t batches = 0;
  TR::LambdaCallback::Hooks hooks;
  hooks.on_train_batch_end = [&](std::int64_t, TR::Logs&) { ++batches; };
  model->fit(ds, TR::FitOptions().epochs(3).verbose(0).distributed(true).callbacks(
                     {std::make_shared<TR::LambdaCallback>(hooks)}));
  CHECK(batches == 6);
  CHECK(model->compiled_optimizer().iterations() == 6);
  CHECK(rank_spread(model->get_weights()) == 0.f);
}

TEST_CASE("distributed: one rank's stop_training stops every rank at the same batch") {
  Data d;
  auto model = rank_seeded_model();
  model->compile("sgd", "mse");
  TR::LambdaCallback::Hooks hooks;
  hooks.on_train_batch_end = [&](std::int64_t batch, TR::Logs&) {
    if (D::rank() == 1 && batch == 2) model->stop_training = true;
  };
  auto h =
      model->fit(d.x, d.y,
                 TR::FitOptions().epochs(5).batch_size(2).verbose(0).distributed(true).callbacks(
                     {std::make_shared<TR::LambdaCallback>(hooks)}));
  CHECK(model->compiled_optimizer().iterations() == 3);
  CHECK(h.epoch.size() == 1);
  CHECK(rank_spread(model->get_weights()) == 0.f);
}

TEST_CASE("distributed: rank 0 alone writes checkpoints and CSV logs; the logs agree") {
  Data d;
  namespace fs = std::filesystem;
  // Each rank names its own folder, so the files show who wrote.
  const fs::path dir =
      fs::temp_directory_path() / ("tapeflow_distributed_rank" + std::to_string(D::rank()));
  fs::remove_all(dir);
  auto model = rank_seeded_model();
  auto reference = conv_model();
  model->compile("adam", "mse");
  reference->compile("adam", "mse");
  std::vector<tf::Tensor> start = model->get_weights();
  for (auto& t : start) D::broadcast(t.data(), t.size());
  reference->set_weights(start);
  const auto options = TR::FitOptions().epochs(2).batch_size(4).seed(3).verbose(0).validation_data(
      TR::ValidationData(d.x, d.y));
  auto checkpoint = std::make_shared<TR::ModelCheckpoint>(
      TR::ModelCheckpointOptions((dir / "model.tfw").string()));
  auto h =
      model->fit(d.x, d.y,
                 TR::FitOptions(options).distributed(true).callbacks(
                     {checkpoint, std::make_shared<TR::CSVLogger>((dir / "log.csv").string())}));
  auto want = reference->fit(d.x, d.y, options);
  CHECK(fs::exists(dir / "model.tfw") == D::is_chief());
  CHECK(checkpoint->last_saved() == (dir / "model.tfw").string());  // every rank knows the file
  CHECK(fs::exists(dir / "log.csv") == D::is_chief());
  for (const char* key : {"loss", "val_loss"}) {
    const auto& values = h.history.at(key);
    std::vector<tf::Tensor> got{tf::Tensor::from_shape({values.size()})};
    std::copy(values.begin(), values.end(), got[0].data());
    CHECK(rank_spread(got) == 0.f);
    for (std::size_t e = 0; e < 2; ++e)
      CHECK(h.history.at(key)[e] == doctest::Approx(want.history.at(key)[e]).epsilon(1e-5));
  }
  fs::remove_all(dir);
}

TEST_CASE("distributed: a batch_size below the number of ranks is an error on every rank") {
  Data d;
  auto model = rank_seeded_model();
  model->compile("sgd", "mse");
  CHECK_THROWS_WITH_AS(
      model->fit(d.x, d.y, TR::FitOptions().batch_size(1).verbose(0).distributed(true)),
      doctest::Contains("fit: batch_size"), tf::ValueError);
}

int main(int argc, char** argv) {
  D::init();
  tf::set_num_threads(1);  // two ranks on two cores
  doctest::Context context(argc, argv);
  const int failed = context.run();
  // Every rank reports; the job fails when any rank failed.
  std::int64_t any[1] = {failed != 0};
  D::all_reduce(any, 1, D::ReduceOp::max);
  return any[0] ? 1 : 0;
}
