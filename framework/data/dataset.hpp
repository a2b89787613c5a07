#pragma once
/// `tapeflow::data::Dataset`: tf.data's input pipeline. A dataset is an immutable description of
/// a sequence of elements (an element is a list of tensors, e.g. `{image, label}`); each
/// transformation returns a new dataset, and iterating one runs the pipeline lazily, one element
/// at a time. `fit` (optim/training) takes one, and so does a range-for in a hand-written loop.
///
/// - Sources: `from_tensors` (one element), `from_tensor_slices` (element i = row i of every
///   tensor), `from_files` (one element per path, made by a loader function),
///   `from_file_pairs` (a folder of image/label files: one `{image, label}` element per pair).
/// - Transformations: `map`, `map_random` (a map given a random stream of its own per
///   element), `augment` (data::Augment, augment.hpp), `shuffle(buffer_size, seed)`,
///   `batch(n, drop_remainder)`, `repeat(count)`, `take(n)`, `skip(n)`,
///   `shard(num_shards, index)`, `cache()`, `prefetch(n)`.
/// - Distributed training: `ds.shard(distributed::size(), distributed::rank())` gives each rank
///   its own part of the data (every `size`-th element, from position `rank` on). After a
///   shuffle, give every rank the same seed: the ranks' shards of a pass then partition it.
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
/// own `RandomGenerator`, or use `map_random`).
///
/// Random maps (`map_random`, `augment`) are stateless per element, like TF's stateless random
/// ops: element `i` of pass `p` gets `RandomGenerator(element_seed(seed, p, i))`, so what it
/// draws depends on the seed, the pass and its position only, not on threads, prefetching or
/// the elements read before; a resumed `fit` (same epoch = pass, the batches before skipped)
/// draws what an uninterrupted one drew. `p` is the pass the stage runs in: `iterate(p)`'s,
/// or, under a later `repeat`, one of its own per repetition. Put `cache()` before a random
/// map, not after (after, every pass would see the first pass's draws).
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
///
/// // A folder of volumes: case1_img.npy with case1_seg.npy, ...; augmented, 2 per batch.
/// auto vols = D::Dataset::from_file_pairs("train/", "_img.npy", "_seg.npy", load_volume)
///                 .shuffle(100, /*seed=*/1)
///                 .augment(D::Augment{}.flip({0, 1, 2}).random_crop({64, 64, 64}), /*seed=*/2)
///                 .batch(2)
///                 .prefetch(2);
/// ```
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tapeflow/framework/core/tensor.hpp"
#include "tapeflow/framework/runtime/random.hpp"

namespace tapeflow::data {

class Augment;

/// One element: a list of tensors (components), e.g. `{image, label}`.
using Element = std::vector<Tensor>;

/// tf.data's cardinality constants.
inline constexpr std::int64_t kInfiniteCardinality = -1;
inline constexpr std::int64_t kUnknownCardinality = -2;

/// The stream seed of element `index` of pass `pass` of a random map seeded with `seed` (see
/// the file comment): a hand-written loop reproduces `ds.augment(aug, seed)`'s pass `p` with
/// `aug.apply(element_i, element_seed(seed, p, i))`.
std::uint64_t element_seed(std::uint64_t seed, std::uint64_t pass, std::uint64_t index);

/// The image/label pairs of a folder, as `Dataset::from_file_pairs` finds them: `(image path,
/// label path)`, sorted by stem. Errors as there.
std::vector<std::pair<std::string, std::string>> list_file_pairs(const std::string& directory,
                                                                 const std::string& image_suffix,
                                                                 const std::string& label_suffix);

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
  /// A folder of image/label pairs: the file `<stem><image_suffix>` with `<stem><label_suffix>`
  /// (`case7_img.nii.gz` with `case7_seg.nii.gz`), one element `{loader(image),
  /// label_loader(label)}` per stem (`label_loader` unset: `loader`), in the order of the stems
  /// (bytewise), each loaded when the pipeline reaches it. The folder is listed here, once:
  /// only regular files (or links to them) whose names end in a suffix count, not those whose
  /// name starts with '.'; a name ending in both suffixes (".nii" and "_seg.nii") takes the
  /// longer. Errors: an empty loader, an empty suffix or two equal ones (ValueError); a missing
  /// folder, one with no matching file, an image without its label or a label without its
  /// image (FileError naming the file and the one missing); a loader's error is rethrown with
  /// the path before it.
  static Dataset from_file_pairs(const std::string& directory, const std::string& image_suffix,
                                 const std::string& label_suffix,
                                 std::function<Tensor(const std::string& path)> loader,
                                 std::function<Tensor(const std::string& path)> label_loader = {});

  /// Each element replaced by `fn(element)`.
  Dataset map(std::function<Element(Element)> fn) const;
  /// Each element replaced by `fn(element, gen)`, `gen` the element's own random stream (see
  /// the file comment); `seed` unset draws one from the global random stream when called.
  /// Example: `ds.map_random([](D::Element e, tapeflow::RandomGenerator& g) {
  ///   e[0] += g.uniform(-0.1f, 0.1f); return e; }, /*seed=*/3)`.
  Dataset map_random(std::function<Element(Element, RandomGenerator&)> fn,
                     std::optional<std::uint64_t> seed = std::nullopt) const;
  /// `aug` applied to each element (component 0 the image, the others geometric-only; see
  /// augment.hpp), drawing from the element's own random stream as `map_random`. An error of
  /// the augmentation names the element's position in the pass.
  Dataset augment(const Augment& aug, std::optional<std::uint64_t> seed = std::nullopt) const;
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
  /// 1/`num_shards` of the dataset: the elements at positions `index`, `index + num_shards`,
  /// `index + 2 * num_shards`, ... of each pass (tf.data's `shard`); the others are still read
  /// from the input and dropped, so the stages before (a shuffle's order, a random map's
  /// per-element seeds) are as without it, and the `num_shards` shards of one pass partition
  /// it. The dropped elements are still made (a `from_files` loader runs for them): put costly
  /// maps after the shard. Errors: `num_shards` < 1, `index` outside [0, num_shards).
  Dataset shard(std::int64_t num_shards, std::int64_t index) const;
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
