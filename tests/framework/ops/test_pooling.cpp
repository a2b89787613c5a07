#include <algorithm>
#include <numeric>
#include <random>
#include <xtensor/xmanipulation.hpp>

#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/framework/ops/pooling.hpp"
#include "tapeflow/framework/runtime/parallel.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using tapeflow::test::distinct_values;
using tapeflow::test::random_tensor;
using tapeflow::test::T;

namespace {

Tensor grad_of(const Variable& x, const std::function<Variable(const Variable&)>& f,
               const Tensor& gy) {
  GradientTape tape;
  tape.watch(x);
  Variable y = f(x);
  return tape.gradient(y, {x}, Variable(gy))[0].value();
}
}  // namespace

TEST_CASE("pool_output_length follows TF's valid and same rules") {
  CHECK(pool_output_length(7, 2, 2, "valid") == 3);
  CHECK(pool_output_length(7, 2, 2, "same") == 4);
  CHECK(pool_output_length(7, 3, 1, "SAME") == 7);
  CHECK(pool_output_length(5, 1, 3, "valid") == 2);
  TF_CHECK_ERROR(pool_output_length(2, 3, 1, "valid"), "pool", "output length would be 0");
  TF_CHECK_ERROR(pool_output_length(4, 2, 2, "full", "mypool"), "mypool", "unknown padding",
                 "full");
}

TEST_CASE("max_pool and avg_pool 1-D known values, valid and same") {
  Variable x(T({1, 5, 1}, {1, 3, 2, 5, 4}));
  // valid, pool 2 (strides default to the pool size): windows [1,3], [2,5]
  TF_CHECK_CLOSE(max_pool(x, PoolOptions(2)).value(), T({1, 2, 1}, {3, 5}));
  TF_CHECK_CLOSE(avg_pool(x, PoolOptions(2)).value(), T({1, 2, 1}, {2, 3.5f}));
  // same, pool 2 stride 2: 3 outputs, one pad after; the last window holds only 4
  TF_CHECK_CLOSE(max_pool(x, PoolOptions(2).padding("same")).value(), T({1, 3, 1}, {3, 5, 4}));
  TF_CHECK_CLOSE(avg_pool(x, PoolOptions(2).padding("same")).value(), T({1, 3, 1}, {2, 3.5f, 4}));
  // same, pool 3 stride 1 on 4 values: one pad on each side, border windows divide by 2
  Variable z(T({1, 4, 1}, {1, 2, 3, 4}));
  TF_CHECK_CLOSE(avg_pool(z, PoolOptions(3).strides(1).padding("same")).value(),
                 T({1, 4, 1}, {1.5f, 2, 3, 3.5f}));
  TF_CHECK_CLOSE(max_pool(z, PoolOptions(3).strides(1).padding("same")).value(),
                 T({1, 4, 1}, {2, 3, 4, 4}));
  // padded positions never win, even when every real value is negative
  Variable n(T({1, 3, 1}, {-3, -1, -2}));
  TF_CHECK_CLOSE(max_pool(n, PoolOptions(2).padding("same")).value(), T({1, 2, 1}, {-1, -2}));
  // stride larger than the window skips inputs
  TF_CHECK_CLOSE(max_pool(x, PoolOptions(1).strides(3)).value(), T({1, 2, 1}, {1, 5}));
}

