#include <cmath>

#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/normalization.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/batch_normalization.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;

TEST_CASE("BatchNormalization: weights, names, trainability, output shape") {
  reset_default_graph();
  BatchNormalization bn;
  CHECK(bn.name() == "batch_normalization");
  Variable y = bn(Variable(random_tensor({2, 3, 3, 3, 4})));
  CHECK(y.shape() == Shape{2, 3, 3, 3, 4});
  auto vars = bn.variables();
  REQUIRE(vars.size() == 4);
  CHECK(vars[0].name() == "batch_normalization/gamma");
  CHECK(vars[1].name() == "batch_normalization/beta");
  CHECK(vars[2].name() == "batch_normalization/moving_mean");
  CHECK(vars[3].name() == "batch_normalization/moving_variance");
  for (auto& v : vars) CHECK(v.shape() == Shape{4});
  CHECK(bn.trainable_variables().size() == 2);
  CHECK(bn.non_trainable_variables().size() == 2);
  CHECK(trainable_variables().size() == 2);
  CHECK(global_variables().size() == 4);
  CHECK(bn.count_params() == 16);
  BatchNormalization multi(BatchNormalizationOptions().axis({1, 3}));
  multi(Variable(random_tensor({2, 3, 4, 5})));
  CHECK(multi.gamma().shape() == Shape{1, 3, 1, 5});
  BatchNormalization bare(BatchNormalizationOptions().center(false).scale(false));
  bare(Variable(random_tensor({2, 3})));
  CHECK(bare.variables().size() == 2);
  CHECK_FALSE(bare.gamma().defined());
}

TEST_CASE("BatchNormalization: training mode, known values and moving-statistics update") {
  reset_default_graph();
  BatchNormalization bn(BatchNormalizationOptions().momentum(0.9f));
  // column 0: 1, 2, 3, 6 (mean 3, biased var 3.5); column 1: 0, 0, 4, 4 (mean 2, var 4)
  Tensor x = {{1.f, 0.f}, {2.f, 0.f}, {3.f, 4.f}, {6.f, 4.f}};
  bn(Variable(x));  // inference call: builds, no update
  TF_CHECK_CLOSE(bn.moving_mean().value(), (Tensor{0.f, 0.f}));
  bn.set_weights({Tensor{2.f, 1.f}, Tensor{0.f, 1.f}, Tensor{0.f, 0.f}, Tensor{1.f, 1.f}});
  Tensor y = bn(Variable(x), true).value();
  float s0 = 1.f / std::sqrt(3.5f + 1e-3f), s1 = 1.f / std::sqrt(4.f + 1e-3f);
  Tensor expected = {{2.f * -2.f * s0, -2.f * s1 + 1.f},
                     {2.f * -1.f * s0, -2.f * s1 + 1.f},
                     {0.f, 2.f * s1 + 1.f},
                     {2.f * 3.f * s0, 2.f * s1 + 1.f}};
  TF_CHECK_CLOSE(y, expected);
  // moving = moving * 0.9 + batch * 0.1 (biased batch variance)
  TF_CHECK_CLOSE(bn.moving_mean().value(), (Tensor{0.3f, 0.2f}));
  TF_CHECK_CLOSE(bn.moving_variance().value(), (Tensor{0.9f + 0.35f, 0.9f + 0.4f}));
  bn(Variable(x), true);
  TF_CHECK_CLOSE(bn.moving_mean().value(), (Tensor{0.3f * 0.9f + 0.3f, 0.2f * 0.9f + 0.2f}));
}

TEST_CASE("BatchNormalization: inference mode uses the moving statistics") {
  reset_default_graph();
  BatchNormalization bn(BatchNormalizationOptions().epsilon(0.f));
  Tensor x = {{1.f, 2.f}, {3.f, 4.f}};
  bn(Variable(x));
  bn.set_weights({Tensor{1.f, 3.f}, Tensor{0.5f, 0.f}, Tensor{1.f, 2.f}, Tensor{4.f, 0.25f}});
  // (x - mm) / sqrt(mv) * gamma + beta
  Tensor expected = {{0.f / 2.f + 0.5f, 0.f}, {2.f / 2.f + 0.5f, 2.f / 0.5f * 3.f}};
  TF_CHECK_CLOSE(bn(Variable(x)).value(), expected);
  TF_CHECK_CLOSE(bn(Variable(x), false).value(), expected);
  TF_CHECK_CLOSE(bn.moving_mean().value(), (Tensor{1.f, 2.f}));  // unchanged
}

