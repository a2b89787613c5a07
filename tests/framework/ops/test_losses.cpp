#include <cmath>

#include "tapeflow/framework/ops/activations.hpp"
#include "tapeflow/framework/ops/losses.hpp"
#include "tapeflow/framework/runtime/parallel.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using tapeflow::test::all_finite;
using tapeflow::test::V;
using namespace tapeflow::losses;
using tapeflow::test::random_tensor;

// Expected values come from Python's math module with the Keras formulas, or from the examples in
// Keras' docstrings (quoted where used).

namespace {

float value_of(const Variable& loss) {
  REQUIRE(loss.dim() == 0);  // every loss reduces to a scalar
  return loss.item();
}

// d loss / d y_pred through a tape.
Tensor grad_pred(const std::function<Variable(const Variable&)>& loss, const Tensor& y_pred) {
  Variable p(y_pred, true);
  GradientTape tape;
  Variable l = loss(p);
  return tape.gradient(l, {p})[0].value();
}

// A column (n, 1); nested one-element braces are ambiguous for xtensor.
template <class T = Tensor>
T column(std::initializer_list<typename T::value_type> values) {
  T t(values);
  t.reshape({values.size(), 1});
  return t;
}

}  // namespace

TEST_CASE("mean_squared_error and mean_absolute_error: values, aliases, gradcheck") {
  Tensor t{{1.f, 2.f}, {3.f, 4.f}};
  Tensor p{{1.5f, 1.f}, {3.f, 6.f}};  // errors 0.5, -1, 0, 2
  CHECK(value_of(mean_squared_error(V(t), V(p))) == doctest::Approx(1.3125));
  CHECK(value_of(mean_absolute_error(V(t), V(p))) == doctest::Approx(0.875));
  CHECK(value_of(mse(V(t), V(p))) == doctest::Approx(1.3125));
  CHECK(value_of(mae(V(t), V(p))) == doctest::Approx(0.875));
  // Keras docstring: mse([[0, 1], [0, 0]], [[1, 1], [1, 0]]) -> per-sample [0.5, 0.5].
  CHECK(value_of(mean_squared_error(V(Tensor{{0.f, 1.f}, {0.f, 0.f}}),
                                    V(Tensor{{1.f, 1.f}, {1.f, 0.f}}))) == doctest::Approx(0.5));
  // d mse / d p = 2 (p - t) / n.
  TF_CHECK_CLOSE(grad_pred([&](const Variable& v) { return mean_squared_error(V(t), v); }, p),
                 (Tensor{{0.25f, -0.5f}, {0.f, 1.f}}));

  Tensor a = random_tensor({3, 4}, 1), b = random_tensor({3, 4}, 2);
  TF_GRADCHECK([](auto& in) { return mean_squared_error(in[0], in[1]); }, {a, b});
  TF_GRADCHECK([](auto& in) { return mean_absolute_error(in[0], in[1]); },
               {a, Tensor(a + 0.3f * xt::sign(b))});  // |error| = 0.3: away from the kink
}

TEST_CASE("mean_squared_error (one fused op): large inputs, thread counts, NaN, second order") {
  // 100000 elements: several chunks, split over threads; the same value at any count, and the
  // value and gradients of the composed ops.
  Tensor t = random_tensor({4, 25000}, 71), p = random_tensor({4, 25000}, 72);
  set_num_threads(1);
  const float one = value_of(mean_squared_error(V(t), V(p)));
  set_num_threads(3);
  const float three = value_of(mean_squared_error(V(t), V(p)));
  set_num_threads(2);
  CHECK(one == three);
  CHECK(one == doctest::Approx(value_of(mean(square(sub(V(p), V(t)))))).epsilon(1e-5));
  Variable tv(t), pv(p);
  GradientTape tape;
  tape.watch({tv, pv});
  auto g = tape.gradient(mean_squared_error(tv, pv), {tv, pv});
  Tensor expected = Tensor(2.f * (p - t) / 100000.f);
  TF_CHECK_CLOSE(g[1].value(), expected);
  TF_CHECK_CLOSE(g[0].value(), Tensor(-expected));
  // A NaN anywhere makes the loss NaN.
  p(2, 7) = NAN;
  CHECK(std::isnan(value_of(mean_squared_error(V(t), V(p)))));
  // The backward is itself differentiable: d/dp of d loss / dp . w is 2 w / n.
  Tensor a = random_tensor({2, 3}, 73), b = random_tensor({2, 3}, 74);
  TF_GRADCHECK(
      [](auto& in) {
        GradientTape inner;
        inner.watch(in[1]);
        Variable gp = inner.gradient(mean_squared_error(in[0], in[1]), {in[1]})[0];
        return sum(mul(gp, gp));
      },
      {a, b});
}