TEST_CASE("2-D pooling with channels, rectangular windows and both data formats") {
  // (1, 4, 4, 2): channel 0 = 0..15 row-major, channel 1 = -(0..15)
  Tensor x = Tensor::from_shape({1, 4, 4, 2});
  for (std::size_t i = 0; i < 16; ++i) {
    x.data()[2 * i] = float(i);
    x.data()[2 * i + 1] = -float(i);
  }
  Variable v(x);
  Tensor mx = max_pool(v, PoolOptions(2)).value();
  REQUIRE(shape_of(mx) == Shape{1, 2, 2, 2});
  TF_CHECK_CLOSE(mx, T({1, 2, 2, 2}, {5, 0, 7, -2, 13, -8, 15, -10}));
  Tensor av = avg_pool(v, PoolOptions({2, 2})).value();
  TF_CHECK_CLOSE(av, T({1, 2, 2, 2}, {2.5f, -2.5f, 4.5f, -4.5f, 10.5f, -10.5f, 12.5f, -12.5f}));
  // pool (1, 4): one window per row
  Tensor rows = max_pool(v, PoolOptions({1, 4})).value();
  REQUIRE(shape_of(rows) == Shape{1, 4, 1, 2});
  TF_CHECK_CLOSE(rows, T({1, 4, 1, 2}, {3, 0, 7, -4, 11, -8, 15, -12}));
  // channels_first gives the transposed result of channels_last
  Tensor xf = xt::transpose(x, {0, 3, 1, 2});
  for (bool is_max : {true, false}) {
    auto opts = PoolOptions(3).strides({1, 2}).padding("same");
    Tensor last = is_max ? max_pool(v, opts).value() : avg_pool(v, opts).value();
    opts.data_format("channels_first");
    Tensor first =
        is_max ? max_pool(Variable(xf), opts).value() : avg_pool(Variable(xf), opts).value();
    REQUIRE(shape_of(first) == Shape{1, 2, 4, 2});
    TF_CHECK_CLOSE(first, Tensor(xt::transpose(last, {0, 3, 1, 2})));
  }
}

TEST_CASE("3-D pooling known values") {
  Tensor x = Tensor::from_shape({1, 2, 2, 2, 1});
  std::iota(x.begin(), x.end(), 0.f);
  TF_CHECK_CLOSE(max_pool(Variable(x), PoolOptions(2)).value(), T({1, 1, 1, 1, 1}, {7}));
  TF_CHECK_CLOSE(avg_pool(Variable(x), PoolOptions(2)).value(), T({1, 1, 1, 1, 1}, {3.5f}));
  // same, pool 2 stride 1: 8 outputs; the corner (1, 1, 1) window holds x[1, 1, 1] only
  Tensor a = avg_pool(Variable(x), PoolOptions(2).strides(1).padding("same")).value();
  REQUIRE(shape_of(a) == Shape{1, 2, 2, 2, 1});
  CHECK(a(0, 0, 0, 0, 0) == doctest::Approx(3.5));
  CHECK(a(0, 1, 1, 1, 0) == doctest::Approx(7.0));
  CHECK(a(0, 0, 1, 1, 0) == doctest::Approx((3.f + 7.f) / 2));
}

TEST_CASE("max_pool gradient goes to the first argmax, avg_pool divides by the valid count") {
  Variable x(T({1, 4, 1}, {2, 2, 1, 0}));
  TF_CHECK_CLOSE(
      grad_of(
          x, [](const Variable& v) { return max_pool(v, PoolOptions(2)); }, T({1, 2, 1}, {1, 1})),
      T({1, 4, 1}, {1, 0, 1, 0}));
  // overlapping windows: one element wins both and gets both gradients
  Variable y(T({1, 3, 1}, {0, 5, 1}));
  TF_CHECK_CLOSE(grad_of(
                     y, [](const Variable& v) { return max_pool(v, PoolOptions(2).strides(1)); },
                     T({1, 2, 1}, {2, 3})),
                 T({1, 3, 1}, {0, 5, 0}));
  Variable z(T({1, 4, 1}, {1, 2, 3, 4}));
  const float h = 1.f / 2, t = 1.f / 3;
  TF_CHECK_CLOSE(
      grad_of(
          z,
          [](const Variable& v) { return avg_pool(v, PoolOptions(3).strides(1).padding("same")); },
          T({1, 4, 1}, {1, 1, 1, 1})),
      T({1, 4, 1}, {h + t, h + t + t, t + t + h, t + h}));
}

