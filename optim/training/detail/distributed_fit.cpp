#include "tapeflow/optim/training/detail/distributed_fit.hpp"

#include <vector>

#include "tapeflow/framework/runtime/communicator.hpp"
#include "tapeflow/layers/model.hpp"
#include "tapeflow/optim/distributed/broadcast.hpp"

namespace tapeflow::training::detail {

namespace D = tapeflow::distributed;

std::int64_t agree_steps(std::int64_t local_steps) {
  D::all_reduce(&local_steps, 1, D::ReduceOp::min);
  return local_steps;
}

bool agree_stop(bool local_stop) {
  std::int64_t stop = local_stop ? 1 : 0;
  D::all_reduce(&stop, 1, D::ReduceOp::max);
  return stop != 0;
}

std::size_t total_rows(std::size_t local_rows) {
  auto rows = static_cast<std::int64_t>(local_rows);
  D::all_reduce(&rows, 1);
  return static_cast<std::size_t>(rows);
}

void broadcast_start(layers::Model& model, optim::Optimizer& optimizer, FitPosition& position) {
  D::broadcast_variables(model.variables());
  D::broadcast_optimizer_state(optimizer, model.trainable_variables());
  std::int64_t p[3] = {position.epoch, position.batch,
                       static_cast<std::int64_t>(position.shuffle_seed)};
  D::broadcast(p, 3);
  position.epoch = static_cast<int>(p[0]);
  position.batch = p[1];
  position.shuffle_seed = static_cast<std::uint64_t>(p[2]);
}

void average_logs(Logs& logs, double samples) {
  std::vector<double> sums;
  sums.reserve(logs.items().size() + 1);
  for (const auto& [name, value] : logs.items()) sums.push_back(value * samples);
  sums.push_back(samples);
  D::all_reduce(sums.data(), sums.size());
  const double total = sums.back();
  if (total <= 0) return;
  std::size_t i = 0;
  const auto items = logs.items();
  for (const auto& [name, value] : items) logs.set(name, sums[i++] / total);
}

}  // namespace tapeflow::training::detail
