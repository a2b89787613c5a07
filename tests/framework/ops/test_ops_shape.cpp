#include <numeric>

#include "tapeflow/framework/ops/ops.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using tapeflow::test::iota;
using tapeflow::test::random_tensor;
using tapeflow::test::shaped;
using tapeflow::test::V;

namespace {

// The gradient of sum(square(f(x))), computed under the caller's tapes: differentiating it
// again exercises the backward of f's backward.
Variable square_sum_grad(const std::function<Variable(const Variable&)>& f, const Variable& x) {
  GradientTape tape;
  Variable loss = sum(square(f(x)));
  return tape.gradient(loss, {x})[0];
}
}  // namespace

TEST_CASE("transpose") {
  Tensor x = iota({2, 3});
  TF_CHECK_CLOSE(transpose(V(x)).value(), (Tensor{{0.f, 3.f}, {1.f, 4.f}, {2.f, 5.f}}));
  Variable t = transpose(V(iota({2, 3, 4})), {1, 2, 0});
  CHECK(t.shape() == Shape{3, 4, 2});
  CHECK(t.value()(2, 1, 1) == 12.f + 4.f * 2 + 1);  // x(1, 2, 1)
  TF_GRADCHECK([](auto& in) { return transpose(in[0], {2, 0, 1}); }, {random_tensor({2, 3, 4}, 1)});
  TF_GRADCHECK([](auto& in) { return transpose(in[0]); }, {random_tensor({3, 2}, 2)});
  TF_CHECK_ERROR(transpose(V(x), {0, 0}), "transpose", "perm (0, 0)", "(2, 3)");
  TF_CHECK_ERROR(transpose(V(x), {0, 2}), "transpose", "perm (0, 2)");
  TF_CHECK_ERROR(transpose(V(x), {0}), "transpose", "perm (0,)", "(2, 3)");
}

TEST_CASE("concat") {
  Tensor a = iota({2, 2}), b = iota({2, 1}) + 10.f;
  TF_CHECK_CLOSE(concat({V(a), V(b)}, 1).value(), (Tensor{{0.f, 1.f, 10.f}, {2.f, 3.f, 11.f}}));
  TF_CHECK_CLOSE(concat({V(a), V(a)}, -2).value(),
                 (Tensor{{0.f, 1.f}, {2.f, 3.f}, {0.f, 1.f}, {2.f, 3.f}}));
  TF_GRADCHECK(
      [](auto& in) {
        return concat({in[0], in[1], in[2]}, 1);
      },
      (std::vector<Tensor>{random_tensor({2, 1, 3}, 3), random_tensor({2, 2, 3}, 4),
                           random_tensor({2, 0, 3}, 5)}));
  TF_CHECK_ERROR(concat({}, 0), "concat", "empty");
  TF_CHECK_ERROR(concat({V(a), V(iota({3, 1}))}, 1), "concat", "tensor 1", "(3, 1)", "(2, 2)",
                 "axis 1");
  TF_CHECK_ERROR(concat({V(a), V(iota({2, 2, 1}))}, 0), "concat", "(2, 2, 1)");
  TF_CHECK_ERROR(concat({V(a), V(a)}, 2), "concat", "axis 2", "rank 2");
  TF_CHECK_ERROR(concat({scalar(1.f), scalar(2.f)}, 0), "concat", "scalars");
}

TEST_CASE("stack") {
  Tensor a{1.f, 2.f}, b{3.f, 4.f};
  TF_CHECK_CLOSE(stack({V(a), V(b)}).value(), (Tensor{{1.f, 2.f}, {3.f, 4.f}}));
  TF_CHECK_CLOSE(stack({V(a), V(b)}, -1).value(), (Tensor{{1.f, 3.f}, {2.f, 4.f}}));
  CHECK(stack({scalar(1.f), scalar(2.f)}).shape() == Shape{2});
  TF_GRADCHECK(
      [](auto& in) {
        return stack({in[0], in[1]}, 1);
      },
      (std::vector<Tensor>{random_tensor({2, 3}, 6), random_tensor({2, 3}, 7)}));
  TF_CHECK_ERROR(stack({}), "stack", "empty");
  TF_CHECK_ERROR(stack({V(a), V(Tensor{1.f, 2.f, 3.f})}), "stack", "tensor 1", "(3,)", "(2,)");
  TF_CHECK_ERROR(stack({V(a), V(b)}, 2), "stack", "axis 2");
  TF_CHECK_ERROR(stack({V(a), V(b)}, -3), "stack", "axis -3");
}

