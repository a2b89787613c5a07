#include <cmath>
#include <xtensor/xmath.hpp>

#include "tapeflow/framework/metrics/mean_metrics.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::metrics;
using test::T;

TEST_CASE("Mean: Keras' examples, weights, nothing seen") {
  Mean m;
  CHECK(m.name() == "mean");
  CHECK(m.result() == 0.0);  // divide_no_nan(0, 0)
  m.update_state(Tensor{1.f, 3.f, 5.f, 7.f});
  CHECK(m.result() == doctest::Approx(4.0));  // 16 / 4
  CHECK(m.total() == doctest::Approx(16.0));
  CHECK(m.count() == doctest::Approx(4.0));
  m.reset_state();
  CHECK(m.result() == 0.0);
  m.update_state(Tensor{1.f, 3.f, 5.f, 7.f}, Tensor{1.f, 1.f, 0.f, 0.f});
  CHECK(m.result() == doctest::Approx(2.0));  // (1 + 3) / 2
  m.reset_state();
  m.update_state(Tensor{1.f, 3.f}, Tensor{0.f, 0.f});
  CHECK(m.result() == 0.0);                            // weights sum to 0: 0, not NaN
  CHECK(m(Tensor{2.f, 4.f}) == doctest::Approx(3.0));  // __call__: update, then result
  CHECK(m(Tensor{9.f}, Tensor{2.f}) == doctest::Approx((6.0 + 18) / 4));
}

TEST_CASE("Mean: per-sample means of rank-2 values, three kinds of weights") {
  const Tensor v = T({2, 2}, {1, 2, 3, 5});
  Mean m;
  m.update_state(v);
  CHECK(m.result() == doctest::Approx(2.75));  // samples 1.5 and 4: 5.5 / 2
  CHECK(m.count() == doctest::Approx(2.0));
  // Per-sample weights (2,): 1.5 * 1 + 4 * 3 = 13.5 over 1 + 3.
  m.reset_state();
  m.update_state(v, Tensor{1.f, 3.f});
  CHECK(m.result() == doctest::Approx(13.5 / 4));
  // The same as (2, 1).
  m.reset_state();
  m.update_state(v, T({2, 1}, {1, 3}));
  CHECK(m.result() == doctest::Approx(13.5 / 4));
  // Per-element weights {{1, 0}, {1, 1}}: sample values mean(1, 0) = 0.5 and mean(3, 5) = 4,
  // sample weights mean(1, 0) = 0.5 and 1: (0.5 + 4) / 1.5 = 3.
  m.reset_state();
  m.update_state(v, T({2, 2}, {1, 0, 1, 1}));
  CHECK(m.result() == doctest::Approx(3.0));
  // A uniform weight (1,): every sample weighted 2; the mean is unchanged, the count doubles.
  m.reset_state();
  m.update_state(v, Tensor{2.f});
  CHECK(m.result() == doctest::Approx(2.75));
  CHECK(m.count() == doctest::Approx(4.0));
}

TEST_CASE("Mean: rank-0 values count one sample") {
  Mean m;
  m.update_state(Tensor(3.f));
  m.update_state(Tensor(5.f));
  CHECK(m.result() == doctest::Approx(4.0));
  m.update_state(Tensor(11.f), Tensor{2.f});  // weight 2: (3 + 5 + 22) / 4
  CHECK(m.result() == doctest::Approx(7.5));
}

TEST_CASE("Mean: a loss tracker, one value per batch weighted by the batch size") {
  // Batch losses 2 (32 samples) and 5 (8 samples): (64 + 40) / 40, as Keras' loss tracker.
  Mean loss("loss");
  loss.update_state(2.0, 32);
  loss.update_state(5.0, 8);
  CHECK(loss.result() == doctest::Approx(104.0 / 40));
  Mean same("loss");
  same.update_state(Tensor(2.f), Tensor{32.f});
  same.update_state(Tensor(5.f), Tensor{8.f});
  CHECK(same.result() == doctest::Approx(loss.result()));
  loss.update_state(1.0);
  CHECK(loss.count() == doctest::Approx(41.0));
}

