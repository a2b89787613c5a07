#include <algorithm>
#include <cmath>
#include <string>

#include "tapeflow/framework/ops/activations.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using tapeflow::test::all_finite;
using tapeflow::test::away_from;
using tapeflow::test::V;
using namespace tapeflow::activations;
using tapeflow::test::random_tensor;
namespace act = tapeflow::activations;  // bare `tanh` would also find ::tanh

namespace {

// The gradient of sum(w * f(x)) at x, through a tape.
Tensor grad_of(const ActivationFn& f, const Tensor& x, const Tensor& w) {
  Variable v(x, true);
  GradientTape tape;
  Variable y = f(v);
  return tape.gradient(sum(mul(y, V(w))), {v})[0].value();
}

// Inputs of the value table; expected values below are from Python's math module with the
// textbook formulas (e.g. gelu: 0.5*x*(1+math.erf(x/math.sqrt(2)))).
const Tensor kX{-3.f, -1.5f, -0.5f, 0.25f, 1.f, 2.5f, 7.f};

}  // namespace

TEST_CASE("activations: known values") {
  struct Case {
    const char* name;
    ActivationFn f;
    Tensor expected;
  };
  const Case cases[] = {
      {"linear", linear, kX},
      {"relu", [](const Variable& x) { return relu(x); }, {0.f, 0.f, 0.f, 0.25f, 1.f, 2.5f, 7.f}},
      {"relu6", relu6, {0.f, 0.f, 0.f, 0.25f, 1.f, 2.5f, 6.f}},
      {"leaky_relu",
       [](const Variable& x) { return leaky_relu(x); },
       {-0.6f, -0.3f, -0.1f, 0.25f, 1.f, 2.5f, 7.f}},
      {"leaky_relu 0.3",
       [](const Variable& x) { return leaky_relu(x, 0.3f); },
       {-0.9f, -0.45f, -0.15f, 0.25f, 1.f, 2.5f, 7.f}},
      {"elu",
       [](const Variable& x) { return elu(x); },
       {-0.95021293f, -0.77686984f, -0.39346934f, 0.25f, 1.f, 2.5f, 7.f}},
      {"elu 0.5",
       [](const Variable& x) { return elu(x, 0.5f); },
       {-0.47510647f, -0.38843492f, -0.19673467f, 0.25f, 1.f, 2.5f, 7.f}},
      {"selu",
       selu,
       {-1.6705687f, -1.3658143f, -0.69175818f, 0.26267525f, 1.050701f, 2.6267525f, 7.3549069f}},
      {"gelu",
       [](const Variable& x) { return gelu(x); },
       {-0.0040496941f, -0.1002108f, -0.15426877f, 0.14967658f, 0.84134475f, 2.4844758f, 7.f}},
      {"gelu tanh",
       [](const Variable& x) { return gelu(x, true); },
       {-0.0036373921f, -0.10042842f, -0.15428599f, 0.14967535f, 0.84119199f, 2.4849157f, 7.f}},
      {"silu",
       silu,
       {-0.14227762f, -0.27363829f, -0.18877033f, 0.14054413f, 0.73105858f, 2.3103545f,
        6.9936226f}},
      {"swish",
       swish,
       {-0.14227762f, -0.27363829f, -0.18877033f, 0.14054413f, 0.73105858f, 2.3103545f,
        6.9936226f}},
      {"sigmoid",
       sigmoid,
       {0.047425873f, 0.18242552f, 0.37754067f, 0.5621765f, 0.73105858f, 0.92414182f, 0.99908895f}},
      {"hard_sigmoid", hard_sigmoid, {0.f, 0.2f, 0.4f, 0.55f, 0.7f, 1.f, 1.f}},
      {"tanh",
       act::tanh,
       {-0.99505475f, -0.90514825f, -0.46211716f, 0.24491866f, 0.76159416f, 0.9866143f,
        0.99999834f}},
      {"softplus",
       softplus,
       {0.048587352f, 0.20141328f, 0.47407698f, 0.82593942f, 1.3132617f, 2.5788897f, 7.0009115f}},
      {"softsign", softsign, {-0.75f, -0.6f, -0.33333333f, 0.2f, 0.5f, 0.71428571f, 0.875f}},
      {"exponential",
       exponential,
       {0.049787068f, 0.22313016f, 0.60653066f, 1.2840254f, 2.7182818f, 12.182494f, 1096.6332f}},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.name));
    TF_CHECK_CLOSE(c.f(V(kX)).value(), c.expected, 1e-6f, 1e-5f);
  }
}

