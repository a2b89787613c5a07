// data::Augment (framework/data/augment.hpp): each op against a definition written here with
// index loops, the same geometric transform of image and label, the statistics of the draws,
// determinism (per seed, through a pipeline with shuffle and prefetch, restarted at a later
// pass), batches, and the errors.
#include <array>
#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
#include <xtensor/xview.hpp>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/data/augment.hpp"
#include "tapeflow/framework/data/dataset.hpp"
#include "test_util.hpp"

namespace D = tapeflow::data;
using namespace tapeflow;
using test::bit_identical;

namespace {

using Idx = std::array<std::ptrdiff_t, 3>;

std::size_t chans(const Tensor& t) { return t.dimension() == 4 ? t.shape()[3] : 1; }
D::Size3 dims_of(const Tensor& t) { return {t.shape()[0], t.shape()[1], t.shape()[2]}; }

// The reference of every geometric op: output voxel o reads input voxel `src(o)` (all
// channels), or is `pad` where `src` says false. Flat indices computed here, by hand.
Tensor ref_map(const Tensor& in, const D::Size3& out_dims,
               const std::function<bool(const Idx& o, Idx& i)>& src, float pad = 0.f) {
  const std::size_t c = chans(in);
  const D::Size3 n = dims_of(in);
  Shape shape{out_dims[0], out_dims[1], out_dims[2]};
  if (in.dimension() == 4) shape.push_back(c);
  Tensor out = Tensor::from_shape(shape);
  for (std::size_t d = 0; d < out_dims[0]; ++d)
    for (std::size_t h = 0; h < out_dims[1]; ++h)
      for (std::size_t w = 0; w < out_dims[2]; ++w) {
        Idx o{std::ptrdiff_t(d), std::ptrdiff_t(h), std::ptrdiff_t(w)}, i{};
        const bool ok = src(o, i);
        for (std::size_t k = 0; k < c; ++k) {
          float v = pad;
          if (ok) {
            for (int a = 0; a < 3; ++a)
              if (i[a] < 0 || i[a] >= std::ptrdiff_t(n[a])) throw std::logic_error("outside");
            v = in.data()[((std::size_t(i[0]) * n[1] + std::size_t(i[1])) * n[2] +
                           std::size_t(i[2])) *
                              c +
                          k];
          }
          out.data()[((d * out_dims[1] + h) * out_dims[2] + w) * c + k] = v;
        }
      }
  return out;
}

Tensor ref_flip(const Tensor& in, int axis) {
  const D::Size3 n = dims_of(in);
  return ref_map(in, n, [&](const Idx& o, Idx& i) {
    i = o;
    i[axis] = std::ptrdiff_t(n[axis]) - 1 - o[axis];
    return true;
  });
}

// numpy.rot90(in, k, axes=(a, b)): k = 1 is out[i, j] = in[j, n_b - 1 - i].
Tensor ref_rot90(Tensor in, int a, int b, int k) {
  for (int r = 0; r < k; ++r) {
    const D::Size3 n = dims_of(in);
    D::Size3 o = n;
    std::swap(o[a], o[b]);
    in = ref_map(in, o, [&](const Idx& out, Idx& i) {
      i = out;
      i[a] = out[b];
      i[b] = std::ptrdiff_t(n[b]) - 1 - out[a];
      return true;
    });
  }
  return in;
}

// The window of `size` at input origin `off` (negative: padding before).
Tensor ref_window(const Tensor& in, const D::Size3& size, const Idx& off, float pad) {
  const D::Size3 n = dims_of(in);
  return ref_map(
      in, size,
      [&](const Idx& o, Idx& i) {
        for (int a = 0; a < 3; ++a) {
          i[a] = o[a] + off[a];
          if (i[a] < 0 || i[a] >= std::ptrdiff_t(n[a])) return false;
        }
        return true;
      },
      pad);
}

// Distinct values 0, 1, 2, ... (every geometric transform tells itself apart).
Tensor counting(const Shape& shape) {
  Tensor t = Tensor::from_shape(shape);
  for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = float(i);
  return t;
}

// Which of the candidates `got` is (-1: none, -2: more than one).
int which(const Tensor& got, const std::vector<Tensor>& candidates) {
  int found = -1;
  for (std::size_t i = 0; i < candidates.size(); ++i)
    if (bit_identical(got, candidates[i])) found = found == -1 ? int(i) : -2;
  return found;
}

// Within `sigmas` standard deviations of a binomial(n, p) count.
bool near_binomial(std::size_t count, std::size_t n, double p, double sigmas = 4.5) {
  const double mean = double(n) * p, sd = std::sqrt(double(n) * p * (1 - p));
  return std::abs(double(count) - mean) <= sigmas * sd;
}

}  // namespace

