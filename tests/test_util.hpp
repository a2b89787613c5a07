#pragma once
// Helpers shared by the test files.
//
// A value that CAPTURE, INFO or a *_MESSAGE check names is never a structured binding
// (`for (const auto& [a, b] : ...)`): those macros capture it in a lambda, which C++20 allows
// (P1091) but clang implements only from version 16, and the sanitizer build (.ci/run) uses
// Debian 12's clang 14. Such a loop names its values as variables (`const auto& a = e.first`).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>
#include <xtensor/xio.hpp>

#include "tapeflow/framework/core/tape.hpp"
#include "tapeflow/framework/core/tensor.hpp"
#include "tapeflow/framework/ops/gradcheck.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/framework/runtime/random.hpp"

namespace tapeflow::test {

/// The mean and the (biased) standard deviation of a tensor's elements, in double precision:
/// what the random layers' tests compare with their distributions.
struct Moments {
  double mean, stddev;
};
inline Moments moments(const Tensor& t) {
  double s = 0, s2 = 0;
  for (float v : t) {
    s += v;
    s2 += static_cast<double>(v) * v;
  }
  const double n = static_cast<double>(t.size());
  return {s / n, std::sqrt(s2 / n - (s / n) * (s / n))};
}

/// Uniform random tensor in [lo, hi), deterministic per seed.
inline Tensor random_tensor(const Shape& shape, unsigned seed = 1, float lo = -1.f,
                            float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  Tensor t = Tensor::from_shape(shape);
  for (auto& v : t) v = d(rng);
  return t;
}

/// A tensor of `shape` holding `values` in row-major order (their count must match).
/// Example: `Tensor x = T({2, 2}, {1, 2, 3, 4});`
inline Tensor T(const Shape& shape, const std::vector<float>& values) {
  Tensor t = Tensor::from_shape(shape);
  REQUIRE(t.size() == values.size());
  std::copy(values.begin(), values.end(), t.begin());
  return t;
}

/// A tensor as a constant Variable: a bare Tensor argument would find xt::exp & co. by ADL.
inline Variable V(Tensor t) { return Variable(std::move(t)); }

/// A tensor of the given shape filled from a flat list (nested braces of one element are
/// ambiguous). Example: `Tensor x = shaped(Tensor{1, 2, 3, 4}, {2, 2});`
inline Tensor shaped(Tensor flat, const Shape& shape) {
  flat.reshape(shape);
  return flat;
}

/// The gradient of f at x for one input, through a tape.
inline Tensor grad_of(const std::function<Variable(const Variable&)>& f, const Tensor& x) {
  Variable v(x, true);
  GradientTape tape;
  Variable y = f(v);
  return tape.gradient(y, {v})[0].value();
}

/// Keeps every element at least `gap` away from each kink, so finite differences are valid.
inline Tensor away_from(Tensor t, std::initializer_list<float> kinks, float gap = 0.05f) {
  for (auto& v : t)
    for (float k : kinks)
      if (std::abs(v - k) < gap) v = v < k ? k - gap : k + gap;
  return t;
}

/// True when no element is NaN or infinite.
inline bool all_finite(const Tensor& t) {
  for (float v : t)
    if (!std::isfinite(v)) return false;
  return true;
}

/// `start, start + 1, ...` in row-major order, in the given shape.
/// Example: `Tensor x = iota({2, 3});` holds 0 to 5.
inline Tensor iota(const Shape& shape, float start = 0.f) {
  Tensor t = Tensor::from_shape(shape);
  for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = start + static_cast<float>(i);
  return t;
}

/// Builds `layer` on x, sets its weights, then runs it on x.
template <class L>
Variable run_with_weights(L& layer, const Tensor& x, const std::vector<Tensor>& weights) {
  layer(Variable(x));
  layer.set_weights(weights);
  return layer(Variable(x));
}

/// A quiet NaN, for the tests that NaN propagates as in TF.
inline const float kNaN = std::nanf("");

/// True when shapes match and every element is within atol + rtol * |b|.
inline bool allclose(const Tensor& a, const Tensor& b, float atol = 1e-5f, float rtol = 1e-5f) {
  if (shape_of(a) != shape_of(b)) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    float x = a.data()[i], y = b.data()[i];
    if (!(std::abs(x - y) <= atol + rtol * std::abs(y))) return false;
  }
  return true;
}

/// TF_CHECK_CLOSE's comparison with NaN equal to NaN (and infinities equal to themselves), for
/// the tests that NaN propagates.
inline void check_close_nan(const Tensor& got, const Tensor& want) {
  bool ok = shape_of(got) == shape_of(want);
  for (std::size_t i = 0; ok && i < got.size(); ++i) {
    const float g = got.data()[i], w = want.data()[i];
    ok = std::isnan(w) ? std::isnan(g) : (g == w || std::abs(g - w) <= 1e-5f * (1 + std::abs(w)));
  }
  CHECK_MESSAGE(ok, "got " << got << "\nexpected " << want);
}

