#include <cmath>

#include <xtensor/xmath.hpp>
#include <xtensor/xreducer.hpp>

#include "framework/random.hpp"
#include "tests/test_util.hpp"

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