TEST_CASE("relu with Keras' negative_slope, max_value and threshold") {
  // negative_slope 0.1, max_value 2, threshold 0.5: 0.1*(x-0.5) at or below 0.5, x up to 2.
  TF_CHECK_CLOSE(relu(V(kX), 0.1f, 2.f, 0.5f).value(),
                 (Tensor{-0.35f, -0.2f, -0.1f, -0.025f, 1.f, 2.f, 2.f}));
  // Keras doc examples: x = [-10, -5, 0, 5, 10].
  Tensor x{-10.f, -5.f, 0.f, 5.f, 10.f};
  TF_CHECK_CLOSE(relu(V(x), 0.5f).value(), (Tensor{-5.f, -2.5f, 0.f, 5.f, 10.f}));
  TF_CHECK_CLOSE(relu(V(x), 0.f, 5.f).value(), (Tensor{0.f, 0.f, 0.f, 5.f, 5.f}));
  TF_CHECK_CLOSE(relu(V(x), 0.f, std::nullopt, 5.f).value(), (Tensor{0.f, 0.f, 0.f, 0.f, 10.f}));
  // Keras' order: zero at or below the threshold first, then clip to max_value. x = 5,
  // threshold 5, max_value 5 gives 0 (the old form let max_value win and gave 5); inputs in
  // [max_value, threshold] are 0, beyond the threshold max_value.
  TF_CHECK_CLOSE(relu(V(Tensor{5.f}), 0.f, 5.f, 5.f).value(), (Tensor{0.f}));
  TF_CHECK_CLOSE(relu(V(Tensor{1.f, 2.f, 3.f, 4.f, 5.f}), 0.f, 2.f, 4.f).value(),
                 (Tensor{0.f, 0.f, 0.f, 0.f, 2.f}));
  // With a negative slope: slope * (x - threshold) at or below it, max_value above.
  TF_CHECK_CLOSE(relu(V(Tensor{1.f, 3.f, 4.f, 5.f}), 0.5f, 2.f, 4.f).value(),
                 (Tensor{-1.5f, -0.5f, 0.f, 2.f}));
  // relu(x, 0, 6) is relu6.
  TF_CHECK_CLOSE(relu(V(kX), 0.f, 6.f).value(), relu6(V(kX)).value());
  TF_CHECK_ERROR(relu(V(kX), 0.f, std::nanf("")), "relu", "max_value");
}

TEST_CASE("piecewise-linear gradients: exact slopes, zero at the kink like TF") {
  Tensor x{-2.f, 0.f, 0.5f, 3.f, 7.f};
  Tensor w = xt::ones<float>({5});
  TF_CHECK_CLOSE(grad_of([](const Variable& v) { return relu(v); }, x, w),
                 (Tensor{0.f, 0.f, 1.f, 1.f, 1.f}));
  TF_CHECK_CLOSE(grad_of(relu6, x, w), (Tensor{0.f, 0.f, 1.f, 1.f, 0.f}));
  TF_CHECK_CLOSE(grad_of([](const Variable& v) { return leaky_relu(v); }, x, w),
                 (Tensor{0.2f, 0.2f, 1.f, 1.f, 1.f}));
  TF_CHECK_CLOSE(grad_of(hard_sigmoid, x, w), (Tensor{0.2f, 0.2f, 0.2f, 0.f, 0.f}));
  TF_CHECK_CLOSE(grad_of([](const Variable& v) { return relu(v, 0.1f, 5.f, 1.f); }, x, w),
                 (Tensor{0.1f, 0.1f, 0.1f, 1.f, 0.f}));
}