TEST_CASE("losses accept a trailing axis of length 1 on either side, like Keras") {
  Tensor t{1.f, 2.f, 3.f};
  Tensor p = column({1.5f, 2.f, 1.f});  // (3, 1): errors 0.5, 0, -2
  CHECK(value_of(mean_squared_error(V(t), V(p))) == doctest::Approx(4.25 / 3));
  CHECK(value_of(mean_absolute_error(V(column({1.f, 2.f, 3.f})), V(Tensor{1.5f, 2.f, 1.f}))) ==
        doctest::Approx(2.5 / 3));
  // Not broadcast to (3, 3): that would average 9 errors.
  CHECK(value_of(binary_crossentropy(V(Tensor{1.f, 0.f}), V(column({0.8f, 0.4f})))) ==
        doctest::Approx((-std::log(0.8) - std::log(0.6)) / 2).epsilon(1e-5));
}

TEST_CASE("loss shape mismatches are errors naming the loss and both shapes") {
  Variable a = V(xt::zeros<float>({2, 3})), b = V(xt::zeros<float>({3, 2}));
  Variable c = V(xt::zeros<float>({3})), d = V(xt::zeros<float>({1, 3}));
  TF_CHECK_ERROR(mean_squared_error(a, b), "mean_squared_error", "(2, 3)", "(3, 2)");
  TF_CHECK_ERROR(mean_absolute_error(c, d), "mean_absolute_error", "(3,)", "(1, 3)");
  TF_CHECK_ERROR(huber(a, b), "huber", "(2, 3)", "(3, 2)");
  TF_CHECK_ERROR(binary_crossentropy(a, b), "binary_crossentropy", "(2, 3)", "(3, 2)");
  TF_CHECK_ERROR(binary_crossentropy(a, b, true), "binary_crossentropy", "(2, 3)", "(3, 2)");
  TF_CHECK_ERROR(categorical_crossentropy(a, b), "categorical_crossentropy", "(2, 3)", "(3, 2)");
  TF_CHECK_ERROR(categorical_crossentropy(a, b, true), "categorical_crossentropy", "(2, 3)",
                 "(3, 2)");
  TF_CHECK_ERROR(mean_squared_error(Variable(), a), "mean_squared_error", "y_true", "undefined");
}

TEST_CASE("huber: values on both branches, delta, gradcheck") {
  // Keras docstring: huber([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]) -> 0.155.
  CHECK(value_of(huber(V(Tensor{{0.f, 1.f}, {0.f, 0.f}}), V(Tensor{{0.6f, 0.4f}, {0.4f, 0.6f}}))) ==
        doctest::Approx(0.155));
  // delta 0.5, errors 0.2, -1, 3: 0.5*0.04 = 0.02, 0.5*1 - 0.125 = 0.375, 1.5 - 0.125 = 1.375.
  Tensor t = xt::zeros<float>({3});
  Tensor p{0.2f, -1.f, 3.f};
  CHECK(value_of(huber(V(t), V(p), 0.5f)) == doctest::Approx(1.77 / 3));
  // Gradient: e inside, delta * sign(e) outside, over n.
  TF_CHECK_CLOSE(grad_pred([&](const Variable& v) { return huber(V(t), v, 0.5f); }, p),
                 (Tensor{0.2f / 3, -0.5f / 3, 0.5f / 3}));
  Tensor a = random_tensor({3, 4}, 3, -2.f, 2.f), b = random_tensor({3, 4}, 4, -2.f, 2.f);
  for (std::size_t i = 0; i < a.size(); ++i)  // keep |error| off delta = 1
    if (std::abs(std::abs(a.data()[i] - b.data()[i]) - 1.f) < 0.05f) b.data()[i] += 0.2f;
  TF_GRADCHECK([](auto& in) { return huber(in[0], in[1]); }, {a, b});
  TF_CHECK_ERROR(huber(V(t), V(p), -1.f), "huber", "delta", "-1");
}