TEST_CASE("Augment.flip: index reversal along each chosen axis, probability p each") {
  const Tensor x = counting({3, 4, 5, 2});
  for (int a = 0; a < 3; ++a) {
    CHECK_BIT_IDENTICAL(D::Augment{}.flip({a}, 1.0).apply(x, 1), ref_flip(x, a));
    CHECK_BIT_IDENTICAL(D::Augment{}.flip({a}, 0.0).apply(x, 1), x);
  }
  // A rank-3 volume (no channel axis) too.
  const Tensor v = counting({2, 3, 4});
  CHECK_BIT_IDENTICAL(D::Augment{}.flip({2}, 1.0).apply(v, 3), ref_flip(v, 2));

  // Each axis flipped with probability p, independently: identify the flips of each draw.
  const double p = 0.3;
  std::vector<Tensor> combos;  // bit m set: axis m flipped
  for (int m = 0; m < 8; ++m) {
    Tensor t = x;
    for (int a = 0; a < 3; ++a)
      if (m >> a & 1) t = ref_flip(t, a);
    combos.push_back(t);
  }
  const D::Augment aug = D::Augment{}.flip({0, 1, 2}, p);
  RandomGenerator gen(11);
  const std::size_t n = 3000;
  std::array<std::size_t, 3> per_axis{};
  std::size_t all_three = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const int m = which(aug.apply(x, gen), combos);
    REQUIRE(m >= 0);
    for (int a = 0; a < 3; ++a) per_axis[a] += m >> a & 1;
    all_three += m == 7;
  }
  for (int a = 0; a < 3; ++a) CHECK_MESSAGE(near_binomial(per_axis[a], n, p), per_axis[a]);
  CHECK_MESSAGE(near_binomial(all_three, n, p * p * p), all_three);
}

TEST_CASE("Augment.rot90: numpy.rot90 in the chosen plane, k uniform in 0..3") {
  // numpy.rot90(np.arange(6).reshape(2, 3)) == [[2, 5], [1, 4], [0, 3]]: the convention.
  const Tensor m = counting({1, 2, 3});
  CHECK_BIT_IDENTICAL(ref_rot90(m, 1, 2, 1), test::T({1, 3, 2}, {2, 5, 1, 4, 0, 3}));

  const Tensor x = counting({3, 3, 3, 2});
  for (const std::array<int, 2> plane : {std::array<int, 2>{0, 1}, {1, 2}, {0, 2}, {2, 1}}) {
    std::vector<Tensor> rots;
    for (int k = 0; k < 4; ++k) rots.push_back(ref_rot90(x, plane[0], plane[1], k));
    const D::Augment aug = D::Augment{}.rot90(plane);
    std::array<std::size_t, 4> count{};
    const std::size_t n = 2000;
    for (std::uint64_t s = 0; s < n; ++s) {
      const int k = which(aug.apply(x, s), rots);
      REQUIRE(k >= 0);
      ++count[k];
    }
    for (int k = 0; k < 4; ++k) CHECK_MESSAGE(near_binomial(count[k], n, 0.25), k, count[k]);
  }

  // A plane that is not square: an odd k swaps the extents; keep_shape draws only 0 and 2.
  const Tensor r = counting({2, 3, 5, 1});
  std::vector<Tensor> rots;
  for (int k = 0; k < 4; ++k) rots.push_back(ref_rot90(r, 1, 2, k));
  std::array<std::size_t, 4> free{}, kept{};
  for (std::uint64_t s = 0; s < 400; ++s) {
    const int k = which(D::Augment{}.rot90({1, 2}).apply(r, s), rots);
    REQUIRE(k >= 0);
    ++free[k];
    const int k2 = which(D::Augment{}.rot90({1, 2}, /*keep_shape=*/true).apply(r, s), rots);
    REQUIRE(k2 >= 0);
    ++kept[k2];
  }
  for (int k = 0; k < 4; ++k) CHECK(free[k] > 50);
  CHECK(kept[1] + kept[3] == 0);
  CHECK(near_binomial(kept[0], 400, 0.5));
  CHECK(shape_of(rots[1]) == Shape{2, 5, 3, 1});
}