TEST_CASE("activations: gradcheck, away from kinks") {
  Tensor x = away_from(random_tensor({3, 4}, 11, -4.f, 4.f), {0.f, 6.f, -2.5f, 2.5f});
  // x = 7.5 lies beyond relu6's saturation; 0.5 and 1.5 stay off the general relu's kinks.
  x(0, 0) = 7.5f;
  Tensor xg = away_from(x, {0.5f, 1.5f});
  auto check = [&](const char* name, ActivationFn f, const Tensor& in) {
    CAPTURE(std::string(name));
    TF_GRADCHECK([f](auto& v) { return f(v[0]); }, {in});
  };
  check("linear", linear, x);
  check(
      "relu", [](const Variable& v) { return relu(v); }, x);
  check(
      "relu general", [](const Variable& v) { return relu(v, 0.1f, 1.5f, 0.5f); }, xg);
  check("relu6", relu6, x);
  check(
      "leaky_relu", [](const Variable& v) { return leaky_relu(v, 0.3f); }, x);
  check(
      "elu", [](const Variable& v) { return elu(v, 0.7f); }, x);
  check("selu", selu, x);
  check(
      "gelu", [](const Variable& v) { return gelu(v); }, x);
  check(
      "gelu tanh", [](const Variable& v) { return gelu(v, true); }, x);
  check("swish", swish, x);
  check("silu", silu, x);
  check("sigmoid", sigmoid, x);
  check("hard_sigmoid", hard_sigmoid, x);
  check("tanh", act::tanh, x);
  check("softplus", softplus, x);
  check("softsign", softsign, x);
  check(
      "softmax", [](const Variable& v) { return softmax(v); }, x);
  check(
      "softmax axis 0", [](const Variable& v) { return softmax(v, 0); }, x);
  check(
      "log_softmax", [](const Variable& v) { return log_softmax(v); }, x);
  check(
      "log_softmax axis 0", [](const Variable& v) { return log_softmax(v, -2); }, x);
  check("exponential", exponential, random_tensor({3, 4}, 12, -1.f, 1.f));
}

TEST_CASE("piecewise-linear activations: the backward is recorded, linear in the gradient") {
  // d/dw of the gradient of sum(relu(x) * w) with respect to x is relu's slope at x: the
  // backward's product with the slope is itself an op an outer tape differentiates.
  Variable x(Tensor{-1.f, 2.f, 0.5f, -3.f});
  Variable w(Tensor{1.f, 1.f, 1.f, 1.f}, /*trainable=*/true);
  GradientTape outer;
  Variable gx;
  {
    GradientTape inner;
    inner.watch(x);
    gx = inner.gradient(sum(mul(relu(x), w)), {x})[0];
  }
  Tensor slope = outer.gradient(sum(gx), {w})[0].value();
  CHECK(slope == Tensor{0.f, 1.f, 1.f, 0.f});
  // A NaN incoming gradient stays NaN where the slope is 0: the slope multiplies it.
  GradientTape tape;
  tape.watch(x);
  Variable y = relu(x);
  Tensor g = tape.gradient(y, {x}, V(Tensor{NAN, NAN, 1.f, 1.f}))[0].value();
  CHECK(std::isnan(g(0)));
  CHECK(std::isnan(g(1)));
  CHECK(g(2) == 1.f);
  CHECK(g(3) == 0.f);
}

