#include "tapeflow/optim/distributed/distributed_tape.hpp"

#include "tapeflow/framework/runtime/communicator.hpp"

namespace tapeflow::distributed {

float equal_share() { return 1.f / static_cast<float>(size()); }

DistributedGradientTape::DistributedGradientTape(GradientReducer& reducer,
                                                 std::optional<float> share, bool persistent)
    : GradientTape(persistent), reducer_(reducer), share_(share) {}

std::vector<Variable> DistributedGradientTape::gradient(const Variable& target,
                                                        const std::vector<Variable>& sources) {
  const float share = share_.value_or(equal_share());
  // One process computing the whole loss: nothing to reduce.
  if (size() == 1 && share == 1.f) return GradientTape::gradient(target, sources);
  reducer_.begin(sources, share);
  set_gradient_ready_hook(
      [this](std::size_t index, const Variable& grad) { reducer_.ready(index, grad); });
  std::vector<Variable> local;
  try {
    local = GradientTape::gradient(target, sources);
  } catch (...) {
    set_gradient_ready_hook({});
    // The other ranks wait for this rank's buckets: end the step's collectives before the
    // error goes on (this rank adds what it has).
    reducer_.finish();
    throw;
  }
  set_gradient_ready_hook({});
  // Gradients the hook did not see (none should be missing, but a source may be the target).
  for (std::size_t i = 0; i < local.size(); ++i)
    if (local[i].defined()) reducer_.ready(i, local[i]);
  return reducer_.finish();
}

}  // namespace tapeflow::distributed