TEST_CASE("binary_crossentropy on probabilities: values, clipping, label smoothing") {
  // Keras docstring: bce([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]) -> [0.916, 0.714].
  Tensor t{{0.f, 1.f}, {0.f, 0.f}};
  Tensor p{{0.6f, 0.4f}, {0.4f, 0.6f}};
  CHECK(value_of(binary_crossentropy(V(t), V(p))) == doctest::Approx(0.81492445).epsilon(1e-6));
  CHECK(value_of(binary_crossentropy(V(t), V(p), false, 0.2f)) ==
        doctest::Approx(0.7946512).epsilon(1e-6));
  // p = 0 and 1 are clipped to float32 1e-7 and 1 - 1e-7 = 0.99999988: finite, as Keras.
  // -log(1e-7) = 16.118096, -log(1.1920929e-7) = 15.942385, -log(0.99999988) = 1.2e-7.
  Variable clipped = binary_crossentropy(V(Tensor{1.f, 0.f, 1.f}), V(Tensor{0.f, 1.f, 1.f}));
  CHECK(value_of(clipped) == doctest::Approx(10.686827).epsilon(1e-5));
  // Outside the clip range the probability gets no gradient (TF clip_by_value).
  Tensor g = grad_pred(
      [](const Variable& v) {
        return binary_crossentropy(V(Tensor{1.f, 0.f, 1.f}), v);
      },
      Tensor{0.f, 1.f, 0.5f});
  TF_CHECK_CLOSE(g, (Tensor{0.f, 0.f, -2.f / 3}));

  Tensor tt = random_tensor({2, 3}, 5, 0.f, 1.f);
  Tensor pp = random_tensor({2, 3}, 6, 0.1f, 0.9f);
  TF_GRADCHECK([](auto& in) { return binary_crossentropy(in[0], in[1]); }, {tt, pp});
  TF_GRADCHECK([](auto& in) { return binary_crossentropy(in[0], in[1], false, 0.1f); }, {tt, pp});
  TF_CHECK_ERROR(binary_crossentropy(V(t), V(p), false, 1.5f), "binary_crossentropy",
                 "label_smoothing", "[0, 1]");
}

TEST_CASE("binary_crossentropy from logits: values, gradients, stability at large logits") {
  // softplus(x) - x t for x = (2, -1, 0.5, -0.7), t = (1, 0, 1, 0.3).
  Tensor t{1.f, 0.f, 1.f, 0.3f};
  Tensor x{2.f, -1.f, 0.5f, -0.7f};
  CHECK(value_of(binary_crossentropy(V(t), V(x), true)) ==
        doctest::Approx(0.38186318).epsilon(1e-6));
  CHECK(value_of(binary_crossentropy(V(t), V(x), true, 0.1f)) ==
        doctest::Approx(0.42911318).epsilon(1e-6));
  // Logits and probabilities agree where no clipping happens.
  CHECK(value_of(binary_crossentropy(V(t), activations::sigmoid(V(x)))) ==
        doctest::Approx(0.38186318).epsilon(1e-5));
  // d/dx = (sigmoid(x) - t) / n, d/dt = -x / n; at x = 0 exactly: (0.5 - t) / n.
  {
    Variable tv(t, true), xv(x, true);
    GradientTape tape;
    auto g = tape.gradient(binary_crossentropy(tv, xv, true), {tv, xv});
    TF_CHECK_CLOSE(g[1].value(),
                   (Tensor{-0.02980073f, 0.067235355f, -0.094385167f, 0.0079530570f}));
    TF_CHECK_CLOSE(g[0].value(), (Tensor{-0.5f, 0.25f, -0.125f, 0.175f}));
  }
  TF_CHECK_CLOSE(grad_pred(
                     [](const Variable& v) {
                       return binary_crossentropy(V(Tensor{1.f, 0.f}), v, true);
                     },
                     Tensor{0.f, 0.f}),
                 (Tensor{-0.25f, 0.25f}));

  // x = +-1000: right answers are 0 (confident and right) and 1000 (confident and wrong).
  Tensor big{1000.f, -1000.f};
  CHECK(value_of(binary_crossentropy(V(Tensor{1.f, 0.f}), V(big), true)) == doctest::Approx(0.0));
  CHECK(value_of(binary_crossentropy(V(Tensor{0.f, 1.f}), V(big), true)) ==
        doctest::Approx(1000.0));
  Tensor gb = grad_pred(
      [](const Variable& v) {
        return binary_crossentropy(V(Tensor{0.f, 1.f}), v, true);
      },
      big);
  CHECK(all_finite(gb));
  TF_CHECK_CLOSE(gb, (Tensor{0.5f, -0.5f}));

  TF_GRADCHECK([](auto& in) { return binary_crossentropy(in[0], in[1], true); },
               {random_tensor({2, 3}, 7, 0.f, 1.f), random_tensor({2, 3}, 8, -3.f, 3.f)});
}