TEST_CASE("smooth activations: second derivatives by gradcheck of the gradient") {
  // Each backward is built from recorded ops, so the gradient itself has a correct gradient.
  Tensor x = away_from(random_tensor({2, 3}, 21, -3.f, 3.f), {0.f});
  Tensor w = random_tensor({2, 3}, 22, 0.5f, 1.5f);
  auto check = [&](const char* name, ActivationFn f) {
    CAPTURE(std::string(name));
    TF_GRADCHECK(
        [f, w](auto& v) {
          GradientTape tape;
          Variable y = f(v[0]);
          return tape.gradient(sum(mul(y, V(w))), {v[0]})[0];
        },
        {x});
  };
  check("sigmoid", sigmoid);
  check("tanh", act::tanh);
  check("softplus", softplus);
  check("elu", [](const Variable& v) { return elu(v, 0.7f); });
  check("selu", selu);
  check("gelu", [](const Variable& v) { return gelu(v); });
  check("gelu tanh", [](const Variable& v) { return gelu(v, true); });
  check("silu", silu);
  check("softsign", softsign);
  check("softmax", [](const Variable& v) { return softmax(v); });
  check("log_softmax", [](const Variable& v) { return log_softmax(v, 0); });

  // And a closed form: sigmoid'' = s (1 - s) (1 - 2 s).
  Variable v(Tensor{0.7f, -1.2f}, true);
  GradientTape t2, t1;
  Variable g1 = t1.gradient(sum(sigmoid(v)), {v})[0];
  Tensor g2 = t2.gradient(sum(g1), {v})[0].value();
  Tensor s = 1.f / (1.f + xt::exp(-v.value()));
  TF_CHECK_CLOSE(g2, Tensor(s * (1.f - s) * (1.f - 2.f * s)));
}

TEST_CASE("softmax and log_softmax: known values along each axis") {
  Tensor x{{1.f, 2.f, 3.f}, {-1.f, 0.f, 4.f}};
  TF_CHECK_CLOSE(softmax(V(x)).value(), (Tensor{{0.090030573f, 0.24472847f, 0.66524096f},
                                                {0.0065732632f, 0.017867982f, 0.97555875f}}));
  TF_CHECK_CLOSE(softmax(V(x), 0).value(), (Tensor{{0.88079708f, 0.88079708f, 0.26894142f},
                                                   {0.11920292f, 0.11920292f, 0.73105858f}}));
  TF_CHECK_CLOSE(log_softmax(V(x)).value(), (Tensor{{-2.407606f, -1.407606f, -0.40760596f},
                                                    {-5.0247449f, -4.0247449f, -0.02474489f}}));
  TF_CHECK_CLOSE(log_softmax(V(x), -2).value(), Tensor(xt::log(softmax(V(x), 0).value())), 1e-6f,
                 1e-5f);
  // Rank 1 and rank 3 (middle axis).
  TF_CHECK_CLOSE(softmax(V(Tensor{1.f, 2.f, 3.f})).value(),
                 (Tensor{0.090030573f, 0.24472847f, 0.66524096f}));
  Tensor x3 = random_tensor({2, 3, 4}, 5);
  Tensor s3 = softmax(V(x3), 1).value();
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t k = 0; k < 4; ++k) {
      float e0 = std::exp(x3(i, 0, k)), e1 = std::exp(x3(i, 1, k)), e2 = std::exp(x3(i, 2, k));
      CHECK(s3(i, 1, k) == doctest::Approx(e1 / (e0 + e1 + e2)).epsilon(1e-5));
    }
  TF_CHECK_ERROR(softmax(V(Tensor(1.f))), "softmax", "axis -1", "rank 0");
  TF_CHECK_ERROR(log_softmax(V(x), 2), "log_softmax", "axis 2", "rank 2");
}

