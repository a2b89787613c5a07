// channel_affine (batch_norm_channels_last and group_norm are tested with their layers): values,
// gradients of every input to the second order, thread-count independence, bad shapes.
#include "tapeflow/framework/ops/normalization.hpp"
#include "tapeflow/framework/runtime/parallel.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using tapeflow::test::random_tensor;
using tapeflow::test::V;

TEST_CASE("channel_affine: x * scale + shift per channel (the last axis)") {
  Tensor x = random_tensor({2, 3, 4}, 1);
  Tensor scale{0.5f, -2.f, 3.f, 0.f}, shift{1.f, 0.f, -1.f, 7.f};
  Tensor y = channel_affine(V(x), V(scale), V(shift)).value();
  REQUIRE(y.shape() == x.shape());
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      for (std::size_t c = 0; c < 4; ++c)
        CHECK(y(i, j, c) == doctest::Approx(x(i, j, c) * scale(c) + shift(c)));
  // Rank 1: the input is one row of channels.
  Tensor r = channel_affine(V(Tensor{1.f, 2.f, 3.f, 4.f}), V(scale), V(shift)).value();
  CHECK(r(1) == doctest::Approx(-4.f));
  CHECK(r(3) == doctest::Approx(7.f));
}

TEST_CASE("channel_affine: the same result at any thread count") {
  // Big enough to be split: 40000 rows of 8 channels.
  Tensor x = random_tensor({40000, 8}, 2);
  Tensor scale = random_tensor({8}, 3), shift = random_tensor({8}, 4);
  set_num_threads(1);
  Tensor one = channel_affine(V(x), V(scale), V(shift)).value();
  set_num_threads(3);
  Tensor three = channel_affine(V(x), V(scale), V(shift)).value();
  set_num_threads(2);
  CHECK(one == three);
}

TEST_CASE("channel_affine: gradients of x, scale and shift, and of the gradient") {
  Tensor x = random_tensor({2, 3, 4}, 5), scale = random_tensor({4}, 6),
         shift = random_tensor({4}, 7);
  TF_GRADCHECK([](auto& v) { return channel_affine(v[0], v[1], v[2]); }, {x, scale, shift});
  TF_GRADCHECK([](auto& v) { return channel_affine(v[0], v[1], v[2]); },
               {random_tensor({4}, 8), scale, shift});
  // The backward is recorded: the gradient of x's gradient with respect to every input.
  Tensor w = random_tensor({2, 3, 4}, 9);
  TF_GRADCHECK(
      [w](auto& v) {
        GradientTape tape;
        tape.watch(v[0]);
        Variable y = channel_affine(v[0], v[1], v[2]);
        Variable gy = mul(y, V(w));  // makes the incoming gradient depend on every input
        return tape.gradient(sum(mul(gy, y)), {v[0]})[0];
      },
      {x, scale, shift});
}

TEST_CASE("channel_affine: scale and shift must have one value per channel") {
  Variable x(random_tensor({2, 4}, 10));
  CHECK_THROWS_AS(channel_affine(x, V(Tensor{1.f, 2.f}), V(Tensor{0.f, 0.f, 0.f, 0.f})),
                  ShapeError);
  CHECK_THROWS_WITH(channel_affine(x, V(Tensor{1.f, 1.f, 1.f, 1.f}), Variable()),
                    doctest::Contains("shift has shape undefined, expected (4,)"));
  CHECK_THROWS_AS(channel_affine(scalar(1.f), V(Tensor{1.f}), V(Tensor{0.f})), ShapeError);
}
