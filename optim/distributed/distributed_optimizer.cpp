#include "tapeflow/optim/distributed/distributed_optimizer.hpp"

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/optim/distributed/broadcast.hpp"
#include "tapeflow/optim/distributed/distributed_tape.hpp"
#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::distributed {

DistributedOptimizer::DistributedOptimizer(std::shared_ptr<optim::Optimizer> optimizer,
                                           BucketSizes buckets)
    : optimizer_(std::move(optimizer)), reducer_(buckets) {
  if (!optimizer_) fail("DistributedOptimizer: optimizer", "is null");
}

void DistributedOptimizer::broadcast_state(const std::vector<Variable>& vars) {
  broadcast_variables(vars);
  std::vector<Variable> trainable;
  for (const auto& v : vars)
    if (v.trainable()) trainable.push_back(v);
  broadcast_optimizer_state(*optimizer_, trainable);
}

Variable DistributedOptimizer::minimize(const std::function<Variable()>& loss_fn,
                                        const std::vector<Variable>& vars,
                                        std::optional<float> share) {
  std::vector<Variable> grads;
  Variable loss;
  {
    DistributedGradientTape tape(reducer_, share);
    loss = loss_fn();
    grads = tape.gradient(loss, vars);
  }
  optim::store_gradients(vars, grads);
  optimizer_->apply_gradients(grads, vars);
  return loss;
}

void DistributedOptimizer::apply_gradients(const std::vector<Variable>& grads,
                                           const std::vector<Variable>& vars,
                                           std::optional<float> share) {
  optimizer_->apply_gradients(reducer_.reduce(grads, vars, share.value_or(equal_share())), vars);
}

}  // namespace tapeflow::distributed