TEST_CASE("Augment: flips and rotations in a row compose as applied one after the other") {
  // The implementation fuses them into one pass; the reference applies them in turn.
  const Tensor x = counting({2, 3, 4, 1});
  const D::Augment aug = D::Augment{}.flip({0}, 1.0).rot90({0, 2}).flip({1, 2}, 1.0).rot90({1, 0});
  std::vector<Tensor> all;  // index 4 * k1 + k2
  for (int k1 = 0; k1 < 4; ++k1)
    for (int k2 = 0; k2 < 4; ++k2)
      all.push_back(
          ref_rot90(ref_flip(ref_flip(ref_rot90(ref_flip(x, 0), 0, 2, k1), 1), 2), 1, 0, k2));
  std::set<int> seen;
  for (std::uint64_t s = 0; s < 300; ++s) {
    const int i = which(aug.apply(x, s), all);
    REQUIRE(i != -1);  // -2 (several equal candidates) is fine: the same result
    seen.insert(i);
  }
  CHECK(seen.size() >= 8);
}

TEST_CASE("Augment: random crop, pad and crop-or-pad are windows at uniform offsets") {
  const Tensor x = counting({5, 6, 7, 2});
  SUBCASE("random_crop") {
    const D::Size3 size{2, 6, 4};
    std::map<Idx, std::size_t> count;
    const std::size_t n = 1600;
    for (std::uint64_t s = 0; s < n; ++s) {
      const Tensor got = D::Augment{}.random_crop(size).apply(x, s);
      REQUIRE(shape_of(got) == Shape{2, 6, 4, 2});
      // Its origin: the first value tells it (values count up in row-major order).
      const auto v = std::size_t(got.data()[0]) / 2;
      const Idx off{std::ptrdiff_t(v / 42), std::ptrdiff_t(v / 7 % 6), std::ptrdiff_t(v % 7)};
      CHECK_BIT_IDENTICAL(got, ref_window(x, size, off, 0.f));
      ++count[off];
    }
    CHECK(count.size() == 4 * 1 * 4);  // every offset in [0, n - size]
    for (const auto& [off, c] : count) CHECK(near_binomial(c, n, 1.0 / 16));
  }
  SUBCASE("random_pad: the volume at a random place, pad values for image and label") {
    const Tensor lbl = counting({5, 6, 7}) + 1000.f;
    const D::Size3 size{6, 6, 9};
    std::map<Idx, std::size_t> count;
    for (std::uint64_t s = 0; s < 600; ++s) {
      auto [img, lab] = D::Augment{}.random_pad(size, -1.f, -7.f).apply(x, lbl, s);
      Idx off{};
      bool found = false;
      for (std::ptrdiff_t a = 0; a <= 1 && !found; ++a)
        for (std::ptrdiff_t c = 0; c <= 2 && !found; ++c)
          if (bit_identical(img, ref_window(x, size, {-a, 0, -c}, -1.f))) {
            off = {-a, 0, -c};
            found = true;
          }
      REQUIRE(found);
      CHECK_BIT_IDENTICAL(lab, ref_window(lbl, size, off, -7.f));
      ++count[off];
    }
    CHECK(count.size() == 2 * 3);
  }
  SUBCASE("random_crop_or_pad: crops the larger axes, pads the smaller, keeps the equal") {
    const D::Size3 size{3, 9, 7};
    std::map<Idx, std::size_t> count;
    for (std::uint64_t s = 0; s < 600; ++s) {
      const Tensor got = D::Augment{}.random_crop_or_pad(size, 0.5f).apply(x, s);
      int hits = 0;
      for (std::ptrdiff_t a = 0; a <= 2; ++a)
        for (std::ptrdiff_t b = 0; b <= 3; ++b)
          if (bit_identical(got, ref_window(x, size, {a, -b, 0}, 0.5f))) ++hits, ++count[{a, b, 0}];
      REQUIRE(hits == 1);
    }
    CHECK(count.size() == 3 * 4);
  }
  SUBCASE("center_crop_or_pad: tf.image.resize_with_crop_or_pad's offsets, no draws") {
    // Crop 5 -> 2: offset (5 - 2) / 2 = 1; pad 6 -> 9: 1 before; 7 -> 7: none.
    const Tensor got = D::Augment{}.center_crop_or_pad({2, 9, 7}, 3.f).apply(x, 1);
    CHECK_BIT_IDENTICAL(got, ref_window(x, {2, 9, 7}, {1, -1, 0}, 3.f));
    CHECK_BIT_IDENTICAL(D::Augment{}.center_crop_or_pad({2, 9, 7}, 3.f).apply(x, 2), got);
  }
}