TEST_CASE("Mean: two batches equal one batch of both, clone is fresh") {
  Mean a, b("loss");
  a.update_state(Tensor{1.f, 2.f}, Tensor{1.f, 2.f});
  a.update_state(Tensor{4.f, 8.f, 16.f}, Tensor{0.5f, 1.f, 0.f});
  b.update_state(Tensor{1.f, 2.f, 4.f, 8.f, 16.f}, Tensor{1.f, 2.f, 0.5f, 1.f, 0.f});
  CHECK(a.result() == doctest::Approx(b.result()));
  CHECK(a.result() == doctest::Approx((1 + 4 + 2 + 8) / 4.5));
  auto c = b.clone();
  CHECK(c->name() == "loss");
  CHECK(c->result() == 0.0);
  dynamic_cast<Mean&>(*c).update_state(Tensor{10.f});
  CHECK(c->result() == doctest::Approx(10.0));
  CHECK(b.result() == doctest::Approx(a.result()));  // the original is untouched
}

TEST_CASE("Mean: takes values, not (y_true, y_pred)") {
  Mean m("loss");
  Metric& base = m;
  TF_CHECK_ERROR(base.update_state(Tensor{1.f}, Tensor{2.f}), "Mean 'loss'", "takes values",
                 "MeanMetricWrapper");
  CHECK_THROWS_AS(base.update_state(Tensor{1.f}, Tensor{2.f}), ValueError);
  CHECK(m.result() == 0.0);
}

TEST_CASE("Mean: weights that do not fit, NaN is never averaged away") {
  Mean m;
  TF_CHECK_ERROR(m.update_state(Tensor{1.f, 2.f}, Tensor{1.f, 2.f, 3.f}), "Mean 'mean'",
                 "sample_weight", "(3,)", "(2,)");
  CHECK_THROWS_AS(m.update_state(Tensor{1.f, 2.f}, T({2, 2}, {1, 1, 1, 1})), ShapeError);
  CHECK(m.count() == 0.0);
  m.update_state(Tensor{1.f, NAN});
  CHECK(std::isnan(m.result()));
}

TEST_CASE("MeanMetricWrapper: a function of (y_true, y_pred), its errors named") {
  MeanMetricWrapper m(
      [](const Tensor& t, const Tensor& p) {
        if (shape_of(t) != shape_of(p)) fail("my_fn", "shapes differ");
        return Tensor(xt::abs(t - p));
      },
      "l1");
  m.update_state(T({2, 2}, {0, 1, 0, 0}), T({2, 2}, {1, 1, 0, 0}));
  CHECK(m.result() == doctest::Approx(0.25));  // samples 0.5 and 0
  m.update_state(T({1, 2}, {0, 0}), T({1, 2}, {3, 1}));
  CHECK(m.result() == doctest::Approx((0.5 + 0 + 2) / 3));
  TF_CHECK_ERROR(m.update_state(Tensor{1.f}, Tensor{1.f, 2.f}), "MeanMetricWrapper 'l1'", "my_fn",
                 "shapes differ");
  auto c = m.clone();
  CHECK(c->result() == 0.0);
  c->update_state(Tensor{1.f}, Tensor{4.f});
  CHECK(c->result() == doctest::Approx(3.0));
  CHECK_THROWS_AS(MeanMetricWrapper(MetricFn(), "x"), ValueError);
}

TEST_CASE("MeanSquaredError and MeanAbsoluteError: Keras' examples") {
  const Tensor t = T({2, 2}, {0, 1, 0, 0}), p = T({2, 2}, {1, 1, 0, 0});
  MeanSquaredError mse;
  CHECK(mse.name() == "mean_squared_error");
  mse.update_state(t, p);
  CHECK(mse.result() == doctest::Approx(0.25));  // samples (1 + 0) / 2 and 0
  MeanAbsoluteError mae;
  CHECK(mae.name() == "mean_absolute_error");
  mae.update_state(t, p);
  CHECK(mae.result() == doctest::Approx(0.25));
  mae.reset_state();
  mae.update_state(t, p, Tensor{1.f, 0.f});
  CHECK(mae.result() == doctest::Approx(0.5));  // only the first sample
}

