#include <cmath>

#include "tapeflow/framework/ops/ops.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using tapeflow::test::away_from;
using tapeflow::test::grad_of;
using tapeflow::test::kNaN;
using tapeflow::test::random_tensor;
using tapeflow::test::V;

TEST_CASE("exp: values, gradient, second and third derivatives") {
  TF_CHECK_CLOSE(exp(V(Tensor{0.f, 1.f, -2.f})).value(),
                 (Tensor{1.f, std::exp(1.f), std::exp(-2.f)}));
  TF_GRADCHECK([](auto& in) { return exp(in[0]); }, {random_tensor({2, 3}, 1)});

  // Backward closures are differentiable: d^2/dx^2 exp(2x) = 4 exp(2x), d^3 = 8 exp(2x).
  Variable x(Tensor{0.3f, -0.5f}, true);
  GradientTape t3, t2, t1;
  Variable y = exp(x * 2.f);
  Variable g1 = t1.gradient(y, {x})[0];
  Variable g2 = t2.gradient(g1, {x})[0];
  Variable g3 = t3.gradient(g2, {x})[0];
  Tensor e = xt::exp(2.f * x.value());
  TF_CHECK_CLOSE(g1.value(), Tensor(2.f * e));
  TF_CHECK_CLOSE(g2.value(), Tensor(4.f * e));
  TF_CHECK_CLOSE(g3.value(), Tensor(8.f * e));
}

TEST_CASE("log") {
  TF_CHECK_CLOSE(log(V(Tensor{1.f, std::exp(2.f), 0.5f})).value(),
                 (Tensor{0.f, 2.f, std::log(0.5f)}));
  TF_CHECK_CLOSE(grad_of([](auto& v) { return log(v); }, Tensor{2.f, 0.25f}), (Tensor{0.5f, 4.f}));
  TF_GRADCHECK([](auto& in) { return log(in[0]); }, {random_tensor({3, 2}, 2, 0.5f, 2.f)});
  // Second order: d^2 log x = -1/x^2.
  Variable x(Tensor{2.f}, true);
  GradientTape t2, t1;
  Variable g1 = t1.gradient(log(x), {x})[0];
  TF_CHECK_CLOSE(t2.gradient(g1, {x})[0].value(), Tensor{-0.25f});
}

TEST_CASE("sqrt and rsqrt") {
  TF_CHECK_CLOSE(sqrt(V(Tensor{4.f, 9.f, 0.f})).value(), (Tensor{2.f, 3.f, 0.f}));
  TF_CHECK_CLOSE(rsqrt(V(Tensor{4.f, 0.25f})).value(), (Tensor{0.5f, 2.f}));
  // d sqrt = 1/(2 sqrt x); d rsqrt = -x^-1.5 / 2.
  TF_CHECK_CLOSE(grad_of([](auto& v) { return sqrt(v); }, Tensor{4.f}), Tensor{0.25f});
  TF_CHECK_CLOSE(grad_of([](auto& v) { return rsqrt(v); }, Tensor{4.f}), Tensor{-1.f / 16.f});
  TF_GRADCHECK([](auto& in) { return sqrt(in[0]); }, {random_tensor({2, 3}, 3, 0.5f, 3.f)});
  TF_GRADCHECK([](auto& in) { return rsqrt(in[0]); }, {random_tensor({2, 3}, 4, 0.5f, 3.f)});
}

TEST_CASE("square") {
  TF_CHECK_CLOSE(square(V(Tensor{-3.f, 0.5f})).value(), (Tensor{9.f, 0.25f}));
  TF_CHECK_CLOSE(grad_of([](auto& v) { return square(v); }, Tensor{-3.f, 0.5f}),
                 (Tensor{-6.f, 1.f}));
  TF_GRADCHECK([](auto& in) { return square(in[0]); }, {random_tensor({4}, 5)});
}

TEST_CASE("abs and sign") {
  TF_CHECK_CLOSE(abs(V(Tensor{-2.f, 0.f, 3.f})).value(), (Tensor{2.f, 0.f, 3.f}));
  TF_CHECK_CLOSE(sign(V(Tensor{-2.f, 0.f, 3.f})).value(), (Tensor{-1.f, 0.f, 1.f}));
  // TF: abs' = sign, so 0 at 0; sign' is a defined zero.
  TF_CHECK_CLOSE(grad_of([](auto& v) { return abs(v); }, Tensor{-2.f, 0.f, 3.f}),
                 (Tensor{-1.f, 0.f, 1.f}));
  Tensor gs = grad_of([](auto& v) { return sign(v); }, Tensor{-2.f, 3.f});
  TF_CHECK_CLOSE(gs, (Tensor{0.f, 0.f}));
  TF_GRADCHECK([](auto& in) { return abs(in[0]); }, {away_from(random_tensor({2, 4}, 6), {0.f})});
  TF_GRADCHECK([](auto& in) { return sign(in[0]); }, {away_from(random_tensor({5}, 7), {0.f})});
}

