#include "tapeflow/framework/ops/ops.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using tapeflow::test::random_tensor;
using tapeflow::test::V;

namespace {

// Plain triple loop over broadcast batches: the reference for matmul.
Tensor reference_matmul(const Tensor& a, const Tensor& b) {
  std::size_t ra = a.dimension(), rb = b.dimension();
  std::size_t m = a.shape()[ra - 2], k = a.shape()[ra - 1], n = b.shape()[rb - 1];
  Shape ba(a.shape().begin(), a.shape().end() - 2), bb(b.shape().begin(), b.shape().end() - 2);
  std::size_t nb = std::max(ba.size(), bb.size());
  Shape batch(nb);
  for (std::size_t i = 0; i < nb; ++i) {
    std::size_t da = i + ba.size() >= nb ? ba[i + ba.size() - nb] : 1;
    std::size_t db = i + bb.size() >= nb ? bb[i + bb.size() - nb] : 1;
    batch[i] = std::max(da, db);
  }
  Shape out = batch;
  out.push_back(m);
  out.push_back(n);
  Tensor c = xt::zeros<float>(out);
  Tensor a3 = xt::broadcast(a, [&] {
    Shape s = batch;
    s.push_back(m);
    s.push_back(k);
    return s;
  }());
  Tensor b3 = xt::broadcast(b, [&] {
    Shape s = batch;
    s.push_back(k);
    s.push_back(n);
    return s;
  }());
  std::size_t total = c.size() / (m * n);
  for (std::size_t t = 0; t < total; ++t)
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        float s = 0;
        for (std::size_t p = 0; p < k; ++p)
          s += a3.data()[t * m * k + i * k + p] * b3.data()[t * k * n + p * n + j];
        c.data()[t * m * n + i * n + j] = s;
      }
  return c;
}

Tensor transposed_last2(const Tensor& t) {
  std::vector<std::size_t> perm(t.dimension());
  for (std::size_t i = 0; i < perm.size(); ++i) perm[i] = i;
  std::swap(perm[perm.size() - 1], perm[perm.size() - 2]);
  return Tensor(xt::transpose(t, perm));
}
}  // namespace

TEST_CASE("matmul: 2-D known values") {
  Tensor a{{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}};
  Tensor b{{7.f, 8.f}, {9.f, 10.f}, {11.f, 12.f}};
  TF_CHECK_CLOSE(matmul(V(a), V(b)).value(), (Tensor{{58.f, 64.f}, {139.f, 154.f}}));
  // a^T a and a a^T through the flags.
  TF_CHECK_CLOSE(matmul(V(a), V(a), false, true).value(), (Tensor{{14.f, 32.f}, {32.f, 77.f}}));
  TF_CHECK_CLOSE(matmul(V(a), V(a), true, false).value(),
                 (Tensor{{17.f, 22.f, 27.f}, {22.f, 29.f, 36.f}, {27.f, 36.f, 45.f}}));
  Tensor bt = transposed_last2(b), at = transposed_last2(a);
  TF_CHECK_CLOSE(matmul(V(at), V(bt), true, true).value(), (Tensor{{58.f, 64.f}, {139.f, 154.f}}));
  // Empty inner dimension: a sum of nothing.
  TF_CHECK_CLOSE(matmul(V(xt::zeros<float>({2, 0})), V(xt::zeros<float>({0, 3}))).value(),
                 Tensor(xt::zeros<float>({2, 3})));
}

TEST_CASE("matmul: batched, with broadcast batch dims, against a reference loop") {
  for (const auto& shapes : std::vector<std::pair<Shape, Shape>>{{{4, 2, 3}, {4, 3, 5}},
                                                                 {{2, 1, 2, 3}, {3, 3, 2}},
                                                                 {{2, 3}, {4, 3, 2}},
                                                                 {{5, 2, 3}, {3, 4}},
                                                                 {{1, 2, 3}, {2, 1, 3, 2}}}) {
    const Shape &sa = shapes.first, &sb = shapes.second;  // not bound: see test_util.hpp
    CAPTURE(shape_str(sa));
    CAPTURE(shape_str(sb));
    Tensor a = random_tensor(sa, 1), b = random_tensor(sb, 2);
    TF_CHECK_CLOSE(matmul(V(a), V(b)).value(), reference_matmul(a, b));
    TF_CHECK_CLOSE(matmul(V(transposed_last2(a)), V(transposed_last2(b)), true, true).value(),
                   reference_matmul(a, b));
  }
}

