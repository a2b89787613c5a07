// data::Dataset (framework/data/dataset.hpp): the order, batching, remainder, shuffling
// determinism, repeat/take/skip, cache and prefetch (the same elements as without it), and the
// errors.
#include <algorithm>
#include <atomic>
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
