#include "tapeflow/framework/ops/ops.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using tapeflow::test::random_tensor;
using tapeflow::test::shaped;
using tapeflow::test::V;

namespace {

using Inputs = std::vector<Tensor>;
}  // namespace

TEST_CASE("scalar, zeros_like, ones_like") {
  CHECK(scalar(2.5f).shape() == Shape{});
  CHECK(scalar(2.5f).item() == 2.5f);
  Variable x(Tensor{{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}});
  TF_CHECK_CLOSE(zeros_like(x).value(), Tensor(xt::zeros<float>({2, 3})));
  TF_CHECK_CLOSE(ones_like(x).value(), Tensor(xt::ones<float>({2, 3})));
}

TEST_CASE("add, sub, mul, div: values with broadcasting, and the operators") {
  Variable a(Tensor{{1.f, 2.f}, {3.f, 4.f}}), b(Tensor{10.f, 20.f});
  TF_CHECK_CLOSE(add(a, b).value(), (Tensor{{11.f, 22.f}, {13.f, 24.f}}));
  TF_CHECK_CLOSE(sub(a, b).value(), (Tensor{{-9.f, -18.f}, {-7.f, -16.f}}));
  TF_CHECK_CLOSE(mul(a, b).value(), (Tensor{{10.f, 40.f}, {30.f, 80.f}}));
  TF_CHECK_CLOSE(div(a, b).value(), (Tensor{{0.1f, 0.1f}, {0.3f, 0.2f}}));
  TF_CHECK_CLOSE(neg(a).value(), (Tensor{{-1.f, -2.f}, {-3.f, -4.f}}));
  TF_CHECK_CLOSE((a + b).value(), add(a, b).value());
  TF_CHECK_CLOSE((a - 1.f).value(), (Tensor{{0.f, 1.f}, {2.f, 3.f}}));
  TF_CHECK_CLOSE((2.f - a).value(), (Tensor{{1.f, 0.f}, {-1.f, -2.f}}));
  TF_CHECK_CLOSE((a * 3.f).value(), (Tensor{{3.f, 6.f}, {9.f, 12.f}}));
  TF_CHECK_CLOSE((12.f / a).value(), (Tensor{{12.f, 6.f}, {4.f, 3.f}}));
  TF_CHECK_CLOSE((-a).value(), neg(a).value());
  // (3, 1) with (4,) broadcasts to (3, 4).
  CHECK(add(V(xt::ones<float>({3, 1})), V(xt::ones<float>({4}))).shape() == Shape{3, 4});
}

TEST_CASE("add, sub, mul, div: gradients reduce to each input's broadcast shape") {
  Variable a(Tensor{{1.f, 2.f}, {3.f, 4.f}}, true), b(Tensor{10.f, 20.f}, true);
  Variable s(Tensor(2.f), true);
  {
    GradientTape tape;
    auto g = tape.gradient(add(a, b), {a, b});
    CHECK(g[1].shape() == Shape{2});
    TF_CHECK_CLOSE(g[0].value(), Tensor(xt::ones<float>({2, 2})));
    TF_CHECK_CLOSE(g[1].value(), (Tensor{2.f, 2.f}));
  }
  {
    GradientTape tape;
    auto g = tape.gradient(sub(a, s), {a, s});
    CHECK(g[1].shape() == Shape{});
    TF_CHECK_CLOSE(g[1].value(), Tensor(-4.f));
  }
  {
    GradientTape tape;
    auto g = tape.gradient(mul(a, b), {a, b});
    TF_CHECK_CLOSE(g[0].value(), (Tensor{{10.f, 20.f}, {10.f, 20.f}}));
    TF_CHECK_CLOSE(g[1].value(), (Tensor{4.f, 6.f}));  // column sums of a
  }
  {
    GradientTape tape;
    auto g = tape.gradient(div(s, a), {s, a});
    TF_CHECK_CLOSE(g[0].value(), Tensor(1.f + 0.5f + 1.f / 3 + 0.25f));
    TF_CHECK_CLOSE(g[1].value(), (Tensor{{-2.f, -0.5f}, {-2.f / 9, -0.125f}}));  // -s / a^2
  }
  // Size-1 axes in the middle, and a rank difference, in both argument orders.
  Inputs ab{random_tensor({2, 1, 3}, 1), random_tensor({4, 1}, 2, 0.5f, 1.5f)};
  Inputs ba{random_tensor({4, 1}, 3), random_tensor({2, 1, 3}, 4, 0.5f, 1.5f)};
  for (const auto* in : {&ab, &ba}) {
    TF_GRADCHECK([](auto& v) { return add(v[0], v[1]); }, *in);
    TF_GRADCHECK([](auto& v) { return sub(v[0], v[1]); }, *in);
    TF_GRADCHECK([](auto& v) { return mul(v[0], v[1]); }, *in);
    TF_GRADCHECK([](auto& v) { return div(v[0], v[1]); }, *in);
  }
  TF_GRADCHECK([](auto& v) { return neg(v[0]); }, Inputs{random_tensor({3, 2}, 5)});
}

