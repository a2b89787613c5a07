#pragma once
/// `tapeflow::data::Augment`: seeded 3-D data augmentation (MONAI's random transforms,
/// tf.image's random ops), applied identically to an image and its label.
///
/// An `Augment` is a list of ops, applied in the order they were added, each drawing its
/// parameters from one random stream:
/// - geometric ops, applied with the same draws to every component of an element (the image,
///   its label, any other volume): `flip`, `rot90`, `random_crop`, `random_pad`,
///   `random_crop_or_pad`, `center_crop_or_pad`;
/// - intensity ops, applied to the image (component 0) only: `intensity_scale`,
///   `intensity_shift`, `gaussian_noise`.
///
/// Layout (channels_last, as `Conv3D`): a volume is `[D, H, W, C]` or `[D, H, W]`; the spatial
/// axes are 0 (D), 1 (H), 2 (W), whatever the rank. The components of an element may differ in
/// channels (a 2-channel image and a `[D, H, W]` label) but not in spatial shape. An image of
/// rank 5 is a batch `[N, D, H, W, C]`: then every component is a batch (rank 4 `[N, D, H, W]` or
/// 5) of the same N, and each sample gets its own draws, sample 0 first (the spatial axes are
/// still numbered 0, 1, 2 within a sample).
///
/// The draws: an op draws its parameters from the generator in this order: `flip`, one
/// uniform per listed axis; `rot90`, one integer; the crops and pads, one integer per spatial
/// axis (D, H, W); `intensity_scale` and `intensity_shift`, one uniform; `gaussian_noise`, one
/// 64-bit integer per two image values (row-major; Box-Muller). The same generator state gives
/// the same output, run after run. In a pipeline, `Dataset::augment(aug, seed)` gives element
/// `i` of pass `p` the generator `RandomGenerator(element_seed(seed, p, i))` (as TF's stateless
/// random ops): an element's augmentation depends only on the seed, the pass and its position
/// in the pass, not on threads, prefetching, or the elements read before (a resumed `fit` sees
/// what an uninterrupted one saw).
///
/// Speed: flips and rotations in a row are fused into one pass over the memory; a 64^3 image
/// and its label take about 2 ms through flip + rot90 + crop-or-pad + scale, and the noise a
/// few ms more (one thread).
///
/// Example:
/// ```
/// namespace D = tapeflow::data;
/// auto aug = D::Augment{}
///                .flip({0, 1, 2}, 0.5)          // each axis flipped with probability 0.5
///                .rot90({1, 2})                 // k * 90 degrees in the H-W plane, k in 0..3
///                .random_crop_or_pad({32, 32, 32})
///                .intensity_scale(0.9f, 1.1f)
///                .gaussian_noise(0.01f);
/// auto ds = D::Dataset::from_file_pairs("data/", "_img.npy", "_seg.npy", load_volume)
///               .shuffle(64, /*seed=*/1)
///               .augment(aug, /*seed=*/2)
///               .batch(4)
///               .prefetch(2);
/// // In a hand-written loop:
/// tapeflow::RandomGenerator gen(7);
/// auto [x, y] = aug.apply(image, label, gen);
/// ```
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tapeflow/framework/core/tensor.hpp"
#include "tapeflow/framework/data/dataset.hpp"
#include "tapeflow/framework/runtime/random.hpp"

namespace tapeflow::data {

/// Spatial sizes (D, H, W).
using Size3 = std::array<std::size_t, 3>;

/// A chain of random 3-D transforms (see the file comment). Setters append an op and return
/// `*this`; arguments are checked there (a `ValueError` naming the op and the argument), shapes
/// when applied (a `ShapeError`). Copyable; `apply` is const and safe from several threads.
class Augment {
 public:
  Augment() = default;