TEST_CASE("pow: values, both gradients, TF's zero for b's gradient where a <= 0") {
  TF_CHECK_CLOSE(pow(V(Tensor{2.f, 9.f, -2.f}), V(Tensor{3.f, 0.5f, 2.f})).value(),
                 (Tensor{8.f, 3.f, 4.f}));
  Variable a(Tensor{2.f, -2.f, 0.f}, true), b(Tensor{3.f, 2.f, 2.f}, true);
  GradientTape tape;
  auto g = tape.gradient(pow(a, b), {a, b});
  TF_CHECK_CLOSE(g[0].value(), (Tensor{12.f, -4.f, 0.f}));                // b a^(b-1)
  TF_CHECK_CLOSE(g[1].value(), (Tensor{8.f * std::log(2.f), 0.f, 0.f}));  // a^b log a, a > 0
  TF_GRADCHECK(
      [](auto& in) { return pow(in[0], in[1]); },
      (std::vector<Tensor>{random_tensor({2, 3}, 8, 0.5f, 2.f), random_tensor({2, 3}, 9)}));
  // Broadcast exponent: its gradient is summed back to shape (3,).
  TF_GRADCHECK([](auto& in) { return pow(in[0], in[1]); },
               (std::vector<Tensor>{random_tensor({2, 3}, 10, 0.5f, 2.f), random_tensor({3}, 11)}));
  TF_CHECK_ERROR(pow(V(Tensor{1.f, 2.f}), V(Tensor{1.f, 2.f, 3.f})), "pow", "(2,)", "(3,)");
}

TEST_CASE("maximum and minimum: values, tie goes to the first argument") {
  Variable a(Tensor{1.f, 5.f, 3.f}), b(Tensor{2.f, 4.f, 3.f});
  TF_CHECK_CLOSE(maximum(a, b).value(), (Tensor{2.f, 5.f, 3.f}));
  TF_CHECK_CLOSE(minimum(a, b).value(), (Tensor{1.f, 4.f, 3.f}));
  Variable va(a.value(), true), vb(b.value(), true);
  {
    GradientTape tape;
    auto g = tape.gradient(maximum(va, vb), {va, vb});
    TF_CHECK_CLOSE(g[0].value(), (Tensor{0.f, 1.f, 1.f}));
    TF_CHECK_CLOSE(g[1].value(), (Tensor{1.f, 0.f, 0.f}));
  }
  {
    GradientTape tape;
    auto g = tape.gradient(minimum(va, vb), {va, vb});
    TF_CHECK_CLOSE(g[0].value(), (Tensor{1.f, 0.f, 1.f}));
    TF_CHECK_CLOSE(g[1].value(), (Tensor{0.f, 1.f, 0.f}));
  }
  // Broadcast: relu-like maximum(x, 0) sends x's gradient where x >= 0 and sums b's.
  Tensor x = random_tensor({3, 4}, 12);
  Tensor bb = random_tensor({4}, 13);
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 4; ++j)
      if (std::abs(x(i, j) - bb(j)) < 0.05f) x(i, j) = bb(j) + 0.1f;
  TF_GRADCHECK([](auto& in) { return maximum(in[0], in[1]); }, (std::vector<Tensor>{x, bb}));
  TF_GRADCHECK([](auto& in) { return minimum(in[0], in[1]); }, (std::vector<Tensor>{x, bb}));
  TF_CHECK_ERROR(maximum(V(Tensor{1.f, 2.f}), V(Tensor{1.f, 2.f, 3.f})), "maximum", "(2,)", "(3,)");
  TF_CHECK_ERROR(minimum(V(xt::ones<float>({2, 3})), V(xt::ones<float>({4, 1, 2}))), "minimum",
                 "(2, 3)", "(4, 1, 2)");
}

TEST_CASE("where: selects, broadcasts, cond gets no gradient") {
  Tensor cond{1.f, 0.f, 2.f};
  TF_CHECK_CLOSE(where(V(cond), V(Tensor{1.f, 2.f, 3.f}), V(Tensor{10.f, 20.f, 30.f})).value(),
                 (Tensor{1.f, 20.f, 3.f}));
  Tensor column{1.f, 0.f};
  column.reshape({2, 1});
  TF_CHECK_CLOSE(where(V(column), V(Tensor{1.f, 2.f}), scalar(-1.f)).value(),
                 (Tensor{{1.f, 2.f}, {-1.f, -1.f}}));
  Variable c(cond, true), a(Tensor{1.f, 2.f, 3.f}, true), b(scalar(5.f).value(), true);
  GradientTape tape;
  auto g = tape.gradient(where(c, a, b), {c, a, b});
  CHECK_FALSE(g[0].defined());
  TF_CHECK_CLOSE(g[1].value(), (Tensor{1.f, 0.f, 1.f}));
  TF_CHECK_CLOSE(g[2].value(), Tensor(1.f));  // b broadcast from a scalar: one selected element
  Variable m(Tensor{{1.f, 0.f, 1.f}, {0.f, 0.f, 1.f}});
  TF_GRADCHECK([m](auto& in) { return where(m, in[0], in[1]); },
               (std::vector<Tensor>{random_tensor({2, 3}, 14), random_tensor({3}, 15)}));
  TF_CHECK_ERROR(where(V(Tensor{1.f, 0.f}), V(Tensor{1.f, 2.f, 3.f}), V(Tensor{1.f, 2.f, 3.f})),
                 "where", "(2,)", "(3,)");
  TF_CHECK_ERROR(where(V(Tensor{1.f}), V(Tensor{1.f, 2.f}), V(Tensor{1.f, 2.f, 3.f})), "where",
                 "(2,)", "(3,)");
}