TEST_CASE("categorical_crossentropy on probabilities: values, normalization, smoothing") {
  // Keras docstring: cce([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
  // -> [0.0513, 2.303], mean 1.1769392.
  Tensor t{{0.f, 1.f, 0.f}, {0.f, 0.f, 1.f}};
  Tensor p{{0.05f, 0.95f, 0.f}, {0.1f, 0.8f, 0.1f}};
  CHECK(value_of(categorical_crossentropy(V(t), V(p))) == doctest::Approx(1.1769392).epsilon(1e-6));
  // Predictions are normalized per sample first: scaling a row changes nothing.
  Tensor scaled{{0.1f, 1.9f, 0.f}, {0.3f, 2.4f, 0.3f}};
  CHECK(value_of(categorical_crossentropy(V(t), V(scaled))) ==
        doctest::Approx(1.1769392).epsilon(1e-6));
  // Smoothing 0.1 over 3 classes: targets 0.0333 / 0.9333.
  CHECK(value_of(categorical_crossentropy(V(t), V(p), false, -1, 0.1f)) ==
        doctest::Approx(1.4591359).epsilon(1e-6));
  // Class axis 0: the transposed problem gives the same loss.
  CHECK(value_of(categorical_crossentropy(V(xt::transpose(t)), V(xt::transpose(p)), false, 0)) ==
        doctest::Approx(1.1769392).epsilon(1e-6));

  Tensor tt = random_tensor({2, 4}, 9, 0.f, 1.f);
  Tensor pp = random_tensor({2, 4}, 10, 0.2f, 1.f);
  TF_GRADCHECK([](auto& in) { return categorical_crossentropy(in[0], in[1]); }, {tt, pp});
  TF_GRADCHECK([](auto& in) { return categorical_crossentropy(in[0], in[1], false, 0); }, {tt, pp});
  TF_CHECK_ERROR(categorical_crossentropy(V(t), V(p), false, 2), "categorical_crossentropy",
                 "axis 2", "rank 2");
  TF_CHECK_ERROR(categorical_crossentropy(V(Tensor(1.f)), V(Tensor(1.f))),
                 "categorical_crossentropy", "rank 0");
  TF_CHECK_ERROR(categorical_crossentropy(V(t), V(p), false, -1, -0.5f), "categorical_crossentropy",
                 "label_smoothing");
}

TEST_CASE("categorical_crossentropy from logits: values, gradients, stability") {
  // -sum(t * log_softmax(x)) for x = [[1, 2, 3], [-1, 0, 4]], t = [[0, 0, 1], [.5, .5, 0]].
  Tensor x{{1.f, 2.f, 3.f}, {-1.f, 0.f, 4.f}};
  Tensor t{{0.f, 0.f, 1.f}, {0.5f, 0.5f, 0.f}};
  CHECK(value_of(categorical_crossentropy(V(t), V(x), true)) ==
        doctest::Approx(2.4661754).epsilon(1e-6));
  CHECK(value_of(categorical_crossentropy(V(t), activations::softmax(V(x)))) ==
        doctest::Approx(2.4661754).epsilon(1e-5));
  // d/dx = (softmax(x) * sum(t) - t) / n.
  Tensor g =
      grad_pred([&](const Variable& v) { return categorical_crossentropy(V(t), v, true); }, x);
  TF_CHECK_CLOSE(g, (Tensor{{0.045015287f, 0.12236424f, -0.16737952f},
                            {-0.24671337f, -0.24106601f, 0.48777938f}}));

  // Logits 1000 apart: the loss is 0 for the right class and 2000 for the worst, gradients finite.
  Tensor big{{1000.f, 0.f, -1000.f}};
  CHECK(value_of(categorical_crossentropy(V(Tensor{{1.f, 0.f, 0.f}}), V(big), true)) ==
        doctest::Approx(0.0));
  CHECK(value_of(categorical_crossentropy(V(Tensor{{0.f, 0.f, 1.f}}), V(big), true)) ==
        doctest::Approx(2000.0));
  Tensor gb = grad_pred(
      [](const Variable& v) {
        return categorical_crossentropy(V(Tensor{{0.f, 0.f, 1.f}}), v, true);
      },
      big);
  CHECK(all_finite(gb));
  TF_CHECK_CLOSE(gb, (Tensor{{1.f, 0.f, -1.f}}));

  TF_GRADCHECK([](auto& in) { return categorical_crossentropy(in[0], in[1], true); },
               {random_tensor({3, 4}, 11, 0.f, 1.f), random_tensor({3, 4}, 12, -2.f, 2.f)});
  TF_GRADCHECK([](auto& in) { return categorical_crossentropy(in[0], in[1], true, 1, 0.2f); },
               {random_tensor({2, 3, 2}, 13, 0.f, 1.f), random_tensor({2, 3, 2}, 14, -2.f, 2.f)});
}