TEST_CASE("binary ops: broadcasting mismatches name the op and both shapes") {
  Variable a(xt::ones<float>({2, 3})), b(xt::ones<float>({4, 3})), c(xt::ones<float>({2}));
  TF_CHECK_ERROR(add(a, b), "add", "(2, 3)", "(4, 3)", "cannot be broadcast");
  TF_CHECK_ERROR(sub(a, c), "sub", "(2, 3)", "(2,)");
  TF_CHECK_ERROR(mul(b, c), "mul", "(4, 3)", "(2,)");
  TF_CHECK_ERROR(div(c, a), "div", "(2,)", "(2, 3)");
  TF_CHECK_ERROR(a + b, "add");
}

TEST_CASE("second order through the arithmetic ops") {
  // f = x^3 / (x + 1): check f'' by finite differences of the first derivative.
  TF_GRADCHECK(
      [](auto& v) {
        GradientTape tape;
        Variable f = div(mul(mul(v[0], v[0]), v[0]), add(v[0], scalar(1.f)));
        return tape.gradient(f, {v[0]})[0];
      },
      Inputs{random_tensor({4}, 6, 0.5f, 2.f)});
}

TEST_CASE("sum: values, axes, keepdims, gradient shape") {
  Variable x(Tensor{{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}});
  TF_CHECK_CLOSE(sum(x).value(), Tensor(21.f));
  TF_CHECK_CLOSE(sum(x, {0}).value(), (Tensor{5.f, 7.f, 9.f}));
  TF_CHECK_CLOSE(sum(x, {-1}, true).value(), shaped(Tensor{6.f, 15.f}, {2, 1}));
  TF_CHECK_CLOSE(sum(x, {1, 0}).value(), Tensor(21.f));
  CHECK(sum(x, {0, 1}, true).shape() == Shape{1, 1});
  CHECK(sum(scalar(3.f)).item() == 3.f);
  TF_GRADCHECK([](auto& v) { return sum(v[0], {0, 2}); }, Inputs{random_tensor({2, 3, 4}, 7)});
  TF_GRADCHECK([](auto& v) { return sum(v[0], {1}, true); }, Inputs{random_tensor({2, 3, 4}, 8)});
  TF_GRADCHECK([](auto& v) { return sum(v[0]); }, Inputs{random_tensor({3, 2}, 9)});
  TF_CHECK_ERROR(sum(x, {2}), "sum", "axis 2", "rank 2");
  TF_CHECK_ERROR(sum(x, {-3}), "sum", "axis -3");
}

