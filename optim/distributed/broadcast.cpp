#include "tapeflow/optim/distributed/broadcast.hpp"

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <cstdint>
#include <sstream>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/runtime/communicator.hpp"
#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::distributed {

void broadcast_variables(const std::vector<Variable>& vars, int root) {
  const std::string where = "broadcast_variables";
  std::vector<std::int64_t> layout{static_cast<std::int64_t>(vars.size())};
  for (std::size_t i = 0; i < vars.size(); ++i) {
    if (!vars[i].defined()) fail(where, "variable " + std::to_string(i) + " is undefined");
    layout.push_back(static_cast<std::int64_t>(vars[i].value().size()));
  }
  // Every rank checks its layout against root's before any value moves, so all fail together:
  // first the counts, then (equal counts) the sizes; each check ends in the same all-reduce on
  // every rank.
  auto differs_anywhere = [](bool here) {
    std::int64_t any = here ? 1 : 0;
    all_reduce(&any, 1, ReduceOp::max);
    return any != 0;
  };
  std::int64_t count = layout[0];
  broadcast(&count, 1, root);
  bool differs = differs_anywhere(count != layout[0]);
  if (!differs) {
    std::vector<std::int64_t> roots = layout;
    broadcast(roots.data(), roots.size(), root);
    differs = differs_anywhere(roots != layout);
  }
  if (differs)
    fail(where, "the ranks' variables differ in number or size (rank " + std::to_string(root) +
                    " has " + std::to_string(count) + ", this rank " + std::to_string(vars.size()) +
                    "): every rank must build the same model");
  if (size() == 1) return;
  for (const auto& v : vars) {
    Tensor t = v.value();
    broadcast(t.data(), t.size(), root);
    if (rank() != root) Variable(v).assign(std::move(t));
  }
}

void broadcast_optimizer_state(optim::Optimizer& optimizer, const std::vector<Variable>& vars,
                               int root) {
  optimizer.build(vars);
  if (size() == 1) return;
  std::string bytes;
  if (rank() == root) {
    std::ostringstream os(std::ios::binary);
    {
      boost::archive::binary_oarchive ar(os);
      optimizer.save_state(ar);
    }
    bytes = os.str();
  }
  broadcast(bytes, root);
  if (rank() != root) {
    std::istringstream is(bytes, std::ios::binary);
    boost::archive::binary_iarchive ar(is);
    optimizer.load_state(ar);
  }
}

}  // namespace tapeflow::distributed