TEST_CASE("Augment: the geometric ops move image and label together, the intensity ops not") {
  // label = (image channel 0 > 0), held as [D, H, W] and as [D, H, W, 1]: the relation must hold
  // voxel by voxel after any geometric transform (the pads: image -1, label 0 keep it too), and
  // after a positive scale.
  const Tensor img = test::random_tensor({7, 8, 6, 2}, 3);
  Tensor lbl3 = Tensor::from_shape({7, 8, 6}), lbl4 = Tensor::from_shape({7, 8, 6, 1});
  for (std::size_t i = 0; i < lbl3.size(); ++i)
    lbl3.data()[i] = lbl4.data()[i] = img.data()[2 * i] > 0 ? 1.f : 0.f;
  const D::Augment aug = D::Augment{}
                             .flip({0, 1, 2}, 0.5)
                             .rot90({0, 1})
                             .random_crop_or_pad({6, 9, 6}, -1.f, 0.f)
                             .rot90({1, 2}, true)
                             .intensity_scale(0.5f, 2.f);
  std::set<float> first_values;
  for (std::uint64_t s = 0; s < 100; ++s) {
    D::Element out = aug.apply({img, lbl3, lbl4}, s);
    REQUIRE(out.size() == 3);
    REQUIRE(shape_of(out[0]) == Shape{6, 9, 6, 2});
    REQUIRE(shape_of(out[1]) == Shape{6, 9, 6});
    REQUIRE(shape_of(out[2]) == Shape{6, 9, 6, 1});
    CHECK_BIT_IDENTICAL(out[1], xt::reshape_view(out[2], {6, 9, 6}));
    bool holds = true;
    for (std::size_t i = 0; i < out[1].size(); ++i)
      holds &= (out[0].data()[2 * i] > 0) == (out[1].data()[i] == 1.f);
    CHECK_MESSAGE(holds, "seed ", s);
    first_values.insert(out[0].data()[0]);
  }
  CHECK(first_values.size() > 50);  // the draws did vary

  // An intensity op leaves the label alone.
  auto [x, y] = D::Augment{}.intensity_shift(1.f, 2.f).gaussian_noise(0.1f).apply(img, lbl3, 5);
  CHECK_BIT_IDENTICAL(y, lbl3);
  CHECK_FALSE(bit_identical(x, img));
}

