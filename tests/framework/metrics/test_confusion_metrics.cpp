#include <cmath>
#include <xtensor/xmath.hpp>

#include "tapeflow/framework/metrics/confusion_metrics.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::metrics;
using test::T;

namespace {
std::vector<double> approx(const std::vector<double>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]));
  return got;
}
}  // namespace

TEST_CASE("Precision and Recall: Keras' examples") {
  const Tensor t{0.f, 1.f, 1.f, 1.f}, p{1.f, 0.f, 1.f, 1.f};
  Precision prec;
  CHECK(prec.name() == "precision");
  prec.update_state(t, p);
  CHECK(prec.result() == doctest::Approx(2.0 / 3));  // TP 2, FP 1
  prec.reset_state();
  prec.update_state(t, p, Tensor{0.f, 0.f, 1.f, 0.f});
  CHECK(prec.result() == doctest::Approx(1.0));  // only the third: a TP
  Recall rec;
  CHECK(rec.name() == "recall");
  rec.update_state(t, p);
  CHECK(rec.result() == doctest::Approx(2.0 / 3));  // TP 2, FN 1
  rec.reset_state();
  rec.update_state(t, p, Tensor{0.f, 0.f, 1.f, 0.f});
  CHECK(rec.result() == doctest::Approx(1.0));
}

TEST_CASE("Precision and Recall: scores against 0.5, counts, accumulation, clone") {
  // Labels 0 1 1 0 1, scores .6 .4 .9 .2 .5: > 0.5 -> 1 0 1 0 0. TP 1 (0.9), FP 1 (0.6), FN 2.
  const Tensor t{0.f, 1.f, 1.f, 0.f, 1.f}, p{0.6f, 0.4f, 0.9f, 0.2f, 0.5f};
  Precision prec;
  Recall rec;
  prec.update_state(t, p);
  rec.update_state(t, p);
  approx(prec.true_positives(), {1});
  approx(prec.false_positives(), {1});
  approx(rec.false_negatives(), {2});
  CHECK(prec.result() == doctest::Approx(0.5));
  CHECK(rec.result() == doctest::Approx(1.0 / 3));
  // Two batches equal one of both.
  Precision a, b;
  a.update_state(Tensor{0.f, 1.f}, Tensor{0.6f, 0.4f});
  a.update_state(Tensor{1.f, 0.f, 1.f}, Tensor{0.9f, 0.2f, 0.5f});
  b.update_state(t, p);
  CHECK(a.result() == doctest::Approx(b.result()));
  auto c = a.clone();
  CHECK(c->result() == 0.0);
  CHECK(c->name() == "precision");
  CHECK(a.result() == doctest::Approx(0.5));
  a.reset_state();
  CHECK(a.result() == 0.0);
  approx(a.true_positives(), {0});
}

TEST_CASE("Precision and Recall: no positives give 0 (divide_no_nan)") {
  Precision prec;
  Recall rec;
  prec.update_state(Tensor{0.f, 1.f, 0.f}, Tensor{0.1f, 0.2f, 0.3f});  // nothing predicted
  rec.update_state(Tensor{0.f, 0.f, 0.f}, Tensor{0.9f, 0.2f, 0.3f});   // no positive label
  CHECK(prec.result() == 0.0);
  CHECK(rec.result() == 0.0);
  CHECK(Precision().result() == 0.0);
  CHECK(Recall().result() == 0.0);
}

