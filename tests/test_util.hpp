#pragma once
// Helpers shared by the test files.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <xtensor/xio.hpp>

#include "tapeflow/framework/ops/gradcheck.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/framework/core/tape.hpp"
#include "tapeflow/framework/core/tensor.hpp"

namespace tapeflow::test {

/// Uniform random tensor in [lo, hi), deterministic per seed.
inline Tensor random_tensor(const Shape& shape, unsigned seed = 1, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  Tensor t = Tensor::from_shape(shape);
  for (auto& v : t) v = d(rng);
  return t;
}

/// True when shapes match and every element is within atol + rtol * |b|.
inline bool allclose(const Tensor& a, const Tensor& b, float atol = 1e-5f, float rtol = 1e-5f) {
  if (shape_of(a) != shape_of(b)) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    float x = a.data()[i], y = b.data()[i];
    if (!(std::abs(x - y) <= atol + rtol * std::abs(y))) return false;
  }
  return true;
}

#define TF_CHECK_CLOSE(a, b, ...)                                                         \
  do {                                                                                    \
    /* copies: `f(V(x)).value()` refers into a temporary that dies with the statement */ \
    const ::tapeflow::Tensor tf_a_ = (a);                                                 \
    const ::tapeflow::Tensor tf_b_ = (b);                                                 \
    CHECK_MESSAGE(::tapeflow::test::allclose(tf_a_, tf_b_, ##__VA_ARGS__), "got " << tf_a_ \
                                                                          << "\nexpected " << tf_b_); \
  } while (0)

#define TF_GRADCHECK(f, inputs, ...)                                 \
  do {                                                               \
    auto tf_r_ = ::tapeflow::gradcheck(f, inputs, ##__VA_ARGS__);    \
    CHECK_MESSAGE(tf_r_.ok, tf_r_.message);                          \
  } while (0)

/// Finite-difference check of the gradient of `f()` with respect to existing variables (layer
/// weights, which a layer reads through its own handles, so `gradcheck`'s fresh inputs cannot
/// stand in for them): perturbs each element of each variable in place, reruns `f`, restores
/// it. Same scalarization, tolerances and messages as `gradcheck`.
/// Example: `TF_GRADCHECK_VARIABLES([&] { return layer(x); }, layer.trainable_variables());`
inline GradcheckResult gradcheck_variables(const std::function<Variable()>& f,
                                           const std::vector<Variable>& vars,
                                           const GradcheckOptions& opts = {}) {
  GradcheckResult res;
  Tensor w;
  std::vector<Variable> grads;
  {
    GradientTape tape(/*persistent=*/true);
    tape.watch(vars);
    Variable y = f();
    std::mt19937 rng(opts.seed);
    std::uniform_real_distribution<float> dist(0.5f, 1.5f);
    w = Tensor::from_shape(y.value().shape());
    for (auto& e : w) e = (rng() & 1) ? dist(rng) : -dist(rng);
    grads = tape.gradient(sum(mul(y, Variable(w))), vars);
  }
  auto weighted = [&]() {
    const Tensor y = f().value();
    double s = 0;
    for (std::size_t i = 0; i < y.size(); ++i) s += double(y.data()[i]) * double(w.data()[i]);
    return s;
  };
  for (std::size_t i = 0; i < vars.size(); ++i) {
    Variable v = vars[i];
    std::string name = "variable '" + v.name() + "'";
    if (grads[i].defined() && shape_of(grads[i].value()) != v.shape()) {
      res.ok = false;
      res.message = name + ": gradient shape " + shape_str(grads[i].value().shape()) +
                    " != variable shape " + shape_str(v.shape());
      return res;
    }
    for (std::size_t j = 0; j < v.size(); ++j) {
      float orig = v.value().data()[j];
      v.mutable_value().data()[j] = orig + float(opts.eps);
      double fp = weighted();
      v.mutable_value().data()[j] = orig - float(opts.eps);
      double fm = weighted();
      v.mutable_value().data()[j] = orig;
      double numeric = (fp - fm) / (2 * opts.eps);
      double analytic = grads[i].defined() ? grads[i].value().data()[j] : 0.0;
      double err = std::abs(analytic - numeric);
      res.max_abs_error = std::max(res.max_abs_error, err);
      if (!std::isfinite(analytic) || err > opts.atol + opts.rtol * std::abs(numeric)) {
        std::ostringstream os;
        os << name << " element " << j << ": analytic "
           << (grads[i].defined() ? std::to_string(analytic) : std::string("(no gradient)"))
           << " vs numeric " << numeric;
        res.ok = false;
        res.message = os.str();
        return res;
      }
    }
  }
  return res;
}

#define TF_GRADCHECK_VARIABLES(f, vars, ...)                                   \
  do {                                                                         \
    auto tf_r_ = ::tapeflow::test::gradcheck_variables(f, vars, ##__VA_ARGS__); \
    CHECK_MESSAGE(tf_r_.ok, tf_r_.message);                                    \
  } while (0)

/// Checks that `expr` throws tapeflow::Error whose message contains every given substring.
#define TF_CHECK_ERROR(expr, ...)                                               \
  do {                                                                          \
    bool tf_thrown_ = false;                                                    \
    try {                                                                       \
      (void)(expr);                                                             \
    } catch (const ::tapeflow::Error& e) {                                      \
      tf_thrown_ = true;                                                        \
      std::string tf_msg_ = e.what();                                           \
      for (const char* s : {__VA_ARGS__})                                       \
        CHECK_MESSAGE(tf_msg_.find(s) != std::string::npos,                     \
                      "message '" << tf_msg_ << "' lacks '" << s << "'");       \
    }                                                                           \
    CHECK_MESSAGE(tf_thrown_, "expected tapeflow::Error from " #expr);          \
  } while (0)

}  // namespace tapeflow::test
