#pragma once
/// `GradientReducer`: the gradients of one training step, weighted by each rank's share of the
/// global loss and summed over the ranks, in buckets whose all-reduces start during the
/// backward pass (PyTorch DDP's reducer, Horovod's tensor fusion).
///
/// The variables are put into buckets in reverse order (the backward pass finishes the last
/// layers' gradients first): the first bucket holds about `first_bucket_bytes` (1 MiB) so that
/// communication starts early, the others about `bucket_bytes` (25 MiB, DDP's defaults). A
/// variable never spans two buckets. During the backward pass the tape reports each gradient
/// as it becomes final (`GradientTape::set_gradient_ready_hook`); the reducer copies it, times
/// this rank's share, into its bucket, and starts the bucket's all-reduce once the bucket is
/// full and every bucket before it has started (every rank starts them in the same order, as
/// MPI requires). `finish` starts the buckets still waiting (gradients no op produced count as
/// absent), waits for all of them and unpacks the results.
///
/// A variable whose gradient never comes (not used by the loss) holds its bucket, and so every
/// later one, back until `finish`: keep such variables out of the list to keep the overlap.
///
/// A variable without a gradient on every rank stays without one (undefined, so the optimizer
/// leaves it alone, as on one process); one that has a gradient on some rank gets the sum, with
/// the ranks that had none adding 0. Each bucket carries one presence count per variable for
/// that.
///
/// The result does not depend on when the buckets started: the sums are the same MPI
/// all-reduces of the same buffers either way (`reduce`, the same buckets after the backward
/// pass, gives identical values).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tapeflow/framework/core/variable.hpp"
#include "tapeflow/framework/runtime/communicator.hpp"

namespace tapeflow::distributed {

/// The bucket sizes (bytes of float32 gradient data).
struct BucketSizes {
  std::size_t first_bucket_bytes = std::size_t{1} << 20;
  std::size_t bucket_bytes = std::size_t{25} << 20;
};

/// What the last step's reduction did and cost.
struct ReduceStats {
  std::size_t buckets = 0;
  std::size_t bytes = 0;          // gradient bytes reduced (presence counts excluded)
  std::size_t started_early = 0;  // buckets started during the backward pass
  double wait_seconds = 0;        // time `finish` waited for the reduces: what did not overlap
};

class GradientReducer {
 public:
  /// Errors: a bucket size of 0.
  explicit GradientReducer(BucketSizes sizes = {});

  /// Starts a step over `vars` with this rank's `share` of the global loss (its gradients are
  /// multiplied by it before the sum; 1 / size() when every rank's loss is the mean over an
  /// equal batch). The first step over a list checks that every rank passes the same variable
  /// shapes (a ValueError on every rank if not). Errors: a step already begun, `share` not
  /// finite or negative, an undefined variable.
  void begin(const std::vector<Variable>& vars, float share);
  /// The tape's hook: the gradient of `vars[index]` is final.
  void ready(std::size_t index, const Variable& gradient);
  /// Starts what is left, waits for every bucket and returns the summed gradients, one per
  /// variable (undefined where no rank had one). Errors: no step begun.
  std::vector<Variable> finish();

  /// The whole step at once, after the backward pass: `begin`, every defined gradient, `finish`.
  std::vector<Variable> reduce(const std::vector<Variable>& gradients,
                               const std::vector<Variable>& vars, float share);

  const ReduceStats& last_stats() const { return stats_; }
  const BucketSizes& sizes() const { return sizes_; }

 private:
  struct Bucket {
    std::vector<std::size_t> vars;  // indices into the step's variables
    std::vector<float> buffer;      // gradients, then one presence count per variable
    std::size_t filled = 0;         // variables whose gradient arrived
    PendingReduce pending;
  };
  void layout(const std::vector<Variable>& vars);
  void start(Bucket& bucket);
  void start_ready_buckets();

  BucketSizes sizes_;
  // The layout, rebuilt when the variables change.
  std::vector<std::uint64_t> ids_;
  std::vector<std::size_t> bucket_of_, offset_;  // per variable: its bucket, its data offset
  std::vector<Shape> shapes_;
  std::vector<Bucket> buckets_;
  // The step.
  bool active_ = false;
  float share_ = 1.f;
  std::vector<char> arrived_;
  std::size_t next_to_start_ = 0;
  ReduceStats stats_;
};

}  // namespace tapeflow::distributed
