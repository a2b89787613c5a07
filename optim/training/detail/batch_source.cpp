#include "tapeflow/optim/training/detail/batch_source.hpp"

#include <algorithm>
#include <numeric>

#include "tapeflow/framework/core/errors.hpp"

namespace tapeflow::training::detail {

namespace {

class TensorBatches : public BatchSource {
 public:
  TensorBatches(Samples data, std::int64_t batch_size, bool shuffle,
                std::optional<std::int64_t> steps_per_epoch, std::size_t min_rows)
      : data_(std::move(data)), batch_size_(batch_size), shuffle_(shuffle) {
    const auto n = static_cast<std::int64_t>(data_.size());
    const std::int64_t rest = n % batch_size_;
    per_pass_ = n / batch_size_ + (rest > 0 && static_cast<std::size_t>(rest) >= min_rows ? 1 : 0);
    if (per_pass_ == 0 && n > 0)
      fail("fit", std::to_string(n) + " samples make no batch of at least " +
                      std::to_string(min_rows) + " (one sample per rank)");
    steps_ = steps_per_epoch.value_or(per_pass_);
  }
  std::int64_t steps() const override { return steps_; }
  void seek(int epoch, std::int64_t batch, std::uint64_t shuffle_seed) override {
    global_ = static_cast<std::int64_t>(epoch) * steps_ + batch;
    if (shuffle_seed != seed_) cached_pass_ = -1;
    seed_ = shuffle_seed;
  }
  Samples next() override {
    // Batch `global_` of the stream is batch k of pass `pass`.
    const std::int64_t pass = global_ / per_pass_, k = global_ % per_pass_;
    ++global_;
    if (pass != cached_pass_) {
      if (shuffle_) {
        order_ = shuffled_order(data_.size(), seed_, pass);
      } else {
        order_.resize(data_.size());
        std::iota(order_.begin(), order_.end(), std::size_t{0});
      }
      cached_pass_ = pass;
    }
    const std::size_t begin = static_cast<std::size_t>(k * batch_size_);
    const std::size_t end = std::min(data_.size(), begin + static_cast<std::size_t>(batch_size_));
    return data_.take(order_, begin, end);
  }

 private:
  Samples data_;
  std::int64_t batch_size_;
  bool shuffle_;
  std::uint64_t seed_ = 0;
  std::int64_t per_pass_ = 1, steps_ = 0, global_ = 0, cached_pass_ = -1;
  std::vector<std::size_t> order_;
};

class DatasetBatches : public BatchSource {
 public:
  DatasetBatches(data::Dataset ds, std::size_t inputs, std::size_t targets,
                 std::optional<std::int64_t> steps_per_epoch, std::string where)
      : ds_(std::move(ds)),
        inputs_(inputs),
        targets_(targets),
        continuous_(steps_per_epoch.has_value()),
        where_(std::move(where)) {
    card_ = ds_.cardinality();
    if (card_ == data::kInfiniteCardinality && !steps_per_epoch)
      fail(where_, "the dataset is infinite (a repeat()); give steps_per_epoch (or steps)");
    if (card_ == 0) fail(where_, "the dataset is empty");
    steps_ = steps_per_epoch ? *steps_per_epoch : card_;
    if (steps_ < 0)
      fail(where_, "the dataset's length is unknown; give steps_per_epoch (or steps)");
  }
  std::int64_t steps() const override { return steps_; }
  void seek(int epoch, std::int64_t batch, std::uint64_t) override {
    std::int64_t skip = batch;
    if (!continuous_) {
      pass_ = epoch;
    } else if (card_ > 0) {
      // A stream of passes: batch `global` is element `global % card` of pass `global / card`.
      const std::int64_t global = static_cast<std::int64_t>(epoch) * steps_ + batch;
      pass_ = global / card_;
      skip = global % card_;
    } else {
      pass_ = 0;  // one infinite pass
      skip = static_cast<std::int64_t>(epoch) * steps_ + batch;
    }
    it_ = ds_.iterate(pass_);
    // Resuming mid-pass reads and drops the batches before (the pipeline has no random access).
    for (std::int64_t i = 0; i < skip; ++i)
      if (!it_.next()) fail(where_, "the dataset ended before batch " + std::to_string(skip));
  }
  Samples next() override {
    auto e = it_.next();
    if (!e && continuous_) {
      it_ = ds_.iterate(++pass_);
      e = it_.next();
    }
    if (!e)
      fail(where_, "the dataset ran out of batches before the epoch's " + std::to_string(steps_));
    if (e->size() < inputs_ + targets_)
      fail(where_,
           "a dataset element has " + std::to_string(e->size()) + " components; the model needs " +
               std::to_string(inputs_) + " input(s)" +
               (targets_ ? " and " + std::to_string(targets_) + " target(s)" : std::string()));
    Samples s;
    s.x.assign(e->begin(), e->begin() + static_cast<std::ptrdiff_t>(inputs_));
    s.y.assign(e->begin() + static_cast<std::ptrdiff_t>(inputs_),
               e->begin() + static_cast<std::ptrdiff_t>(inputs_ + targets_));
    s.check(where_);
    return s;
  }

 private:
  data::Dataset ds_;
  std::size_t inputs_, targets_;
  bool continuous_;
  std::string where_;
  std::int64_t card_ = 0, steps_ = 0, pass_ = 0;
  data::Dataset::Iterator it_;
};

}  // namespace

std::unique_ptr<BatchSource> tensor_batches(Samples data, std::int64_t batch_size, bool shuffle,
                                            std::optional<std::int64_t> steps_per_epoch,
                                            std::size_t min_rows) {
  return std::make_unique<TensorBatches>(std::move(data), batch_size, shuffle, steps_per_epoch,
                                         min_rows);
}

RankRows::RankRows(std::unique_ptr<BatchSource> global, int rank, int size)
    : global_(std::move(global)), rank_(rank), size_(size) {}

Samples RankRows::next() {
  Samples batch = global_->next();
  global_rows_ = batch.size();
  const auto r = static_cast<std::size_t>(rank_), n = static_cast<std::size_t>(size_);
  return batch.slice(r * global_rows_ / n, (r + 1) * global_rows_ / n);
}

std::unique_ptr<BatchSource> dataset_batches(const data::Dataset& dataset, std::size_t inputs,
                                             std::size_t targets,
                                             std::optional<std::int64_t> steps_per_epoch,
                                             const std::string& where) {
  return std::make_unique<DatasetBatches>(dataset, inputs, targets, steps_per_epoch, where);
}

}  // namespace tapeflow::training::detail