TEST_CASE("BatchNormalization: a training loop that just calls the layer updates the stats") {
  reset_default_graph();
  BatchNormalization bn;  // momentum 0.99
  Tensor x = random_tensor({16, 3}, 2, 1.f, 3.f);
  Tensor bm = xt::mean(x, {0});
  Tensor bv = xt::mean(xt::square(x - bm), {0});
  Variable scale(Tensor{1.f, 1.f, 1.f}, true, "scale");
  for (int step = 0; step < 50; ++step) {
    GradientTape tape;
    Variable loss = sum(mul(bn(Variable(x), true), scale));
    tape.gradient(loss, bn.trainable_variables());
  }
  // after n updates from (0, 1): m_n = bm (1 - 0.99^n), v_n = 0.99^n + bv (1 - 0.99^n)
  double k = std::pow(0.99, 50);
  TF_CHECK_CLOSE(bn.moving_mean().value(), Tensor(bm * (1 - k)), 1e-4f, 1e-3f);
  TF_CHECK_CLOSE(bn.moving_variance().value(), Tensor(k + bv * (1 - k)), 1e-4f, 1e-3f);
}

TEST_CASE("BatchNormalization: UPDATE_OPS entries return the moving statistics, no double update") {
  reset_default_graph();
  BatchNormalization bn;
  Tensor x = random_tensor({4, 2}, 3);
  bn(Variable(x), true);
  Tensor mm = bn.moving_mean().value();
  auto ops = get_collection(GraphKeys::UPDATE_OPS);
  REQUIRE(ops.size() == 2);
  TF_CHECK_CLOSE(ops[0].value(), mm);
  TF_CHECK_CLOSE(ops[1].value(), bn.moving_variance().value());
  get_collection(GraphKeys::UPDATE_OPS);
  TF_CHECK_CLOSE(bn.moving_mean().value(), mm);
  CHECK(get_collection(GraphKeys::UPDATE_OPS, "batch_normalization/AssignMovingAvg").size() == 2);
}

TEST_CASE("BatchNormalization: a non-trainable layer runs in inference mode") {
  reset_default_graph();
  BatchNormalization bn(BatchNormalizationOptions().trainable(false));
  Tensor x = random_tensor({4, 2}, 4);
  Tensor y = bn(Variable(x), true).value();
  TF_CHECK_CLOSE(bn.moving_mean().value(), (Tensor{0.f, 0.f}));
  TF_CHECK_CLOSE(y, Tensor(x / std::sqrt(1.f + 1e-3f)));
  CHECK(bn.trainable_variables().empty());
  bn.set_trainable(true);
  bn(Variable(x), true);
  CHECK(xt::any(xt::not_equal(bn.moving_mean().value(), 0.f)));
}

TEST_CASE("BatchNormalization: axis=1 (channels_first) matches axis=-1 on transposed data") {
  reset_default_graph();
  Tensor x = random_tensor({2, 3, 2, 2}, 5);  // (N, C, H, W)
  BatchNormalization first(BatchNormalizationOptions().axis(1));
  BatchNormalization last;
  Variable yf = first(Variable(x), true);
  Variable yl = last(transpose(Variable(x), {0, 2, 3, 1}), true);
  CHECK(first.gamma().shape() == Shape{3});
  TF_CHECK_CLOSE(transpose(yf, {0, 2, 3, 1}).value(), yl.value());
  TF_CHECK_CLOSE(first.moving_mean().value(), last.moving_mean().value());
  TF_CHECK_CLOSE(first.moving_variance().value(), last.moving_variance().value());
}

TEST_CASE("BatchNormalization: gradcheck, training mode (through batch stats) and inference") {
  reset_default_graph();
  BatchNormalization bn(BatchNormalizationOptions().axis(1));
  Tensor x = random_tensor({3, 2, 2}, 6);
  bn(Variable(x));
  bn.set_weights({random_tensor({2}, 7), random_tensor({2}, 8), random_tensor({2}, 9),
                  random_tensor({2}, 10, 0.5f, 2.f)});
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return bn(in[0], true); }, {x});
  TF_GRADCHECK_VARIABLES([&] { return bn(Variable(x), true); }, bn.trainable_variables());
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return bn(in[0], false); }, {x});
  TF_GRADCHECK_VARIABLES([&] { return bn(Variable(x), false); }, bn.trainable_variables());
}

