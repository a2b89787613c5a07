#include <cmath>
#include <xtensor/xmath.hpp>
#include <xtensor/xreducer.hpp>

#include "tapeflow/framework/runtime/random.hpp"
#include "test_util.hpp"

using namespace tapeflow;

TEST_CASE("RandomGenerator: fixed stream per seed, sane distributions") {
  RandomGenerator a(5), b(5), c(6);
  for (int i = 0; i < 10; ++i) CHECK(a.next_u64() == b.next_u64());
  CHECK(RandomGenerator(5).next_u64() != c.next_u64());
  RandomGenerator g(1);
  double sum = 0, sq = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    double u = g.uniform01();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    float z = g.normal(0.f, 1.f);
    sum += z;
    sq += z * z;
    float t = g.truncated_normal(1.f, 0.5f);
    REQUIRE(std::abs(t - 1.f) <= 1.f);
    float v = g.uniform(-2.f, 3.f);
    REQUIRE(v >= -2.f);
    REQUIRE(v < 3.f);
  }
  CHECK(std::abs(sum / n) < 0.015);
  CHECK(sq / n == doctest::Approx(1.0).epsilon(0.02));
}

TEST_CASE("random tensors follow the global and op seeds") {
  set_random_seed(10);
  Tensor a = random::normal({3, 4});
  Tensor b = random::normal({3, 4});
  CHECK_FALSE(test::allclose(a, b));
  set_random_seed(10);
  TF_CHECK_CLOSE(random::normal({3, 4}), a, 0.f, 0.f);
  TF_CHECK_CLOSE(random::normal({3, 4}), b, 0.f, 0.f);
  CHECK(get_random_seed() == std::optional<std::uint64_t>(10));
  TF_CHECK_CLOSE(random::uniform({5}, 0.f, 1.f, 3), random::uniform({5}, 0.f, 1.f, 3), 0.f, 0.f);
  Tensor t = random::truncated_normal({1000}, 0.f, 2.f, 1);
  CHECK(xt::amax(xt::abs(t))() <= 4.f);
  CHECK(shape_of(random::uniform({})).empty());
  TF_CHECK_ERROR(random::uniform({2}, 1.f, 0.f), "random::uniform", "minval");
  TF_CHECK_ERROR(random::normal({2}, 0.f, -1.f), "random::normal", "stddev");
  TF_CHECK_ERROR(random::truncated_normal({2}, 0.f, -1.f), "random::truncated_normal", "stddev");
}

TEST_CASE("RandomGenerator state: a restored stream continues exactly where it was taken") {
  RandomGenerator g(17);
  for (int i = 0; i < 5; ++i) g.uniform01();
  g.normal(0.f, 1.f);  // leaves the second Box-Muller value cached
  const std::string s = g.state();
  std::vector<float> expected;
  for (int i = 0; i < 4; ++i) expected.push_back(g.normal(0.f, 1.f));
  for (int i = 0; i < 4; ++i) expected.push_back(g.uniform(-1.f, 1.f));

  RandomGenerator h(99);  // another stream, overwritten by the state
  h.set_state(s);
  for (int i = 0; i < 4; ++i) CHECK(h.normal(0.f, 1.f) == expected[i]);
  for (int i = 0; i < 4; ++i) CHECK(h.uniform(-1.f, 1.f) == expected[4 + i]);

  TF_CHECK_ERROR(h.set_state("not a state"), "set_state", "not a random generator state");
  TF_CHECK_ERROR(h.set_state(s + " 5"), "set_state");
  TF_CHECK_ERROR(h.set_state(s.substr(0, s.size() / 2)), "set_state");
}

TEST_CASE("get/set_random_state: the op-seed counter decides the next unseeded draws") {
  set_random_seed(21);
  random::normal({2});
  RandomState saved = get_random_state();
  CHECK(saved.global_seed == std::optional<std::uint64_t>(21));
  CHECK(saved.op_counter == 1);
  Tensor next = random::normal({3});
  set_random_seed(4);  // moves both the seed and the counter elsewhere
  random::normal({3});
  set_random_state(saved);
  Tensor again = random::normal({3});
  CHECK(again == next);
  set_random_seed(21);  // the seed alone restarts the counter: the first draw, not the second
  CHECK(random::normal({3}) != next);
  clear_random_seed();
  CHECK_FALSE(get_random_state().global_seed.has_value());
}
