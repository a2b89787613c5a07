#include <cmath>

#include "tapeflow/framework/metrics/iou_metrics.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::metrics;
using test::T;

namespace {
constexpr double eps = 1e-7;  // Keras' epsilon in IoU.result
// Keras' IoU result for per-class (tp, denominator) of valid classes.
double keras_iou(std::initializer_list<std::pair<double, double>> classes) {
  double sum = 0;
  for (auto [tp, den] : classes) sum += tp / (den + eps);
  return sum / (static_cast<double>(classes.size()) + eps);
}
}  // namespace

TEST_CASE("IoU: Keras' examples (one target class)") {
  // cm = [[1, 1], [1, 1]]: class 0 tp 1, denominator 2 + 2 - 1 = 3.
  IoU m(IoUOptions(2, {0}));
  CHECK(m.name() == "io_u");
  m.update_state(Tensor{0.f, 0.f, 1.f, 1.f}, Tensor{0.f, 1.f, 0.f, 1.f});
  CHECK(m.confusion(0, 1) == doctest::Approx(1.0));
  CHECK(m.result() == doctest::Approx(keras_iou({{1, 3}})));
  CHECK(m.result() == doctest::Approx(1.0 / 3));
  // Weights .3 .3 .3 .1: cm = [[.3, .3], [.3, .1]], class 0: .3 / (.6 + .6 - .3).
  m.reset_state();
  m.update_state(Tensor{0.f, 0.f, 1.f, 1.f}, Tensor{0.f, 1.f, 0.f, 1.f},
                 Tensor{0.3f, 0.3f, 0.3f, 0.1f});
  CHECK(m.result() == doctest::Approx(keras_iou({{0.3, 0.9}})));
  TF_CHECK_ERROR(IoU(IoUOptions(2, {2})), "IoU 'io_u'", "target_class_ids", "2", "[0, 2)");
  CHECK_THROWS_AS(IoU(IoUOptions(2, {})), ValueError);
  CHECK_THROWS_AS(IoU(IoUOptions(2, {-1})), ValueError);
}

TEST_CASE("MeanIoU: Keras' example, accumulation, clone, reset") {
  MeanIoU m(2);
  CHECK(m.name() == "mean_io_u");
  CHECK(m.result() == 0.0);  // no valid class yet
  m.update_state(Tensor{0.f, 0.f, 1.f, 1.f}, Tensor{0.f, 1.f, 0.f, 1.f});
  CHECK(m.result() == doctest::Approx(keras_iou({{1, 3}, {1, 3}})));
  // Weighted: cm [[.3, .3], [.3, .1]]: class 0 .3 / .9, class 1 .1 / (.4 + .4 - .1) = 1/7.
  m.reset_state();
  m.update_state(Tensor{0.f, 0.f, 1.f, 1.f}, Tensor{0.f, 1.f, 0.f, 1.f},
                 Tensor{0.3f, 0.3f, 0.3f, 0.1f});
  CHECK(m.result() == doctest::Approx((1.0 / 3 + 1.0 / 7) / 2).epsilon(1e-6));
  CHECK(m.result() == doctest::Approx(keras_iou({{0.3, 0.9}, {0.1, 0.7}})));
  // Two batches equal one batch of both.
  MeanIoU a(3), b(3);
  a.update_state(Tensor{0.f, 1.f, 2.f}, Tensor{0.f, 2.f, 2.f});
  a.update_state(T({2, 1}, {1, 1}), T({2, 1}, {1, 0}));
  b.update_state(Tensor{0.f, 1.f, 2.f, 1.f, 1.f}, Tensor{0.f, 2.f, 2.f, 1.f, 0.f});
  // cm: (0,0) 1, (1,2) 1, (2,2) 1, (1,1) 1, (1,0) 1. Class 0: 1 / (1 + 2 - 1); class 1:
  // 1 / (3 + 1 - 1); class 2: 1 / (1 + 2 - 1).
  CHECK(a.result() == doctest::Approx(keras_iou({{1, 2}, {1, 3}, {1, 2}})));
  CHECK(a.result() == doctest::Approx(b.result()));
  auto c = a.clone();
  CHECK(c->name() == "mean_io_u");
  CHECK(dynamic_cast<MeanIoU&>(*c).num_classes() == 3);
  CHECK(c->result() == 0.0);
  a.reset_state();
  CHECK(a.result() == 0.0);
  CHECK(a.confusion(1, 2) == 0.0);
}

