// The process group of a program started without an MPI launcher: one rank, every collective
// its identity (tests/distributed runs the same calls under mpirun with 2 ranks).
#include <cstdint>
#include <string>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/ops/collective.hpp"
#include "tapeflow/framework/runtime/communicator.hpp"
#include "test_util.hpp"

namespace D = tapeflow::distributed;

TEST_CASE("distributed, started alone: rank 0 of a group of 1, collectives return their input") {
  D::init();
  D::init();  // idempotent
  CHECK(D::initialized());
  CHECK(D::size() == 1);
  CHECK(D::local_size() == 1);
  CHECK(D::rank() == 0);
  CHECK(D::is_chief());
  float f[3] = {1.f, -2.f, 3.5f};
  D::all_reduce(f, 3);
  D::all_reduce(f, 3, D::ReduceOp::max);
  CHECK(f[1] == -2.f);
  std::int64_t i[1] = {7};
  D::all_reduce(i, 1, D::ReduceOp::min);
  D::broadcast(i, 1);
  CHECK(i[0] == 7);
  std::string bytes = "state";
  D::broadcast(bytes);
  CHECK(bytes == "state");
  CHECK_THROWS_WITH_AS(D::broadcast(f, 3, 1), doctest::Contains("distributed.broadcast: root"),
                       tapeflow::ValueError);
  auto pending = D::start_all_reduce(f, 3);
  CHECK(pending.test());
  pending.wait();
  CHECK(f[2] == 3.5f);
  D::barrier();
}

TEST_CASE("all_reduce_sum of one rank: the value, and the gradient passes through") {
  D::init();
  tapeflow::Variable x(tapeflow::Tensor{1.f, 2.f}, true, "x");
  tapeflow::GradientTape tape;
  auto y = tapeflow::all_reduce_sum(tapeflow::mul(x, x));
  auto g = tape.gradient(tapeflow::sum(y), {x});
  TF_CHECK_CLOSE(y.value(), (tapeflow::Tensor{1.f, 4.f}));
  TF_CHECK_CLOSE(g[0].value(), (tapeflow::Tensor{2.f, 4.f}));
}