TEST_CASE("Augment: intensity scale and shift, one factor per element, in range") {
  const Tensor img = test::random_tensor({4, 4, 4, 1}, 2, 0.5f, 1.f);
  double sum_f = 0, sum_o = 0;
  const std::size_t n = 2000;
  float min_f = 10, max_f = 0;
  for (std::uint64_t s = 0; s < n; ++s) {
    const Tensor a = D::Augment{}.intensity_scale(0.8f, 1.2f).apply(img, s);
    const float f = a.data()[0] / img.data()[0];
    TF_CHECK_CLOSE(a, img * f, 1e-6f, 1e-5f);
    sum_f += f, min_f = std::min(min_f, f), max_f = std::max(max_f, f);
    const Tensor b = D::Augment{}.intensity_shift(-0.5f, 1.5f).apply(img, s);
    const float o = b.data()[0] - img.data()[0];
    TF_CHECK_CLOSE(b, img + o, 1e-5f, 0.f);
    sum_o += o;
  }
  CHECK(min_f >= 0.8f);
  CHECK(max_f <= 1.2f);
  CHECK(min_f < 0.81f);
  CHECK(max_f > 1.19f);
  // Uniform: mean (lo + hi) / 2, standard error (hi - lo) / sqrt(12 n).
  CHECK(std::abs(sum_f / n - 1.0) < 5 * 0.4 / std::sqrt(12.0 * n));
  CHECK(std::abs(sum_o / n - 0.5) < 5 * 2.0 / std::sqrt(12.0 * n));
  CHECK_BIT_IDENTICAL(D::Augment{}.intensity_scale(2.f, 2.f).apply(img, 1), img * 2.f);
}

TEST_CASE("Augment.gaussian_noise: mean 0, the given std, independent per voxel") {
  const Tensor img = xt::ones<float>({64, 64, 64, 1}) * 3.f;
  const float sd = 0.25f;
  const Tensor out = D::Augment{}.gaussian_noise(sd).apply(img, 9);
  const std::size_t n = out.size();
  double sum = 0, sq = 0, lag = 0;
  std::size_t within_1sd = 0, beyond_3sd = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double e = out.data()[i] - 3.0;
    sum += e, sq += e * e;
    if (i) lag += e * (out.data()[i - 1] - 3.0);
    within_1sd += std::abs(e) < sd;
    beyond_3sd += std::abs(e) > 3 * sd;
  }
  const double mean = sum / n, var = sq / n - mean * mean;
  CHECK(std::abs(mean) < 5 * sd / std::sqrt(double(n)));
  CHECK(std::abs(std::sqrt(var) - sd) < 5 * sd / std::sqrt(2.0 * n));
  CHECK(std::abs(lag / n) < 5 * sd * sd / std::sqrt(double(n)));  // neighbours uncorrelated
  // A normal's shape, not only its moments (uniform noise of this std has 58% within 1 sd).
  CHECK_MESSAGE(near_binomial(within_1sd, n, 0.682689), within_1sd);
  CHECK_MESSAGE(near_binomial(beyond_3sd, n, 0.0026998), beyond_3sd);
  // An odd number of values: the last one gets noise too.
  const Tensor odd = D::Augment{}.gaussian_noise(1.f).apply(xt::zeros<float>({3, 1, 1}), 2);
  CHECK(odd(2, 0, 0) != 0.f);
  CHECK_BIT_IDENTICAL(D::Augment{}.gaussian_noise(0.f).apply(img, 9), img);
}

TEST_CASE("Augment: the same seed gives the same output, another seed another") {
  const Tensor img = test::random_tensor({6, 6, 6, 1}, 4), lbl = test::random_tensor({6, 6, 6}, 5);
  const D::Augment aug =
      D::Augment{}.flip({0, 1, 2}).rot90({0, 2}).random_crop({4, 5, 6}).gaussian_noise(0.1f);
  auto [a1, b1] = aug.apply(img, lbl, 42);
  auto [a2, b2] = aug.apply(img, lbl, 42);
  CHECK_BIT_IDENTICAL(a1, a2);
  CHECK_BIT_IDENTICAL(b1, b2);
  RandomGenerator g(42);
  auto [a3, b3] = aug.apply(img, lbl, g);
  CHECK_BIT_IDENTICAL(a3, a1);  // the seed overload is RandomGenerator(seed)
  auto [a4, b4] = aug.apply(img, lbl, 43);
  CHECK_FALSE(bit_identical(a4, a1));
  // A copy of the chain is the same chain.
  const D::Augment copy = aug;
  CHECK_BIT_IDENTICAL(copy.apply(img, 8), aug.apply(img, 8));
  CHECK(aug.size() == 4);
  CHECK(aug.str() ==
        "Augment(flip(axes=(0, 1, 2), p=0.5), rot90(plane=(0, 2)), random_crop(size=(4, 5, 6)), "
        "gaussian_noise(stddev=0.1))");
  // No ops: the element unchanged.
  CHECK_BIT_IDENTICAL(D::Augment{}.apply(img, 1), img);
}