  /// Each of `axes` (spatial, 0 to 2, each at most once) reversed with probability `p`,
  /// independently. Example: `flip({2})` is tf.image.random_flip_left_right for volumes.
  Augment& flip(std::vector<int> axes, double p = 0.5);
  /// Rotation by k * 90 degrees in the plane of spatial axes `plane` (two different axes),
  /// k uniform in {0, 1, 2, 3}, as `numpy.rot90(volume, k, axes=plane)` (k = 1 turns axis
  /// plane[1] into axis plane[0]: `out[i, j] = in[j, n1 - 1 - i]`). In a plane that is not
  /// square an odd k swaps the two extents, so that elements may differ in shape (follow it
  /// with a crop or pad to a fixed size before a batch); `keep_shape` draws only k in {0, 2}
  /// for such a plane instead (a square plane still draws from all four).
  Augment& rot90(std::array<int, 2> plane = {1, 2}, bool keep_shape = false);
  /// A window of `size` at a uniform random offset. Error when applied to a volume smaller than
  /// `size` along an axis (`random_crop_or_pad` pads there instead).
  Augment& random_crop(Size3 size);
  /// Padded to `size` with the volume at a uniform random offset inside; `image_value` fills
  /// the image, `label_value` the other components. Error when applied to a volume larger than
  /// `size` along an axis.
  Augment& random_pad(Size3 size, float image_value = 0.f, float label_value = 0.f);
  /// Per axis, a random crop where the volume is larger than `size` and a random pad where it
  /// is smaller (tf.image.resize_with_crop_or_pad with random offsets): always gives `size`.
  Augment& random_crop_or_pad(Size3 size, float image_value = 0.f, float label_value = 0.f);
  /// tf.image.resize_with_crop_or_pad: centered crop or pad to `size` (offset `(n - size) / 2`
  /// rounded down), no draws; for validation data.
  Augment& center_crop_or_pad(Size3 size, float image_value = 0.f, float label_value = 0.f);

  /// The image multiplied by a factor uniform in [lo, hi] (`lo == hi`: that factor).
  Augment& intensity_scale(float lo, float hi);
  /// An offset uniform in [lo, hi] added to the image.
  Augment& intensity_shift(float lo, float hi);
  /// Independent Normal(0, stddev) noise added to each image value (stddev >= 0).
  Augment& gaussian_noise(float stddev);

  /// The element augmented: component 0 is the image, every component gets the geometric ops.
  /// Errors (`ShapeError`): no component, ranks other than 3 to 5 (see the file comment),
  /// spatial shapes that differ, a crop larger than the volume, a batch whose samples come
  /// out in different shapes.
  Element apply(Element components, RandomGenerator& gen) const;
  /// The same with `RandomGenerator(seed)`.
  Element apply(Element components, std::uint64_t seed) const;
  /// An image and its label (the label gets the geometric ops only).
  std::pair<Tensor, Tensor> apply(const Tensor& image, const Tensor& label,
                                  RandomGenerator& gen) const;
  std::pair<Tensor, Tensor> apply(const Tensor& image, const Tensor& label,
                                  std::uint64_t seed) const;
  /// An image alone.
  Tensor apply(const Tensor& image, RandomGenerator& gen) const;
  Tensor apply(const Tensor& image, std::uint64_t seed) const;

  /// The number of ops.
  std::size_t size() const { return ops_.size(); }
  /// The ops as text, e.g. "Augment(flip(axes=(0, 2), p=0.5), rot90(plane=(1, 2)))".
  std::string str() const;

  /// One op (public for the implementation; build them with the setters).
  struct Op {
    enum class Kind { kFlip, kRot90, kCrop, kPad, kCropOrPad, kCenter, kScale, kShift, kNoise };
    Kind kind = Kind::kFlip;
    std::vector<int> axes;  // flip: the axes; rot90: the plane
    double p = 0;           // flip's probability
    bool keep_shape = false;
    Size3 size{};
    float image_value = 0, label_value = 0;
    float lo = 0, hi = 0;  // scale and shift: the range
    float stddev = 0;      // noise
  };

 private:
  std::vector<Op> ops_;
};

}  // namespace tapeflow::data
