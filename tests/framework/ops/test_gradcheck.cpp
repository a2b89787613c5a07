// The gradient check every backward test relies on, checked itself: it passes on correct ops
// and fails, with the right message, on each kind of wrong backward it is meant to catch.
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "tapeflow/framework/ops/activations.hpp"
#include "tapeflow/framework/ops/gradcheck.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using tapeflow::test::random_tensor;

namespace {

using Inputs = std::vector<Tensor>;

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// y = x with a hand-written backward `backward(g)`: the way to plant a specific bug in an op.
Variable identity_with(const Variable& x, tapeflow::detail::BackwardFn backward) {
  Variable y(x.value());
  if (tapeflow::detail::recording({&x}))
    tapeflow::detail::record("test_identity", {x}, y, std::move(backward));
  return y;
}

// y = x whose backward returns `scale * g` (scale 1 is correct).
Variable scaled_backward(const Variable& x, float scale) {
  return identity_with(
      x, [scale](const Variable& g) { return std::vector<Variable>{mul(g, scalar(scale))}; });
}

// y = x whose backward writes the input gradient into one buffer shared by every call (a
// workspace reused to save allocations) and returns that buffer. For one use of the op the
// gradient is right; when the op is used twice in one loss, the backward of the first use
// overwrites the buffer that the tape still holds as the second use's gradient, so the tape
// adds the first use's gradient to itself: an assignment where an accumulation was needed.
struct SharedBufferIdentity {
  Variable buffer;
  Variable operator()(const Variable& x) {
    if (!buffer.defined()) buffer = Variable(Tensor(xt::zeros<float>(x.shape())));
    Variable buf = buffer;  // a handle: every call's backward writes the same storage
    return identity_with(x, [buf](const Variable& g) mutable {
      buf.mutable_value() = g.value();
      return std::vector<Variable>{buf};
    });
  }
};

// y = x whose backward adds into an accumulator zeroed at the forward pass: right the first time
// a tape runs it, doubled when a persistent tape runs it again.
Variable stateful_backward(const Variable& x) {
  auto acc = std::make_shared<Tensor>(xt::zeros<float>(x.shape()));
  return identity_with(x, [acc](const Variable& g) {
    *acc += g.value();
    return std::vector<Variable>{Variable(*acc)};
  });
}

}  // namespace

TEST_CASE("gradcheck passes on correct ops: mul, matmul, tanh, an unused input") {
  auto r = gradcheck([](auto& in) { return mul(in[0], in[1]); },
                     Inputs{random_tensor({2, 3}, 1), random_tensor({3}, 2)});
  CHECK_MESSAGE(r.ok, r.message);
  CHECK(r.message.empty());
  // Bilinear: central differences are exact up to round-off.
  CHECK(r.max_abs_error < 1e-4);
  CHECK(r.mean_abs_error <= r.max_abs_error);

  r = gradcheck([](auto& in) { return matmul(in[0], in[1]); },
                Inputs{random_tensor({2, 3, 4}, 3), random_tensor({4, 2}, 4)});
  CHECK_MESSAGE(r.ok, r.message);
  r = gradcheck([](auto& in) { return activations::tanh(in[0]); }, Inputs{random_tensor({5}, 5)});
  CHECK_MESSAGE(r.ok, r.message);
  // An input the output does not depend on: no gradient, and a zero numeric one.
  r = gradcheck([](auto& in) { return mul(in[0], scalar(2.f)); },
                Inputs{random_tensor({3}, 6), random_tensor({2}, 7)});
  CHECK_MESSAGE(r.ok, r.message);
  // A scalar output.
  TF_GRADCHECK([](auto& in) { return sum(square(in[0])); }, Inputs{random_tensor({2, 2}, 8)});
}

TEST_CASE("gradcheck_variables: weights read through the function's own handles") {
  // As a layer holds them: f reads the variables through its captures, not its arguments.
  Variable kernel(random_tensor({3, 2}, 9), true, "dense/kernel");
  Variable bias(random_tensor({2}, 10), true, "dense/bias");
  Variable frozen(random_tensor({2}, 11), false, "dense/frozen");  // watched by the check
  const Variable x(random_tensor({4, 3}, 12));
  auto dense = [&] { return activations::tanh(add(mul(matmul(x, kernel), frozen), bias)); };
  const Tensor kernel_before = kernel.value();
  auto r = gradcheck_variables(dense, {kernel, bias, frozen});
  CHECK_MESSAGE(r.ok, r.message);
  // Every perturbation was undone.
  CHECK(xt::all(xt::equal(kernel.value(), kernel_before)));
  TF_GRADCHECK_VARIABLES(dense, (std::vector<Variable>{kernel, bias}));

  // A wrong weight gradient is reported under the variable's name.
  auto wrong = [&] { return scaled_backward(matmul(x, kernel), 1.5f); };
  r = gradcheck_variables(wrong, {kernel});
  CHECK_FALSE(r.ok);
  CHECK_MESSAGE(contains(r.message, "variable 'dense/kernel' element "), r.message);
  CHECK(xt::all(xt::equal(kernel.value(), kernel_before)));
}

