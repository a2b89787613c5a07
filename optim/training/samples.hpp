#pragma once
/// The samples `fit`, `evaluate` and `predict` run over: one tensor per model input and output,
/// all with the same number of samples on axis 0, cut into batches of rows; and the shuffled
/// order `fit` visits them in.
///
/// Example:
/// ```
/// // The order fit(..., FitOptions().seed(7)) visits 100 samples in, in epoch 3:
/// std::vector<std::size_t> order = tapeflow::training::shuffled_order(100, 7, 3);
/// ```
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tapeflow/framework/core/tensor.hpp"

namespace tapeflow::training {

/// A permutation of 0..n-1 that depends only on `seed` and `pass` (Fisher-Yates over a stream
/// seeded from both): pass `p` of `fit` with shuffling visits the samples in this order.
std::vector<std::size_t> shuffled_order(std::size_t n, std::uint64_t seed, std::int64_t pass);

namespace detail {

/// Inputs and targets (targets may be empty: predict).
struct Samples {
  std::vector<Tensor> x, y;

  /// Checks that there is at least one input, and that every tensor has a sample axis of one
  /// and the same length; `where` ("fit", "evaluate") starts the errors, which name the tensor.
  void check(const std::string& where) const;
  std::size_t size() const { return x.empty() ? 0 : x[0].shape()[0]; }
  /// The rows `order[begin..end)` of every tensor.
  Samples take(const std::vector<std::size_t>& order, std::size_t begin, std::size_t end) const;
  /// The rows [begin, end) in order.
  Samples slice(std::size_t begin, std::size_t end) const;
};

/// Rows `idx[0..count)` of `t` (axis 0), copied into a new tensor.
Tensor take_rows(const Tensor& t, const std::size_t* idx, std::size_t count);

}  // namespace detail

}  // namespace tapeflow::training