TEST_CASE("Precision and Recall: several thresholds, in the order given") {
  // Labels 0 1 1 1, scores .5 .4 .6 .8. At 0.7: only 0.8 -> TP 1 FP 0 FN 2.
  // At 0.3: all four -> TP 3 FP 1 FN 0.
  const Tensor t{0.f, 1.f, 1.f, 1.f}, p{0.5f, 0.4f, 0.6f, 0.8f};
  Precision prec(PrecisionOptions().thresholds({0.7f, 0.3f}));
  Recall rec(RecallOptions().thresholds({0.7f, 0.3f}));
  prec.update_state(t, p);
  rec.update_state(t, p);
  CHECK(prec.thresholds() == std::vector<float>{0.7f, 0.3f});
  approx(prec.results(), {1.0, 0.75});
  approx(rec.results(), {1.0 / 3, 1.0});
  TF_CHECK_ERROR(prec.result(), "Precision 'precision'", "2 thresholds", "results()");
  // Evenly spread thresholds (Keras' fast path) clip the scores to [0, 1] first: 1.5 is not
  // above 1. Thresholds that are not evenly spread compare the raw score.
  Recall even(RecallOptions().thresholds({0.f, 0.5f, 1.f}));
  even.update_state(Tensor{1.f}, Tensor{1.5f});
  approx(even.results(), {1, 1, 0});
  Recall uneven(RecallOptions().thresholds({0.f, 0.5f, 0.99f}));
  uneven.update_state(Tensor{1.f}, Tensor{1.5f});
  approx(uneven.results(), {1, 1, 1});
  Recall uneven_one(RecallOptions().thresholds({1.f}));
  uneven_one.update_state(Tensor{1.f}, Tensor{1.5f});
  CHECK(uneven_one.result() == doctest::Approx(1.0));
}

TEST_CASE("Precision and Recall: top_k") {
  // Keras' example: scores all 1, top 2 are indices 0 and 1 (ties: lower index), labels 0.
  Precision top2(PrecisionOptions().top_k(2));
  CHECK(top2.thresholds() == std::vector<float>{kNegInf});
  top2.update_state(Tensor{0.f, 0.f, 1.f, 1.f}, Tensor{1.f, 1.f, 1.f, 1.f});
  CHECK(top2.result() == 0.0);
  Precision top4(PrecisionOptions().top_k(4));
  top4.update_state(Tensor{0.f, 0.f, 1.f, 1.f}, Tensor{1.f, 1.f, 1.f, 1.f});
  CHECK(top4.result() == doctest::Approx(0.5));
  // Per row: row 0 top 2 = {2, 1} (labels 1, 0), row 1 top 2 = {0, 2} (labels 1, 1).
  // TP 3, FP 1; positive labels 4 (row 0: 2 and 3; row 1: 0 and 2), one missed (3 in row 0).
  const Tensor t = T({2, 4}, {0, 0, 1, 1, 1, 0, 1, 0});
  const Tensor p = T({2, 4}, {0.1f, 0.5f, 0.9f, 0.2f, 0.8f, 0.1f, 0.7f, 0.3f});
  Precision pk(PrecisionOptions().top_k(2));
  Recall rk(RecallOptions().top_k(2));
  pk.update_state(t, p);
  rk.update_state(t, p);
  CHECK(pk.result() == doctest::Approx(0.75));
  CHECK(rk.result() == doctest::Approx(0.75));
  // top_k with a threshold: of the top 2 only scores above 0.75 count: 0.9 and 0.8, both TP.
  Precision pkt(PrecisionOptions().top_k(2).thresholds({0.75f}));
  pkt.update_state(t, p);
  CHECK(pkt.result() == doctest::Approx(1.0));
  TF_CHECK_ERROR(Precision(PrecisionOptions().top_k(5)).update_state(t, p), "Precision", "top_k=5",
                 "4");
  TF_CHECK_ERROR(Precision(PrecisionOptions().top_k(0)), "Precision", "top_k", ">= 1");
}

TEST_CASE("Precision and Recall: class_id, with per-sample weights") {
  // Column 2: labels 1 0 1, scores .6 .9 .3 -> TP 1, FP 1, FN 1.
  const Tensor t = T({3, 3}, {0, 0, 1, 0, 1, 0, 1, 0, 1});
  const Tensor p = T({3, 3}, {0.2f, 0.3f, 0.6f, 0.1f, 0.3f, 0.9f, 0.7f, 0.1f, 0.3f});
  Precision prec(PrecisionOptions().class_id(2));
  Recall rec(RecallOptions().class_id(2));
  prec.update_state(t, p);
  rec.update_state(t, p);
  CHECK(prec.result() == doctest::Approx(0.5));
  CHECK(rec.result() == doctest::Approx(0.5));
  // Weights per sample 3, 1, 2: TP 3, FP 1, FN 2.
  prec.reset_state();
  rec.reset_state();
  prec.update_state(t, p, Tensor{3.f, 1.f, 2.f});
  rec.update_state(t, p, Tensor{3.f, 1.f, 2.f});
  CHECK(prec.result() == doctest::Approx(0.75));
  CHECK(rec.result() == doctest::Approx(0.6));
  TF_CHECK_ERROR(Precision(PrecisionOptions().class_id(3)).update_state(t, p), "class_id=3",
                 "3 classes");
  TF_CHECK_ERROR(Recall(RecallOptions().class_id(0)).update_state(Tensor{1.f}, Tensor{1.f}),
                 "Recall", "class_id", "(1,)");
  TF_CHECK_ERROR(Recall(RecallOptions().class_id(-1)), "Recall 'recall'", "class_id", ">= 0");
  auto c = prec.clone();
  CHECK(dynamic_cast<Precision&>(*c).class_id() == 2);
  CHECK(c->result() == 0.0);
}

