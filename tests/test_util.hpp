#pragma once
// Helpers shared by the test files.
#include <doctest/doctest.h>

#include <random>
#include <string>

#include <xtensor/xio.hpp>

#include "framework/gradcheck.hpp"
#include "framework/tensor.hpp"

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
    const ::tapeflow::Tensor& tf_a_ = (a);                                                \
    const ::tapeflow::Tensor& tf_b_ = (b);                                                \
    CHECK_MESSAGE(::tapeflow::test::allclose(tf_a_, tf_b_, ##__VA_ARGS__), "got " << tf_a_ \
                                                                          << "\nexpected " << tf_b_); \
  } while (0)

#define TF_GRADCHECK(f, inputs, ...)                                 \
  do {                                                               \
    auto tf_r_ = ::tapeflow::gradcheck(f, inputs, ##__VA_ARGS__);    \
    CHECK_MESSAGE(tf_r_.ok, tf_r_.message);                          \
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