TEST_CASE("pooling gradcheck") {
  SUBCASE("max 1-D same") {
    TF_GRADCHECK(
        [](const auto& in) { return max_pool(in[0], PoolOptions(3).strides(2).padding("same")); },
        {distinct_values({2, 7, 2}, 3)});
  }
  SUBCASE("max 2-D valid, overlapping, channels_first") {
    TF_GRADCHECK(
        [](const auto& in) {
          return max_pool(in[0], PoolOptions({2, 3}).strides(1).data_format("channels_first"));
        },
        {distinct_values({1, 2, 3, 4}, 3)});
  }
  SUBCASE("max 3-D same") {
    TF_GRADCHECK([](const auto& in) { return max_pool(in[0], PoolOptions(2).padding("same")); },
                 {distinct_values({1, 3, 2, 3, 2}, 3)});
  }
  SUBCASE("avg 1-D, 2-D, 3-D") {
    TF_GRADCHECK(
        [](const auto& in) { return avg_pool(in[0], PoolOptions(3).strides(2).padding("same")); },
        {random_tensor({2, 7, 2}, 1)});
    TF_GRADCHECK(
        [](const auto& in) {
          return avg_pool(in[0], PoolOptions({2, 3}).strides({1, 2}).padding("same").data_format(
                                     "channels_first"));
        },
        {random_tensor({1, 2, 3, 5}, 2)});
    TF_GRADCHECK([](const auto& in) { return avg_pool(in[0], PoolOptions(2).strides(1)); },
                 {random_tensor({1, 3, 2, 3, 2}, 3)});
  }
}

TEST_CASE("pooling second-order gradients") {
  // f(x) = d/dx sum(pool(x)^2), itself differentiated by the gradcheck's outer tape.
  for (bool is_max : {true, false}) {
    CAPTURE(is_max);
    TF_GRADCHECK(
        [is_max](const auto& in) {
          GradientTape inner;
          auto opts = PoolOptions(2).strides(1).padding("same");
          Variable y = is_max ? max_pool(in[0], opts) : avg_pool(in[0], opts);
          return inner.gradient(sum(square(y)), {in[0]})[0];
        },
        {distinct_values({1, 4, 3, 2}, 3)});
  }
}

TEST_CASE("pooling bad input") {
  Variable x(random_tensor({1, 4, 4, 2}));
  TF_CHECK_ERROR(max_pool(Variable(random_tensor({4, 2})), PoolOptions(2)), "max_pool",
                 "rank 3 to 5", "(4, 2)");
  TF_CHECK_ERROR(avg_pool(x, PoolOptions({2, 2, 2})), "avg_pool", "pool_size (2, 2, 2)",
                 "expected 1 or 2");
  TF_CHECK_ERROR(max_pool(x, PoolOptions(0)), "max_pool", "pool_size (0,)", ">= 1");
  TF_CHECK_ERROR(max_pool(x, PoolOptions(2).strides({1, 0})), "max_pool", "strides (1, 0)");
  TF_CHECK_ERROR(max_pool(x, PoolOptions(2).padding("causal")), "max_pool", "unknown padding",
                 "causal");
  TF_CHECK_ERROR(avg_pool(x, PoolOptions(2).data_format("NHWC")), "avg_pool", "unknown data_format",
                 "NHWC");
  TF_CHECK_ERROR(max_pool(x, PoolOptions({5, 2})), "max_pool", "(1, 4, 4, 2)",
                 "shorter than the pool size 5");
}

TEST_CASE("3-D pooling: the same values and gradients at any thread count, taped or not") {
  // Big enough that the output planes split over threads: 4 x 32^3 x 4.
  Tensor x = random_tensor({4, 32, 32, 32, 4}, 31);
  const std::vector<PoolOptions> cases = {PoolOptions(2),  // disjoint windows
                                          PoolOptions(3).strides(2).padding("same")};
  for (const PoolOptions& o : cases) {
    for (bool is_max : {true, false}) {
      CAPTURE(is_max);
      CAPTURE(o.pool_size().front());
      auto f = [&](const Variable& v) { return is_max ? max_pool(v, o) : avg_pool(v, o); };
      set_num_threads(1);
      const Tensor y1 = f(Variable(x)).value();
      const Tensor gy = random_tensor(shape_of(y1), 32);
      const Tensor g1 = grad_of(Variable(x), f, gy);
      set_num_threads(3);
      const Tensor y3 = f(Variable(x)).value();
      const Tensor g3 = grad_of(Variable(x), f, gy);
      set_num_threads(2);
      CHECK(y1 == y3);
      CHECK(g1 == g3);
      // Under a tape (max pooling then keeps where each output came from): the same output.
      GradientTape tape;
      Variable xv(x);
      tape.watch(xv);
      CHECK(f(xv).value() == y1);
    }
  }
}