TEST_CASE("Augment: a batch [N, D, H, W, C] is its samples augmented in turn") {
  const Tensor imgs = test::random_tensor({5, 4, 4, 6, 2}, 6);
  const Tensor lbls = test::random_tensor({5, 4, 4, 6}, 7);
  const D::Augment aug = D::Augment{}.flip({1, 2}).rot90({0, 1}).random_crop({3, 4, 5});
  RandomGenerator g1(3), g2(3);
  D::Element out = aug.apply({imgs, lbls}, g1);
  REQUIRE(shape_of(out[0]) == Shape{5, 3, 4, 5, 2});
  REQUIRE(shape_of(out[1]) == Shape{5, 3, 4, 5});
  for (std::size_t k = 0; k < 5; ++k) {
    const Tensor img_k = xt::view(imgs, k), lbl_k = xt::view(lbls, k);
    auto [a, b] = aug.apply(img_k, lbl_k, g2);
    CHECK_BIT_IDENTICAL(Tensor(xt::view(out[0], k)), a);
    CHECK_BIT_IDENTICAL(Tensor(xt::view(out[1], k)), b);
  }
  // Samples of different shapes (a free rot90 in a plane that is not square) cannot stack.
  bool thrown = false;
  for (std::uint64_t s = 0; s < 5 && !thrown; ++s) {
    try {
      D::Augment{}.rot90({1, 2}).apply(imgs, s);
    } catch (const ShapeError& e) {
      thrown = std::string(e.what()).find("keep_shape") != std::string::npos;
    }
  }
  CHECK(thrown);
  CHECK(shape_of(D::Augment{}.rot90({1, 2}, true).apply(imgs, 1)) == shape_of(imgs));
}

