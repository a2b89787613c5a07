// The distributed pieces in one process (a group of 1): the reducer's buckets, shares and
// presence counts, and fit(distributed) equal to fit. tests/distributed runs them on 2 ranks.
#include <memory>

#include "tapeflow/framework/runtime/communicator.hpp"
#include "tapeflow/layers/dense.hpp"
#include "tapeflow/layers/input_layer.hpp"
#include "tapeflow/layers/model.hpp"
#include "tapeflow/optim/adam.hpp"
#include "tapeflow/optim/distributed/distributed_optimizer.hpp"
#include "tapeflow/optim/distributed/distributed_tape.hpp"
#include "tapeflow/optim/distributed/gradient_reducer.hpp"
#include "tapeflow/optim/training/compile_args.hpp"
#include "tapeflow/optim/training/history.hpp"
#include "tapeflow/optim/training/run_options.hpp"
#include "test_util.hpp"

using namespace tapeflow;
namespace D = tapeflow::distributed;
using tapeflow::test::bit_identical;
using tapeflow::test::random_tensor;

namespace {
// Three variables of 4, 6 and 2 floats (16, 24 and 8 bytes) and a loss that reaches two.
struct ReducerCase {
  Variable a{random_tensor({4}, 1), true, "a"};
  Variable b{random_tensor({2, 3}, 2), true, "b"};
  Variable unused{random_tensor({2}, 3), true, "unused"};
  std::vector<Variable> vars() const { return {unused, a, b}; }
  Variable loss() const { return add(sum(mul(a, a)), sum(mul(b, mul(b, b)))); }
};
}  // namespace

TEST_CASE("GradientReducer: one rank's gradients times its share, absent ones absent") {
  D::init();
  ReducerCase c;
  std::vector<Variable> local;
  {
    GradientTape tape;
    local = tape.gradient(c.loss(), c.vars());
  }
  // Reverse order: `b` (24 bytes) alone in the 32-byte first bucket, then `a` and `unused`.
  D::GradientReducer reducer(D::BucketSizes{32, 64});
  auto out = reducer.reduce(local, c.vars(), 0.25f);
  CHECK(reducer.last_stats().buckets == 2);
  CHECK(reducer.last_stats().bytes == 48);
  CHECK(reducer.last_stats().started_early == 0);
  CHECK_FALSE(out[0].defined());
  TF_CHECK_CLOSE(out[1].value(), Tensor(local[1].value() * 0.25f));
  TF_CHECK_CLOSE(out[2].value(), Tensor(local[2].value() * 0.25f));
  // The same through the tape's hook: `b`'s bucket starts during the backward pass; the second
  // waits for `unused`, whose gradient never comes, until finish.
  D::DistributedGradientTape tape(reducer, 0.25f);
  auto during = tape.gradient(c.loss(), c.vars());
  CHECK(reducer.last_stats().started_early == 1);
  CHECK_FALSE(during[0].defined());
  CHECK(bit_identical(during[1].value(), out[1].value()));
  CHECK(bit_identical(during[2].value(), out[2].value()));
}

TEST_CASE("GradientReducer: errors name the reducer and the argument") {
  D::init();
  ReducerCase c;
  CHECK_THROWS_WITH_AS(D::GradientReducer(D::BucketSizes{0, 64}),
                       doctest::Contains("GradientReducer: first_bucket_bytes"), ValueError);
  CHECK_THROWS_WITH_AS(D::GradientReducer(D::BucketSizes{64, 0}),
                       doctest::Contains("GradientReducer: bucket_bytes"), ValueError);
  D::GradientReducer reducer;
  CHECK_THROWS_WITH_AS(reducer.finish(), doctest::Contains("no step begun"), ValueError);
  CHECK_THROWS_WITH_AS(reducer.begin(c.vars(), -1.f), doctest::Contains("share"), ValueError);
  CHECK_THROWS_WITH_AS(reducer.begin({c.a, Variable()}, 1.f), doctest::Contains("undefined"),
                       ValueError);
  reducer.begin(c.vars(), 1.f);
  CHECK_THROWS_WITH_AS(reducer.begin(c.vars(), 1.f), doctest::Contains("already begun"),
                       ValueError);
  CHECK_THROWS_WITH_AS(reducer.ready(3, Variable(Tensor{1.f})), doctest::Contains("index"),
                       ValueError);
  CHECK_THROWS_AS(reducer.ready(1, Variable(Tensor{1.f, 2.f})), ShapeError);
  reducer.finish();
  CHECK_THROWS_WITH_AS(reducer.reduce({Variable()}, c.vars(), 1.f),
                       doctest::Contains("1 gradients for 3 variables"), ValueError);
}

TEST_CASE("DistributedOptimizer and fit(distributed) in one process: the usual training") {
  D::init();
  auto make = [] {
    set_random_seed(4);
    auto in = Input({3});
    auto out = layers::Dense(layers::DenseOptions(2))(in);
    return std::make_shared<Model>(in, out);
  };
  const Tensor x = random_tensor({8, 3}, 5), y = random_tensor({8, 2}, 6);
  auto plain = make(), across = make();
  plain->compile("adam", "mse");
  across->compile("adam", "mse");
  const auto options = training::FitOptions().epochs(2).batch_size(4).seed(1).verbose(0);
  plain->fit(x, y, options);
  across->fit(x, y, training::FitOptions(options).distributed(true));
  for (std::size_t k = 0; k < plain->get_weights().size(); ++k)
    CHECK(bit_identical(plain->get_weights()[k], across->get_weights()[k]));

  auto hand = make();
  optim::Adam adam;
  D::DistributedOptimizer dist(std::make_shared<optim::Adam>());
  auto hand_vars = hand->trainable_variables();
  auto ref = make();
  auto ref_vars = ref->trainable_variables();
  dist.broadcast_state(hand->variables());
  for (int step = 0; step < 3; ++step) {
    dist.minimize([&] { return mean(square(sub((*hand)(Variable(x), true), y))); }, hand_vars);
    adam.minimize([&] { return mean(square(sub((*ref)(Variable(x), true), y))); }, ref_vars);
  }
  CHECK(dist.optimizer().iterations() == 3);
  CHECK(hand_vars[0].grad().has_value());
  for (std::size_t k = 0; k < hand_vars.size(); ++k)
    CHECK(bit_identical(hand_vars[k].value(), ref_vars[k].value()));
}
