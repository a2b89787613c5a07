#pragma once
/// `tapeflow::data::Dataset`: tf.data's input pipeline. A dataset is an immutable description of
/// a sequence of elements (an element is a list of tensors, e.g. `{image, label}`); each
/// transformation returns a new dataset, and iterating one runs the pipeline lazily, one element
/// at a time. `fit` (optim/training) takes one, and so does a range-for in a hand-written loop.
///
/// - Sources: `from_tensors` (one element), `from_tensor_slices` (element i = row i of every
///   tensor), `from_files` (one element per path, made by a loader function).
/// - Transformations: `map`, `shuffle(buffer_size, seed)`, `batch(n, drop_remainder)`,
///   `repeat(count)`, `take(n)`, `skip(n)`, `cache()`, `prefetch(n)`.
///
/// Shuffling is TF's buffer shuffle: the next element is drawn uniformly from a buffer of
/// `buffer_size` elements, and its place refilled from the input (a buffer as large as the
/// dataset gives a uniform permutation). Each pass over a shuffled dataset has its own order,
/// which depends only on the seed and the pass: `iterate(pass)` gives pass `pass`'s order, the
/// same run after run (fit uses the epoch, so a resumed fit sees the orders an uninterrupted
/// one saw); a range-for takes passes 0, 1, 2, ... of that dataset object in turn.
///
/// `prefetch(n)` runs everything before it on a background thread, `n` elements ahead, so that
/// loading overlaps training; the elements and their order are the same as without it. A map
/// function before a prefetch therefore runs on that thread: it may use tapeflow ops (the tape
/// and the kernels' thread pool are safe there) but not the global random stream (give it its
/// own `RandomGenerator`).
///
/// Example:
/// ```
/// namespace D = tapeflow::data;
/// auto ds = D::Dataset::from_tensor_slices({images, labels})
///               .shuffle(256, /*seed=*/7)
///               .map([](D::Element e) { e[0] = e[0] / 255.f; return e; })
///               .batch(16)
///               .prefetch(2);
/// for (const D::Element& batch : ds) train_step(batch[0], batch[1]);
/// model.fit(ds, tf::training::FitOptions().epochs(10));
/// ```
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tapeflow/framework/core/tensor.hpp"

namespace tapeflow::data {

/// One element: a list of tensors (components), e.g. `{image, label}`.
using Element = std::vector<Tensor>;

/// tf.data's cardinality constants.
inline constexpr std::int64_t kInfiniteCardinality = -1;
inline constexpr std::int64_t kUnknownCardinality = -2;

namespace detail {
class Node;
class Stream;
}  // namespace detail

class Dataset {
 public:
  /// One pass over a dataset: `next()` gives the elements in turn, then nothing.
  class Iterator {
   public:
    Iterator();
    ~Iterator();
    Iterator(Iterator&&) noexcept;
    Iterator& operator=(Iterator&&) noexcept;
    /// The next element, or nothing at the end of the pass. Errors of the pipeline (a map
    /// function's, a loader's, a batch of mismatched shapes) are thrown here.
    std::optional<Element> next();

   private:
    friend class Dataset;
    Iterator(std::shared_ptr<const detail::Node> pipeline, std::unique_ptr<detail::Stream> stream);
    // The stages a pass reads from stay alive while it runs (the stream goes first).
    std::shared_ptr<const detail::Node> pipeline_;
    std::unique_ptr<detail::Stream> stream_;
  };

  /// A single element of these tensors.
  static Dataset from_tensors(Element tensors);
  /// Element i is row i (axis 0) of every tensor. Errors: no tensor, a scalar, tensors with
  /// different numbers of rows (a ShapeError naming them).
  static Dataset from_tensor_slices(Element tensors);
  /// Element i is `loader(paths[i])`, loaded when the pipeline reaches it. Errors: an empty
  /// loader; a loader's error is rethrown with the path before it.
  static Dataset from_files(std::vector<std::string> paths,
                            std::function<Element(const std::string& path)> loader);

  /// Each element replaced by `fn(element)`.
  Dataset map(std::function<Element(Element)> fn) const;
  /// TF's buffer shuffle (see the file comment); `seed` unset draws one from the global random
  /// stream when called. `reshuffle_each_iteration` false: every pass has pass 0's order.
  /// Errors: a buffer size of 0.
  Dataset shuffle(std::size_t buffer_size, std::optional<std::uint64_t> seed = std::nullopt,
                  bool reshuffle_each_iteration = true) const;
  /// Consecutive elements stacked along a new axis 0, `n` at a time; the last batch is
  /// smaller unless `drop_remainder`. Errors: n = 0; elements whose components differ in
  /// number or shape (a ShapeError naming the component and both shapes).
  Dataset batch(std::size_t n, bool drop_remainder = false) const;
  /// The dataset `count` times over (each time a new pass of what is before); -1: forever.
  Dataset repeat(std::int64_t count = -1) const;
  /// The first `n` elements (-1: all).
  Dataset take(std::int64_t n) const;
  /// All but the first `n` elements (-1: none left).
  Dataset skip(std::int64_t n) const;
  /// Keeps the elements of the first complete pass in memory; later passes read them from
  /// there (what is before the cache runs once). A pass not read to its end fills nothing.
  Dataset cache() const;
  /// Runs the pipeline before it on a background thread, up to `n` elements ahead (0: none).
  Dataset prefetch(std::size_t n) const;

  /// The number of elements of a pass, `kInfiniteCardinality` or `kUnknownCardinality`.
  std::int64_t cardinality() const;
  /// Pass `pass` (the shuffled orders depend on it).
  Iterator iterate(std::int64_t pass) const;
  /// The next pass of this dataset object (0, 1, 2, ...).
  Iterator iterate() const;

  /// Range-for over the next pass: `for (const Element& e : ds)`.
  class RangeIterator {
   public:
    using value_type = Element;
    using difference_type = std::ptrdiff_t;
    RangeIterator() = default;
    explicit RangeIterator(Iterator it);
    const Element& operator*() const { return *current_; }
    const Element* operator->() const { return &*current_; }
    RangeIterator& operator++();
    bool operator==(const RangeIterator& other) const;

   private:
    std::shared_ptr<Iterator> it_;
    std::optional<Element> current_;
  };
  RangeIterator begin() const;
  RangeIterator end() const;

 private:
  explicit Dataset(std::shared_ptr<const detail::Node> node);
  std::shared_ptr<const detail::Node> node_;
  std::shared_ptr<std::int64_t> passes_;  // passes begun by iterate() / range-for
};

}  // namespace tapeflow::data