TEST_CASE("BatchNormalization: the fused channels_last path, gradcheck in x, gamma and beta") {
  reset_default_graph();
  for (bool center : {true, false})
    for (bool scale : {true, false}) {
      CAPTURE(center);
      CAPTURE(scale);
      BatchNormalization bn(BatchNormalizationOptions().center(center).scale(scale));
      Tensor x = random_tensor({3, 2, 3}, 11);
      bn(Variable(x));
      std::vector<Tensor> w;
      if (scale) w.push_back(random_tensor({3}, 12));
      if (center) w.push_back(random_tensor({3}, 13));
      w.push_back(random_tensor({3}, 14));
      w.push_back(random_tensor({3}, 15, 0.5f, 2.f));
      bn.set_weights(w);
      TF_GRADCHECK([&](const std::vector<Variable>& in) { return bn(in[0], true); }, {x});
      if (center || scale)
        TF_GRADCHECK_VARIABLES([&] { return bn(Variable(x), true); }, bn.trainable_variables());
    }
}

// The composed definition the fused op must match.
Variable composed_bn(const Variable& x, const Variable& gamma, const Variable& beta, float eps) {
  Axes red;
  for (std::size_t i = 0; i + 1 < x.shape().size(); ++i) red.push_back(int(i));
  Variable c = sub(x, mean(x, red, true));
  Variable y = mul(c, rsqrt(add(mean(square(c), red, true), scalar(eps))));
  return add(mul(y, gamma), beta);
}

TEST_CASE("batch_norm_channels_last: values, statistics and gradients of the definition") {
  // 2 * 40 * 60 = 4800 rows: more than one of the op's summation chunks.
  Tensor xt = random_tensor({2, 40, 60, 5}, 21, -2.f, 3.f);
  Variable x(xt), gamma(random_tensor({5}, 22)), beta(random_tensor({5}, 23));
  Tensor gyt = random_tensor({2, 40, 60, 5}, 24);
  GradientTape t1;
  t1.watch(x);
  t1.watch(gamma);
  t1.watch(beta);
  BatchNormResult r = batch_norm_channels_last(x, gamma, beta, 1e-3f);
  auto g1 = t1.gradient(r.y, {x, gamma, beta}, Variable(gyt));
  GradientTape t2;
  t2.watch(x);
  t2.watch(gamma);
  t2.watch(beta);
  Variable y2 = composed_bn(x, gamma, beta, 1e-3f);
  auto g2 = t2.gradient(y2, {x, gamma, beta}, Variable(gyt));
  TF_CHECK_CLOSE(r.y.value(), y2.value());
  for (std::size_t i = 0; i < 3; ++i) TF_CHECK_CLOSE(g1[i].value(), g2[i].value());
  TF_CHECK_CLOSE(r.mean, mean(x, {0, 1, 2}).value());
  TF_CHECK_CLOSE(r.variance, mean(square(sub(x, mean(x, {0, 1, 2}, true))), {0, 1, 2}).value());
}

TEST_CASE("batch_norm_channels_last: second-order gradients (a recorded backward runs as ops)") {
  TF_GRADCHECK(
      [](const std::vector<Variable>& in) {
        GradientTape inner;
        inner.watch(in[0]);
        Variable y = batch_norm_channels_last(in[0], in[1], in[2], 1e-3f).y;
        return inner.gradient(sum(mul(y, y)), {in[0]})[0];
      },
      (std::vector<Tensor>{random_tensor({4, 3}, 31), random_tensor({3}, 32),
                           random_tensor({3}, 33)}));
}

TEST_CASE("batch_norm_channels_last: bad input") {
  Variable x(random_tensor({2, 3, 4}, 41));
  TF_CHECK_ERROR(batch_norm_channels_last(x, Variable(random_tensor({3}, 1)), Variable(), 1e-3f),
                 "batch_norm", "gamma has shape (3,)", "expected (4,)");
  TF_CHECK_ERROR(batch_norm_channels_last(x, Variable(), Variable(random_tensor({4, 1}, 1)), 1e-3f),
                 "batch_norm", "beta has shape (4, 1)");
  TF_CHECK_ERROR(
      batch_norm_channels_last(Variable(random_tensor({4}, 1)), Variable(), Variable(), 1e-3f),
      "batch_norm", "rank >= 2");
}

TEST_CASE("BatchNormalization: regularizers") {
  reset_default_graph();
  BatchNormalization bn(BatchNormalizationOptions()
                            .gamma_regularizer(regularizers::l2(0.5f))
                            .beta_regularizer(regularizers::l1(1.f))
                            .beta_initializer(initializers::constant(-1.f)));
  bn(Variable(random_tensor({2, 3})));
  auto losses = bn.losses();
  REQUIRE(losses.size() == 2);
  CHECK(losses[0].item() == doctest::Approx(1.5f));
  CHECK(losses[1].item() == doctest::Approx(3.f));
}

