#pragma once
/// The start of data-parallel training: every rank takes rank 0's weights and optimizer state,
/// so that all start identical (Horovod's `broadcast_variables` and
/// `broadcast_optimizer_state`; PyTorch DDP broadcasts the module's state at construction).
#include <vector>

#include "tapeflow/framework/core/variable.hpp"

namespace tapeflow::optim {
class Optimizer;
}

namespace tapeflow::distributed {

/// `root`'s values of `vars` (trainable or not: BatchNormalization's moving statistics too)
/// assigned on every rank. Every rank passes the same list. Errors (on every rank alike): the
/// ranks' lists differ in length or shapes, an undefined variable.
void broadcast_variables(const std::vector<Variable>& vars, int root = 0);

/// `root`'s optimizer state (iterations, hyperparameters, learning rate, every slot) restored on
/// every rank. The slots of `vars` are built first on every rank, so that a state taken before
/// the first step is complete. Errors: the ranks' optimizers are of different kinds (the
/// archive's error, on those ranks).
void broadcast_optimizer_state(optim::Optimizer& optimizer, const std::vector<Variable>& vars,
                               int root = 0);

}  // namespace tapeflow::distributed
