#include <cmath>

#include "tapeflow/framework/metrics/accuracy_metrics.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::metrics;
using test::T;

TEST_CASE("Accuracy: exact matches, Keras' example") {
  Accuracy m;
  CHECK(m.name() == "accuracy");
  m.update_state(T({4, 1}, {1, 2, 3, 4}), T({4, 1}, {0, 2, 3, 4}));
  CHECK(m.result() == doctest::Approx(0.75));  // 3 of 4
  m.reset_state();
  m.update_state(T({4, 1}, {1, 2, 3, 4}), T({4, 1}, {0, 2, 3, 4}), Tensor{1.f, 1.f, 0.f, 0.f});
  CHECK(m.result() == doctest::Approx(0.5));  // 1 of the 2 weighted
  // NaN equals nothing; (N,) against (N, 1) is fine; (N,) against (1, N) is not.
  m.reset_state();
  m.update_state(Tensor{1.f, 2.f}, T({2, 1}, {1, NAN}));
  CHECK(m.result() == doctest::Approx(0.5));
  TF_CHECK_ERROR(m.update_state(Tensor{1.f, 2.f}, T({1, 2}, {1, 2})), "Accuracy 'accuracy'",
                 "y_true shape (2,)", "(1, 2)");
}

TEST_CASE("BinaryAccuracy: Keras' example, threshold, strict >, NaN as Keras") {
  const Tensor t = T({4, 1}, {1, 1, 0, 0}), p = T({4, 1}, {0.98f, 1, 0, 0.6f});
  BinaryAccuracy m;
  CHECK(m.name() == "binary_accuracy");
  CHECK(m.threshold() == 0.5f);
  m.update_state(t, p);
  CHECK(m.result() == doctest::Approx(0.75));  // 0.6 > 0.5 is a wrong 1
  m.reset_state();
  m.update_state(t, p, Tensor{1.f, 0.f, 0.f, 1.f});
  CHECK(m.result() == doctest::Approx(0.5));  // right, wrong
  BinaryAccuracy high(0.7f);
  high.update_state(t, p);
  CHECK(high.result() == doctest::Approx(1.0));  // 0.6 is now a 0
  // Equal to the threshold is not above it.
  BinaryAccuracy eq;
  eq.update_state(Tensor{1.f}, Tensor{0.5f});
  CHECK(eq.result() == 0.0);
  // A NaN score is class 0, as Keras' `greater`: right for a 0 label, wrong for a 1.
  BinaryAccuracy nan;
  nan.update_state(Tensor{0.f, 1.f}, Tensor{NAN, NAN});
  CHECK(nan.result() == doctest::Approx(0.5));
  // Logits with threshold 0.
  BinaryAccuracy logits(0.f);
  logits.update_state(Tensor{1.f, 0.f, 1.f}, Tensor{2.f, -1.f, -0.5f});
  CHECK(logits.result() == doctest::Approx(2.0 / 3));
  CHECK_THROWS_AS(BinaryAccuracy(NAN), ValueError);
  TF_CHECK_ERROR(BinaryAccuracy(INFINITY, "acc"), "BinaryAccuracy 'acc'", "threshold");
}

TEST_CASE("BinaryAccuracy: multi-label rows average per sample, batches accumulate, clone") {
  // Sample 0: 2 of 2 right; sample 1: 1 of 2 -> (1 + 0.5) / 2.
  BinaryAccuracy a, b;
  a.update_state(T({2, 2}, {1, 0, 1, 1}), T({2, 2}, {0.9f, 0.1f, 0.2f, 0.8f}));
  CHECK(a.result() == doctest::Approx(0.75));
  a.update_state(T({1, 2}, {0, 0}), T({1, 2}, {0.9f, 0.9f}), Tensor{2.f});
  b.update_state(T({3, 2}, {1, 0, 1, 1, 0, 0}), T({3, 2}, {0.9f, 0.1f, 0.2f, 0.8f, 0.9f, 0.9f}),
                 Tensor{1.f, 1.f, 2.f});
  CHECK(a.result() == doctest::Approx(1.5 / 4));  // (1 + 0.5 + 0 * 2) / 4
  CHECK(a.result() == doctest::Approx(b.result()));
  auto c = a.clone();
  CHECK(dynamic_cast<BinaryAccuracy&>(*c).threshold() == 0.5f);
  CHECK(c->result() == 0.0);
  BinaryAccuracy high(0.95f, "strict");
  auto hc = high.clone();
  CHECK(hc->name() == "strict");
  CHECK(dynamic_cast<BinaryAccuracy&>(*hc).threshold() == 0.95f);
}