TEST_CASE("BatchNormalization: bad input errors") {
  reset_default_graph();
  TF_CHECK_ERROR(BatchNormalization(BatchNormalizationOptions().momentum(1.5f)),
                 "batch_normalization", "momentum", "1.5");
  TF_CHECK_ERROR(BatchNormalization(BatchNormalizationOptions().epsilon(-1e-3f)), "epsilon");
  TF_CHECK_ERROR(BatchNormalization(BatchNormalizationOptions().axis(std::vector<int>{})), "axis",
                 "empty");
  BatchNormalization a(BatchNormalizationOptions().axis(2).name("bn_a"));
  TF_CHECK_ERROR(a(Variable(random_tensor({2, 3}))), "bn_a", "axis 2", "out of range", "(2, 3)");
  CHECK_FALSE(a.built());
  BatchNormalization b(BatchNormalizationOptions().axis({1, -1}).name("bn_b"));
  TF_CHECK_ERROR(b(Variable(random_tensor({2, 3}))), "bn_b", "repeats");
  BatchNormalization c(BatchNormalizationOptions().name("bn_c"));
  c(Variable(random_tensor({2, 3})));
  TF_CHECK_ERROR(c(Variable(random_tensor({2, 4})), true), "bn_c", "axis 1", "size 3");
  TF_CHECK_ERROR(c(Variable(random_tensor({2, 1, 3}))), "bn_c", "rank 2");
}

TEST_CASE("BatchNormalization: config and pretty_print") {
  reset_default_graph();
  BatchNormalization bn;
  Config c = bn.get_config();
  CHECK(c["name"] == "batch_normalization");
  CHECK(c["axis"] == "-1");
  CHECK(c["momentum"] == "0.99");
  CHECK(c["epsilon"] == "0.001");
  CHECK(c["scale"] == "true");
  CHECK(c["moving_variance_initializer"].find("ones") == 0);
  CHECK(c["gamma_constraint"] == "None");
  CHECK(bn.pretty_print() == "BatchNormalization(axis=-1, momentum=0.99, epsilon=0.001)");
  BatchNormalization m(BatchNormalizationOptions().axis({1, 2}).scale(false));
  CHECK(m.pretty_print() ==
        "BatchNormalization(axis=(1, 2), momentum=0.99, epsilon=0.001, scale=false)");
}

TEST_CASE("BatchNormalization: a NaN in a training batch propagates, as TF, nothing is silent") {
  const float nan = std::nanf("");
  // Both paths: the fused channels-last op (axis -1) and the composed one (axis 1 of rank 3).
  for (bool fused : {true, false}) {
    CAPTURE(fused);
    reset_default_graph();
    BatchNormalization bn(fused ? BatchNormalizationOptions()
                                : BatchNormalizationOptions().axis(1));
    Tensor x = random_tensor({4, 3, 2}, 5);
    x(2, 0, fused ? 1 : 0) = nan;  // feature 1 (fused: the last axis) or 0 (axis 1)
    const std::size_t bad = fused ? 1 : 0, good = fused ? 0 : 1;
    Tensor y = bn(Variable(x), /*training=*/true).value();
    // The batch statistics of that feature are NaN, so are all its outputs in the batch; the
    // other features are untouched.
    for (std::size_t b = 0; b < 4; ++b)
      for (std::size_t i = 0; i < 3; ++i) {
        const float v_bad = fused ? y(b, i, bad) : y(b, bad, i % 2);
        const float v_good = fused ? y(b, i, good) : y(b, good, i % 2);
        CHECK(std::isnan(v_bad));
        CHECK(std::isfinite(v_good));
      }
    // TF's moving statistics take the NaN too (moving = moving * m + batch * (1 - m)).
    CHECK(std::isnan(bn.moving_mean().value()(bad)));
    CHECK(std::isnan(bn.moving_variance().value()(bad)));
    CHECK(std::isfinite(bn.moving_mean().value()(good)));
    CHECK(std::isfinite(bn.moving_variance().value()(good)));
    // Inference on clean inputs afterwards: that feature is NaN for every input (loud), not one
    // and the same number; the others still depend on the input.
    Tensor clean1 = random_tensor({4, 3, 2}, 6), clean2 = random_tensor({4, 3, 2}, 7);
    Tensor z1 = bn(Variable(clean1)).value(), z2 = bn(Variable(clean2)).value();
    std::size_t nans = 0;
    for (float v : z1) nans += std::isnan(v);
    CHECK(nans == (fused ? 4u * 3u : 4u * 2u));  // every position of that feature
    const float g1 = fused ? z1(0, 0, good) : z1(0, good, 0);
    const float g2 = fused ? z2(0, 0, good) : z2(0, good, 0);
    CHECK(g1 != g2);
  }
}