TEST_CASE("stability at large inputs: finite values and correct gradients") {
  Tensor big{1000.f, 0.f, -1000.f};
  TF_CHECK_CLOSE(softmax(V(big)).value(), (Tensor{1.f, 0.f, 0.f}));
  TF_CHECK_CLOSE(log_softmax(V(big)).value(), (Tensor{0.f, -1000.f, -2000.f}));
  // d log_softmax(x)_1 / dx = onehot_1 - softmax(x) = (-1, 1, 0).
  TF_CHECK_CLOSE(
      grad_of([](const Variable& v) { return log_softmax(v); }, big, Tensor{0.f, 1.f, 0.f}),
      (Tensor{-1.f, 1.f, 0.f}));
  // d softmax(x)_0 / dx = s_0 (onehot_0 - s) = 0 at saturation: finite, not NaN.
  Tensor gs = grad_of([](const Variable& v) { return softmax(v); }, big, Tensor{1.f, 0.f, 0.f});
  CHECK(all_finite(gs));
  TF_CHECK_CLOSE(gs, (Tensor{0.f, 0.f, 0.f}));
  // Softmax is shift-invariant: huge shifts give the same probabilities.
  TF_CHECK_CLOSE(softmax(V(Tensor{1001.f, 1002.f, 1003.f})).value(),
                 (Tensor{0.090030573f, 0.24472847f, 0.66524096f}));

  Tensor ends{1000.f, -1000.f};
  Tensor w = xt::ones<float>({2});
  TF_CHECK_CLOSE(sigmoid(V(ends)).value(), (Tensor{1.f, 0.f}));
  TF_CHECK_CLOSE(grad_of(sigmoid, ends, w), (Tensor{0.f, 0.f}));
  TF_CHECK_CLOSE(softplus(V(ends)).value(), (Tensor{1000.f, 0.f}));
  TF_CHECK_CLOSE(grad_of(softplus, ends, w), (Tensor{1.f, 0.f}));
  TF_CHECK_CLOSE(act::tanh(V(ends)).value(), (Tensor{1.f, -1.f}));
  TF_CHECK_CLOSE(grad_of(act::tanh, ends, w), (Tensor{0.f, 0.f}));
  TF_CHECK_CLOSE(silu(V(ends)).value(), (Tensor{1000.f, 0.f}));
  TF_CHECK_CLOSE(gelu(V(ends)).value(), (Tensor{1000.f, 0.f}));
  TF_CHECK_CLOSE(elu(V(ends)).value(), (Tensor{1000.f, -1.f}));
  TF_CHECK_CLOSE(grad_of([](const Variable& v) { return elu(v); }, ends, w), (Tensor{1.f, 0.f}));
  // softplus stays accurate for small values: log1p(exp(-20)) ~ 2.06e-9, not 0.
  CHECK(softplus(V(Tensor{-20.f})).value()(0) == doctest::Approx(2.0611536e-09).epsilon(1e-5));
}

TEST_CASE("NamedActivation: from names, functions and callables") {
  Tensor x{-1.f, 0.5f, 2.f};
  NamedActivation by_default;
  CHECK(by_default.name() == "linear");
  CHECK(by_default.is_linear());
  TF_CHECK_CLOSE(by_default(V(x)).value(), x);

  NamedActivation by_name = "relu";
  CHECK(by_name.name() == "relu");
  TF_CHECK_CLOSE(by_name(V(x)).value(), (Tensor{0.f, 0.5f, 2.f}));
  NamedActivation by_string = std::string("tanh");
  CHECK(by_string.name() == "tanh");

  // An overloaded built-in (relu has a four-argument form) and plain ones keep their names.
  NamedActivation by_fn = tapeflow::activations::relu;
  CHECK(by_fn.name() == "relu");
  TF_CHECK_CLOSE(by_fn(V(x)).value(), (Tensor{0.f, 0.5f, 2.f}));
  NamedActivation by_ptr = &tapeflow::activations::sigmoid;
  CHECK(by_ptr.name() == "sigmoid");
  NamedActivation soft = softmax;
  CHECK(soft.name() == "softmax");

  NamedActivation lambda = [](const Variable& v) { return relu(v, 0.5f); };
  CHECK(lambda.name() == "custom");
  TF_CHECK_CLOSE(lambda(V(x)).value(), (Tensor{-0.5f, 0.5f, 2.f}));
  int calls = 0;
  NamedActivation capturing(
      [&calls](const Variable& v) {
        ++calls;
        return mul(v, scalar(2.f));
      },
      "twice");
  CHECK(capturing.name() == "twice");
  TF_CHECK_CLOSE(capturing(V(x)).value(), (Tensor{-2.f, 1.f, 4.f}));
  CHECK(calls == 1);
  ActivationFn fn = [](const Variable& v) { return neg(v); };
  NamedActivation from_fn = fn;
  CHECK(from_fn.name() == "custom");
  TF_CHECK_CLOSE(from_fn(V(x)).value(), (Tensor{1.f, -0.5f, -2.f}));

  // Reassignment, as a layer option would do.
  NamedActivation a;
  a = "elu";
  CHECK(a.name() == "elu");
  a = gelu;
  CHECK(a.name() == "gelu");

  // Gradients flow through an Activation.
  NamedActivation sp = "softplus";
  TF_GRADCHECK([sp](auto& v) { return sp(v[0]); }, {random_tensor({4}, 3)});
}