TEST_CASE("gradcheck fails on a wrong backward, naming the input, element and mean error") {
  auto f = [](auto& in) { return add(in[0], scaled_backward(in[1], 2.f)); };
  const Inputs xs{random_tensor({2, 3}, 13), random_tensor({2, 3}, 14)};
  auto r = gradcheck(f, xs);
  CHECK_FALSE(r.ok);
  // d/dx1 of sum((x0 + x1) * w) is w, the backward says 2w: every element of input 1 is off by
  // |w| >= 0.5, far over its bound; input 0 is right, so the message names input 1.
  CHECK_MESSAGE(contains(r.message, "input 1 element 0 (index (0, 0)): analytic "), r.message);
  CHECK_MESSAGE(contains(r.message, " vs numeric "), r.message);
  CHECK_MESSAGE(contains(r.message, "6 of 6 elements over their bound"), r.message);
  CHECK_MESSAGE(contains(r.message, "mean abs error "), r.message);
  CHECK(r.max_abs_error >= 0.5);
  // The same op with the right backward passes (the failure is the scale, nothing else).
  auto right = [](auto& in) { return add(in[0], scaled_backward(in[1], 1.f)); };
  r = gradcheck(right, xs);
  CHECK_MESSAGE(r.ok, r.message);
  // An op that gives no gradient at all, though the output depends on its input.
  auto none = [](auto& in) {
    return identity_with(in[0], [](const Variable&) { return std::vector<Variable>{Variable()}; });
  };
  r = gradcheck(none, Inputs{random_tensor({3}, 15)});
  CHECK_FALSE(r.ok);
  CHECK_MESSAGE(contains(r.message, "analytic (no gradient) vs numeric"), r.message);
}

TEST_CASE("gradcheck fails on a backward that assigns where it must accumulate") {
  SharedBufferIdentity op;
  const Tensor x0 = random_tensor({2, 3}, 16);
  // One use: the gradient is right, so finite differences alone would pass...
  {
    Variable x(x0, true, "x");
    const Tensor w = random_tensor({2, 3}, 17, 0.5f, 1.5f);
    GradientTape tape;
    Variable g = tape.gradient(sum(mul(op(x), Variable(w))), {x})[0];
    TF_CHECK_CLOSE(g.value(), w);
  }
  // ...and two uses with one upstream gradient happen to be right too (g + g written as 2g),
  // which is why the check weights its two uses differently.
  {
    Variable x(x0, true, "x");
    const Tensor w = random_tensor({2, 3}, 18, 0.5f, 1.5f);
    GradientTape tape;
    Variable g =
        tape.gradient(add(sum(mul(op(x), Variable(w))), sum(mul(op(x), Variable(w)))), {x})[0];
    TF_CHECK_CLOSE(g.value(), Tensor(2.f * w));
  }
  // The check's two uses, with weights w and w2, give 2 * g(w) instead of g(w) + g(w2).
  auto r = gradcheck([&](auto& in) { return op(in[0]); }, Inputs{x0});
  CHECK_FALSE(r.ok);
  CHECK_MESSAGE(
      contains(r.message, "input 0 element 0 (index (0, 0)): gradients do not accumulate"),
      r.message);
  // The converse: a backward that adds into its own state each time it runs (right once, wrong
  // when the persistent tape runs it again for the sum of both uses).
  r = gradcheck([](auto& in) { return stateful_backward(in[0]); }, Inputs{x0});
  CHECK_FALSE(r.ok);
  CHECK_MESSAGE(contains(r.message, "gradients do not accumulate"), r.message);
}

