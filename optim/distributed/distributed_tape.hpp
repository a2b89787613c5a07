#pragma once
/// `DistributedGradientTape`: a `GradientTape` whose `gradient` returns the gradients averaged
/// over the ranks, their all-reduces started during the backward pass as each bucket fills
/// (Horovod's `DistributedGradientTape`; PyTorch DDP does the same from autograd hooks).
///
/// Example, a hand-written data-parallel step:
/// ```
/// namespace D = tapeflow::distributed;
/// D::GradientReducer reducer;            // kept across steps: its buffers are reused
/// auto vars = model.trainable_variables();
/// D::DistributedGradientTape tape(reducer);
/// auto loss = tapeflow::mean(tapeflow::square(model(x, true) - y));   // this rank's batch
/// optimizer.apply_gradients(tape.gradient(loss, vars), vars);
/// ```
#include <optional>
#include <vector>

#include "tapeflow/framework/core/tape.hpp"
#include "tapeflow/optim/distributed/gradient_reducer.hpp"

namespace tapeflow::distributed {

class DistributedGradientTape : public GradientTape {
 public:
  /// `share`: this rank's share of the global loss (unset: 1 / size(), the mean over ranks with
  /// batches of equal size). `reducer` must outlive the tape.
  explicit DistributedGradientTape(GradientReducer& reducer,
                                   std::optional<float> share = std::nullopt,
                                   bool persistent = false);

  /// d target / d source summed over the ranks, each rank's weighted by its share (undefined
  /// where no rank has a gradient). Every rank calls it with the same sources. Errors as
  /// `GradientTape::gradient`, and `GradientReducer::begin`'s.
  std::vector<Variable> gradient(const Variable& target, const std::vector<Variable>& sources);

 private:
  GradientReducer& reducer_;
  std::optional<float> share_;
};

/// 1 / size(): each rank's share when all compute the mean loss over batches of equal size.
float equal_share();

}  // namespace tapeflow::distributed