TEST_CASE("NamedActivation: every name maps to its function, unknown names are errors") {
  std::vector<std::string> n = names();
  REQUIRE(n.size() == 17);
  CHECK(n.front() == "linear");
  Tensor x = random_tensor({2, 3}, 9, -2.f, 2.f);
  struct Pair {
    const char* name;
    ActivationFn f;
  };
  const Pair pairs[] = {{"linear", linear},
                        {"relu", [](const Variable& v) { return relu(v); }},
                        {"relu6", relu6},
                        {"leaky_relu", [](const Variable& v) { return leaky_relu(v); }},
                        {"elu", [](const Variable& v) { return elu(v); }},
                        {"selu", selu},
                        {"gelu", [](const Variable& v) { return gelu(v); }},
                        {"swish", swish},
                        {"silu", silu},
                        {"sigmoid", sigmoid},
                        {"hard_sigmoid", hard_sigmoid},
                        {"tanh", act::tanh},
                        {"softplus", softplus},
                        {"softsign", softsign},
                        {"softmax", [](const Variable& v) { return softmax(v); }},
                        {"log_softmax", [](const Variable& v) { return log_softmax(v); }},
                        {"exponential", exponential}};
  for (const auto& p : pairs) {
    CAPTURE(std::string(p.name));
    CHECK(std::find(n.begin(), n.end(), p.name) != n.end());
    NamedActivation a = get(p.name);
    CHECK(a.name() == p.name);
    TF_CHECK_CLOSE(a(V(x)).value(), p.f(V(x)).value());
  }
  TF_CHECK_ERROR(get("Relu"), "activation", "unknown activation 'Relu'", "relu", "softmax",
                 "hard_sigmoid");
  TF_CHECK_ERROR(NamedActivation("swishy"), "activation", "'swishy'", "silu");
  TF_CHECK_ERROR(NamedActivation(static_cast<const char*>(nullptr)), "activation", "null");
  TF_CHECK_ERROR(NamedActivation(ActivationFn(), "empty"), "activation", "'empty'", "empty");
}

// ---- NaN propagates as in TF ---------------------------------------------------------------

