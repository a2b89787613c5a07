#include "tapeflow/framework/core/tape.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using tapeflow::test::allclose;

TEST_CASE("gradient of a simple product, per source") {
  Variable x(Tensor{1.f, 2.f, 3.f}, true, "x");
  Variable w(Tensor{4.f, 5.f, 6.f}, true, "w");
  GradientTape tape;
  Variable y = sum(mul(x, w));
  auto g = tape.gradient(y, {x, w});
  REQUIRE(g.size() == 2);
  TF_CHECK_CLOSE(g[0].value(), (Tensor{4.f, 5.f, 6.f}));
  TF_CHECK_CLOSE(g[1].value(), (Tensor{1.f, 2.f, 3.f}));
}

TEST_CASE("unconnected source gets no gradient, distinct from zero") {
  Variable x(Tensor{1.f, 2.f}, true);
  Variable z(Tensor{1.f, 2.f}, true);
  GradientTape tape;
  Variable y = sum(mul(x, zeros_like(x)));
  auto g = tape.gradient(y, {x, z});
  CHECK(g[0].defined());
  TF_CHECK_CLOSE(g[0].value(), (Tensor{0.f, 0.f}));
  CHECK_FALSE(g[1].defined());
}

TEST_CASE("constants are not watched unless asked") {
  Variable c(Tensor{2.f, 3.f});
  {
    GradientTape tape;
    Variable y = sum(mul(c, c));
    CHECK_FALSE(tape.gradient(y, {c})[0].defined());
    CHECK(tape.size() == 0);
  }
  {
    GradientTape tape;
    tape.watch(c);
    Variable y = sum(mul(c, c));
    TF_CHECK_CLOSE(tape.gradient(y, {c})[0].value(), (Tensor{4.f, 6.f}));
  }
  {
    Variable t(Tensor{1.f}, true);
    GradientTape tape(false, /*watch_accessed_variables=*/false);
    Variable y = sum(mul(t, t));
    CHECK_FALSE(tape.gradient(y, {t})[0].defined());
  }
}

TEST_CASE("without a tape nothing is recorded") {
  Variable x(Tensor{1.f, 2.f}, true);
  Variable y = sum(mul(x, x));  // no tape alive
  GradientTape tape;
  CHECK_FALSE(tape.gradient(y, {x})[0].defined());
}

TEST_CASE("watched_variables lists trainable variables that ops used") {
  Variable a(Tensor{1.f}, true, "a"), b(Tensor{1.f}, true, "b");
  GradientTape tape;
  Variable y = mul(a, a);
  auto w = tape.watched_variables();
  REQUIRE(w.size() == 1);
  CHECK(w[0].is_same(a));
}

TEST_CASE("non-persistent tape: second gradient throws, its records are freed") {
  Variable x(Tensor{3.f}, true);
  GradientTape tape;
  Variable y = mul(x, x);
  CHECK(tape.size() == 1);
  tape.gradient(y, {x});
  CHECK(tape.size() == 0);
  TF_CHECK_ERROR(tape.gradient(y, {x}), "GradientTape.gradient", "persistent");
}

TEST_CASE("persistent tape can be asked many times") {
  Variable x(Tensor{3.f}, true);
  GradientTape tape(/*persistent=*/true);
  Variable y = mul(x, x);
  Variable z = mul(y, y);
  TF_CHECK_CLOSE(tape.gradient(y, {x})[0].value(), Tensor{6.f});
  TF_CHECK_CLOSE(tape.gradient(z, {x})[0].value(), Tensor{108.f});  // 4 x^3
  TF_CHECK_CLOSE(tape.gradient(z, {y})[0].value(), Tensor{18.f});   // 2 y
}

TEST_CASE("nested tapes give second and third derivatives") {
  Variable x(Tensor{2.f}, true);
  GradientTape t3;
  GradientTape t2;
  GradientTape t1;
  Variable y = mul(mul(x, x), x);  // x^3
  Variable g1 = t1.gradient(y, {x})[0];
  TF_CHECK_CLOSE(g1.value(), Tensor{12.f});  // 3x^2
  Variable g2 = t2.gradient(g1, {x})[0];
  TF_CHECK_CLOSE(g2.value(), Tensor{12.f});  // 6x
  Variable g3 = t3.gradient(g2, {x})[0];
  TF_CHECK_CLOSE(g3.value(), Tensor{6.f});
}

TEST_CASE("stop_gradient blocks the flow") {
  Variable x(Tensor{2.f}, true);
  GradientTape tape;
  Variable y = mul(stop_gradient(x), x);
  TF_CHECK_CLOSE(tape.gradient(y, {x})[0].value(), Tensor{2.f});
}

