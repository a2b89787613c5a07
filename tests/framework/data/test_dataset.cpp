// data::Dataset (framework/data/dataset.hpp): the order, batching, remainder, shuffling
// determinism, repeat/take/skip, shard, cache and prefetch (the same elements as without it), the
// folder of image/label pairs, and the errors. (augment and map_random: test_augment.cpp.)
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/data/dataset.hpp"
#include "test_util.hpp"

namespace D = tapeflow::data;
using namespace tapeflow;

namespace {

// 0..n-1 as a (n, 1) tensor and as labels 10x.
D::Dataset numbers(std::size_t n) {
  Tensor x = Tensor::from_shape({n, 1}), y = Tensor::from_shape({n});
  for (std::size_t i = 0; i < n; ++i) x(i, 0) = float(i), y(i) = 10.f * float(i);
  return D::Dataset::from_tensor_slices({x, y});
}

// The first component's values of one pass, flattened.
std::vector<float> values(D::Dataset::Iterator it) {
  std::vector<float> out;
  while (auto e = it.next()) out.insert(out.end(), (*e)[0].begin(), (*e)[0].end());
  return out;
}

std::vector<float> iota(std::size_t n) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = float(i);
  return v;
}

}  // namespace

TEST_CASE("Dataset: slices in order, batches with and without the remainder, cardinality") {
  D::Dataset ds = numbers(7);
  CHECK(ds.cardinality() == 7);
  CHECK(values(ds.iterate(0)) == iota(7));
  auto it = ds.batch(3).iterate(0);
  auto b0 = it.next();
  REQUIRE(b0);
  CHECK(shape_of((*b0)[0]) == Shape{3, 1});
  CHECK(shape_of((*b0)[1]) == Shape{3});
  CHECK((*b0)[1](2) == 20.f);
  CHECK(shape_of((*it.next())[0]) == Shape{3, 1});
  CHECK(shape_of((*it.next())[0]) == Shape{1, 1});  // the remainder
  CHECK_FALSE(it.next());
  CHECK(ds.batch(3).cardinality() == 3);
  CHECK(ds.batch(3, true).cardinality() == 2);
  CHECK(values(ds.batch(3, true).iterate(0)) == iota(6));
  CHECK(D::Dataset::from_tensors({Tensor{1.f, 2.f}}).cardinality() == 1);
  std::vector<float> seen;
  for (const D::Element& e : ds.batch(4)) seen.insert(seen.end(), e[0].begin(), e[0].end());
  CHECK(seen == iota(7));
}

TEST_CASE(
    "Dataset: shuffle is reproducible per seed and pass, a permutation, reshuffled per pass") {
  D::Dataset s = numbers(20).shuffle(20, 5);
  auto p0 = values(s.iterate(0)), p1 = values(s.iterate(1));
  CHECK(p0 == values(numbers(20).shuffle(20, 5).iterate(0)));  // same seed, same pass
  CHECK(p0 != p1);
  CHECK(p0 != iota(20));
  auto sorted = p0;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == iota(20));  // every element once
  CHECK(values(numbers(20).shuffle(20, 6).iterate(0)) != p0);
  D::Dataset fixed = numbers(20).shuffle(20, 5, /*reshuffle_each_iteration=*/false);
  CHECK(values(fixed.iterate(0)) == values(fixed.iterate(3)));
  CHECK(values(numbers(9).shuffle(1, 3).iterate(0)) == iota(9));  // a buffer of one: no change
  // A small buffer moves elements only a little: element i comes out at most buffer-1 late...
  auto local = values(numbers(50).shuffle(4, 1).iterate(0));
  for (std::size_t k = 0; k < local.size(); ++k) CHECK(local[k] <= float(k + 3));
  // The range-for takes passes 0, 1, ... of the object.
  std::vector<float> first, second;
  for (const auto& e : s) first.push_back(e[0](0));
  for (const auto& e : s) second.push_back(e[0](0));
  CHECK(first == p0);
  CHECK(second == p1);
  TF_CHECK_ERROR(numbers(3).shuffle(0), "buffer_size");
}