TEST_CASE("MeanIoU: a class absent from both does not count, perfect is 1 - ~1e-7") {
  MeanIoU m(3);
  m.update_state(Tensor{0.f, 0.f, 1.f, 1.f}, Tensor{0.f, 1.f, 0.f, 1.f});
  CHECK(m.result() == doctest::Approx(keras_iou({{1, 3}, {1, 3}})));  // class 2: denominator 0
  CHECK(m.result() == doctest::Approx(1.0 / 3));
  MeanIoU perfect(3);
  perfect.update_state(Tensor{0.f, 2.f, 2.f}, Tensor{0.f, 2.f, 2.f});
  CHECK(perfect.result() == doctest::Approx(keras_iou({{1, 1}, {2, 2}})));
  CHECK(perfect.result() < 1.0);
  CHECK(perfect.result() > 1.0 - 1e-6);
  // A class predicted but never true is valid with IoU 0.
  MeanIoU wrong(3);
  wrong.update_state(Tensor{0.f, 0.f}, Tensor{0.f, 2.f});
  CHECK(wrong.result() == doctest::Approx(keras_iou({{1, 2}, {0, 1}})));
  CHECK(wrong.result() == doctest::Approx(0.25));
}

TEST_CASE("MeanIoU: ignore_class, dense inputs, per-sample and flat weights") {
  // 255 in y_true does not count (and its y_pred is not checked).
  MeanIoU m(MeanIoUOptions(2).ignore_class(255));
  m.update_state(Tensor{0.f, 255.f, 1.f, 255.f}, Tensor{0.f, 1.f, 1.f, 7.f});
  CHECK(m.result() == doctest::Approx(keras_iou({{1, 1}, {1, 1}})));
  CHECK(m.confusion(0, 1) == 0.0);
  // ignore_class inside the range: those positions are dropped, the class stays a target.
  MeanIoU bg(MeanIoUOptions(2).ignore_class(0));
  bg.update_state(Tensor{0.f, 1.f, 1.f}, Tensor{1.f, 1.f, 0.f});
  CHECK(bg.result() == doctest::Approx(keras_iou({{0, 1}, {1, 2}})));
  // Dense scores: arg-max over the last axis.
  MeanIoU dense(MeanIoUOptions(2).sparse_y_pred(false));
  dense.update_state(Tensor{0.f, 0.f, 1.f, 1.f},
                     T({4, 2}, {0.9f, 0.1f, 0.4f, 0.6f, 0.7f, 0.3f, 0.2f, 0.8f}));
  CHECK(dense.result() == doctest::Approx(1.0 / 3));
  MeanIoU onehot(MeanIoUOptions(2).sparse_y_true(false).sparse_y_pred(false));
  onehot.update_state(T({4, 2}, {1, 0, 1, 0, 0, 1, 0, 1}),
                      T({4, 2}, {0.9f, 0.1f, 0.4f, 0.6f, 0.7f, 0.3f, 0.2f, 0.8f}));
  CHECK(onehot.result() == doctest::Approx(1.0 / 3));
  // Dense scores with the class axis first (axis 0): columns are positions.
  MeanIoU axis0(MeanIoUOptions(2).sparse_y_pred(false).axis(0));
  axis0.update_state(Tensor{0.f, 1.f}, T({2, 2}, {0.9f, 0.2f, 0.1f, 0.8f}));
  CHECK(axis0.result() == doctest::Approx(keras_iou({{1, 1}, {1, 1}})));
  // (2, 2) label maps: per-sample weights 1, 0 keep only the first map, perfect.
  MeanIoU maps(2);
  maps.update_state(T({2, 2}, {0, 1, 1, 1}), T({2, 2}, {0, 1, 0, 0}), Tensor{1.f, 0.f});
  CHECK(maps.result() == doctest::Approx(keras_iou({{1, 1}, {1, 1}})));
  // Flat weights of the same element count, as Keras flattens them.
  MeanIoU flat(2);
  flat.update_state(T({2, 2}, {0, 1, 1, 1}), T({2, 2}, {0, 1, 0, 0}), Tensor{1.f, 1.f, 0.f, 0.f});
  CHECK(flat.result() == doctest::Approx(maps.result()));
}

TEST_CASE("MeanIoU: a NaN score predicts no class: a miss, not a hit") {
  // Position 0 (true 0) has a NaN score: class 0 denominator 1 (its row), tp 0; class 1 perfect.
  // Read as class 0 (numpy's argmax picks the NaN), the result would be a perfect 1.
  MeanIoU m(MeanIoUOptions(2).sparse_y_pred(false));
  m.update_state(Tensor{0.f, 1.f}, T({2, 2}, {NAN, 0.f, 0.f, 1.f}));
  CHECK(m.no_prediction(0) == doctest::Approx(1.0));
  CHECK(m.result() == doctest::Approx(keras_iou({{0, 1}, {1, 1}})));
  CHECK(m.result() == doctest::Approx(0.5));
}

