#include <algorithm>

#include "tapeflow/framework/ops/ops.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using tapeflow::test::grad_of;
using tapeflow::test::kNaN;
using tapeflow::test::random_tensor;
using tapeflow::test::shaped;
using tapeflow::test::V;

namespace {

// The gradient of f, computed under the caller's tapes (so it can be differentiated again).
Variable inner_grad(const std::function<Variable(const Variable&)>& f, const Variable& x) {
  GradientTape tape;
  Variable y = f(x);
  return tape.gradient(y, {x})[0];
}

// Shuffled values 0.1 apart, so finite differences (step 0.01) never cross a tie.
Tensor distinct_tensor(const Shape& shape, unsigned seed) {
  Tensor t = tapeflow::test::random_tensor(shape, seed);
  std::vector<std::size_t> order(t.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return t.data()[a] < t.data()[b]; });
  for (std::size_t r = 0; r < order.size(); ++r) t.data()[order[r]] = 0.1f * float(r) - 1.f;
  return t;
}

const Tensor kMatrix23{{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}};
}  // namespace

TEST_CASE("mean: values over axes, keepdims, negative axes") {
  TF_CHECK_CLOSE(mean(V(kMatrix23)).value(), Tensor(3.5f));
  TF_CHECK_CLOSE(mean(V(kMatrix23), {0}).value(), (Tensor{2.5f, 3.5f, 4.5f}));
  TF_CHECK_CLOSE(mean(V(kMatrix23), {-1}).value(), (Tensor{2.f, 5.f}));
  Variable k = mean(V(kMatrix23), {1}, true);
  CHECK(k.shape() == Shape{2, 1});
  TF_CHECK_CLOSE(mean(V(kMatrix23), {0, 1}, true).value(), shaped(Tensor{3.5f}, {1, 1}));
  TF_CHECK_CLOSE(grad_of([](auto& v) { return mean(v, {1}); }, kMatrix23),
                 Tensor(xt::ones<float>({2, 3}) / 3.f));
  TF_GRADCHECK([](auto& in) { return mean(in[0], {0, 2}); }, {random_tensor({2, 3, 4}, 1)});
  TF_GRADCHECK([](auto& in) { return mean(in[0], {-2}, true); }, {random_tensor({2, 3, 4}, 2)});
  TF_CHECK_ERROR(mean(V(kMatrix23), {2}), "mean", "axis 2", "rank 2");
  TF_CHECK_ERROR(mean(V(kMatrix23), {-3}), "mean", "axis -3");
}

TEST_CASE("max and min: values, ties share the gradient equally") {
  TF_CHECK_CLOSE(max(V(kMatrix23)).value(), Tensor(6.f));
  TF_CHECK_CLOSE(min(V(kMatrix23)).value(), Tensor(1.f));
  TF_CHECK_CLOSE(max(V(kMatrix23), {0}).value(), (Tensor{4.f, 5.f, 6.f}));
  TF_CHECK_CLOSE(min(V(kMatrix23), {-1}, true).value(), shaped(Tensor{1.f, 4.f}, {2, 1}));
  // TF divides the gradient among tied extrema.
  TF_CHECK_CLOSE(grad_of([](auto& v) { return max(v); }, Tensor{3.f, 1.f, 3.f}),
                 (Tensor{0.5f, 0.f, 0.5f}));
  TF_CHECK_CLOSE(
      grad_of([](auto& v) { return min(v, {1}); }, Tensor{{2.f, 2.f, 2.f}, {1.f, 5.f, 0.f}}),
      (Tensor{{1.f / 3, 1.f / 3, 1.f / 3}, {0.f, 0.f, 1.f}}));
  TF_GRADCHECK([](auto& in) { return max(in[0], {1}); }, {distinct_tensor({3, 4, 2}, 3)});
  TF_GRADCHECK([](auto& in) { return min(in[0], {0, 2}, true); }, {distinct_tensor({3, 4, 2}, 4)});
  TF_GRADCHECK([](auto& in) { return max(in[0]); }, {distinct_tensor({5}, 5)});
  TF_CHECK_ERROR(max(V(kMatrix23), {5}), "max", "axis 5", "rank 2");
  TF_CHECK_ERROR(min(V(kMatrix23), {-4}), "min", "axis -4");
  TF_CHECK_ERROR(max(V(xt::zeros<float>({2, 0}))), "max", "length 0", "(2, 0)");
  TF_CHECK_ERROR(min(V(xt::zeros<float>({0, 3})), {0}), "min", "axis 0", "length 0");
  // Reducing only non-empty axes of a tensor with an empty axis is fine.
  CHECK(max(V(xt::zeros<float>({0, 3})), {1}).shape() == Shape{0});
}