TEST_CASE("sparse_categorical_crossentropy: labels as IndexTensor, Tensor or Variable") {
  // Keras docstring: scce([1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]) -> [0.0513, 2.303].
  Tensor p{{0.05f, 0.95f, 0.f}, {0.1f, 0.8f, 0.1f}};
  const double expected = 1.1769392;
  CHECK(value_of(sparse_categorical_crossentropy(IndexTensor{1, 2}, V(p))) ==
        doctest::Approx(expected).epsilon(1e-6));
  CHECK(value_of(sparse_categorical_crossentropy(Tensor{1.f, 2.f}, V(p))) ==
        doctest::Approx(expected).epsilon(1e-6));
  CHECK(value_of(sparse_categorical_crossentropy(V(Tensor{1.f, 2.f}), V(p))) ==
        doctest::Approx(expected).epsilon(1e-6));
  CHECK(value_of(sparse_categorical_crossentropy(column<IndexTensor>({1, 2}), V(p))) ==
        doctest::Approx(expected).epsilon(1e-6));

  // Logits: -log_softmax(x)[label] for labels (2, 0).
  Tensor x{{1.f, 2.f, 3.f}, {-1.f, 0.f, 4.f}};
  CHECK(value_of(sparse_categorical_crossentropy(IndexTensor{2, 0}, V(x), true)) ==
        doctest::Approx(2.7161754).epsilon(1e-6));
  // Equal to the one-hot categorical loss.
  CHECK(value_of(sparse_categorical_crossentropy(IndexTensor{2, 0}, V(x), true)) ==
        doctest::Approx(value_of(
            categorical_crossentropy(V(Tensor{{0.f, 0.f, 1.f}, {1.f, 0.f, 0.f}}), V(x), true))));
  // Rank 3: labels (2, 2), logits (2, 2, 3).
  Tensor x3{{{0.5f, -1.f, 2.f}, {1.f, 1.f, 1.f}}, {{3.f, 0.f, -2.f}, {0.1f, 0.2f, 0.3f}}};
  CHECK(value_of(sparse_categorical_crossentropy(IndexTensor{{2, 0}, {1, 1}}, V(x3), true)) ==
        doctest::Approx(1.3742129).epsilon(1e-6));
  // Large logits stay finite with correct gradients.
  Tensor big{{1000.f, 0.f, -1000.f}};
  CHECK(value_of(sparse_categorical_crossentropy(IndexTensor{2}, V(big), true)) ==
        doctest::Approx(2000.0));
  TF_CHECK_CLOSE(grad_pred(
                     [](const Variable& v) {
                       return sparse_categorical_crossentropy(IndexTensor{2}, v, true);
                     },
                     big),
                 (Tensor{{1.f, 0.f, -1.f}}));

  IndexTensor labels{{0, 3}, {2, 1}};
  TF_GRADCHECK([&](auto& in) { return sparse_categorical_crossentropy(labels, in[0], true); },
               {random_tensor({2, 2, 4}, 15, -2.f, 2.f)});
  TF_GRADCHECK([&](auto& in) { return sparse_categorical_crossentropy(labels, in[0]); },
               {random_tensor({2, 2, 4}, 16, 0.1f, 1.f)});
}

TEST_CASE("sparse_categorical_crossentropy: bad labels and shapes") {
  Variable p = V(xt::ones<float>({2, 3}) / 3.f);
  const char* loss = "sparse_categorical_crossentropy";
  TF_CHECK_ERROR(sparse_categorical_crossentropy(IndexTensor{1, 3}, p), loss, "label 3",
                 "3 classes");
  TF_CHECK_ERROR(sparse_categorical_crossentropy(IndexTensor{-1, 0}, p), loss, "label -1",
                 "3 classes");
  TF_CHECK_ERROR(sparse_categorical_crossentropy(Tensor{0.f, 7.f}, p, true), loss, "label 7",
                 "3 classes");
  TF_CHECK_ERROR(sparse_categorical_crossentropy(Tensor{0.f, 1.5f}, p), loss, "label 1.5",
                 "integer");
  TF_CHECK_ERROR(sparse_categorical_crossentropy(IndexTensor{0, 1, 2}, p), loss, "(3,)", "(2, 3)");
  TF_CHECK_ERROR(sparse_categorical_crossentropy(IndexTensor{{0, 1}}, p), loss, "(1, 2)", "(2, 3)");
  TF_CHECK_ERROR(sparse_categorical_crossentropy(Tensor(0.f), V(Tensor(1.f))), loss, "()",
                 "class axis");
}
