#pragma once
/// `DistributedOptimizer`: any optimizer, its gradients averaged over the ranks before each
/// update (Horovod's `DistributedOptimizer`). The update itself is the wrapped optimizer's,
/// constraints included: every rank applies the same averaged gradients to the same weights,
/// so the ranks stay identical.
///
/// Example:
/// ```
/// namespace D = tapeflow::distributed;
/// D::init();
/// D::DistributedOptimizer opt(std::make_shared<tapeflow::optim::Adam>());
/// auto vars = model.trainable_variables();
/// opt.broadcast_state(model.variables());          // every rank starts from rank 0's state
/// for (auto& [x, y] : my_shard)                     // this rank's part of each global batch
///   opt.minimize([&] { return tapeflow::mean(tapeflow::square(model(x, true) - y)); }, vars);
/// ```
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "tapeflow/framework/core/variable.hpp"
#include "tapeflow/optim/distributed/gradient_reducer.hpp"

namespace tapeflow::optim {
class Optimizer;
}

namespace tapeflow::distributed {

class DistributedOptimizer {
 public:
  /// Errors: a null optimizer; bucket sizes of 0.
  explicit DistributedOptimizer(std::shared_ptr<optim::Optimizer> optimizer,
                                BucketSizes buckets = {});

  optim::Optimizer& optimizer() { return *optimizer_; }
  GradientReducer& reducer() { return reducer_; }

  /// Rank 0's values of `vars` (all the model's variables) and its optimizer state to every
  /// rank (`broadcast_variables`, `broadcast_optimizer_state`); call it once before training.
  void broadcast_state(const std::vector<Variable>& vars);

  /// `loss_fn` (this rank's loss) under a `DistributedGradientTape`, whose all-reduces overlap
  /// the backward pass, then the update with the averaged gradients (stored on the variables as
  /// `Variable::grad` too, as `Optimizer::minimize` does). `share`: this rank's share of the
  /// global loss (unset: 1 / size()). Returns this rank's loss.
  Variable minimize(const std::function<Variable()>& loss_fn, const std::vector<Variable>& vars,
                    std::optional<float> share = std::nullopt);
  /// Averages `grads` over the ranks (the same buckets, after the backward pass), then applies
  /// them. Every rank calls it with the same variables.
  void apply_gradients(const std::vector<Variable>& grads, const std::vector<Variable>& vars,
                       std::optional<float> share = std::nullopt);

 private:
  std::shared_ptr<optim::Optimizer> optimizer_;
  GradientReducer reducer_;
};

}  // namespace tapeflow::distributed