TEST_CASE("MeanSquaredError: squares, not absolute values, higher ranks, rank 1 per element") {
  // Errors 1, 0, 0, 2 in a (4,) batch: four samples of one element each.
  MeanSquaredError mse;
  MeanAbsoluteError mae;
  mse.update_state(Tensor{0.f, 1.f, 2.f, 3.f}, Tensor{1.f, 1.f, 2.f, 5.f});
  mae.update_state(Tensor{0.f, 1.f, 2.f, 3.f}, Tensor{1.f, 1.f, 2.f, 5.f});
  CHECK(mse.result() == doctest::Approx(5.0 / 4));  // (1 + 0 + 0 + 4) / 4
  CHECK(mae.result() == doctest::Approx(3.0 / 4));  // (1 + 0 + 0 + 2) / 4
  CHECK(mse.count() == doctest::Approx(4.0));
  // (2, 2, 2): sample 0 errors all 1 (mean 1), sample 1 errors 0, 0, 0, 2 (squares mean 1).
  mse.reset_state();
  mse.update_state(xt::zeros<float>({2, 2, 2}), T({2, 2, 2}, {1, -1, 1, -1, 0, 0, 0, 2}));
  CHECK(mse.result() == doctest::Approx(1.0));
  // Per-element weights of y's full shape: sample 0 weighted (1, 1, 0, 0), sample 1 all 1.
  // Sample 0: mean(1, 1, 0, 0) = 0.5 over weight 0.5; sample 1: 1 over 1 -> 1.5 / 1.5.
  mse.reset_state();
  mse.update_state(xt::zeros<float>({2, 2, 2}), T({2, 2, 2}, {1, -1, 1, -1, 0, 0, 0, 2}),
                   T({2, 2, 2}, {1, 1, 0, 0, 1, 1, 1, 1}));
  CHECK(mse.result() == doctest::Approx(1.0));
  // A trailing axis of 1 on one side is fine, as Keras' squeeze_or_expand_to_same_rank.
  mse.reset_state();
  mse.update_state(Tensor{0.f, 0.f}, T({2, 1}, {1, 3}));
  CHECK(mse.result() == doctest::Approx(5.0));  // (1 + 9) / 2
}

TEST_CASE("MeanSquaredError: two batches equal one batch of both, clone, reset") {
  MeanSquaredError a, b;
  a.update_state(T({2, 2}, {0, 0, 1, 1}), T({2, 2}, {1, 0, 1, 3}), Tensor{1.f, 2.f});
  a.update_state(T({1, 2}, {2, 2}), T({1, 2}, {0, 2}), Tensor{0.5f});
  b.update_state(T({3, 2}, {0, 0, 1, 1, 2, 2}), T({3, 2}, {1, 0, 1, 3, 0, 2}),
                 Tensor{1.f, 2.f, 0.5f});
  // Samples 0.5, 2, 2 weighted 1, 2, 0.5: (0.5 + 4 + 1) / 3.5.
  CHECK(a.result() == doctest::Approx(5.5 / 3.5));
  CHECK(a.result() == doctest::Approx(b.result()));
  auto c = a.clone();
  CHECK(c->class_name() == "MeanSquaredError");
  CHECK(c->result() == 0.0);
  a.reset_state();
  CHECK(a.result() == 0.0);
}

TEST_CASE("MeanSquaredError and MeanAbsoluteError: bad shapes, NaN") {
  MeanSquaredError mse;
  TF_CHECK_ERROR(mse.update_state(Tensor{1.f, 2.f, 3.f, 4.f}, T({2, 2}, {1, 2, 3, 4})),
                 "MeanSquaredError 'mean_squared_error'", "y_true shape (4,)", "(2, 2)");
  CHECK_THROWS_AS(mse.update_state(Tensor{1.f, 2.f, 3.f}, T({1, 3}, {1, 2, 3})), ShapeError);
  MeanAbsoluteError mae("mae");
  TF_CHECK_ERROR(mae.update_state(Tensor{1.f, 2.f}, Tensor{1.f, 2.f}, Tensor{1.f, 2.f, 3.f}),
                 "MeanAbsoluteError 'mae'", "sample_weight");
  CHECK(mae.count() == 0.0);  // a failed batch leaves no trace
  mae.update_state(Tensor{1.f, 2.f}, Tensor{1.f, NAN});
  CHECK(std::isnan(mae.result()));
}