TEST_CASE("max_pool propagates NaN from anywhere in its window, the first NaN gets the gradient") {
  const float nan = std::nanf("");
  // (batch 1, 4 positions, 2 channels), windows of 2. Channel 0: a NaN after a number in both
  // windows (the old strict `>` dropped it); channel 1: two numbers, then a NaN before a number.
  Variable x(T({1, 4, 2}, {1.f, 5.f, nan, 2.f, 3.f, nan, nan, 1.f}));
  Tensor y = max_pool(x, PoolOptions(2)).value();
  REQUIRE(shape_of(y) == Shape{1, 2, 2});
  CHECK(std::isnan(y(0, 0, 0)));
  CHECK(y(0, 0, 1) == 5.f);
  CHECK(std::isnan(y(0, 1, 0)));
  CHECK(std::isnan(y(0, 1, 1)));
  TF_CHECK_CLOSE(grad_of(
                     x, [](const Variable& v) { return max_pool(v, PoolOptions(2)); },
                     T({1, 2, 2}, {1, 1, 1, 1})),
                 T({1, 4, 2}, {0, 1, 1, 0, 0, 1, 1, 0}));
  // Two NaNs in one window: the first one wins and keeps the gradient.
  Variable z(T({1, 3, 1}, {2.f, nan, nan}));
  CHECK(std::isnan(max_pool(z, PoolOptions(3)).value()(0, 0, 0)));
  TF_CHECK_CLOSE(
      grad_of(
          z, [](const Variable& v) { return max_pool(v, PoolOptions(3)); }, T({1, 1, 1}, {1})),
      T({1, 3, 1}, {0, 1, 0}));
  // 2-D, channels_first: the NaN in the last position of its window survives too.
  Variable w(T({1, 1, 2, 2}, {4.f, 3.f, 2.f, nan}));
  CHECK(std::isnan(max_pool(w, PoolOptions(2).data_format("channels_first")).value()(0, 0, 0, 0)));
}

TEST_CASE("avg_pool propagates NaN into each window holding it, gradient independent of values") {
  const float nan = std::nanf("");
  // 1-D, windows of 2, stride 1, same padding: the NaN at position 1 is in windows 0 and 1.
  Variable x(T({1, 4, 1}, {1.f, nan, 3.f, 5.f}));
  Tensor y = avg_pool(x, PoolOptions(2).strides(1).padding("same")).value();
  test::check_close_nan(y, T({1, 4, 1}, {nan, nan, 4.f, 5.f}));
  // TF's AvgPoolGrad spreads g / n without looking at x: finite everywhere.
  TF_CHECK_CLOSE(
      grad_of(
          x, [](const Variable& v) { return avg_pool(v, PoolOptions(2)); }, T({1, 2, 1}, {1, 1})),
      T({1, 4, 1}, {0.5f, 0.5f, 0.5f, 0.5f}));
  // 2-D channels_first and 3-D: only the window with the NaN, only its channel.
  Variable w(T({1, 1, 2, 4}, {4.f, 3.f, 2.f, 1.f, 2.f, nan, 0.f, 1.f}));
  test::check_close_nan(avg_pool(w, PoolOptions(2).data_format("channels_first")).value(),
                        T({1, 1, 1, 2}, {nan, 1.f}));
  Tensor v3 = xt::ones<float>({1, 2, 2, 2, 2});
  v3(0, 1, 1, 1, 0) = nan;
  Tensor y3 = avg_pool(Variable(v3), PoolOptions(2)).value();
  CHECK(std::isnan(y3(0, 0, 0, 0, 0)));
  CHECK(y3(0, 0, 0, 0, 1) == 1.f);
}