TEST_CASE("Precision and Recall: NaN scores, bad thresholds, bad shapes") {
  // A NaN score is predicted negative: a NaN positive is a false negative.
  Precision prec;
  Recall rec;
  prec.update_state(Tensor{1.f, 0.f, 1.f}, Tensor{NAN, NAN, 0.9f});
  rec.update_state(Tensor{1.f, 0.f, 1.f}, Tensor{NAN, NAN, 0.9f});
  CHECK(prec.result() == doctest::Approx(1.0));
  CHECK(rec.result() == doctest::Approx(0.5));
  TF_CHECK_ERROR(Precision(PrecisionOptions().thresholds({1.5f})), "Precision 'precision'",
                 "thresholds", "[0, 1]", "1.5");
  CHECK_THROWS_AS(Recall(RecallOptions().thresholds({0.5f, -0.1f})), ValueError);
  CHECK_THROWS_AS(Recall(RecallOptions().thresholds({NAN})), ValueError);
  TF_CHECK_ERROR(prec.update_state(Tensor{1.f, 0.f}, Tensor{1.f, 0.f, 1.f}), "Precision",
                 "y_true shape (2,)", "(3,)");
  TF_CHECK_ERROR(rec.update_state(Tensor{1.f, 0.f}, Tensor{1.f, 0.f}, Tensor{1.f, 1.f, 1.f}),
                 "Recall", "sample_weight");
  CHECK(rec.result() == doctest::Approx(0.5));  // failed batches left no trace
}

TEST_CASE("AUC: thresholds as Keras builds them") {
  AUC auc;
  CHECK(auc.name() == "auc");
  const auto& th = auc.thresholds();
  REQUIRE(th.size() == 200);
  CHECK(th.front() == -1e-7f);
  CHECK(th[1] == static_cast<float>(1.0 / 199));
  CHECK(th[198] == static_cast<float>(198.0 / 199));
  CHECK(th.back() == static_cast<float>(1.0 + 1e-7));
  CHECK(th.back() > 1.f);
  AUC three(AUCOptions().num_thresholds(3));
  CHECK(three.thresholds() == std::vector<float>{-1e-7f, 0.5f, static_cast<float>(1.0 + 1e-7)});
  AUC given(AUCOptions().thresholds({0.7f, 0.2f}));
  CHECK(given.thresholds() ==
        std::vector<float>{-1e-7f, 0.2f, 0.7f, static_cast<float>(1.0 + 1e-7)});
  CHECK(AUC().result() == 0.0);
}