TEST_CASE("Dataset: repeat, take, skip") {
  D::Dataset ds = numbers(3);
  CHECK(values(ds.repeat(2).iterate(0)) == std::vector<float>{0, 1, 2, 0, 1, 2});
  CHECK(ds.repeat(2).cardinality() == 6);
  CHECK(ds.repeat().cardinality() == D::kInfiniteCardinality);
  CHECK(values(ds.repeat().take(7).iterate(0)) == std::vector<float>{0, 1, 2, 0, 1, 2, 0});
  CHECK(ds.repeat().take(7).cardinality() == 7);
  CHECK(values(ds.skip(1).iterate(0)) == std::vector<float>{1, 2});
  CHECK(ds.skip(5).cardinality() == 0);
  CHECK(values(ds.skip(5).iterate(0)).empty());
  CHECK(values(ds.take(2).iterate(0)) == std::vector<float>{0, 1});
  // Each repetition of a shuffled dataset is its own order.
  auto twice = values(numbers(10).shuffle(10, 2).repeat(2).iterate(0));
  CHECK(std::vector<float>(twice.begin(), twice.begin() + 10) !=
        std::vector<float>(twice.begin() + 10, twice.end()));
  CHECK(values(D::Dataset::from_tensor_slices({Tensor::from_shape({0, 2})}).repeat().iterate(0))
            .empty());
  TF_CHECK_ERROR(ds.repeat(-2), "count");
}

namespace {

// The elements of `all` at positions index, index + num_shards, ...: shard's definition.
std::vector<float> every_nth_from(const std::vector<float>& all, std::size_t num_shards,
                                  std::size_t index) {
  std::vector<float> out;
  for (std::size_t p = index; p < all.size(); p += num_shards) out.push_back(all[p]);
  return out;
}

}  // namespace

TEST_CASE("Dataset.shard: a range in 3 shards, their union, cardinality") {
  D::Dataset ds = numbers(10);
  CHECK(values(ds.shard(3, 0).iterate(0)) == std::vector<float>{0, 3, 6, 9});
  CHECK(values(ds.shard(3, 1).iterate(0)) == std::vector<float>{1, 4, 7});
  CHECK(values(ds.shard(3, 2).iterate(0)) == std::vector<float>{2, 5, 8});
  // Whole elements: the labels come with their rows.
  auto it = ds.shard(3, 2).iterate(0);
  auto e = it.next();
  REQUIRE(e);
  CHECK((*e)[0](0) == 2.f);
  CHECK((*e)[1].size() == 1);
  CHECK(*(*e)[1].begin() == 20.f);
  CHECK(*(*it.next())[1].begin() == 50.f);
  // The union over the shards is the dataset, each element once.
  std::vector<float> all;
  for (std::int64_t k = 0; k < 3; ++k) {
    auto part = values(ds.shard(3, k).iterate(0));
    all.insert(all.end(), part.begin(), part.end());
  }
  std::sort(all.begin(), all.end());
  CHECK(all == iota(10));
  CHECK(values(ds.shard(1, 0).iterate(0)) == iota(10));
  // Cardinality: the positions p < n with p % num_shards == index, and what a pass gives.
  for (std::size_t n : {0, 1, 2, 5, 9, 10, 11, 12})
    for (std::size_t k = 1; k <= 4; ++k)
      for (std::size_t index = 0; index < k; ++index) {
        CAPTURE(n);
        CAPTURE(k);
        CAPTURE(index);
        D::Dataset part = numbers(n).shard(std::int64_t(k), std::int64_t(index));
        const auto expected = every_nth_from(iota(n), k, index);
        CHECK(part.cardinality() == std::int64_t(expected.size()));
        CHECK(values(part.iterate(0)) == expected);
      }
  CHECK(numbers(10).shard(3, 0).cardinality() == 4);
  CHECK(numbers(10).shard(3, 2).cardinality() == 3);
  CHECK(numbers(2).shard(3, 2).cardinality() == 0);
  // An infinite input stays infinite; its shard continues across the repetitions.
  D::Dataset forever = numbers(3).repeat().shard(2, 1);
  CHECK(forever.cardinality() == D::kInfiniteCardinality);
  CHECK(values(forever.take(5).iterate(0)) == std::vector<float>{1, 0, 2, 1, 0});
  CHECK(forever.take(5).cardinality() == 5);
  CHECK(numbers(3).repeat(3).shard(2, 1).cardinality() == 4);
}

