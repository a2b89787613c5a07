// enable_check_numerics: the first op (forward or backward, recorded or not) whose output holds
// a NaN or an infinity raises, naming the op and its inputs' shapes.
#include <cmath>
#include <limits>

#include "tapeflow/framework/core/check_numerics.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/framework/ops/pooling.hpp"
#include "test_util.hpp"

using namespace tapeflow;

namespace {
// On for one scope, off again even when a check fails (the setting is process-wide).
struct CheckNumericsOn {
  CheckNumericsOn() { enable_check_numerics(); }
  ~CheckNumericsOn() { disable_check_numerics(); }
  CheckNumericsOn(const CheckNumericsOn&) = delete;
  CheckNumericsOn& operator=(const CheckNumericsOn&) = delete;
};

const float kInf = std::numeric_limits<float>::infinity();
}  // namespace

TEST_CASE("check_numerics: off by default, a NaN flows on silently") {
  CHECK_FALSE(check_numerics_enabled());
  Variable y = log(Variable(Tensor{1.f, -1.f}));
  CHECK(std::isnan(y.value()(1)));
}

TEST_CASE("check_numerics: an op with a NaN output raises, naming the op and its input shapes") {
  CheckNumericsOn on;
  CHECK(check_numerics_enabled());
  // No tape: the op is not recorded, and is still checked.
  Variable x(Tensor{1.f, -1.f});
  TF_CHECK_ERROR(log(x), "log: check_numerics", "shape (2,)", "1 NaN and 0 infinities",
                 "element 1 (nan)", "the input has shape (2,)");
  CHECK_THROWS_AS(log(x), ValueError);
  // Both inputs' shapes, and infinities counted.
  Variable ones(Tensor(xt::ones<float>({2, 3})));
  Variable zeros(Tensor(xt::zeros<float>({3})));
  TF_CHECK_ERROR(div(ones, zeros), "div: check_numerics", "0 NaN and 6 infinities among 6",
                 "element 0 (index (0, 0)) (inf)", "the inputs have shapes (2, 3) and (3,)");
  // After an error, finite ops run normally.
  TF_CHECK_CLOSE(log(Variable(Tensor{1.f})).value(), Tensor{0.f});
}

TEST_CASE("check_numerics: the first op that goes wrong is the one named") {
  CheckNumericsOn on;
  Variable x(Tensor{-1.f, 4.f});
  // sqrt makes the NaN; the mul after it never runs.
  TF_CHECK_ERROR(mul(sqrt(x), scalar(2.f)), "sqrt: check_numerics");
  // Finite outputs pass: ops of several files, with and without a tape.
  Variable w(Tensor{1.f, 2.f}, true, "w");
  GradientTape tape;
  Variable loss = sum(square(max(reshape(mul(w, x), {1, 2, 1}), {1})));
  TF_CHECK_CLOSE(tape.gradient(loss, {w})[0].value(), (Tensor{0.f, 64.f}));
}

TEST_CASE("check_numerics: ops outside ops_core and ops_math are covered, unrecorded too") {
  CheckNumericsOn on;
  Variable a(Tensor{{1.f, kInf}});
  Variable b(Tensor(xt::ones<float>({2, 2})));
  TF_CHECK_ERROR(matmul(a, b), "matmul: check_numerics",
                 "the inputs have shapes (1, 2) and (2, 2)");
  Tensor p{1.f, kInf};
  p.reshape({1, 2, 1});
  TF_CHECK_ERROR(max_pool(Variable(p), PoolOptions(2)), "max_pool: check_numerics",
                 "the input has shape (1, 2, 1)");
}

TEST_CASE("check_numerics: a recorded op and the ops of the backward pass are checked") {
  CheckNumericsOn on;
  {
    Variable w(Tensor{-1.f, 1.f}, true, "w");
    GradientTape tape;
    TF_CHECK_ERROR(log(w), "log: check_numerics");
  }
  {
    // sqrt(0) = 0 is fine; its gradient 0.5 / sqrt(0) is not: the backward's div is named.
    Variable w(Tensor{0.f, 1.f}, true, "w");
    GradientTape tape;
    Variable loss = sum(sqrt(w));
    TF_CHECK_ERROR(tape.gradient(loss, {w}), "div: check_numerics", "1 infinity");
  }
  {
    // Two finite gradients of one value whose sum overflows: the tape's own sum is checked.
    Variable x(Tensor{1e-30f}, true, "x");
    Variable c(Tensor{2e38f});  // each use's gradient is c; two of them overflow
    GradientTape tape;
    Variable loss = add(sum(mul(x, c)), sum(mul(x, c)));
    TF_CHECK_ERROR(tape.gradient(loss, {x}), "accumulate_gradients: check_numerics",
                   "the inputs have shapes (1,) and (1,)");
  }
}

TEST_CASE("check_numerics: disable_check_numerics turns it off") {
  {
    CheckNumericsOn on;
    TF_CHECK_ERROR(log(Variable(Tensor{-1.f})), "log: check_numerics");
  }
  CHECK_FALSE(check_numerics_enabled());
  CHECK(std::isnan(log(Variable(Tensor{-1.f})).value()(0)));
}

TEST_CASE("check_numerics: an output whose op never records is still reported") {
  CheckNumericsOn on;
  // detail::result without the record that every op makes after it: the next op reports it by
  // the C++ function that built it.
  Variable bad = detail::result(Tensor{std::nanf("")});
  TF_CHECK_ERROR(detail::result(Tensor{1.f}), "check_numerics: an op built in ",
                 "did not record itself", "1 NaN");
  TF_CHECK_CLOSE(detail::result(Tensor{1.f}).value(), Tensor{1.f});
}
