// The profiler: scopes' self times, merged scopes, the tape's attribution of op backwards to the
// scope that recorded them, and nothing timed while it is off.
#include <chrono>
#include <thread>

#include "tapeflow/framework/core/profile.hpp"
#include "test_util.hpp"

using namespace tapeflow;

namespace {

const profile::Row* find_row(const std::vector<profile::Row>& rows, const std::string& label) {
  for (const auto& r : rows)
    if (r.label == label) return &r;
  return nullptr;
}

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// Stops profiling when a test ends, whatever it checked.
struct Profiling {
  Profiling() { profile::enable(); }
  ~Profiling() { profile::disable(); }
};

}  // namespace

TEST_CASE("profile: a scope's time excludes the scopes inside it, one of the same label merges") {
  Profiling on;
  {
    profile::Scope outer([] { return "test outer"; });
    sleep_ms(2);
    {
      profile::Scope inner([] { return "test inner"; });
      sleep_ms(40);
      profile::Scope same([] { return "test inner"; });  // merged: not a call of its own
    }
  }
  const auto rows = profile::rows();
  const profile::Row* outer = find_row(rows, "test outer");
  const profile::Row* inner = find_row(rows, "test inner");
  REQUIRE(outer);
  REQUIRE(inner);
  CHECK(outer->forward_calls == 1);
  CHECK(inner->forward_calls == 1);
  CHECK(inner->forward_ms >= 39.0);
  // The outer scope's own 2 ms, not the inner's 40.
  CHECK(outer->forward_ms < 30.0);
  CHECK(outer->backward_ops == 0);
  // The largest total first.
  CHECK(rows.front().label == "test inner");
  const std::string table = profile::summary();
  CHECK(table.find("test inner") != std::string::npos);
  CHECK(table.find("forward ms") != std::string::npos);
}

TEST_CASE("profile: op backwards go to the scope that recorded them, or to the op's name") {
  Profiling on;
  Variable w(Tensor(xt::ones<float>({64})), /*trainable=*/true);
  GradientTape tape;
  Variable y;
  {
    profile::Scope scope([] { return "test layer"; });
    y = mul(w, w);  // recorded under "test layer"
  }
  Variable loss = sum(y);  // recorded outside any scope
  auto grads = tape.gradient(loss, {w});
  CHECK(grads[0].value()(0) == doctest::Approx(2.0));
  const auto rows = profile::rows();
  const profile::Row* layer = find_row(rows, "test layer");
  REQUIRE(layer);
  CHECK(layer->forward_calls == 1);
  CHECK(layer->backward_ops == 1);
  const profile::Row* sum_op = find_row(rows, "op sum");
  REQUIRE(sum_op);
  CHECK(sum_op->backward_ops == 1);
  CHECK(sum_op->forward_calls == 0);
  const profile::Row* walk = find_row(rows, "GradientTape (walk)");
  REQUIRE(walk);
  CHECK(walk->backward_ops == 1);  // one gradient call
}

TEST_CASE("profile: nothing is timed while it is off, and enable starts from zero") {
  {
    Profiling on;
    profile::Scope scope([] { return "test earlier"; });
  }
  CHECK(find_row(profile::rows(), "test earlier"));
  bool labelled = false;
  {
    profile::Scope scope([&] {
      labelled = true;
      return "test off";
    });
    CHECK(profile::current_label() == -1);
  }
  CHECK_FALSE(labelled);  // the label is not even made
  CHECK_FALSE(find_row(profile::rows(), "test off"));
  Profiling on;
  CHECK_FALSE(find_row(profile::rows(), "test earlier"));
}
