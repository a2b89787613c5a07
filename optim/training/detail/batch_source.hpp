#pragma once
/// Where `fit`, `evaluate` and `predict` take their batches from: tensors cut into batches of
/// rows (shuffled per pass), or a `data::Dataset` whose elements are batches. Both can start at
/// any (epoch, batch), which is how a resumed fit continues where it stopped.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "tapeflow/framework/data/dataset.hpp"
#include "tapeflow/optim/training/samples.hpp"

namespace tapeflow::training::detail {

class BatchSource {
 public:
  virtual ~BatchSource() = default;
  /// Batches per epoch.
  virtual std::int64_t steps() const = 0;
  /// The next batch is then batch `batch` of epoch `epoch`; `shuffle_seed` orders shuffled
  /// tensors (a dataset's shuffles have their own seeds).
  virtual void seek(int epoch, std::int64_t batch, std::uint64_t shuffle_seed) = 0;
  /// The next batch. Errors: the data ran out before the epoch's steps (naming `where`).
  virtual Samples next() = 0;
};

/// Batches of `batch_size` rows of `data`, in `shuffled_order(n, seed, pass)` or in order; one
/// pass per epoch, or with `steps_per_epoch` a stream of passes cut into epochs of that many
/// batches.
std::unique_ptr<BatchSource> tensor_batches(Samples data, std::int64_t batch_size, bool shuffle,
                                            std::optional<std::int64_t> steps_per_epoch);

/// The dataset's elements as batches: the first `inputs` components are the model's inputs,
/// the next `targets` its targets (0 for predict: the rest is ignored). One pass per epoch
/// (`Dataset::iterate(epoch)`), or with `steps_per_epoch` a stream of passes cut into epochs
/// of that many batches (needed for an infinite dataset). Errors (starting with `where`): an
/// infinite dataset without steps_per_epoch, an empty one, elements with too few components.
std::unique_ptr<BatchSource> dataset_batches(const data::Dataset& dataset, std::size_t inputs,
                                             std::size_t targets,
                                             std::optional<std::int64_t> steps_per_epoch,
                                             const std::string& where);

}  // namespace tapeflow::training::detail
