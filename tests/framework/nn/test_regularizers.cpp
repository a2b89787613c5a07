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