TEST_CASE("MeanIoU: errors name the argument") {
  TF_CHECK_ERROR(MeanIoU(1), "MeanIoU 'mean_io_u'", "num_classes", ">= 2", "1");
  CHECK_THROWS_AS(MeanIoU(0), ValueError);
  MeanIoU m(3);
  TF_CHECK_ERROR(m.update_state(Tensor{0.f, 3.f}, Tensor{0.f, 1.f}), "MeanIoU", "y_true", "[0, 3)",
                 "got 3");
  TF_CHECK_ERROR(m.update_state(Tensor{0.f, 1.f}, Tensor{0.f, 1.5f}), "y_pred", "integer", "1.5");
  CHECK_THROWS_AS(m.update_state(Tensor{-1.f, 1.f}, Tensor{0.f, 1.f}), ValueError);
  TF_CHECK_ERROR(m.update_state(Tensor{0.f, 1.f, 2.f, 0.f}, T({2, 2}, {0, 1, 2, 0})), "MeanIoU",
                 "y_true shape (4,)", "(2, 2)");
  TF_CHECK_ERROR(m.update_state(Tensor{0.f, 1.f}, Tensor{0.f, 1.f}, Tensor{1.f, 1.f, 1.f}),
                 "sample_weight");
  CHECK(m.result() == 0.0);  // nothing was added by the failed batches
  MeanIoU dense_true(MeanIoUOptions(2).sparse_y_true(false));
  TF_CHECK_ERROR(dense_true.update_state(T({1, 2}, {NAN, 1}), Tensor{1.f}), "y_true", "NaN");
}

TEST_CASE("BinaryIoU: Keras' examples, target classes, threshold >=") {
  // threshold .3: predictions 0 0 1 1 against 0 1 0 1: cm [[1, 1], [1, 1]].
  const Tensor t{0.f, 1.f, 0.f, 1.f}, p{0.1f, 0.2f, 0.4f, 0.7f};
  BinaryIoU m(BinaryIoUOptions().threshold(0.3f));
  CHECK(m.name() == "binary_io_u");
  m.update_state(t, p);
  CHECK(m.result() == doctest::Approx(keras_iou({{1, 3}, {1, 3}})));
  // Weights .2 .3 .4 .1: cm [[.2, .4], [.3, .1]]: class 0 .2 / (.6 + .5 - .2), class 1
  // .1 / (.4 + .5 - .1): Keras' 0.17361112.
  m.reset_state();
  m.update_state(t, p, Tensor{0.2f, 0.3f, 0.4f, 0.1f});
  CHECK(m.result() == doctest::Approx(0.17361112).epsilon(1e-6));
  // Foreground only.
  BinaryIoU fg(BinaryIoUOptions().target_class_ids({1}).threshold(0.3f));
  fg.update_state(t, p);
  CHECK(fg.result() == doctest::Approx(keras_iou({{1, 3}})));
  // Equal to the threshold is class 1 (>=); a NaN score is class 0.
  BinaryIoU eq(BinaryIoUOptions().target_class_ids({1}));
  eq.update_state(Tensor{1.f, 0.f}, Tensor{0.5f, NAN});
  CHECK(eq.result() == doctest::Approx(keras_iou({{1, 1}})));
  CHECK(eq.confusion(0, 0) == doctest::Approx(1.0));
  auto c = fg.clone();
  CHECK(dynamic_cast<BinaryIoU&>(*c).options().threshold() == 0.3f);
  CHECK(dynamic_cast<BinaryIoU&>(*c).target_class_ids() == std::vector<int>{1});
  CHECK(c->result() == 0.0);
}

TEST_CASE("BinaryIoU: errors") {
  BinaryIoU m;
  TF_CHECK_ERROR(m.update_state(Tensor{0.9f, 1.f}, Tensor{0.9f, 1.f}), "BinaryIoU 'binary_io_u'",
                 "y_true", "[0, 2)", "0.9");
  TF_CHECK_ERROR(m.update_state(Tensor{0.f, 1.f}, Tensor{0.f, 1.f, 1.f}), "BinaryIoU",
                 "y_true shape (2,)");
  TF_CHECK_ERROR(BinaryIoU(BinaryIoUOptions().target_class_ids({0, 2})), "BinaryIoU",
                 "target_class_ids", "2");
  CHECK_THROWS_AS(BinaryIoU(BinaryIoUOptions().threshold(NAN)), ValueError);
}