TEST_CASE("Dataset.shard: after a shuffle, the shards of each pass partition its order") {
  D::Dataset shuffled = numbers(20).shuffle(20, 5);
  const auto p0 = values(shuffled.iterate(0)), p1 = values(shuffled.iterate(1));
  REQUIRE(p0 != p1);
  for (std::int64_t pass : {0, 1}) {
    const auto& order = pass == 0 ? p0 : p1;
    std::vector<float> all;
    for (std::size_t k = 0; k < 4; ++k) {
      CAPTURE(pass);
      CAPTURE(k);
      // Each rank builds its own pipeline, with the same seed.
      auto part = values(numbers(20).shuffle(20, 5).shard(4, std::int64_t(k)).iterate(pass));
      CHECK(part == every_nth_from(order, 4, k));
      all.insert(all.end(), part.begin(), part.end());
    }
    std::sort(all.begin(), all.end());
    CHECK(all == iota(20));
  }
  // A random map before the shard draws for the element's position in the whole pass.
  const auto noisy = numbers(10).map_random(
      [](D::Element el, RandomGenerator& g) {
        el[0] = el[0] + g.uniform(0.f, 0.5f);
        return el;
      },
      /*seed=*/3);
  for (std::int64_t pass : {0, 1})
    CHECK(values(noisy.shard(3, 1).iterate(pass)) ==
          every_nth_from(values(noisy.iterate(pass)), 3, 1));
  // The stages before the shard make each element of a pass once; those after see its part.
  std::atomic<int> before{0}, after{0};
  D::Dataset counted = numbers(10)
                           .map([&](D::Element el) {
                             ++before;
                             return el;
                           })
                           .shard(3, 1)
                           .map([&](D::Element el) {
                             ++after;
                             return el;
                           });
  CHECK(values(counted.iterate(0)) == std::vector<float>{1, 4, 7});
  CHECK(before == 10);
  CHECK(after == 3);
}

TEST_CASE("Dataset.shard: then batch, and the errors") {
  D::Dataset ds = numbers(10);
  auto it = ds.shard(3, 1).batch(2).iterate(0);
  auto b0 = it.next();
  REQUIRE(b0);
  CHECK(shape_of((*b0)[0]) == Shape{2, 1});
  CHECK(std::vector<float>((*b0)[0].begin(), (*b0)[0].end()) == std::vector<float>{1, 4});
  CHECK(std::vector<float>((*b0)[1].begin(), (*b0)[1].end()) == std::vector<float>{10, 40});
  auto b1 = it.next();
  REQUIRE(b1);
  CHECK(shape_of((*b1)[0]) == Shape{1, 1});  // the remainder
  CHECK((*b1)[0](0, 0) == 7.f);
  CHECK_FALSE(it.next());
  CHECK(ds.shard(3, 1).batch(2).cardinality() == 2);
  CHECK(ds.shard(3, 1).batch(2, true).cardinality() == 1);
  CHECK(values(ds.shard(3, 0).batch(2, true).iterate(0)) == std::vector<float>{0, 3, 6, 9});
  CHECK_THROWS_AS(ds.shard(0, 0), ValueError);
  TF_CHECK_ERROR(ds.shard(0, 0), "Dataset.shard: num_shards", "at least 1, got 0");
  TF_CHECK_ERROR(ds.shard(-2, 0), "Dataset.shard: num_shards", "got -2");
  CHECK_THROWS_AS(ds.shard(3, -1), ValueError);
  TF_CHECK_ERROR(ds.shard(3, -1), "Dataset.shard: index", "[0, 3)", "got -1");
  CHECK_THROWS_AS(ds.shard(3, 3), ValueError);
  TF_CHECK_ERROR(ds.shard(3, 3), "Dataset.shard: index", "[0, 3)", "got 3");
  TF_CHECK_ERROR(ds.shard(3, 7), "Dataset.shard: index", "got 7");
}

TEST_CASE("Dataset: map, and cache runs what is before it once") {
  std::atomic<int> calls{0};
  D::Dataset ds = numbers(4).map([&](D::Element e) {
    ++calls;
    e[0] = e[0] * 2.f;
    return e;
  });
  CHECK(values(ds.iterate(0)) == std::vector<float>{0, 2, 4, 6});
  CHECK(calls == 4);
  D::Dataset cached = ds.cache();
  auto it = cached.iterate(0);
  it.next();  // a partial pass fills nothing
  it = D::Dataset::Iterator();
  CHECK(values(cached.iterate(0)) == std::vector<float>{0, 2, 4, 6});
  const int after_fill = calls;
  CHECK(values(cached.iterate(1)) == std::vector<float>{0, 2, 4, 6});
  CHECK(calls == after_fill);
  TF_CHECK_ERROR(numbers(2).map(nullptr), "map");
}