TEST_CASE("split, equal parts and given sizes") {
  Tensor x = iota({2, 6});
  auto parts = split(V(x), 3, 1);
  REQUIRE(parts.size() == 3);
  TF_CHECK_CLOSE(parts[1].value(), (Tensor{{2.f, 3.f}, {8.f, 9.f}}));
  auto sized = split(V(x), std::vector<std::size_t>{1, 0, 5}, -1);
  REQUIRE(sized.size() == 3);
  CHECK(sized[1].shape() == Shape{2, 0});
  TF_CHECK_CLOSE(sized[0].value(), shaped(Tensor{0.f, 6.f}, {2, 1}));
  TF_CHECK_CLOSE(sized[2].value(),
                 (Tensor{{1.f, 2.f, 3.f, 4.f, 5.f}, {7.f, 8.f, 9.f, 10.f, 11.f}}));
  // Using only some parts gives zeros elsewhere; using all of them in a weighted sum checks each.
  Variable xv(x, true);
  GradientTape tape;
  auto p = split(xv, 2, 0);
  TF_CHECK_CLOSE(tape.gradient(sum(p[1]), {xv})[0].value(),
                 (Tensor{{0.f, 0.f, 0.f, 0.f, 0.f, 0.f}, {1.f, 1.f, 1.f, 1.f, 1.f, 1.f}}));
  TF_GRADCHECK(
      [](auto& in) {
        auto s = split(in[0], std::vector<std::size_t>{1, 2}, 1);
        return add(mul(s[0], scalar(3.f)), sum(s[1], {1}, true));
      },
      {random_tensor({2, 3, 2}, 8)});
  TF_CHECK_ERROR(split(V(x), 4, 1), "split", "length 6", "4 equal parts");
  TF_CHECK_ERROR(split(V(x), 0, 1), "split", "0 equal parts");
  TF_CHECK_ERROR(split(V(x), std::vector<std::size_t>{2, 3}, 1), "split", "(2, 3)", "sum to 5",
                 "length 6");
  TF_CHECK_ERROR(split(V(x), 2, 2), "split", "axis 2", "rank 2");
}

TEST_CASE("slice") {
  Tensor x = iota({3, 4});
  TF_CHECK_CLOSE(slice(V(x), {1, 1}, {2, 2}).value(), (Tensor{{5.f, 6.f}, {9.f, 10.f}}));
  TF_CHECK_CLOSE(slice(V(x), {2, 1}, {-1, -1}).value(), shaped(Tensor{9.f, 10.f, 11.f}, {1, 3}));
  CHECK(slice(V(x), {3, 0}, {0, 4}).shape() == Shape{0, 4});
  Variable xv(x, true);
  GradientTape tape;
  TF_CHECK_CLOSE(tape.gradient(slice(xv, {0, 2}, {2, 1}), {xv})[0].value(),
                 (Tensor{{0.f, 0.f, 1.f, 0.f}, {0.f, 0.f, 1.f, 0.f}, {0.f, 0.f, 0.f, 0.f}}));
  TF_GRADCHECK(
      [](auto& in) {
        return slice(in[0], {0, 1, 1}, {2, -1, 1});
      },
      {random_tensor({2, 3, 4}, 9)});
  TF_CHECK_ERROR(slice(V(x), {2, 0}, {2, 4}), "slice", "out of bounds", "(3, 4)", "axis 0");
  TF_CHECK_ERROR(slice(V(x), {-1, 0}, {1, 1}), "slice", "out of bounds");
  TF_CHECK_ERROR(slice(V(x), {0, 0}, {1, 5}), "slice", "out of bounds", "axis 1");
  TF_CHECK_ERROR(slice(V(x), {0}, {1}), "slice", "one entry per axis", "(3, 4)");
}