TEST_CASE("AUC: Keras' example, by hand, every summation method") {
  // num_thresholds 3: thresholds -eps, 0.5, 1+eps. Labels 0 0 1 1, scores 0 .5 .3 .9.
  // TP = [2, 1, 0], FP = [2, 0, 0], TN = [0, 2, 2], FN = [0, 1, 2].
  // ROC: TPR = [1, .5, 0], FPR = [1, 0, 0]. Interpolation: (1 - 0) * (1 + .5) / 2 = 0.75.
  const Tensor t{0.f, 0.f, 1.f, 1.f}, p{0.f, 0.5f, 0.3f, 0.9f};
  AUC roc(AUCOptions().num_thresholds(3));
  roc.update_state(t, p);
  approx(roc.true_positives(), {2, 1, 0});
  approx(roc.false_positives(), {2, 0, 0});
  approx(roc.true_negatives(), {0, 2, 2});
  approx(roc.false_negatives(), {0, 1, 2});
  CHECK(roc.result() == doctest::Approx(0.75));
  AUC roc_min(AUCOptions().num_thresholds(3).summation_method("minoring"));
  AUC roc_max(AUCOptions().num_thresholds(3).summation_method("Majoring"));
  roc_min.update_state(t, p);
  roc_max.update_state(t, p);
  CHECK(roc_min.result() == doctest::Approx(0.5));  // 1 * min(1, .5)
  CHECK(roc_max.result() == doctest::Approx(1.0));  // 1 * max(1, .5)
  // Keras' weighted example: weights 1 0 0 1 keep (0, 0) and (1, .9): TPR [1, 1, 0], FPR
  // [1, 0, 0] -> 1 * (1 + 1) / 2 = 1.
  roc.reset_state();
  roc.update_state(t, p, Tensor{1.f, 0.f, 0.f, 1.f});
  CHECK(roc.result() == doctest::Approx(1.0));
  // PR: recall x = [1, .5, 0], precision y = [2/4, 1/1, 0 (0/0)].
  // Minoring: (1 - .5) * .5 + (.5 - 0) * 0 = 0.25; majoring: .5 * 1 + .5 * 1 = 1.
  AUC pr_min(AUCOptions().num_thresholds(3).curve("PR").summation_method("minoring"));
  AUC pr_max(AUCOptions().num_thresholds(3).curve("pr").summation_method("majoring"));
  pr_min.update_state(t, p);
  pr_max.update_state(t, p);
  CHECK(pr_min.result() == doctest::Approx(0.25));
  CHECK(pr_max.result() == doctest::Approx(1.0));
  // PR interpolation (interpolate_pr_auc), P = TP + FP = [4, 1, 0]:
  // i = 0: dTP 1, dP 3, slope 1/3, intercept 1 - 1/3 = 2/3, ratio 4/1:
  //        (1/3) * (1 + (2/3) ln 4) / (TP1 + FN1 = 2) = 0.3206993734577656;
  // i = 1: dTP 1, dP 1, slope 1, intercept 0 - 1 * 0 = 0, ratio 1 (P2 = 0): 1 * 1 / 2 = 0.5.
  AUC pr(AUCOptions().num_thresholds(3).curve("PR"));
  pr.update_state(t, p);
  CHECK(pr.result() == doctest::Approx(0.8206993734577656));
}

TEST_CASE("AUC: every score equal, perfect and reversed separation") {
  const Tensor t{0.f, 1.f, 0.f, 1.f}, same{0.5f, 0.5f, 0.5f, 0.5f};
  // Below 0.5 every sample is positive (TPR = FPR = 1), above none: one step from (1, 1) to
  // (0, 0): interpolation 1 * (1 + 0) / 2, minoring 1 * 0, majoring 1 * 1.
  AUC interp, minor(AUCOptions().summation_method("minoring")),
      major(AUCOptions().summation_method("majoring"));
  for (AUC* m : {&interp, &minor, &major}) m->update_state(t, same);
  CHECK(interp.result() == doctest::Approx(0.5));
  CHECK(minor.result() == doctest::Approx(0.0));
  CHECK(major.result() == doctest::Approx(1.0));
  AUC perfect, reversed;
  perfect.update_state(t, Tensor{0.1f, 0.8f, 0.2f, 0.9f});
  reversed.update_state(t, Tensor{0.8f, 0.1f, 0.9f, 0.2f});
  CHECK(perfect.result() == doctest::Approx(1.0));
  CHECK(reversed.result() == doctest::Approx(0.0));
}