TEST_CASE("prod: values over axes") {
  TF_CHECK_CLOSE(prod(V(kMatrix23)).value(), Tensor(720.f));
  TF_CHECK_CLOSE(prod(V(kMatrix23), {0}).value(), (Tensor{4.f, 10.f, 18.f}));
  TF_CHECK_CLOSE(prod(V(kMatrix23), {-1}, true).value(), shaped(Tensor{6.f, 120.f}, {2, 1}));
  CHECK(prod(V(kMatrix23), {0, 1}, true).shape() == Shape{1, 1});
  TF_CHECK_CLOSE(prod(V(xt::zeros<float>({0}))).value(), Tensor(1.f));  // empty product
  TF_CHECK_ERROR(prod(V(kMatrix23), {2}), "prod", "axis 2");
}

TEST_CASE("prod: gradient without dividing, exact with zeros") {
  TF_CHECK_CLOSE(grad_of([](auto& v) { return prod(v); }, Tensor{2.f, 3.f, 4.f}),
                 (Tensor{12.f, 8.f, 6.f}));
  TF_CHECK_CLOSE(grad_of([](auto& v) { return prod(v); }, Tensor{2.f, 0.f, 3.f}),
                 (Tensor{0.f, 6.f, 0.f}));
  TF_CHECK_CLOSE(grad_of([](auto& v) { return prod(v); }, Tensor{0.f, 0.f, 3.f}),
                 (Tensor{0.f, 0.f, 0.f}));
  TF_CHECK_CLOSE(grad_of([](auto& v) { return prod(v, {0}); }, Tensor{{0.f, 2.f}, {5.f, 3.f}}),
                 (Tensor{{5.f, 3.f}, {0.f, 2.f}}));
  Tensor with_zeros = random_tensor({3, 4, 2}, 6);
  with_zeros(0, 1, 0) = 0.f;
  with_zeros(1, 1, 0) = 0.f;
  with_zeros(2, 3, 1) = 0.f;
  TF_GRADCHECK([](auto& in) { return prod(in[0], {1}); }, {with_zeros});
  TF_GRADCHECK([](auto& in) { return prod(in[0], {0, 2}, true); }, {with_zeros});
  TF_GRADCHECK([](auto& in) { return prod(in[0]); }, {random_tensor({2, 3}, 7, 0.5f, 1.5f)});
}

TEST_CASE("prod: second derivatives are exact with a zero in the input") {
  // Hessian of x0 x1 x2 at (2, 0, 3): row 1 is (x2, 0, x0) = (3, 0, 2).
  Variable x(Tensor{2.f, 0.f, 3.f}, true);
  GradientTape outer;
  Variable g = inner_grad([](const Variable& v) { return prod(v); }, x);
  TF_CHECK_CLOSE(g.value(), (Tensor{0.f, 6.f, 0.f}));
  Variable h1 = outer.gradient(sum(mul(g, V(Tensor{0.f, 1.f, 0.f}))), {x})[0];
  TF_CHECK_CLOSE(h1.value(), (Tensor{3.f, 0.f, 2.f}));
  // And by finite differences of the gradient itself, zeros included.
  Tensor z = random_tensor({2, 4}, 8);
  z(0, 2) = 0.f;
  z(1, 0) = 0.f;
  z(1, 3) = 0.f;
  TF_GRADCHECK(
      [](auto& in) { return inner_grad([](const Variable& v) { return prod(v, {1}); }, in[0]); },
      {z});
}