namespace {

// N volumes with labels (label = 100 + the image), as a slices dataset.
D::Dataset volumes(std::size_t n) {
  const Tensor imgs = test::random_tensor({n, 5, 6, 4, 1}, 8);
  return D::Dataset::from_tensor_slices({imgs, imgs + 100.f});
}

std::vector<D::Element> all_of(D::Dataset::Iterator it) {
  std::vector<D::Element> out;
  while (auto e = it.next()) out.push_back(std::move(*e));
  return out;
}

bool same(const std::vector<D::Element>& a, const std::vector<D::Element>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].size() != b[i].size()) return false;
    for (std::size_t c = 0; c < a[i].size(); ++c)
      if (!bit_identical(a[i][c], b[i][c])) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("Dataset.augment: per element, pass and seed, the same with shuffle and prefetch") {
  const D::Augment aug = D::Augment{}
                             .flip({0, 1, 2})
                             .rot90({1, 2})
                             .random_crop_or_pad({4, 6, 6})
                             .intensity_shift(-1.f, 1.f)
                             .gaussian_noise(0.05f);
  const std::uint64_t seed = 17;
  D::Dataset base = volumes(12);
  D::Dataset ds = base.augment(aug, seed);
  const auto p0 = all_of(ds.iterate(0)), p1 = all_of(ds.iterate(1));
  REQUIRE(p0.size() == 12);
  // Element i of pass p is aug.apply(input i, element_seed(seed, p, i)): stateless.
  const auto inputs = all_of(base.iterate(0));
  for (std::size_t i = 0; i < 12; ++i) {
    const D::Element want = aug.apply(inputs[i], D::element_seed(seed, 1, i));
    CHECK(same({p1[i]}, {want}));
    CHECK(shape_of(p1[i][1]) == Shape{4, 6, 6, 1});
  }
  CHECK(same(p0, all_of(base.augment(aug, seed).iterate(0))));  // another object, same pass
  CHECK_FALSE(same(p0, p1));                                    // another pass
  CHECK_FALSE(same(p0, all_of(base.augment(aug, seed + 1).iterate(0))));  // another seed

  // A slow, irregular stage before a prefetch: the thread timing changes, the output does not.
  D::Dataset slow = base.map([](D::Element e) {
    std::this_thread::sleep_for(std::chrono::microseconds(int(e[0].data()[0] * 1000) % 900));
    return e;
  });
  D::Dataset piped = slow.shuffle(5, 3).augment(aug, seed).prefetch(3);
  D::Dataset plain = base.shuffle(5, 3).augment(aug, seed);
  CHECK(same(all_of(piped.iterate(2)), all_of(plain.iterate(2))));
  CHECK(same(all_of(base.augment(aug, seed).prefetch(4).batch(5).iterate(1)),
             all_of(ds.batch(5).iterate(1))));

  // A pipeline restarted at a later pass (a resumed fit: iterate(epoch)) sees what the
  // uninterrupted one saw in that pass: three range-for passes, then a fresh object at pass 2.
  D::Dataset run = base.shuffle(12, 9).augment(aug, seed).batch(4);
  std::vector<D::Element> third;
  for (int pass = 0; pass < 3; ++pass) {
    third.clear();
    for (const D::Element& e : run) third.push_back(e);
  }
  D::Dataset resumed = volumes(12).shuffle(12, 9).augment(aug, seed).batch(4);
  CHECK(same(all_of(resumed.iterate(2)), third));
  // Mid-pass resume (fit reads and drops the batches before): the rest is the same too.
  auto it = resumed.iterate(2);
  it.next();
  auto rest = all_of(std::move(it));
  CHECK(same(rest, std::vector<D::Element>(third.begin() + 1, third.end())));

  // Under repeat, each repetition draws anew.
  const auto twice = all_of(base.augment(aug, seed).repeat(2).iterate(0));
  CHECK_FALSE(same(std::vector<D::Element>(twice.begin(), twice.begin() + 12),
                   std::vector<D::Element>(twice.begin() + 12, twice.end())));

  // Unseeded: drawn from the global random stream, so set_random_seed makes it reproducible.
  set_random_seed(5);
  const auto g1 = all_of(base.augment(aug).iterate(0));
  set_random_seed(5);
  const auto g2 = all_of(base.augment(aug).iterate(0));
  clear_random_seed();
  CHECK(same(g1, g2));
}

TEST_CASE("Dataset.map_random: a random stream per element, element_seed") {
  D::Dataset ds = volumes(6).map_random(
      [](D::Element, RandomGenerator& g) {
        return D::Element{Tensor{float(g.next_u64() % 1000000)}};
      },
      4);
  const auto a = all_of(ds.iterate(3));
  for (std::size_t i = 0; i < a.size(); ++i) {
    RandomGenerator g(D::element_seed(4, 3, i));
    CHECK(a[i][0](0) == float(g.next_u64() % 1000000));
  }
  CHECK(D::element_seed(4, 3, 1) != D::element_seed(4, 1, 3));
  CHECK(D::element_seed(4, 0, 0) != D::element_seed(5, 0, 0));
  TF_CHECK_ERROR(volumes(2).map_random(nullptr), "map_random");
}