TEST_CASE("reshape: values, -1 inference, gradient, wrong sizes") {
  Variable x(Tensor{{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}});
  TF_CHECK_CLOSE(reshape(x, {3, 2}).value(), (Tensor{{1.f, 2.f}, {3.f, 4.f}, {5.f, 6.f}}));
  CHECK(reshape(x, {-1}).shape() == Shape{6});
  CHECK(reshape(x, {1, -1, 2}).shape() == Shape{1, 3, 2});
  CHECK(reshape(V(Tensor{7.f}), {}).shape() == Shape{});
  TF_GRADCHECK(
      [](auto& v) {
        return reshape(v[0], {4, -1});
      },
      Inputs{random_tensor({2, 3, 2}, 10)});
  TF_CHECK_ERROR(reshape(x, {4, 2}), "reshape", "(2, 3)", "6 elements", "(4, 2)", "8 elements");
  TF_CHECK_ERROR(reshape(x, {4, -1}), "reshape", "(2, 3)", "(4, -1)");
  TF_CHECK_ERROR(reshape(x, {-1, -1}), "reshape", "more than one -1");
  TF_CHECK_ERROR(reshape(x, {-2, -3}), "reshape", "negative");
}

TEST_CASE("broadcast_to: values, gradient sums back, bad targets") {
  Variable x(Tensor{1.f, 2.f});
  TF_CHECK_CLOSE(broadcast_to(x, {3, 2}).value(), (Tensor{{1.f, 2.f}, {1.f, 2.f}, {1.f, 2.f}}));
  TF_CHECK_CLOSE(broadcast_to(x, {2}).value(), x.value());
  Variable xv(shaped(Tensor{1.f, 2.f}, {2, 1}), true);
  GradientTape tape;
  Variable g = tape.gradient(broadcast_to(xv, {3, 2, 4}), {xv})[0];
  CHECK(g.shape() == Shape{2, 1});
  TF_CHECK_CLOSE(g.value(), shaped(Tensor{12.f, 12.f}, {2, 1}));
  TF_GRADCHECK(
      [](auto& v) {
        return broadcast_to(v[0], {2, 3, 4});
      },
      Inputs{random_tensor({3, 1}, 11)});
  TF_GRADCHECK(
      [](auto& v) {
        return broadcast_to(v[0], {2, 3});
      },
      Inputs{random_tensor({2, 3}, 12)});
  TF_CHECK_ERROR(broadcast_to(x, {3}), "broadcast_to", "(2,)", "(3,)");
  // Broadcasting must produce exactly the target: (2,) cannot become (1,) even though they are
  // compatible.
  TF_CHECK_ERROR(broadcast_to(x, {1}), "broadcast_to", "(2,)", "(1,)");
}

TEST_CASE("detail helpers: broadcast_shape, unbroadcast, normalize_axis/axes") {
  CHECK(tapeflow::detail::broadcast_shape("op", {2, 1, 3}, {4, 1}) == Shape{2, 4, 3});
  CHECK(tapeflow::detail::broadcast_shape("op", {}, {5}) == Shape{5});
  TF_CHECK_ERROR(tapeflow::detail::broadcast_shape("myop", {2}, {3}), "myop", "(2,)", "(3,)");
  Variable g(xt::ones<float>({2, 4, 3}));
  TF_CHECK_CLOSE(tapeflow::detail::unbroadcast(g, {4, 1}).value(),
                 Tensor(6.f * xt::ones<float>({4, 1})));
  TF_CHECK_CLOSE(tapeflow::detail::unbroadcast(g, {}).value(), Tensor(24.f));
  CHECK(tapeflow::detail::normalize_axis("op", -1, 3) == 2);
  TF_CHECK_ERROR(tapeflow::detail::normalize_axis("myop", 3, 3), "myop", "axis 3", "rank 3");
  CHECK(tapeflow::detail::normalize_axes("op", {2, -3, 0}, 3) == std::vector<std::size_t>{0, 2});
  CHECK(tapeflow::detail::normalize_axes("op", {}, 2) == std::vector<std::size_t>{0, 1});
}