// ---- NaN propagates as in TF -----------------------------------------------------------------

namespace {
using test::check_close_nan;
}  // namespace

TEST_CASE("max and min propagate NaN from any position, over one axis or several") {
  // A NaN first, in the middle, last, and none: xt::amax kept a NaN only in last place.
  const Tensor x =
      shaped(Tensor{kNaN, 1.f, 2.f, 3.f, kNaN, 4.f, 5.f, 6.f, kNaN, 7.f, 8.f, 9.f}, {4, 3});
  check_close_nan(max(V(x), {1}).value(), Tensor{kNaN, kNaN, kNaN, 9.f});
  check_close_nan(min(V(x), {-1}).value(), Tensor{kNaN, kNaN, kNaN, 7.f});
  check_close_nan(max(V(x), {0}).value(), Tensor{kNaN, kNaN, kNaN});
  check_close_nan(min(V(x), {0}, /*keepdims=*/true).value(),
                  shaped(Tensor{kNaN, kNaN, kNaN}, {1, 3}));
  check_close_nan(max(V(x)).value(), Tensor(kNaN));
  check_close_nan(min(V(x), {0, 1}).value(), Tensor(kNaN));
  // Without NaN nothing changes; a group of -inf has max -inf (xt::amax gave the lowest float).
  const float inf = std::numeric_limits<float>::infinity();
  check_close_nan(max(V(kMatrix23), {0}).value(), Tensor{4.f, 5.f, 6.f});
  check_close_nan(max(V(Tensor{-inf, -inf})).value(), Tensor(-inf));
  check_close_nan(min(V(Tensor{inf, inf})).value(), Tensor(inf));
  // The gradient of a NaN group is NaN (TF: no element equals its max); other groups keep theirs.
  check_close_nan(
      grad_of([](auto& v) { return max(v, {1}); }, x),
      shaped(Tensor{kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, 0.f, 0.f, 1.f}, {4, 3}));
}

TEST_CASE("sum, mean and prod propagate NaN, their gradients stay finite elsewhere") {
  Tensor x = shaped(Tensor{kNaN, 1.f, 2.f, 3.f, 4.f, 5.f}, {2, 3});
  check_close_nan(sum(V(x), {1}).value(), Tensor{kNaN, 12.f});
  check_close_nan(mean(V(x), {1}).value(), Tensor{kNaN, 4.f});
  check_close_nan(prod(V(x), {1}).value(), Tensor{kNaN, 60.f});
  check_close_nan(sum(V(x)).value(), Tensor(kNaN));
  check_close_nan(mean(V(x), {0, 1}).value(), Tensor(kNaN));
  check_close_nan(prod(V(x), {0}).value(), Tensor{kNaN, 4.f, 10.f});
  // sum and mean: the gradient does not depend on the values (TF: 1 and 1/n everywhere).
  check_close_nan(grad_of([](auto& v) { return sum(v, {1}); }, x), xt::ones<float>({2, 3}));
  // prod: the product of the others, NaN wherever a NaN is among them (TF's ProdGrad too).
  check_close_nan(grad_of([](auto& v) { return prod(v, {1}); }, x),
                  shaped(Tensor{2.f, kNaN, kNaN, 20.f, 15.f, 12.f}, {2, 3}));
}

TEST_CASE("sum over an empty tensor is zeros of the reduced shape, its gradient empty") {
  Variable x(Tensor::from_shape({0, 3, 2}), true, "x");
  GradientTape tape;
  Variable over_rows = sum(x, {0});
  CHECK(over_rows.shape() == Shape{3, 2});
  CHECK(std::all_of(over_rows.value().begin(), over_rows.value().end(),
                    [](float v) { return v == 0.f; }));
  CHECK(sum(x, {0, 1}, /*keepdims=*/true).shape() == Shape{1, 1, 2});
  CHECK(sum(x, {1}).shape() == Shape{0, 2});
  CHECK(sum(x).value()() == 0.f);
  auto g = tape.gradient(sum(over_rows), {x});
  CHECK(g[0].shape() == Shape{0, 3, 2});
}