TEST_CASE("every activation keeps NaN (relu(NaN) was 0)") {
  const float nan = std::nanf("");
  // Every named activation, on a NaN among numbers: the NaN stays NaN, the numbers stay numbers
  // (softmax and log_softmax normalize over the row: a NaN makes its whole row NaN, as TF).
  for (const std::string& name : names()) {
    CAPTURE(name);
    Tensor y = get(name)(V(Tensor{nan, -1.f, 2.f})).value();
    CHECK(std::isnan(y(0)));
    if (name != "softmax" && name != "log_softmax") {
      CHECK(std::isfinite(y(1)));
      CHECK(std::isfinite(y(2)));
    }
  }
  // The argument forms.
  const Tensor x{nan, -1.f, 7.f};
  const ActivationFn forms[] = {
      [](const Variable& v) { return relu(v, 0.f, 5.f); },
      [](const Variable& v) { return relu(v, 0.f, 6.f); },
      [](const Variable& v) { return relu(v, 0.f, std::nullopt, 1.f); },
      [](const Variable& v) { return relu(v, 0.f, 5.f, 5.f); },
      [](const Variable& v) { return relu(v, 0.1f); },
      [](const Variable& v) { return relu(v, 0.1f, 5.f, 1.f); },
      [](const Variable& v) { return relu(v, 0.f, std::nullopt, -2.f); },
      [](const Variable& v) { return leaky_relu(v, 0.f); },
      [](const Variable& v) { return leaky_relu(v, 0.3f); },
      [](const Variable& v) { return elu(v, 0.5f); },
      [](const Variable& v) { return gelu(v, true); },
      [](const Variable& v) { return softmax(v, 0); },
  };
  for (std::size_t i = 0; i < std::size(forms); ++i) {
    CAPTURE(i);
    CHECK(std::isnan(forms[i](V(x)).value()(0)));
  }
  TF_CHECK_CLOSE(relu(V(Tensor{-1.f, 7.f}), 0.f, 5.f, 5.f).value(), (Tensor{0.f, 5.f}));
}

TEST_CASE("activation gradients at NaN: NaN where the slope depends on the value, as TF") {
  const float nan = std::nanf("");
  const Tensor x{nan, 1.f};
  const Tensor w{1.f, 1.f};
  // The smooth activations' derivatives are functions of x (or of the output): NaN at NaN, not
  // a silent 0.
  for (const char* name :
       {"sigmoid", "tanh", "softplus", "gelu", "silu", "softsign", "exponential"}) {
    CAPTURE(std::string(name));
    Tensor g = grad_of(get(name), x, w);
    CHECK(std::isnan(g(0)));
    CHECK(std::isfinite(g(1)));
  }
  // Piecewise-linear ones follow TF's gradient kernels, which test the input (or the output)
  // against the kinks: relu and relu6 give 0 at NaN (TF's ReluGrad/Relu6Grad), leaky_relu its
  // negative slope (LeakyReluGrad), hard_sigmoid 0 (clip's mask through maximum/minimum).
  TF_CHECK_CLOSE(grad_of(get("relu"), x, w), (Tensor{0.f, 1.f}));
  TF_CHECK_CLOSE(grad_of(relu6, x, w), (Tensor{0.f, 1.f}));
  TF_CHECK_CLOSE(grad_of(get("leaky_relu"), x, w), (Tensor{0.2f, 1.f}));
}

TEST_CASE("relu's general form: gradients of Keras' composition") {
  Tensor w = xt::ones<float>({6});
  // threshold 4, max_value 2, slope 0.5: 0.5 below the threshold, 0 at it and above (clipped).
  TF_CHECK_CLOSE(grad_of([](const Variable& v) { return relu(v, 0.5f, 2.f, 4.f); },
                         Tensor{1.f, 3.f, 4.f, 4.5f, 1.5f, 5.f}, w),
                 (Tensor{0.5f, 0.5f, 0.f, 0.f, 0.5f, 0.f}));
  // No slope, threshold 1, max_value 5: 1 strictly between, 0 elsewhere; at x == max_value the
  // clip passes the gradient (TF's ClipByValueGrad), relu6 does not (Relu6Grad).
  TF_CHECK_CLOSE(grad_of([](const Variable& v) { return relu(v, 0.f, 5.f, 1.f); },
                         Tensor{0.f, 1.f, 2.f, 5.f, 6.f, -1.f}, w),
                 (Tensor{0.f, 0.f, 1.f, 1.f, 0.f, 0.f}));
  TF_CHECK_CLOSE(grad_of([](const Variable& v) { return relu(v, 0.1f, 6.f); },
                         Tensor{-1.f, 0.f, 2.f, 6.f, 7.f, 3.f}, w),
                 (Tensor{0.1f, 0.f, 1.f, 0.f, 0.f, 1.f}));
}