TEST_CASE("AUC: two batches equal one batch of both, clone, reset, from_logits") {
  const Tensor t{0.f, 1.f, 1.f, 0.f, 1.f, 0.f}, p{0.3f, 0.7f, 0.4f, 0.6f, 0.9f, 0.1f};
  const Tensor w{1.f, 2.f, 1.f, 0.5f, 1.f, 3.f};
  AUC a, b(AUCOptions().curve("PR"));
  AUC one, one_pr(AUCOptions().curve("PR"));
  a.update_state(Tensor{0.f, 1.f, 1.f}, Tensor{0.3f, 0.7f, 0.4f}, Tensor{1.f, 2.f, 1.f});
  a.update_state(Tensor{0.f, 1.f, 0.f}, Tensor{0.6f, 0.9f, 0.1f}, Tensor{0.5f, 1.f, 3.f});
  b.update_state(Tensor{0.f, 1.f, 1.f}, Tensor{0.3f, 0.7f, 0.4f}, Tensor{1.f, 2.f, 1.f});
  b.update_state(Tensor{0.f, 1.f, 0.f}, Tensor{0.6f, 0.9f, 0.1f}, Tensor{0.5f, 1.f, 3.f});
  one.update_state(t, p, w);
  one_pr.update_state(t, p, w);
  CHECK(a.result() == doctest::Approx(one.result()));
  CHECK(b.result() == doctest::Approx(one_pr.result()));
  // Weighted ROC by hand: positives .7 (w2), .4 (w1), .9 (w1); negatives .3 (w1), .6 (w.5),
  // .1 (w3). Pairs (pos above neg) weighted: .7 > .3, .6, .1: 2 * (1 + .5 + 3) = 9; .4 > .3, .1:
  // 1 * (1 + 3) = 4; .9 > all: 4.5. AUC = 17.5 / (4 * 4.5) = 0.97222 (no ties, 200 thresholds
  // separate every score).
  CHECK(one.result() == doctest::Approx(17.5 / 18.0));
  auto c = one.clone();
  CHECK(c->result() == 0.0);
  CHECK(dynamic_cast<AUC&>(*c).options().curve() == "ROC");
  one.reset_state();
  CHECK(one.result() == 0.0);
  // from_logits: a sigmoid first, so logits give the AUC of their probabilities.
  AUC logits(AUCOptions().from_logits(true)), probs;
  Tensor z{-2.f, 0.5f, 1.f, -0.3f};
  Tensor s = 1.f / (1.f + xt::exp(-z));
  logits.update_state(Tensor{0.f, 1.f, 0.f, 1.f}, z);
  probs.update_state(Tensor{0.f, 1.f, 0.f, 1.f}, s);
  CHECK(logits.result() == doctest::Approx(probs.result()));
  // Positives .5, -.3 against negatives -2, 1: 2 of the 4 pairs ordered right.
  CHECK(logits.result() == doctest::Approx(0.5));
}

TEST_CASE("AUC: scores outside [0, 1], NaN, errors") {
  // Evenly spread thresholds (the default) clip: 1.5 becomes 1, below 1 + eps: every score
  // equal -> 0.5. Given, uneven thresholds compare the raw 1.5 > 1 + eps: positive everywhere,
  // the ROC curve is one point -> 0.
  AUC clipped, raw(AUCOptions().thresholds({0.3f}));
  clipped.update_state(Tensor{0.f, 1.f}, Tensor{1.5f, 1.5f});
  raw.update_state(Tensor{0.f, 1.f}, Tensor{1.5f, 1.5f});
  CHECK(clipped.result() == doctest::Approx(0.5));
  CHECK(raw.result() == doctest::Approx(0.0));
  // A NaN positive is negative at every threshold (still counted as a positive): TPR 0.
  AUC nan;
  nan.update_state(Tensor{1.f, 0.f}, Tensor{NAN, 0.3f});
  CHECK(nan.true_positives()[0] + nan.false_negatives()[0] == doctest::Approx(1.0));
  CHECK(nan.true_positives()[0] == 0.0);
  CHECK(nan.result() == doctest::Approx(0.0));
  TF_CHECK_ERROR(AUC(AUCOptions().num_thresholds(1)), "AUC 'auc'", "num_thresholds", "> 1");
  TF_CHECK_ERROR(AUC(AUCOptions().curve("XY")), "AUC", "curve", "XY");
  TF_CHECK_ERROR(AUC(AUCOptions().summation_method("trapezoid")), "AUC", "summation_method",
                 "trapezoid");
  TF_CHECK_ERROR(AUC(AUCOptions().thresholds({0.5f, 2.f})), "AUC", "thresholds", "2");
  AUC ok;
  TF_CHECK_ERROR(ok.update_state(Tensor{0.f, 1.f}, Tensor{0.5f}), "AUC 'auc'", "y_true shape");
}