#define TF_CHECK_CLOSE(a, b, ...)                                                        \
  do {                                                                                   \
    /* copies: `f(V(x)).value()` refers into a temporary that dies with the statement */ \
    const ::tapeflow::Tensor tf_a_ = (a);                                                \
    const ::tapeflow::Tensor tf_b_ = (b);                                                \
    CHECK_MESSAGE(::tapeflow::test::allclose(tf_a_, tf_b_, ##__VA_ARGS__),               \
                  "got " << tf_a_ << "\nexpected " << tf_b_);                            \
  } while (0)

// The library's finite-difference check (framework/ops/gradcheck.hpp, itself tested by
// tests/framework/ops/test_gradcheck.cpp), as a doctest check: one implementation for every test.

/// `TF_GRADCHECK(f, inputs[, options])`: `tapeflow::gradcheck` of `f` at `inputs`.
/// Example: `TF_GRADCHECK([](auto& in) { return exp(in[0]); }, {random_tensor({2, 3})});`
#define TF_GRADCHECK(f, inputs, ...)                              \
  do {                                                            \
    auto tf_r_ = ::tapeflow::gradcheck(f, inputs, ##__VA_ARGS__); \
    CHECK_MESSAGE(tf_r_.ok, tf_r_.message);                       \
  } while (0)

/// `TF_GRADCHECK_VARIABLES(f, variables[, options])`: `tapeflow::gradcheck_variables`, for
/// existing variables that `f` reads through its own handles (layer weights).
/// Example: `TF_GRADCHECK_VARIABLES([&] { return layer(x); }, layer.trainable_variables());`
#define TF_GRADCHECK_VARIABLES(f, vars, ...)                              \
  do {                                                                    \
    auto tf_r_ = ::tapeflow::gradcheck_variables(f, vars, ##__VA_ARGS__); \
    CHECK_MESSAGE(tf_r_.ok, tf_r_.message);                               \
  } while (0)

// Formerly a test-only copy of the check; the name stays valid for code written against it.
using ::tapeflow::gradcheck_variables;

/// Checks that `expr` throws a `type` (a tapeflow::Error subclass, or Error itself) whose message
/// contains every given substring: one evaluation for the type and the message.
#define TF_CHECK_ERROR_AS(expr, type, ...)                                \
  do {                                                                    \
    bool tf_thrown_ = false;                                              \
    try {                                                                 \
      (void)(expr);                                                       \
    } catch (const type& e) {                                             \
      tf_thrown_ = true;                                                  \
      std::string tf_msg_ = e.what();                                     \
      for (const char* s : {__VA_ARGS__})                                 \
        CHECK_MESSAGE(tf_msg_.find(s) != std::string::npos,               \
                      "message '" << tf_msg_ << "' lacks '" << s << "'"); \
    }                                                                     \
    CHECK_MESSAGE(tf_thrown_, "expected " #type " from " #expr);          \
  } while (0)

/// Checks that `expr` throws tapeflow::Error whose message contains every given substring.
#define TF_CHECK_ERROR(expr, ...) TF_CHECK_ERROR_AS(expr, ::tapeflow::Error, __VA_ARGS__)

/// Same shape and the same bits in every element (a saved and reloaded model, a resumed run).
inline bool bit_identical(const Tensor& a, const Tensor& b) {
  return shape_of(a) == shape_of(b) &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

/// `CHECK(bit_identical(a, b))`, printing both tensors when they differ.
#define CHECK_BIT_IDENTICAL(a, b)                                \
  do {                                                           \
    const ::tapeflow::Tensor tf_a_ = (a);                        \
    const ::tapeflow::Tensor tf_b_ = (b);                        \
    CHECK_MESSAGE(::tapeflow::test::bit_identical(tf_a_, tf_b_), \
                  "got " << tf_a_ << "\nexpected " << tf_b_);    \
  } while (0)

/// A global random seed for one test case (deterministic initial weights: a gradcheck must not
/// depend on the draw), cleared at its end. Example: `test::Seeded seed(7);`
struct Seeded {
  explicit Seeded(std::uint64_t seed) { set_random_seed(seed); }
  ~Seeded() { clear_random_seed(); }
  Seeded(const Seeded&) = delete;
  Seeded& operator=(const Seeded&) = delete;
};

// Values all at least 0.1 apart, in a shuffled order fixed by `seed`: a finite-difference step
// never changes which one of them is a max (pooling gradients stay well defined).
inline Tensor distinct_values(const Shape& shape, unsigned seed) {
  Tensor t = Tensor::from_shape(shape);
  std::vector<float> v(t.size());
  std::iota(v.begin(), v.end(), 0.f);
  std::shuffle(v.begin(), v.end(), std::mt19937(seed));
  for (std::size_t i = 0; i < v.size(); ++i) t.data()[i] = 0.1f * v[i] - 0.05f * float(v.size());
  return t;
}

}  // namespace tapeflow::test
