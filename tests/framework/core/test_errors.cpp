#include <doctest/doctest.h>

#include <string>

#include "tapeflow/framework/core/errors.hpp"
#include "tapeflow/framework/ops/ops.hpp"

namespace tf = tapeflow;

namespace {
// The message of what `f` throws as E (fails the test when it throws nothing or another type).
template <class E, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  FAIL("nothing of the expected type was thrown");
  return {};
}
}  // namespace

TEST_CASE("Errors: each kind is its own type under tapeflow::Error") {
  CHECK_THROWS_AS(tf::fail("op", "bad"), tf::ValueError);
  CHECK_THROWS_AS(tf::fail_shape("op", "bad"), tf::ShapeError);
  CHECK_THROWS_AS(tf::fail_file("op", "bad"), tf::FileError);
  CHECK_THROWS_AS(tf::fail_file("op", "bad"), tf::Error);
  CHECK_THROWS_AS(tf::fail_shape("op", "bad"), std::invalid_argument);  // as before the split
  CHECK(message_of<tf::ShapeError>([] { tf::fail_shape("reshape", "no"); }) == "reshape: no");
  // The kinds do not catch each other.
  CHECK(message_of<tf::Error>([] {
          try {
            tf::fail_file("load", "corrupt");
          } catch (const tf::ShapeError&) {
            FAIL("a FileError was caught as a ShapeError");
          }
        }) == "load: corrupt");
}

TEST_CASE("Errors: ops report bad shapes as ShapeError and bad values as ValueError") {
  tf::Variable x(tf::Tensor(xt::ones<float>({2, 3})));
  CHECK_THROWS_AS(tf::reshape(x, {7}), tf::ShapeError);
  CHECK_THROWS_AS(tf::matmul(x, x), tf::ShapeError);
  CHECK_THROWS_AS(tf::reshape(x, {-1, -1}), tf::ValueError);
}

TEST_CASE("TAPEFLOW_CHECK builds its message only when the check fails") {
  int built = 0;
  auto part = [&] {
    ++built;
    return "x";
  };
  TAPEFLOW_CHECK(1 + 1 == 2, tf::ValueError, "op", "never ", part());
  CHECK(built == 0);
  CHECK(message_of<tf::ValueError>([&] {
          TAPEFLOW_CHECK(1 + 1 == 3, tf::ValueError, "dense", "units must be positive, got ", -2);
        }) == "dense: units must be positive, got -2");
  CHECK_THROWS_AS(TAPEFLOW_CHECK(false, tf::ShapeError, "op", part()), tf::ShapeError);
  CHECK(built == 1);
}

TEST_CASE("rethrow_in adds context once and keeps the type") {
  auto rethrown = [](auto raise, const std::string& context) {
    try {
      raise();
    } catch (const tf::Error& e) {
      e.rethrow_in(context);
    }
    return std::string();
  };
  // No repeated component: "activation: ..." caught by "dense: activation".
  CHECK(message_of<tf::ValueError>([&] {
          rethrown([] { tf::fail("activation", "unknown activation 'nope'"); },
                   "dense: activation");
        }) == "dense: activation: unknown activation 'nope'");
  // The whole context already there: nothing added.
  CHECK(message_of<tf::FileError>([&] {
          rethrown([] { tf::fail_file("load", "cannot open 'p'"); }, "load");
        }) == "load: cannot open 'p'");
  // Unrelated context: put in front; the type survives.
  CHECK(message_of<tf::ShapeError>([&] {
          rethrown([] { tf::fail_shape("conv", "x has rank 2"); }, "conv3d_transpose");
        }) == "conv3d_transpose: conv: x has rank 2");
  // A component equal only by prefix is not dropped ("act" is not "activation").
  CHECK(message_of<tf::ValueError>([&] {
          rethrown([] { tf::fail("activation", "x"); }, "dense: act");
        }) == "dense: act: activation: x");
}