TEST_CASE("Dataset: prefetch gives the same elements, errors arrive in order, stopping early") {
  D::Dataset base = numbers(30).shuffle(30, 4).batch(4);
  for (std::size_t n : {0, 1, 3, 100})
    CHECK(values(base.prefetch(n).iterate(2)) == values(base.iterate(2)));
  D::Dataset failing = numbers(5).map([](D::Element e) {
    if (e[0](0) == 3.f) throw ValueError("loader: sample 3 is broken");
    return e;
  });
  auto it = failing.prefetch(2).iterate(0);
  std::vector<float> got;
  bool thrown = false;
  try {
    while (auto e = it.next()) got.push_back((*e)[0](0));
  } catch (const ValueError& e) {
    thrown = std::string(e.what()).find("sample 3") != std::string::npos;
  }
  CHECK(thrown);
  CHECK(got == std::vector<float>{0, 1, 2});
  // An iterator dropped mid-pass stops its thread (an infinite input included).
  auto endless = numbers(3).repeat().prefetch(2).iterate(0);
  CHECK(endless.next());
}

TEST_CASE("Dataset: files through a loader, the errors name the problem") {
  D::Dataset files = D::Dataset::from_files({"a.bin", "b.bin"}, [](const std::string& p) {
    if (p == "b.bin") throw FileError("cannot open");
    return D::Element{Tensor{float(p[0])}};
  });
  CHECK(files.cardinality() == 2);
  auto it = files.iterate(0);
  CHECK((*it.next())[0](0) == float('a'));
  TF_CHECK_ERROR(it.next(), "from_files", "'b.bin'", "cannot open");
  Tensor a = Tensor::from_shape({3, 2}), b = Tensor::from_shape({4});
  try {
    D::Dataset::from_tensor_slices({a, b});
    FAIL("no error");
  } catch (const ShapeError& e) {
    CHECK(std::string(e.what()).find("same number of rows") != std::string::npos);
  }
}

TEST_CASE("Dataset: a batch of unequal shapes is a ShapeError naming the component") {
  D::Dataset ragged = D::Dataset::from_files({"1", "2"}, [](const std::string& p) {
    return D::Element{Tensor::from_shape({std::size_t(std::stoi(p))})};
  });
  TF_CHECK_ERROR(ragged.batch(2).iterate(0).next(), "Dataset.batch", "component 0", "(2,)", "(1,)");
  TF_CHECK_ERROR(numbers(2).batch(0), "batch_size");
}

namespace {

// A fresh empty folder under the system's temporary one, removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("tapeflow_test_pairs_" + std::to_string(::getpid()) + "_" + std::to_string(next()));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  static int next() {
    static int n = 0;
    return n++;
  }
  // A file holding one number (what the test loader reads).
  void write(const std::string& name, float value) const { std::ofstream(path / name) << value; }
  std::string str() const { return path.string(); }
};

Tensor read_number(const std::string& path) {
  std::ifstream in(path);
  float v = 0;
  if (!(in >> v)) throw FileError("not a number");
  return Tensor{v};
}

}  // namespace

TEST_CASE("Dataset.from_file_pairs: pairs by stem, in order, loaded lazily") {
  TempDir dir;
  dir.write("b_img.txt", 2), dir.write("b_seg.txt", 20);
  dir.write("a_img.txt", 1), dir.write("a_seg.txt", 10);
  dir.write("c_img.txt", 3), dir.write("c_seg.txt", 30);
  dir.write("README.md", 0);
  dir.write(".hidden_img.txt", 0);                            // no label, but hidden: not counted
  std::filesystem::create_directory(dir.path / "d_img.txt");  // a folder: not counted
  std::atomic<int> loads{0};
  D::Dataset ds =
      D::Dataset::from_file_pairs(dir.str(), "_img.txt", "_seg.txt", [&](const std::string& p) {
        ++loads;
        return read_number(p);
      });
  CHECK(ds.cardinality() == 3);
  CHECK(loads == 0);
  auto it = ds.iterate(0);
  auto e = it.next();
  REQUIRE(e);
  CHECK(loads == 2);
  REQUIRE(e->size() == 2);
  CHECK((*e)[0](0) == 1.f);
  CHECK((*e)[1](0) == 10.f);
  std::vector<float> images, labels;
  for (const auto& el : ds) images.push_back(el[0](0)), labels.push_back(el[1](0));
  CHECK(images == std::vector<float>{1, 2, 3});
  CHECK(labels == std::vector<float>{10, 20, 30});

  const auto pairs = D::list_file_pairs(dir.str(), "_img.txt", "_seg.txt");
  REQUIRE(pairs.size() == 3);
  CHECK(pairs[1].first == (dir.path / "b_img.txt").string());
  CHECK(pairs[1].second == (dir.path / "b_seg.txt").string());

  // A loader of its own for the labels; batching the pairs.
  D::Dataset two = D::Dataset::from_file_pairs(
      dir.str(), "_img.txt", "_seg.txt", read_number,
      [](const std::string& p) { return Tensor(read_number(p) * -1.f); });
  auto b = two.batch(3).iterate(0).next();
  REQUIRE(b);
  CHECK(shape_of((*b)[1]) == Shape{3, 1});
  CHECK((*b)[1](2, 0) == -30.f);

  // Suffixes where one ends the other: the longer wins ("x_seg.txt" is a label, not an image).
  TempDir nested;
  nested.write("x.txt", 1), nested.write("x_seg.txt", 2), nested.write("y.txt", 3),
      nested.write("y_seg.txt", 4);
  auto n = D::list_file_pairs(nested.str(), ".txt", "_seg.txt");
  REQUIRE(n.size() == 2);
  CHECK(n[0].first == (nested.path / "x.txt").string());
  CHECK(n[0].second == (nested.path / "x_seg.txt").string());
  CHECK(D::list_file_pairs(nested.str(), "_seg.txt", ".txt")[1].first ==
        (nested.path / "y_seg.txt").string());
}