TEST_CASE("Augment: bad arguments and shapes are errors naming the op and the argument") {
  using A = D::Augment;
  CHECK_THROWS_AS(A{}.flip({3}), ValueError);
  TF_CHECK_ERROR(A{}.flip({3}), "Augment.flip", "axes", "3");
  TF_CHECK_ERROR(A{}.flip({-1}), "Augment.flip", "axes");
  TF_CHECK_ERROR(A{}.flip({1, 1}), "Augment.flip", "axes", "twice");
  TF_CHECK_ERROR(A{}.flip({}), "Augment.flip", "axes");
  TF_CHECK_ERROR(A{}.flip({0}, 1.5), "Augment.flip", "p", "1.5");
  TF_CHECK_ERROR(A{}.flip({0}, -0.1), "Augment.flip", "p");
  TF_CHECK_ERROR(A{}.rot90({1, 1}), "Augment.rot90", "plane");
  TF_CHECK_ERROR(A{}.rot90({0, 3}), "Augment.rot90", "plane", "3");
  CHECK_THROWS_AS(A{}.random_crop({0, 2, 2}), ValueError);
  TF_CHECK_ERROR(A{}.random_crop({0, 2, 2}), "Augment.random_crop", "size");
  TF_CHECK_ERROR(A{}.random_pad({2, 2, 2}, NAN), "Augment.random_pad", "image_value");
  TF_CHECK_ERROR(A{}.intensity_scale(1.2f, 0.8f), "Augment.intensity_scale", "lo", "hi");
  TF_CHECK_ERROR(A{}.intensity_shift(0.f, INFINITY), "Augment.intensity_shift", "hi", "finite");
  TF_CHECK_ERROR(A{}.gaussian_noise(-1.f), "Augment.gaussian_noise", "stddev");

  const Tensor v = Tensor::from_shape({4, 4, 8, 1});
  CHECK_THROWS_AS(A{}.random_crop({4, 4, 9}).apply(v, 1), ShapeError);
  TF_CHECK_ERROR(A{}.random_crop({4, 4, 9}).apply(v, 1), "Augment.random_crop", "(4, 4, 9)",
                 "(4, 4, 8)", "larger");
  TF_CHECK_ERROR(A{}.random_pad({4, 4, 7}).apply(v, 1), "Augment.random_pad", "smaller");
  CHECK_THROWS_AS(A{}.apply(Tensor::from_shape({4, 4}), 1), ShapeError);
  TF_CHECK_ERROR(A{}.apply(Tensor::from_shape({4, 4}), 1), "Augment", "[D, H, W, C]", "(4, 4)");
  TF_CHECK_ERROR(A{}.apply(v, Tensor::from_shape({4, 5, 8}), 1), "component 1 (the label)",
                 "(4, 5, 8)", "(4, 4, 8)", "spatial shape");
  TF_CHECK_ERROR(A{}.apply(D::Element{}, 1), "Augment", "no component");
  TF_CHECK_ERROR(
      A{}.apply(Tensor::from_shape({2, 4, 4, 8, 1}), Tensor::from_shape({3, 4, 4, 8}), 1),
      "component 1", "same N");
  // In a pipeline the error names the element.
  D::Dataset ds = D::Dataset::from_files({"1", "2", "3"}, [](const std::string& p) {
    const std::size_t n = p == "3" ? 2 : 4;
    return D::Element{Tensor::from_shape({n, 4, 4})};
  });
  auto it = ds.augment(A{}.random_crop({3, 3, 3}), 1).iterate(0);
  it.next();
  it.next();
  TF_CHECK_ERROR(it.next(), "Dataset.augment: element 2", "Augment.random_crop", "larger");
}

TEST_CASE("Augment: a 64^3 volume augments in milliseconds" * doctest::skip(true)) {
  // Timing only (run by hand: --no-skip): flip + rot90 + crop-or-pad + scale, and noise.
  const Tensor img = test::random_tensor({64, 64, 64, 1}, 1), lbl = img;
  const D::Augment geo = D::Augment{}
                             .flip({0, 1, 2})
                             .rot90({1, 2})
                             .random_crop_or_pad({60, 60, 68})
                             .intensity_scale(0.9f, 1.1f);
  const D::Augment noise = D::Augment{}.gaussian_noise(0.1f);
  for (const D::Augment* aug : {&geo, &noise}) {
    const auto t0 = std::chrono::steady_clock::now();
    for (std::uint64_t s = 0; s < 20; ++s) (void)aug->apply(img, lbl, s);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
        20;
    MESSAGE(aug->str(), ": ", ms, " ms per image/label pair");
  }
}