TEST_CASE("StopRecording pauses every tape") {
  Variable x(Tensor{2.f}, true);
  GradientTape tape;
  Variable y;
  {
    StopRecording stop;
    y = mul(x, x);
  }
  CHECK(tape.size() == 0);
  Variable z = mul(x, x);
  CHECK(tape.size() == 1);
}

TEST_CASE("output_gradient weights a non-scalar target, a non-scalar target is summed") {
  Variable x(Tensor{1.f, 2.f}, true);
  GradientTape tape(true);
  Variable y = mul(x, x);
  TF_CHECK_CLOSE(tape.gradient(y, {x})[0].value(), (Tensor{2.f, 4.f}));
  TF_CHECK_CLOSE(tape.gradient(y, {x}, Variable(Tensor{1.f, 10.f}))[0].value(),
                 (Tensor{2.f, 40.f}));
  TF_CHECK_ERROR(tape.gradient(y, {x}, Variable(Tensor{1.f})), "output_gradient", "(1,)", "(2,)");
}

TEST_CASE("gradient with respect to an intermediate and to the target itself") {
  Variable x(Tensor{3.f}, true);
  GradientTape tape(true);
  Variable y = mul(x, x);
  Variable z = add(y, x);
  auto g = tape.gradient(z, {y, z, x});
  TF_CHECK_CLOSE(g[0].value(), Tensor{1.f});
  TF_CHECK_CLOSE(g[1].value(), Tensor{1.f});
  TF_CHECK_CLOSE(g[2].value(), Tensor{7.f});
}

TEST_CASE("a chain of 100000 ops does not overflow the stack") {
  Variable x(Tensor{1.f}, true);
  GradientTape tape;
  Variable y = x;
  for (int i = 0; i < 100000; ++i) y = add(y, x);  // y = 100001 x
  Variable g = tape.gradient(y, {x})[0];
  CHECK(g.item() == doctest::Approx(100001.f));
  CHECK(tape.size() == 0);
}

TEST_CASE("undefined arguments are reported") {
  Variable x(Tensor{1.f}, true);
  GradientTape tape;
  TF_CHECK_ERROR(tape.gradient(Variable(), {x}), "GradientTape.gradient", "target");
  TF_CHECK_ERROR(tape.watch(Variable()), "GradientTape.watch");
  TF_CHECK_ERROR(Variable().value(), "Variable.value", "undefined");
}

TEST_CASE("Variable basics: shared handle, assign checks the shape") {
  Variable a(Tensor{1.f, 2.f}, true, "a");
  Variable b = a;
  b.assign(Tensor{3.f, 4.f});
  TF_CHECK_CLOSE(a.value(), (Tensor{3.f, 4.f}));
  CHECK(a.is_same(b));
  CHECK(a.id() == b.id());
  CHECK(a.name() == "a");
  CHECK(a.trainable());
  CHECK_FALSE(a.grad().has_value());
  a.set_grad(Tensor{1.f, 1.f});
  CHECK(b.grad().has_value());
  TF_CHECK_ERROR(a.assign(Tensor{1.f}), "Variable.assign", "(2,)", "(1,)");
  TF_CHECK_ERROR(a.item(), "Variable.item");
}

// ---- versions: a backward refuses values modified in place after its op was recorded ------

TEST_CASE("Variable::version counts assign and mutable_value, not reads") {
  Variable w(Tensor{1.f, 2.f}, true, "w");
  CHECK(w.version() == 0);
  (void)w.value();
  (void)w.shape();
  CHECK(w.version() == 0);
  w.assign(Tensor{3.f, 4.f});
  CHECK(w.version() == 1);
  w.mutable_value() *= 2.f;
  CHECK(w.version() == 2);
  Variable same = w;  // a handle shares the counter
  same.assign(Tensor{0.f, 0.f});
  CHECK(w.version() == 3);
}

TEST_CASE("persistent tape: an assign between two gradient calls names the variable and op") {
  Variable w(Tensor{1.f, 2.f}, true, "w");
  GradientTape tape(/*persistent=*/true);
  Variable loss = sum(square(w));
  TF_CHECK_CLOSE(tape.gradient(loss, {w})[0].value(), (Tensor{2.f, 4.f}));
  // An optimizer step: square's backward (2 w) would read the new w and answer 2 * (3, 5),
  // the gradient at a point the recorded forward pass never saw.
  w.assign(Tensor{3.f, 5.f});
  TF_CHECK_ERROR(tape.gradient(loss, {w}), "GradientTape.gradient", "variable 'w'",
                 "input 0 of op 'square'", "modified in place", "version 0 then, 1 now");
  CHECK_THROWS_AS(tape.gradient(loss, {w}), ValueError);
}

