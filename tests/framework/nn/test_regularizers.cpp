#include "tapeflow/framework/nn/regularizers.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "test_util.hpp"

using namespace tapeflow;
namespace R = tapeflow::regularizers;

TEST_CASE("l1, l2, l1_l2 values (Keras: no 1/2 in l2)") {
  Variable w(Tensor{{1.f, -2.f}, {3.f, 0.f}});  // sum|w| = 6, sum w^2 = 14
  CHECK(R::l1(0.1f)(w).item() == doctest::Approx(0.6));
  CHECK(R::l2(0.1f)(w).item() == doctest::Approx(1.4));
  CHECK(R::l1_l2(0.1f, 0.2f)(w).item() == doctest::Approx(0.6 + 2.8));
  CHECK(R::l1()(w).item() == doctest::Approx(0.06));  // defaults 0.01
  CHECK(R::l2()(w).item() == doctest::Approx(0.14));
  CHECK(R::l1_l2()(w).item() == doctest::Approx(0.2));
  CHECK(R::l1_l2(0.f, 0.f)(w).item() == 0.f);
  CHECK(R::l2(0.1f)(w).dim() == 0);
}

TEST_CASE("regularizer gradients") {
  Tensor w = test::random_tensor({3, 4}, 11, 0.2f, 1.f);  // away from |x|'s kink at 0
  w(0, 1) = -0.7f;
  w(2, 3) = -0.3f;
  for (const Regularizer& r : {R::l1(0.3f), R::l2(0.2f), R::l1_l2(0.1f, 0.5f)}) {
    CAPTURE(r.repr());
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return r(in[0]); }, {w});
  }
  // Known gradient: d/dw [a sum w^2] = 2 a w.
  Variable v(Tensor{1.f, -2.f}, true);
  GradientTape tape;
  auto g = tape.gradient(R::l2(0.5f)(v), {v});
  TF_CHECK_CLOSE(g[0].value(), (Tensor{1.f, -2.f}));
  // Zero coefficients: a zero gradient, not a missing one.
  GradientTape tape2;
  auto g0 = tape2.gradient(R::l1_l2(0.f, 0.f)(v), {v});
  REQUIRE(g0[0].defined());
  TF_CHECK_CLOSE(g0[0].value(), (Tensor{0.f, 0.f}));
}

TEST_CASE("by name, callable, config") {
  Variable w(Tensor{1.f, -2.f});
  Regularizer a = "l2";
  CHECK(a.name() == "l2");
  CHECK(a.get_config() == Config{{"l2", "0.01"}});
  CHECK(a(w).item() == doctest::Approx(0.05));
  Regularizer b = "l1_l2";  // Keras: both 0.01
  CHECK(b.get_config() == Config{{"l1", "0.01"}, {"l2", "0.01"}});
  CHECK(b(w).item() == doctest::Approx(0.03 + 0.05));
  CHECK(Regularizer("L1").name() == "l1");
  CHECK(R::l2(1e-4f).repr() == "l2(l2=0.0001)");
  auto back = Regularizer::from_config("l1_l2", R::l1_l2(0.25f, 0.5f).get_config());
  CHECK(back(w).item() == doctest::Approx(0.25 * 3 + 0.5 * 5));

  Regularizer c = [](const Variable& x) { return sum(abs(x)) * 2.f; };
  CHECK(c.name() == "custom");
  CHECK(c(w).item() == doctest::Approx(6.0));
  CHECK(static_cast<bool>(c));
  CHECK_FALSE(static_cast<bool>(Regularizer()));

  TF_CHECK_ERROR(Regularizer("l3"), "regularizer", "l3");
  TF_CHECK_ERROR(Regularizer()(w), "regularizer", "undefined");
  Regularizer vec = [](const Variable& x) { return abs(x); };
  TF_CHECK_ERROR(vec(w), "regularizer", "custom", "scalar", "(2,)");
  TF_CHECK_ERROR(R::l2(NAN), "regularizers::l2", "l2");
  TF_CHECK_ERROR(Regularizer::from_config("custom", {}), "regularizer", "custom");
}