TEST_CASE("matmul: gradients for every transpose combination") {
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      CAPTURE(ta);
      CAPTURE(tb);
      Shape sa = ta ? Shape{3, 2} : Shape{2, 3};
      Shape sb = tb ? Shape{4, 3} : Shape{3, 4};
      TF_GRADCHECK([ta, tb](auto& in) { return matmul(in[0], in[1], ta, tb); },
                   (std::vector<Tensor>{random_tensor(sa, 3), random_tensor(sb, 4)}));
      // Batched with broadcasting on both sides.
      Shape ba = ta ? Shape{2, 1, 3, 2} : Shape{2, 1, 2, 3};
      Shape bb = tb ? Shape{3, 4, 3} : Shape{3, 3, 4};
      TF_GRADCHECK([ta, tb](auto& in) { return matmul(in[0], in[1], ta, tb); },
                   (std::vector<Tensor>{random_tensor(ba, 5), random_tensor(bb, 6)}));
    }
  // A batch of rows times one matrix (the folded single-GEMM path), and the reverse.
  TF_GRADCHECK([](auto& in) { return matmul(in[0], in[1]); },
               (std::vector<Tensor>{random_tensor({2, 3, 4}, 7), random_tensor({4, 2}, 8)}));
  TF_GRADCHECK([](auto& in) { return matmul(in[0], in[1], false, true); },
               (std::vector<Tensor>{random_tensor({2, 3, 4}, 9), random_tensor({2, 4}, 10)}));
  TF_GRADCHECK([](auto& in) { return matmul(in[0], in[1]); },
               (std::vector<Tensor>{random_tensor({3, 4}, 11), random_tensor({2, 4, 2}, 12)}));
}

TEST_CASE("matmul: second-order gradients through nested tapes") {
  // loss = sum((a b)^2); d loss / d a = 2 (a b) b^T, whose gradient w.r.t. b is checked by
  // finite differences, and a closed form for a scalar case.
  auto inner = [](const std::vector<Variable>& in) {
    GradientTape tape;
    Variable loss = sum(square(matmul(in[0], in[1])));
    return tape.gradient(loss, {in[0]})[0];
  };
  TF_GRADCHECK(inner, (std::vector<Tensor>{random_tensor({2, 3}, 13), random_tensor({3, 2}, 14)}));
  TF_GRADCHECK(inner,
               (std::vector<Tensor>{random_tensor({2, 2, 3}, 15), random_tensor({3, 2}, 16)}));

  // 1x1 matrices: loss = (a b)^2, d/da = 2 a b^2, d^2/(da db) = 4 a b.
  Variable a(Tensor(3.f * xt::ones<float>({1, 1})), true),
      b(Tensor(2.f * xt::ones<float>({1, 1})), true);
  GradientTape outer;
  Variable ga = inner({a, b});
  TF_CHECK_CLOSE(ga.value(), Tensor(xt::full_like(a.value(), 24.f)));
  TF_CHECK_CLOSE(outer.gradient(ga, {b})[0].value(), Tensor(xt::full_like(b.value(), 24.f)));
}

TEST_CASE("matmul: bad input") {
  TF_CHECK_ERROR(matmul(V(xt::zeros<float>({2, 3})), V(xt::zeros<float>({4, 5}))), "matmul",
                 "(2, 3)", "(4, 5)", "inner dimensions 3 and 4 differ");
  TF_CHECK_ERROR(matmul(V(xt::zeros<float>({2, 3})), V(xt::zeros<float>({4, 3})), true, true),
                 "matmul", "transpose_a and transpose_b", "inner dimensions 2 and 3 differ");
  TF_CHECK_ERROR(matmul(V(xt::zeros<float>({3})), V(xt::zeros<float>({3, 2}))), "matmul",
                 "a has shape (3,)", "rank 1", "rank >= 2");
  TF_CHECK_ERROR(matmul(V(xt::zeros<float>({2, 3})), scalar(1.f)), "matmul", "b has shape ()",
                 "rank 0");
  TF_CHECK_ERROR(matmul(V(xt::zeros<float>({2, 2, 3})), V(xt::zeros<float>({3, 3, 4}))), "matmul",
                 "(2, 2, 3)", "(3, 3, 4)", "batch dimensions (2,) and (3,)");
}