TEST_CASE("gradcheck fails when the mean error is over its bound, each element within its own") {
  // Backward 1.08 g for y = x: every element is off by 0.08 |w|, inside atol 0 + rtol 0.1 *
  // |numeric| (numeric = w exactly: y = x is linear). The mean error is then exactly 0.8 of the
  // mean per-element bound, over the default mean_tol 0.5.
  auto f = [](auto& in) { return scaled_backward(in[0], 1.08f); };
  const Inputs xs{random_tensor({4, 5}, 19)};
  const auto opts = GradcheckOptions().atol(0).rtol(0.1);
  auto r = gradcheck(f, xs, opts);
  CHECK_FALSE(r.ok);
  CHECK_MESSAGE(contains(r.message, "input 0: mean abs error "), r.message);
  CHECK_MESSAGE(contains(r.message, "though every element is within its own"), r.message);
  CHECK_MESSAGE(contains(r.message, "vs numeric"), r.message);
  // Allowing 0.9 of the per-element bound on average passes: it was the mean bound that failed.
  r = gradcheck(f, xs, GradcheckOptions(opts).mean_tol(0.9));
  CHECK_MESSAGE(r.ok, r.message);
  CHECK(r.mean_abs_error > 0.02);  // 0.08 * mean |w|, |w| in [0.5, 1.5]
  // And a per-element bound under 8% fails element by element.
  r = gradcheck(f, xs, GradcheckOptions(opts).rtol(0.07).mean_tol(1));
  CHECK_FALSE(r.ok);
  CHECK_MESSAGE(contains(r.message, "input 0 element 0 (index (0, 0)): analytic"), r.message);
}

TEST_CASE("gradcheck reports mismatched shapes and entries never written") {
  // A backward that returns a gradient of the wrong shape (the right values, reshaped).
  auto transposed = [](auto& in) {
    return identity_with(in[0], [](const Variable& g) {
      return std::vector<Variable>{reshape(g, {3, 2})};
    });
  };
  auto r = gradcheck(transposed, Inputs{random_tensor({2, 3}, 20)});
  CHECK_FALSE(r.ok);
  CHECK_MESSAGE(contains(r.message,
                         "input 0: gradient has shape (3, 2) but the input has shape "
                         "(2, 3)"),
                r.message);

  // A backward that leaves one entry unwritten, as it shows in a buffer filled with NaN.
  auto unwritten = [](auto& in) {
    return identity_with(in[0], [](const Variable& g) {
      Tensor t = g.value();
      t(1) = std::numeric_limits<float>::quiet_NaN();
      return std::vector<Variable>{Variable(t)};
    });
  };
  r = gradcheck(unwritten, Inputs{random_tensor({3}, 21)});
  CHECK_FALSE(r.ok);
  CHECK_MESSAGE(contains(r.message, "input 0 element 1 (index (1,)): gradient is nan"), r.message);

  // f whose output changes shape between calls: not a gradient to check.
  int calls = 0;
  auto unstable = [&](auto& in) { return ++calls > 2 ? sum(in[0], {0}) : in[0]; };
  TF_CHECK_ERROR(gradcheck(unstable, Inputs{random_tensor({2, 3}, 22)}), "gradcheck",
                 "f returned shape (3,)", "(2, 3)");
}

TEST_CASE("gradcheck options: chainable setters, defaults, bad values") {
  const GradcheckOptions d;
  CHECK(d.eps() == 1e-2);
  CHECK(d.atol() == 2e-3);
  CHECK(d.rtol() == 2e-2);
  CHECK(d.mean_tol() == 0.5);
  CHECK(d.accumulation_tol() == 1e-4);
  CHECK(d.seed() == 7u);
  const auto o = GradcheckOptions().eps(1e-3).atol(1e-4).rtol(1e-3).mean_tol(0.25).seed(3);
  CHECK(o.eps() == 1e-3);
  CHECK(o.atol() == 1e-4);
  CHECK(o.rtol() == 1e-3);
  CHECK(o.mean_tol() == 0.25);
  CHECK(o.seed() == 3u);
  auto f = [](auto& in) { return mul(in[0], in[0]); };
  const Inputs xs{random_tensor({3}, 23)};
  TF_CHECK_ERROR(gradcheck(f, xs, GradcheckOptions().eps(0)), "gradcheck", "eps", "positive");
  TF_CHECK_ERROR(gradcheck(f, xs, GradcheckOptions().atol(-1)), "gradcheck", "atol", ">= 0");
  TF_CHECK_ERROR(gradcheck(f, xs, GradcheckOptions().mean_tol(std::nan(""))), "gradcheck",
                 "mean_tol");
  TF_CHECK_ERROR(gradcheck_variables([] { return scalar(1.f); }, {Variable()}), "gradcheck",
                 "variable 0 is undefined");
  // Another seed is another loss; a correct gradient passes with any.
  TF_GRADCHECK(f, xs, GradcheckOptions().seed(123));
}