TEST_CASE("Dice: global 2|T.P| / (|T| + |P|), by hand") {
  // Thresholded: p = 1 0 1 0, t = 1 1 0 0: intersection 1, |T| 2, |P| 2 -> 2 / 4.
  Dice d;
  CHECK(d.name() == "dice");
  CHECK(d.result() == 0.0);
  d.update_state(Tensor{1.f, 1.f, 0.f, 0.f}, Tensor{0.9f, 0.2f, 0.7f, 0.1f});
  CHECK(d.result() == doctest::Approx(0.5));
  // Dice = 2 IoU / (1 + IoU) for the foreground IoU of BinaryIoU({1}) (1/3 here).
  BinaryIoU fg(BinaryIoUOptions().target_class_ids({1}));
  fg.update_state(Tensor{1.f, 1.f, 0.f, 0.f}, Tensor{0.9f, 0.2f, 0.7f, 0.1f});
  CHECK(d.result() == doctest::Approx(2 * fg.result() / (1 + fg.result())).epsilon(1e-6));
  // Global over batches, not the mean of per-batch values: batch A alone 1, batch B alone 0;
  // together 2 * 1 / (2 + 1).
  Dice g;
  g.update_state(Tensor{1.f, 0.f}, Tensor{1.f, 0.f});
  CHECK(g.result() == doctest::Approx(1.0));
  g.update_state(Tensor{1.f, 0.f}, Tensor{0.f, 0.f});
  CHECK(g.result() == doctest::Approx(2.0 / 3));
  Dice both;
  both.update_state(Tensor{1.f, 0.f, 1.f, 0.f}, Tensor{1.f, 0.f, 0.f, 0.f});
  CHECK(both.result() == doctest::Approx(g.result()));
  auto c = g.clone();
  CHECK(c->result() == 0.0);
  g.reset_state();
  CHECK(g.result() == 0.0);
}

TEST_CASE("Dice: empty foreground, thresholds, weights, NaN, errors") {
  Dice empty;
  empty.update_state(Tensor{0.f, 0.f}, Tensor{0.1f, 0.2f});
  CHECK(empty.result() == 0.0);  // both sums 0: divide_no_nan, as BinaryIoU({1})
  BinaryIoU fg_empty(BinaryIoUOptions().target_class_ids({1}));
  fg_empty.update_state(Tensor{0.f, 0.f}, Tensor{0.1f, 0.2f});
  CHECK(fg_empty.result() == 0.0);
  // y_pred >= threshold, y_true > 0.5: 0.5 is a predicted 1 but not a true 1.
  Dice edge;
  edge.update_state(Tensor{0.5f, 1.f}, Tensor{0.5f, 0.5f});
  CHECK(edge.pred_sum() == doctest::Approx(2.0));
  CHECK(edge.true_sum() == doctest::Approx(1.0));
  CHECK(edge.result() == doctest::Approx(2.0 / 3));  // 2 * 1 / (1 + 2)
  Dice high(0.8f);
  high.update_state(Tensor{1.f, 1.f}, Tensor{0.9f, 0.7f});
  CHECK(high.result() == doctest::Approx(2.0 / 3));  // 2 * 1 / (2 + 1)
  // Per-sample weights 1, 2 on (2, 2): I = 1 + 2, |T| = 2 + 2, |P| = 1 + 2 -> 6 / 7.
  Dice w;
  w.update_state(T({2, 2}, {1, 1, 0, 1}), T({2, 2}, {1, 0, 0, 1}), Tensor{1.f, 2.f});
  CHECK(w.result() == doctest::Approx(6.0 / 7));
  // A NaN score is no foreground.
  Dice nan;
  nan.update_state(Tensor{1.f, 1.f}, Tensor{NAN, 0.9f});
  CHECK(nan.result() == doctest::Approx(2.0 / 3));
  TF_CHECK_ERROR(Dice(NAN, "dsc"), "Dice 'dsc'", "threshold");
  TF_CHECK_ERROR(w.update_state(Tensor{1.f, 0.f}, Tensor{1.f}), "Dice 'dice'", "y_true shape");
  TF_CHECK_ERROR(w.update_state(Tensor{1.f, 0.f}, Tensor{1.f, 0.f}, Tensor{1.f, 2.f, 3.f}), "Dice",
                 "sample_weight");
}