TEST_CASE("CategoricalAccuracy: Keras' example, ties, NaN, shapes") {
  const Tensor t = T({2, 3}, {0, 0, 1, 0, 1, 0});
  const Tensor p = T({2, 3}, {0.1f, 0.9f, 0.8f, 0.05f, 0.95f, 0});
  CategoricalAccuracy m;
  CHECK(m.name() == "categorical_accuracy");
  m.update_state(t, p);
  CHECK(m.result() == doctest::Approx(0.5));  // argmax 1 vs 2, 1 vs 1
  m.reset_state();
  m.update_state(t, p, Tensor{0.7f, 0.3f});
  CHECK(m.result() == doctest::Approx(0.3));
  // Ties: the first index, as numpy/TF argmax.
  m.reset_state();
  m.update_state(T({2, 3}, {1, 0, 0, 0, 1, 0}), T({2, 3}, {0.5f, 0.5f, 0, 0.5f, 0.5f, 0}));
  CHECK(m.result() == doctest::Approx(0.5));
  // A NaN score never matches, even where numpy's argmax would pick the true class.
  m.reset_state();
  m.update_state(T({2, 3}, {1, 0, 0, 0, 1, 0}), T({2, 3}, {NAN, 0.1f, 0, 0, 1, 0}));
  CHECK(m.result() == doctest::Approx(0.5));
  // Rank 3 (N, steps, classes): one value per step.
  m.reset_state();
  m.update_state(T({1, 2, 2}, {1, 0, 1, 0}), T({1, 2, 2}, {0.9f, 0.1f, 0.2f, 0.8f}));
  CHECK(m.result() == doctest::Approx(0.5));
  TF_CHECK_ERROR(m.update_state(T({2, 2}, {1, 0, 0, 1}), t), "CategoricalAccuracy",
                 "y_true shape (2, 2)", "(2, 3)");
  CHECK_THROWS_AS(m.update_state(Tensor(1.f), Tensor(1.f)), ShapeError);
}

TEST_CASE("SparseCategoricalAccuracy: Keras' example, label checks") {
  const Tensor p = T({2, 3}, {0.1f, 0.6f, 0.3f, 0.05f, 0.95f, 0});
  SparseCategoricalAccuracy m;
  CHECK(m.name() == "sparse_categorical_accuracy");
  m.update_state(T({2, 1}, {2, 1}), p);
  CHECK(m.result() == doctest::Approx(0.5));
  m.reset_state();
  m.update_state(T({2, 1}, {2, 1}), p, Tensor{0.7f, 0.3f});
  CHECK(m.result() == doctest::Approx(0.3));
  m.reset_state();
  m.update_state(Tensor{1.f, 1.f}, p);  // (N,) labels too
  CHECK(m.result() == doctest::Approx(1.0));
  // Accumulation over two batches equals one of both.
  SparseCategoricalAccuracy one;
  one.update_state(Tensor{2.f, 1.f, 1.f, 1.f}, T({4, 3}, {0.1f, 0.6f, 0.3f, 0.05f, 0.95f, 0, 0.1f,
                                                          0.6f, 0.3f, 0.05f, 0.95f, 0}));
  SparseCategoricalAccuracy two;
  two.update_state(Tensor{2.f, 1.f}, p);
  two.update_state(Tensor{1.f, 1.f}, p);
  CHECK(two.result() == doctest::Approx(one.result()));
  CHECK(one.result() == doctest::Approx(0.75));
  TF_CHECK_ERROR(m.update_state(Tensor{3.f, 1.f}, p), "SparseCategoricalAccuracy", "y_true",
                 "[0, 3)", "got 3");
  TF_CHECK_ERROR(m.update_state(Tensor{1.5f, 1.f}, p), "y_true", "integer", "1.5");
  CHECK_THROWS_AS(m.update_state(Tensor{-1.f, 1.f}, p), ValueError);
  CHECK_THROWS_AS(m.update_state(Tensor{NAN, 1.f}, p), ValueError);
  TF_CHECK_ERROR(m.update_state(Tensor{1.f, 1.f, 1.f}, p), "y_true shape (3,)", "(2, 3)");
}

TEST_CASE("TopKCategoricalAccuracy: Keras' example, k, ties, non-finite scores") {
  const Tensor t = T({2, 3}, {0, 0, 1, 0, 1, 0});
  const Tensor p = T({2, 3}, {0.1f, 0.9f, 0.8f, 0.05f, 0.95f, 0});
  TopKCategoricalAccuracy k1(1);
  k1.update_state(t, p);
  CHECK(k1.result() == doctest::Approx(0.5));
  k1.reset_state();
  k1.update_state(t, p, Tensor{0.7f, 0.3f});
  CHECK(k1.result() == doctest::Approx(0.3));
  // k = 2: 0.8 has one larger score (0.9), so it is in the top 2.
  TopKCategoricalAccuracy k2(2);
  k2.update_state(t, p);
  CHECK(k2.result() == doctest::Approx(1.0));
  // The default k = 5 with 3 classes: always in.
  TopKCategoricalAccuracy k5;
  CHECK(k5.k() == 5);
  CHECK(k5.name() == "top_k_categorical_accuracy");
  k5.update_state(t, T({2, 3}, {1, 0, 0, 1, 0, 0}));
  CHECK(k5.result() == doctest::Approx(1.0));
  // Ties at the boundary are all in (in_top_k), a non-finite score anywhere is out.
  TopKCategoricalAccuracy tie(1);
  tie.update_state(T({1, 3}, {0, 0, 1}), T({1, 3}, {0.5f, 0.5f, 0.5f}));
  CHECK(tie.result() == doctest::Approx(1.0));
  TopKCategoricalAccuracy inf(2);
  inf.update_state(T({2, 3}, {0, 0, 1, 0, 0, 1}), T({2, 3}, {INFINITY, 0, 1, NAN, 0, 1}));
  CHECK(inf.result() == 0.0);
  auto c = k2.clone();
  CHECK(dynamic_cast<TopKCategoricalAccuracy&>(*c).k() == 2);
  CHECK(c->result() == 0.0);
  TF_CHECK_ERROR(TopKCategoricalAccuracy(0), "TopKCategoricalAccuracy", "k must be >= 1", "0");
  CHECK_THROWS_AS(TopKCategoricalAccuracy(-3), ValueError);
  CHECK_THROWS_AS(k2.update_state(Tensor{0.f, 1.f}, p), ShapeError);
}
