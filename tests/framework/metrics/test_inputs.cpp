#include <cmath>

#include "tapeflow/framework/metrics/detail/inputs.hpp"
#include "test_util.hpp"

using namespace tapeflow;
namespace md = tapeflow::metrics::detail;
using test::T;

TEST_CASE("squeeze_or_expand_to_same_rank: Keras' rule") {
  auto run = [](Shape a, Shape b, bool expand = true) {
    md::squeeze_or_expand_to_same_rank(a, b, expand);
    return std::make_pair(a, b);
  };
  // (N,) against (N, 1): the rank-1 side gets the trailing 1.
  CHECK(run({4}, {4, 1}) == std::make_pair(Shape{4, 1}, Shape{4, 1}));
  CHECK(run({4, 1}, {4}) == std::make_pair(Shape{4, 1}, Shape{4, 1}));
  // Without expand_rank_1, or above rank 1, the trailing 1 is squeezed instead.
  CHECK(run({4}, {4, 1}, false) == std::make_pair(Shape{4}, Shape{4}));
  CHECK(run({2, 3, 1}, {2, 3}) == std::make_pair(Shape{2, 3}, Shape{2, 3}));
  // Anything else is left alone.
  CHECK(run({4}, {1, 4}) == std::make_pair(Shape{4}, Shape{1, 4}));
  CHECK(run({2, 3}, {2, 3, 2}) == std::make_pair(Shape{2, 3}, Shape{2, 3, 2}));
  CHECK(run({2}, {2, 1, 1}) == std::make_pair(Shape{2}, Shape{2, 1, 1}));
  Tensor x = Tensor{1.f, 2.f}, y = T({2, 1}, {3, 4});
  md::squeeze_or_expand_to_same_rank(x, y);
  CHECK(shape_of(x) == Shape{2, 1});
  CHECK(x(1, 0) == 2.f);
}

TEST_CASE("broadcast_weights: leading axes, axes of 1, none") {
  CHECK(md::broadcast_weights("m", Tensor(), {2, 3}).empty());
  CHECK(md::broadcast_weights("m", Tensor{1.f, 2.f}, {2, 3}) ==
        std::vector<double>{1, 1, 1, 2, 2, 2});
  CHECK(md::broadcast_weights("m", T({2, 1}, {1, 2}), {2, 3}) ==
        std::vector<double>{1, 1, 1, 2, 2, 2});
  CHECK(md::broadcast_weights("m", T({1, 3}, {1, 2, 3}), {2, 3}) ==
        std::vector<double>{1, 2, 3, 1, 2, 3});
  CHECK(md::broadcast_weights("m", Tensor{5.f}, {2, 2}) == std::vector<double>{5, 5, 5, 5});
  CHECK(md::broadcast_weights("m", T({2, 1}, {1, 2}), {2}) == std::vector<double>{1, 2});
  CHECK(md::broadcast_weights("m", T({2, 2}, {1, 2, 3, 4}), {2, 2, 2}) ==
        std::vector<double>{1, 1, 2, 2, 3, 3, 4, 4});
  TF_CHECK_ERROR(md::broadcast_weights("Precision 'p'", Tensor{1.f, 2.f, 3.f}, {2, 3}),
                 "Precision 'p'", "sample_weight shape (3,)", "(2, 3)");
  CHECK_THROWS_AS(md::broadcast_weights("m", T({2, 2}, {1, 2, 3, 4}), {2}), ShapeError);
}

TEST_CASE("argmax: first index on ties, NaN gives -1, any axis") {
  Shape s;
  CHECK(md::argmax("m", T({3, 3}, {1, 3, 3, 0, 0, 0, 2, NAN, 5}), -1, &s) ==
        std::vector<long>{1, 0, -1});
  CHECK(s == Shape{3});
  CHECK(md::argmax("m", T({2, 3}, {1, 5, 0, 4, 2, 0}), 0, &s) == std::vector<long>{1, 0, 0});
  CHECK(s == Shape{3});
  CHECK(md::argmax("m", T({2, 2, 2}, {0, 1, 2, 3, 7, 6, 5, 4}), 1) ==
        std::vector<long>{1, 1, 0, 0});
  CHECK_THROWS_AS(md::argmax("m", T({2, 2}, {0, 1, 2, 3}), 2), ShapeError);
  CHECK_THROWS_AS(md::argmax("m", Tensor::from_shape({2, 0}), -1), ShapeError);
}

TEST_CASE("class_id: integers in range, ignore_class") {
  CHECK(md::class_id("m", "y_true", 2.f, 3) == 2);
  CHECK(md::class_id("m", "y_true", 255.f, 3, 255) == 255);
  TF_CHECK_ERROR(md::class_id("m", "y_true", 3.f, 3), "m: y_true", "[0, 3)", "got 3");
  TF_CHECK_ERROR(md::class_id("m", "y_pred", 254.f, 3, 255), "y_pred", "ignore_class 255");
  CHECK_THROWS_AS(md::class_id("m", "y_true", 0.5f, 3), ValueError);
  CHECK_THROWS_AS(md::class_id("m", "y_true", NAN, 3), ValueError);
  CHECK_THROWS_AS(md::class_id("m", "y_true", -1.f, 3), ValueError);
  CHECK(md::divide_no_nan(1, 0) == 0.0);
  CHECK(std::isnan(md::divide_no_nan(NAN, 2)));
  CHECK_THROWS_AS(md::check_unit_interval("m", "t", 1.01), ValueError);
  CHECK_NOTHROW(md::check_unit_interval("m", "t", 1.0));
  CHECK_THROWS_AS(md::check_finite("m", "t", INFINITY), ValueError);
}