TEST_CASE("strided_slice: Python slicing, negative indices and strides") {
  Tensor x = iota({6});
  // x[1:5:2], x[-1:0:-2] (= 5, 3, 1), x[::-1] via end = -7, x[4:100] clamps.
  TF_CHECK_CLOSE(strided_slice(V(x), {1}, {5}, {2}).value(), (Tensor{1.f, 3.f}));
  TF_CHECK_CLOSE(strided_slice(V(x), {-1}, {0}, {-2}).value(), (Tensor{5.f, 3.f, 1.f}));
  TF_CHECK_CLOSE(strided_slice(V(x), {-1}, {-7}, {-1}).value(),
                 (Tensor{5.f, 4.f, 3.f, 2.f, 1.f, 0.f}));
  TF_CHECK_CLOSE(strided_slice(V(x), {4}, {100}, {1}).value(), (Tensor{4.f, 5.f}));
  CHECK(strided_slice(V(x), {4}, {2}, {1}).shape() == Shape{0});
  Tensor m = iota({3, 4});
  // m[::2, 3:0:-2] and m[1:] (fewer entries than the rank: the rest is whole).
  TF_CHECK_CLOSE(strided_slice(V(m), {0, 3}, {3, 0}, {2, -2}).value(),
                 (Tensor{{3.f, 1.f}, {11.f, 9.f}}));
  TF_CHECK_CLOSE(strided_slice(V(m), {1}, {3}, {1}).value(),
                 (Tensor{{4.f, 5.f, 6.f, 7.f}, {8.f, 9.f, 10.f, 11.f}}));
  TF_GRADCHECK(
      [](auto& in) {
        return strided_slice(in[0], {2, -1}, {0, -5}, {-1, -2});
      },
      {random_tensor({3, 4}, 10)});
  TF_CHECK_ERROR(strided_slice(V(m), {0, 0}, {1, 1}, {1, 0}), "strided_slice", "0 on axis 1");
  TF_CHECK_ERROR(strided_slice(V(m), {0, 0}, {1}, {1, 1}), "strided_slice", "same length");
  TF_CHECK_ERROR(strided_slice(V(x), {0, 0}, {1, 1}, {1, 1}), "strided_slice", "(6,)");
}

TEST_CASE("pad: constant mode") {
  Tensor x{{1.f, 2.f}};
  TF_CHECK_CLOSE(pad(V(x), {{1, 0}, {0, 2}}).value(),
                 (Tensor{{0.f, 0.f, 0.f, 0.f}, {1.f, 2.f, 0.f, 0.f}}));
  TF_CHECK_CLOSE(pad(V(Tensor{3.f}), {{2, 1}}, -1.f).value(), (Tensor{-1.f, -1.f, 3.f, -1.f}));
  TF_GRADCHECK(
      [](auto& in) {
        return pad(in[0], {{0, 1}, {2, 0}, {1, 1}}, 0.5f);
      },
      {random_tensor({2, 2, 3}, 11)});
  TF_CHECK_ERROR(pad(V(x), {{1, 1}}), "pad", "1 (before, after) pairs", "(1, 2)");
}

TEST_CASE("tile") {
  Tensor x{{1.f, 2.f}, {3.f, 4.f}};
  TF_CHECK_CLOSE(tile(V(x), {1, 2}).value(), (Tensor{{1.f, 2.f, 1.f, 2.f}, {3.f, 4.f, 3.f, 4.f}}));
  TF_CHECK_CLOSE(tile(V(Tensor{1.f, 2.f}), {3}).value(), (Tensor{1.f, 2.f, 1.f, 2.f, 1.f, 2.f}));
  Variable xv(x, true);
  GradientTape tape;
  TF_CHECK_CLOSE(tape.gradient(tile(xv, {2, 3}), {xv})[0].value(),
                 Tensor(6.f * xt::ones<float>({2, 2})));
  TF_GRADCHECK([](auto& in) { return tile(in[0], {2, 1, 3}); }, {random_tensor({2, 3, 1}, 12)});
  TF_CHECK_ERROR(tile(V(x), {2}), "tile", "multiples (2,)", "1 entries", "(2, 2)");
  TF_CHECK_ERROR(tile(V(x), {1, 2, 3}), "tile", "3 entries", "rank 2");
}

TEST_CASE("expand_dims and squeeze") {
  Tensor x = iota({2, 3});
  CHECK(expand_dims(V(x), 0).shape() == Shape{1, 2, 3});
  CHECK(expand_dims(V(x), 2).shape() == Shape{2, 3, 1});
  CHECK(expand_dims(V(x), -1).shape() == Shape{2, 3, 1});
  CHECK(expand_dims(V(x), -3).shape() == Shape{1, 2, 3});
  TF_CHECK_CLOSE(expand_dims(V(x), 1).value(), shaped(iota({2, 3}), {2, 1, 3}));
  TF_GRADCHECK([](auto& in) { return expand_dims(in[0], 1); }, {random_tensor({2, 3}, 13)});
  TF_CHECK_ERROR(expand_dims(V(x), 3), "expand_dims", "axis 3");
  TF_CHECK_ERROR(expand_dims(V(x), -4), "expand_dims", "axis -4");

  Tensor y = iota({1, 2, 1, 3});
  CHECK(squeeze(V(y)).shape() == Shape{2, 3});
  CHECK(squeeze(V(y), {2}).shape() == Shape{1, 2, 3});
  CHECK(squeeze(V(y), {0, -2}).shape() == Shape{2, 3});
  TF_CHECK_CLOSE(squeeze(V(y)).value(), iota({2, 3}));
  TF_GRADCHECK([](auto& in) { return squeeze(in[0], {0}); }, {random_tensor({1, 2, 1}, 14)});
  TF_CHECK_ERROR(squeeze(V(y), {1}), "squeeze", "axis 1", "(1, 2, 1, 3)", "length is 2");
  TF_CHECK_ERROR(squeeze(V(y), {4}), "squeeze", "axis 4", "rank 4");
}

