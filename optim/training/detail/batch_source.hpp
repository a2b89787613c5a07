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
/// batches. A pass's last, smaller batch is left out when it has fewer than `min_rows` rows (a
/// distributed fit's global batches need one row per rank).
std::unique_ptr<BatchSource> tensor_batches(Samples data, std::int64_t batch_size, bool shuffle,
                                            std::optional<std::int64_t> steps_per_epoch,
                                            std::size_t min_rows = 1);

/// This rank's part of each of `global`'s batches: of a batch of b rows, rows
/// [rank * b / size, (rank + 1) * b / size) (every rank has one when b >= size).
/// `global_rows()` tells the whole batch's size.
class RankRows : public BatchSource {
 public:
  RankRows(std::unique_ptr<BatchSource> global, int rank, int size);
  std::int64_t steps() const override { return global_->steps(); }
  void seek(int epoch, std::int64_t batch, std::uint64_t shuffle_seed) override {
    global_->seek(epoch, batch, shuffle_seed);
  }
  Samples next() override;
  /// The rows of the last global batch `next` cut.
  std::size_t global_rows() const { return global_rows_; }

 private:
  std::unique_ptr<BatchSource> global_;
  int rank_, size_;
  std::size_t global_rows_ = 0;
};

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