TEST_CASE("Dataset.from_file_pairs: the errors name the file") {
  TempDir dir;
  const auto load = [](const std::string& p) { return read_number(p); };
  const auto from = [&](const std::string& folder) {
    return D::Dataset::from_file_pairs(folder, "_img.txt", "_seg.txt", load);
  };
  // The message parts as named strings (TF_CHECK_ERROR keeps only their pointers).
  const auto in_dir = [&](const char* name) { return (dir.path / name).string(); };
  const std::string folder = dir.str(), missing = folder + "/nope", a_img = in_dir("a_img.txt"),
                    a_seg = in_dir("a_seg.txt"), c_img = in_dir("c_img.txt"),
                    c_seg = in_dir("c_seg.txt"), e_seg = "'" + in_dir("e_seg.txt") + "'";
  // An empty folder, a missing one, a file instead of a folder.
  CHECK_THROWS_AS(from(folder), FileError);
  TF_CHECK_ERROR(from(folder), "Dataset.from_file_pairs", folder.c_str(), "no file ending in",
                 "'_img.txt'");
  CHECK_THROWS_AS(from(missing), FileError);
  TF_CHECK_ERROR(from(missing), missing.c_str(), "no such folder");
  dir.write("a_img.txt", 1);
  TF_CHECK_ERROR(from(a_img), a_img.c_str(), "not a folder");
  // An image without its label, labels without their images.
  dir.write("b_img.txt", 2), dir.write("b_seg.txt", 20);
  CHECK_THROWS_AS(from(folder), FileError);
  TF_CHECK_ERROR(from(folder), "the image", a_img.c_str(), "has no label", a_seg.c_str());
  std::filesystem::remove(dir.path / "a_img.txt");
  dir.write("c_seg.txt", 3), dir.write("d_seg.txt", 3);
  TF_CHECK_ERROR(from(folder), "the label", c_seg.c_str(), "has no image", c_img.c_str(),
                 "and 1 more label without its image");
  std::filesystem::remove(dir.path / "c_seg.txt");
  std::filesystem::remove(dir.path / "d_seg.txt");
  CHECK(from(folder).cardinality() == 1);
  // Bad arguments.
  CHECK_THROWS_AS(D::Dataset::from_file_pairs(folder, "", "_seg.txt", load), ValueError);
  TF_CHECK_ERROR(D::Dataset::from_file_pairs(folder, "", "_seg.txt", load), "image_suffix");
  TF_CHECK_ERROR(D::Dataset::from_file_pairs(folder, "_img.txt", "", load), "label_suffix");
  TF_CHECK_ERROR(D::Dataset::from_file_pairs(folder, "_a", "_a", load), "must differ");
  TF_CHECK_ERROR(D::Dataset::from_file_pairs(folder, "_img.txt", "_seg.txt", nullptr), "loader");
  // A loader's error names the file it was loading.
  dir.write("e_img.txt", 5);
  std::ofstream(dir.path / "e_seg.txt") << "garbage";
  auto it = from(folder).iterate(0);
  CHECK(it.next());
  TF_CHECK_ERROR(it.next(), "Dataset.from_file_pairs", e_seg.c_str(), "not a number");
}