TEST_CASE("persistent tape: an in-place update through mutable_value is caught too") {
  Variable w(Tensor{1.f, 2.f}, true, "w");
  Variable x(Tensor{3.f, 4.f});
  GradientTape tape(/*persistent=*/true);
  Variable loss = sum(mul(x, w));
  Tensor g = tape.gradient(loss, {w})[0].value();
  w.mutable_value() -= 0.1f * g;  // what optimizers do
  TF_CHECK_ERROR(tape.gradient(loss, {w}), "variable 'w'", "input 1 of op 'mul'");
}

TEST_CASE("persistent tape: a modified op output that its backward reads is reported") {
  Variable x(Tensor{0.f, 1.f}, true, "x");
  GradientTape tape(/*persistent=*/true);
  Variable y = exp(x);  // exp's backward multiplies by its output y
  Variable loss = sum(y);
  TF_CHECK_CLOSE(tape.gradient(loss, {x})[0].value(), (Tensor{1.f, std::exp(1.f)}));
  y.assign(Tensor{7.f, 7.f});
  TF_CHECK_ERROR(tape.gradient(loss, {x}), "an unnamed variable (id ", "the output of op 'exp'");
}

TEST_CASE("persistent tape: without a modification every gradient call agrees") {
  Variable w(Tensor{1.f, 2.f}, true, "w");
  GradientTape tape(/*persistent=*/true);
  Variable loss = sum(mul(square(w), w));
  for (int i = 0; i < 3; ++i)
    TF_CHECK_CLOSE(tape.gradient(loss, {w})[0].value(), (Tensor{3.f, 12.f}));
}

TEST_CASE("a value modified but not read by the backward is fine") {
  Variable w(Tensor{1.f, 2.f}, true, "w");
  Variable c(Tensor{5.f, 6.f}, true, "c");
  GradientTape tape(/*persistent=*/true);
  // add, sum and reshape need only shapes in their backward.
  Variable loss = sum(reshape(add(w, c), {2, 1}));
  TF_CHECK_CLOSE(tape.gradient(loss, {w, c})[0].value(), (Tensor{1.f, 1.f}));
  w.assign(Tensor{9.f, 9.f});
  c.mutable_value() += 1.f;
  auto g = tape.gradient(loss, {w, c});
  TF_CHECK_CLOSE(g[0].value(), (Tensor{1.f, 1.f}));
  TF_CHECK_CLOSE(g[1].value(), (Tensor{1.f, 1.f}));
}

TEST_CASE("non-persistent tapes: the usual step loop is unaffected") {
  Variable w(Tensor{1.f, -2.f}, true, "w");
  for (int step = 0; step < 3; ++step) {
    GradientTape tape;  // records at the current w, answers once, then w is updated
    Variable loss = sum(square(w));
    Tensor g = tape.gradient(loss, {w})[0].value();
    TF_CHECK_CLOSE(g, Tensor(2.f * w.value()));
    w.assign(Tensor(w.value() - 0.25f * g));
  }
  TF_CHECK_CLOSE(w.value(), (Tensor{0.125f, -0.25f}));  // w * 0.5^3
  CHECK(w.version() == 3);
}

TEST_CASE("the gradient-ready hook reports each gradient once, when it is final") {
  // w is read by three ops (recorded first, second and last), b by one, u by none; the hook must
  // not report w before the walk has passed its first reader, where its last part is added.
  Variable w(Tensor{1.f, 2.f}, true, "w");
  Variable b(Tensor{0.5f, -1.f}, true, "b");
  Variable u(Tensor{3.f}, true, "u");
  GradientTape tape;
  Variable h = mul(w, w);
  Variable k = add(h, b);
  Variable y = sum(mul(k, w));
  std::vector<std::pair<std::size_t, Tensor>> reported;
  tape.set_gradient_ready_hook([&](std::size_t source, const Variable& g) {
    reported.emplace_back(source, g.value());  // a copy of the value at report time
  });
  auto grads = tape.gradient(y, {w, b, u});
  REQUIRE(reported.size() == 2);  // u has no gradient: not reported
  CHECK(reported[0].first == 1);  // b's only reader is walked before w's first one
  CHECK(reported[1].first == 0);
  for (const auto& [source, value] : reported)
    CHECK(tapeflow::test::bit_identical(value, grads[source].value()));
  // d/dw sum((w^2 + b) * w) = 3 w^2 + b
  TF_CHECK_CLOSE(grads[0].value(), (Tensor{3.5f, 11.f}));
  CHECK_FALSE(grads[2].defined());
}
