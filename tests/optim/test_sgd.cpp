#include <cmath>
#include <limits>

#include "optim/optim_test_util.hpp"
#include "tapeflow/optim/sgd.hpp"

using namespace tapeflow;
using namespace tapeflow::test;
using optim::SGD;
using optim::SGDOptions;

TEST_CASE("SGD: defaults are Keras'") {
  SGDOptions o;
  CHECK(o.learning_rate()(0) == doctest::Approx(0.01));
  CHECK(o.momentum() == 0.0);
  CHECK_FALSE(o.nesterov());
  SGD opt;
  CHECK(opt.name() == "SGD");
  CHECK(opt.slot_names().empty());
  CHECK(SGD(SGDOptions().momentum(0.9)).slot_names() == std::vector<std::string>{"momentum"});
}

TEST_CASE("SGD: plain gradient descent over three steps") {
  SGD opt(SGDOptions().learning_rate(0.1));
  auto got = run_steps(opt, kW0, kGrads);
  // w -= lr * g
  std::vector<std::vector<double>> expected;
  std::vector<double> w = kW0;
  for (const auto& g : kGrads) {
    for (int i = 0; i < 3; ++i) w[i] = w[i] - 0.1 * g[i];
    expected.push_back(w);
  }
  CHECK(expected[2][0] == doctest::Approx(1.0 - 0.05 - 0.01 + 0.1));
  check_steps(got, expected);
  CHECK(opt.iterations() == 3);
}

TEST_CASE("SGD: momentum follows Keras and the golden TF.js rule over three steps") {
  const double lr = 0.1, mu = 0.9;
  SGD opt(SGDOptions().learning_rate(lr).momentum(mu));
  auto got = run_steps(opt, kW0, kGrads);

  // Keras: v = mu * v - lr * g; w += v.
  std::vector<std::vector<double>> keras;
  std::vector<double> w = kW0, v(3, 0.0);
  for (const auto& g : kGrads) {
    for (int i = 0; i < 3; ++i) {
      v[i] = mu * v[i] - lr * g[i];
      w[i] += v[i];
    }
    keras.push_back(w);
  }
  check_steps(got, keras);

  // Golden README / TF.js: a = mu * a + g; w -= lr * a. Element 0 written out by hand:
  // a1 = 0.5, w1 = 0.95; a2 = 0.55, w2 = 0.895; a3 = -0.505, w3 = 0.9455.
  CHECK(got[0][0] == doctest::Approx(0.95).epsilon(1e-6));
  CHECK(got[1][0] == doctest::Approx(0.895).epsilon(1e-6));
  CHECK(got[2][0] == doctest::Approx(0.9455).epsilon(1e-6));
  std::vector<std::vector<double>> tfjs;
  w = kW0;
  std::vector<double> a(3, 0.0);
  for (const auto& g : kGrads) {
    for (int i = 0; i < 3; ++i) {
      a[i] = mu * a[i] + g[i];
      w[i] -= lr * a[i];
    }
    tfjs.push_back(w);
  }
  check_steps(got, tfjs);
}

TEST_CASE("SGD: Nesterov momentum over three steps") {
  const double lr = 0.05, mu = 0.8;
  SGD opt(SGDOptions().learning_rate(lr).momentum(mu).nesterov(true));
  auto got = run_steps(opt, kW0, kGrads);
  // v = mu * v - lr * g; w += mu * v - lr * g.
  std::vector<std::vector<double>> expected;
  std::vector<double> w = kW0, v(3, 0.0);
  for (const auto& g : kGrads) {
    for (int i = 0; i < 3; ++i) {
      v[i] = mu * v[i] - lr * g[i];
      w[i] += mu * v[i] - lr * g[i];
    }
    expected.push_back(w);
  }
  // Element 0, step 1 by hand: v = -0.025, w = 1 - 0.02 - 0.025 = 0.955.
  CHECK(expected[0][0] == doctest::Approx(0.955));
  check_steps(got, expected);
}

TEST_CASE("SGD: the momentum slot holds v") {
  SGD opt(SGDOptions().learning_rate(0.5).momentum(0.5));
  Variable w(Tensor{1.f, 2.f}, true, "w");
  opt.apply_gradients({Variable(Tensor{1.f, -2.f})}, {w});
  opt.apply_gradients({Variable(Tensor{1.f, -2.f})}, {w});
  // v1 = -0.5 g, v2 = 0.5 v1 - 0.5 g = -0.75 g
  TF_CHECK_CLOSE(opt.get_slot(w, "momentum"), (Tensor{-0.75f, 1.5f}));
  TF_CHECK_CLOSE(w.value(), (Tensor{1.f - 1.25f, 2.f + 2.5f}));
}

TEST_CASE("SGD: lowers the loss of a linear regression") {
  SGD plain(SGDOptions().learning_rate(0.2));
  auto [first, last] = fit_regression(plain, 60);
  CHECK(last < 0.05f * first);
  SGD momentum(SGDOptions().learning_rate(0.05).momentum(0.9).nesterov(true));
  auto [first2, last2] = fit_regression(momentum, 60);
  CHECK(last2 < 0.05f * first2);
}

TEST_CASE("SGD: bad options") {
  const float inf = std::numeric_limits<float>::infinity();
  TF_CHECK_ERROR(SGD(SGDOptions().learning_rate(-0.1)), "SGD", "learning_rate", "-0.1");
  TF_CHECK_ERROR(SGD(SGDOptions().learning_rate(std::nanf(""))), "SGD", "learning_rate");
  TF_CHECK_ERROR(SGD(SGDOptions().learning_rate(inf)), "SGD", "learning_rate", "inf");
  TF_CHECK_ERROR(SGD(SGDOptions().momentum(-0.5)), "SGD", "momentum", "[0, 1]", "-0.5");
  TF_CHECK_ERROR(SGD(SGDOptions().momentum(1.5)), "SGD", "momentum", "1.5");
  CHECK_NOTHROW(SGD(SGDOptions().momentum(1.0)));
  SGD opt;
  TF_CHECK_ERROR(opt.set_learning_rate(-1.f), "SGD", "learning_rate");
}