TEST_CASE("gather: TF semantics, any index rank, repeated indices add up in the gradient") {
  Tensor x = iota({3, 2});
  TF_CHECK_CLOSE(gather(V(x), IndexTensor{2, 0}).value(), (Tensor{{4.f, 5.f}, {0.f, 1.f}}));
  TF_CHECK_CLOSE(gather(V(x), IndexTensor{1, 1, 0}, 1).value(),
                 (Tensor{{1.f, 1.f, 0.f}, {3.f, 3.f, 2.f}, {5.f, 5.f, 4.f}}));
  // 0-d indices drop the axis; 2-D indices replace it by two.
  CHECK(gather(V(x), IndexTensor(1)).shape() == Shape{2});
  TF_CHECK_CLOSE(gather(V(x), IndexTensor(1)).value(), (Tensor{2.f, 3.f}));
  Variable g2 = gather(V(iota({2, 3, 4})), IndexTensor{{0, 2}, {1, 1}, {2, 0}}, 1);
  CHECK(g2.shape() == Shape{2, 3, 2, 4});
  CHECK(g2.value()(1, 2, 0, 3) == 12.f + 4.f * 2 + 3);  // x(1, 2, 3)
  Variable xv(x, true);
  GradientTape tape;
  TF_CHECK_CLOSE(tape.gradient(gather(xv, IndexTensor{0, 2, 0, 0}), {xv})[0].value(),
                 (Tensor{{3.f, 3.f}, {0.f, 0.f}, {1.f, 1.f}}));
  TF_GRADCHECK(
      [](auto& in) {
        return gather(in[0], IndexTensor{{1, 0}, {1, 1}}, -1);
      },
      {random_tensor({2, 3, 2}, 15)});
  TF_GRADCHECK(
      [](auto& in) {
        return gather(in[0], IndexTensor{2, 2, 0}, 0);
      },
      {random_tensor({3, 2}, 16)});
  TF_CHECK_ERROR(gather(V(x), IndexTensor{0, 3}), "gather", "index 3", "axis 0", "size 3");
  TF_CHECK_ERROR(gather(V(x), IndexTensor{-1}, 1), "gather", "index -1", "axis 1", "size 2");
  TF_CHECK_ERROR(gather(V(x), IndexTensor{0}, 2), "gather", "axis 2", "rank 2");
  TF_CHECK_ERROR(gather(scalar(1.f), IndexTensor{0}), "gather", "rank 0");
}

TEST_CASE("second order through the shape ops' backward closures") {
  // d/dx of the gradient of sum(f(x)^2) = 2 f^T f: finite differences check the scatter/gather
  // pairs (gather <-> scatter_add, slice <-> pad) and concat <-> split.
  TF_GRADCHECK(
      [](auto& in) {
        return square_sum_grad(
            [](const Variable& v) {
              return gather(v, IndexTensor{1, 1, 0});
            },
            in[0]);
      },
      {random_tensor({2, 3}, 17)});
  TF_GRADCHECK(
      [](auto& in) {
        return square_sum_grad([](const Variable& v) { return strided_slice(v, {2}, {-5}, {-1}); },
                               in[0]);
      },
      {random_tensor({4}, 18)});
  TF_GRADCHECK(
      [](auto& in) {
        return square_sum_grad(
            [](const Variable& v) {
              return pad(concat({v, square(v)}, 0), {{1, 1}}, 0.5f);
            },
            in[0]);
      },
      {random_tensor({3}, 19)});
}

TEST_CASE("concat and split of empty tensors along a non-empty axis") {
  // No rows: nothing is copied, and no offset is applied to an empty tensor's data.
  Variable a(Tensor::from_shape({0, 2})), b(Tensor::from_shape({0, 3}));
  Variable c = concat({a, b}, 1);
  CHECK(c.shape() == Shape{0, 5});
  auto parts = split(c, std::vector<std::size_t>{2, 3}, 1);
  REQUIRE(parts.size() == 2);
  CHECK(parts[0].shape() == Shape{0, 2});
  CHECK(parts[1].shape() == Shape{0, 3});
}
