#include "tapeflow/optim/distributed/gradient_reducer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "tapeflow/framework/core/errors.hpp"

namespace tapeflow::distributed {

namespace {
constexpr const char* kWhere = "GradientReducer";

std::size_t elements(const Shape& shape) {
  std::size_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}
}  // namespace

GradientReducer::GradientReducer(BucketSizes sizes) : sizes_(sizes) {
  if (sizes_.first_bucket_bytes == 0)
    fail(std::string(kWhere) + ": first_bucket_bytes", "must be at least 1");
  if (sizes_.bucket_bytes == 0) fail(std::string(kWhere) + ": bucket_bytes", "must be at least 1");
}

void GradientReducer::layout(const std::vector<Variable>& vars) {
  std::vector<std::uint64_t> ids;
  ids.reserve(vars.size());
  for (std::size_t i = 0; i < vars.size(); ++i) {
    if (!vars[i].defined())
      fail(std::string(kWhere) + ": vars", "variable " + std::to_string(i) + " is undefined");
    ids.push_back(vars[i].id());
  }
  std::vector<Shape> shapes;
  shapes.reserve(vars.size());
  for (const auto& v : vars) shapes.push_back(v.shape());
  if (ids == ids_ && shapes == shapes_) return;

  // Every rank must bucket the same shapes in the same order, or the all-reduces would pair
  // unrelated data (or wait forever for a bucket another rank never starts). Compared as a
  // count, a total and an order-sensitive hash, agreed on by min and max over the ranks.
  std::int64_t signature[3] = {static_cast<std::int64_t>(vars.size()), 0, 0};
  std::uint64_t hash = 1469598103934665603ull;
  for (const auto& s : shapes) {
    signature[1] += static_cast<std::int64_t>(elements(s));
    for (auto d : s) hash = (hash ^ (d + 0x9e37u)) * 1099511628211ull;
    hash = (hash ^ 0xffu) * 1099511628211ull;
  }
  signature[2] = static_cast<std::int64_t>(hash >> 1);
  std::int64_t low[3] = {signature[0], signature[1], signature[2]};
  std::int64_t high[3] = {signature[0], signature[1], signature[2]};
  all_reduce(low, 3, ReduceOp::min);
  all_reduce(high, 3, ReduceOp::max);
  if (!std::equal(low, low + 3, high))
    fail(std::string(kWhere) + ": vars",
         "the ranks train different variables (counts " + std::to_string(low[0]) + " to " +
             std::to_string(high[0]) + ", elements " + std::to_string(low[1]) + " to " +
             std::to_string(high[1]) + "): every rank must build the same model");

  ids_ = std::move(ids);
  shapes_ = std::move(shapes);
  buckets_.clear();
  bucket_of_.assign(vars.size(), 0);
  offset_.assign(vars.size(), 0);
  std::size_t bucket_bytes = 0;
  for (std::size_t k = vars.size(); k-- > 0;) {
    const std::size_t bytes = elements(shapes_[k]) * sizeof(float);
    const std::size_t cap = buckets_.size() <= 1 ? sizes_.first_bucket_bytes : sizes_.bucket_bytes;
    if (buckets_.empty() || (bucket_bytes > 0 && bucket_bytes + bytes > cap)) {
      buckets_.emplace_back();
      bucket_bytes = 0;
    }
    buckets_.back().vars.push_back(k);
    bucket_bytes += bytes;
  }
  for (std::size_t b = 0; b < buckets_.size(); ++b) {
    std::size_t offset = 0;
    for (std::size_t k : buckets_[b].vars) {
      bucket_of_[k] = b;
      offset_[k] = offset;
      offset += elements(shapes_[k]);
    }
    buckets_[b].buffer.assign(offset + buckets_[b].vars.size(), 0.f);
  }
}

void GradientReducer::begin(const std::vector<Variable>& vars, float share) {
  if (active_) fail(std::string(kWhere) + ".begin", "a step is already begun; call finish first");
  if (!std::isfinite(share) || share < 0.f)
    fail(std::string(kWhere) + ".begin: share",
         "must be finite and >= 0, got " + std::to_string(share));
  layout(vars);
  share_ = share;
  arrived_.assign(vars.size(), 0);
  for (auto& b : buckets_) b.filled = 0;
  next_to_start_ = 0;
  stats_ = ReduceStats{};
  stats_.buckets = buckets_.size();
  for (const auto& s : shapes_) stats_.bytes += elements(s) * sizeof(float);
  active_ = true;
}

void GradientReducer::start(Bucket& bucket) {
  // The presence counts of the variables whose gradient never came are 0; their data is
  // zeroed so that this rank adds nothing for them.
  std::size_t slot = bucket.buffer.size() - bucket.vars.size();
  for (std::size_t k : bucket.vars) {
    if (!arrived_[k]) {
      std::fill_n(bucket.buffer.begin() + static_cast<std::ptrdiff_t>(offset_[k]),
                  elements(shapes_[k]), 0.f);
      bucket.buffer[slot] = 0.f;
    }
    ++slot;
  }
  bucket.pending = start_all_reduce(bucket.buffer.data(), bucket.buffer.size());
}

void GradientReducer::start_ready_buckets() {
  while (next_to_start_ < buckets_.size() &&
         buckets_[next_to_start_].filled == buckets_[next_to_start_].vars.size()) {
    start(buckets_[next_to_start_]);
    ++next_to_start_;
    ++stats_.started_early;
  }
  // MPI moves a nonblocking collective along only inside MPI calls: each report gives the
  // started ones a turn.
  for (std::size_t b = 0; b < next_to_start_; ++b) buckets_[b].pending.test();
}

void GradientReducer::ready(std::size_t index, const Variable& gradient) {
  if (!active_) fail(std::string(kWhere) + ".ready", "no step begun; call begin first");
  if (index >= arrived_.size())
    fail(std::string(kWhere) + ".ready: index", std::to_string(index) +
                                                    " is not below the step's " +
                                                    std::to_string(arrived_.size()) + " variables");
  if (!gradient.defined() || arrived_[index]) return;
  const Tensor& g = gradient.value();
  if (shape_of(g) != shapes_[index])
    fail_shape(std::string(kWhere) + ".ready", "gradient " + std::to_string(index) + " has shape " +
                                                   shape_str(shape_of(g)) + ", its variable " +
                                                   shape_str(shapes_[index]));
  Bucket& bucket = buckets_[bucket_of_[index]];
  float* out = bucket.buffer.data() + offset_[index];
  const float* in = g.data();
  const float share = share_;
  for (std::size_t i = 0, n = g.size(); i < n; ++i) out[i] = in[i] * share;
  const auto position = std::find(bucket.vars.begin(), bucket.vars.end(), index);
  bucket.buffer[bucket.buffer.size() - bucket.vars.size() +
                static_cast<std::size_t>(position - bucket.vars.begin())] = 1.f;
  arrived_[index] = 1;
  ++bucket.filled;
  start_ready_buckets();
}

std::vector<Variable> GradientReducer::finish() {
  if (!active_) fail(std::string(kWhere) + ".finish", "no step begun; call begin first");
  active_ = false;
  for (; next_to_start_ < buckets_.size(); ++next_to_start_) start(buckets_[next_to_start_]);
  const auto t0 = std::chrono::steady_clock::now();
  for (auto& b : buckets_) b.pending.wait();
  stats_.wait_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::vector<Variable> out(shapes_.size());
  for (const auto& b : buckets_) {
    std::size_t slot = b.buffer.size() - b.vars.size();
    for (std::size_t k : b.vars) {
      if (b.buffer[slot++] > 0.5f) {
        Tensor t = Tensor::from_shape(shapes_[k]);
        std::copy_n(b.buffer.begin() + static_cast<std::ptrdiff_t>(offset_[k]), t.size(), t.data());
        out[k] = Variable(std::move(t));
      }
    }
  }
  return out;
}

std::vector<Variable> GradientReducer::reduce(const std::vector<Variable>& gradients,
                                              const std::vector<Variable>& vars, float share) {
  if (gradients.size() != vars.size())
    fail(std::string(kWhere) + ".reduce", std::to_string(gradients.size()) + " gradients for " +
                                              std::to_string(vars.size()) + " variables");
  begin(vars, share);
  // In bucket order, so that each bucket starts as soon as it is full.
  for (std::size_t k = vars.size(); k-- > 0;)
    if (gradients[k].defined()) ready(k, gradients[k]);
  auto out = finish();
  stats_.started_early = 0;
  return out;
}

}  // namespace tapeflow::distributed