TEST_CASE("clip_by_value: values, gradient inside [lo, hi] inclusive") {
  TF_CHECK_CLOSE(clip_by_value(V(Tensor{-2.f, 0.5f, 3.f}), -1.f, 1.f).value(),
                 (Tensor{-1.f, 0.5f, 1.f}));
  TF_CHECK_CLOSE(grad_of([](auto& v) { return clip_by_value(v, -1.f, 1.f); },
                         Tensor{-2.f, -1.f, 0.5f, 1.f, 3.f}),
                 (Tensor{0.f, 1.f, 1.f, 1.f, 0.f}));
  TF_GRADCHECK([](auto& in) { return clip_by_value(in[0], -0.5f, 0.5f); },
               {away_from(random_tensor({3, 3}, 16), {-0.5f, 0.5f})});
  TF_CHECK_ERROR(clip_by_value(V(Tensor{1.f}), 2.f, 1.f), "clip_by_value", "2.0", "1.0");
}

// ---- NaN propagates as in TF -----------------------------------------------------------------

namespace {
using test::check_close_nan;
}  // namespace

TEST_CASE("maximum and minimum propagate NaN from either argument") {
  // xt::maximum is `a > b ? a : b`: it turned maximum(NaN, 1) into 1.
  Variable a(Tensor{kNaN, 1.f, 2.f, kNaN}), b(Tensor{1.f, kNaN, 3.f, kNaN});
  check_close_nan(maximum(a, b).value(), Tensor{kNaN, kNaN, 3.f, kNaN});
  check_close_nan(minimum(a, b).value(), Tensor{kNaN, kNaN, 2.f, kNaN});
  // The relu-like use, and broadcasting.
  check_close_nan(maximum(V(Tensor{kNaN, -1.f, 2.f}), scalar(0.f)).value(), Tensor{kNaN, 0.f, 2.f});
  check_close_nan(minimum(V(Tensor{kNaN, 3.f}), scalar(1.f)).value(), Tensor{kNaN, 1.f});
  Tensor column{kNaN, 1.f};
  column.reshape({2, 1});
  check_close_nan(maximum(V(column), V(Tensor{0.f, 5.f})).value(),
                  Tensor{{kNaN, kNaN}, {1.f, 5.f}});
  // The gradient follows TF's mask a >= b: at a NaN it goes to b.
  Variable va(Tensor{kNaN, 2.f}, true), vb(Tensor{1.f, 1.f}, true);
  GradientTape tape;
  auto g = tape.gradient(maximum(va, vb), {va, vb});
  TF_CHECK_CLOSE(g[0].value(), (Tensor{0.f, 1.f}));
  TF_CHECK_CLOSE(g[1].value(), (Tensor{1.f, 0.f}));
}

TEST_CASE("clip_by_value keeps NaN and passes its gradient at NaN, as TF") {
  const float inf = std::numeric_limits<float>::infinity();
  check_close_nan(clip_by_value(V(Tensor{kNaN, -5.f, 0.5f, 5.f, inf, -inf}), 0.f, 1.f).value(),
                  Tensor{kNaN, 0.f, 0.5f, 1.f, 1.f, 0.f});
  // TF zeroes the gradient only where x < min or x > max; NaN is neither (the old mask,
  // min <= x <= max, gave 0 there).
  TF_CHECK_CLOSE(grad_of([](auto& v) { return clip_by_value(v, 0.f, 1.f); },
                         Tensor{kNaN, -5.f, 0.f, 0.5f, 1.f, 5.f, inf}),
                 (Tensor{1.f, 0.f, 1.f, 1.f, 1.f, 0.f, 0.f}));
}

TEST_CASE("sign and abs keep NaN") {
  check_close_nan(sign(V(Tensor{kNaN, -2.f, 0.f, 3.f})).value(), Tensor{kNaN, -1.f, 0.f, 1.f});
  check_close_nan(abs(V(Tensor{kNaN, -2.f})).value(), Tensor{kNaN, 2.f});
}