TEST_CASE("negative regularization factors are rejected, as Keras 3's validate_float_arg") {
  // Keras 3: `Invalid value for argument l1: expected a non-negative float`; 0 is allowed.
  TF_CHECK_ERROR(R::l1(-1.f), "regularizers::l1", "argument l1", "non-negative", "-1");
  TF_CHECK_ERROR(R::l2(-1.f), "regularizers::l2", "argument l2", "non-negative", "-1");
  TF_CHECK_ERROR(R::l1_l2(-0.001f, 0.01f), "regularizers::l1_l2", "argument l1", "non-negative");
  TF_CHECK_ERROR(R::l1_l2(0.01f, -0.5f), "regularizers::l1_l2", "argument l2", "non-negative");
  TF_CHECK_ERROR(R::l2(INFINITY), "regularizers::l2", "argument l2");
  TF_CHECK_ERROR(R::orthogonal_regularizer(-0.1f), "orthogonal_regularizer", "argument factor");
  CHECK_THROWS_AS(R::l1(-1.f), ValueError);
  // A negative factor read from a config is rejected too.
  CHECK_THROWS_AS(Regularizer::from_config("l2", {{"l2", "-0.5"}}), ValueError);
  Variable w(Tensor{1.f, -2.f});
  CHECK(R::l1(0.f)(w).item() == 0.f);
  CHECK(R::l2(0.f)(w).item() == 0.f);
  CHECK(R::l1_l2(0.f, 0.f)(w).item() == 0.f);
}

TEST_CASE("Keras 3 regularizer class names resolve (keras/src/regularizers ALL_OBJECTS)") {
  const std::pair<const char*, const char*> names[] = {
      {"L1", "l1"},
      {"l1", "l1"},
      {"L2", "l2"},
      {"l2", "l2"},
      {"L1L2", "l1_l2"},
      {"l1l2", "l1_l2"},
      {"l1_l2", "l1_l2"},
      {"OrthogonalRegularizer", "orthogonal_regularizer"},
      {"orthogonal_regularizer", "orthogonal_regularizer"},
  };
  for (const auto& entry : names) {
    const char *name = entry.first, *canonical = entry.second;  // not bound: see test_util.hpp
    CAPTURE(std::string(name));
    CHECK(Regularizer(name).name() == canonical);
  }
}

TEST_CASE("orthogonal_regularizer: Keras 3's regularizers_test reference") {
  // factor * 0.5 * sum|U U^T off the diagonal| / (n (n - 1) / 2), U the rows normalized.
  Tensor value = test::random_tensor({4, 3}, 5, 0.1f, 1.f);
  auto reference = [](Tensor u, bool rows) {
    if (!rows) u = xt::transpose(u);
    const std::size_t n = u.shape()[0], m = u.shape()[1];
    for (std::size_t i = 0; i < n; ++i) {
      double s = 0;
      for (std::size_t j = 0; j < m; ++j) s += double(u(i, j)) * u(i, j);
      for (std::size_t j = 0; j < m; ++j) u(i, j) = static_cast<float>(u(i, j) / std::sqrt(s));
    }
    double total = 0;
    for (std::size_t a = 0; a < n; ++a)
      for (std::size_t b = 0; b < n; ++b) {
        if (a == b) continue;
        double d = 0;
        for (std::size_t j = 0; j < m; ++j) d += double(u(a, j)) * u(b, j);
        total += std::abs(d);
      }
    return 0.1 * 0.5 * total / (n * (n - 1.0) / 2.0);
  };
  Variable w(value);
  CHECK(R::orthogonal_regularizer(0.1f)(w).item() ==
        doctest::Approx(reference(value, true)).epsilon(1e-5));
  CHECK(R::orthogonal_regularizer(0.1f, "columns")(w).item() ==
        doctest::Approx(reference(value, false)).epsilon(1e-5));
  // Orthonormal rows: no penalty.
  CHECK(R::orthogonal_regularizer(0.1f)(Variable(Tensor{{2.f, 0.f}, {0.f, 3.f}})).item() == 0.f);
  Regularizer r = R::orthogonal_regularizer(0.01f, "columns");
  CHECK(r.get_config() == Config{{"factor", "0.01"}, {"mode", "columns"}});
  auto back = Regularizer::from_config(r.name(), r.get_config());
  CHECK(back(w).item() == doctest::Approx(r(w).item()));
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return r(in[0]); }, {value});
  TF_CHECK_ERROR(R::orthogonal_regularizer(0.01f, "diagonal"), "orthogonal_regularizer", "mode",
                 "diagonal");
  Regularizer def = "OrthogonalRegularizer";
  CHECK(def.get_config() == Config{{"factor", "0.01"}, {"mode", "rows"}});
  CHECK_THROWS_AS(def(Variable(Tensor{1.f, 2.f})), ShapeError);
}
