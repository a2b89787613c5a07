#include <cmath>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xmanipulation.hpp>

#include "tapeflow/framework/nn/initializers.hpp"
#include "test_util.hpp"

using namespace tapeflow;
namespace I = tapeflow::initializers;

namespace {
struct Stats {
  double mean = 0, std = 0, min = 0, max = 0;
};
Stats stats(const Tensor& t) {
  Stats s;
  s.min = s.max = t.data()[0];
  for (float v : t) {
    s.mean += v;
    s.min = std::min<double>(s.min, v);
    s.max = std::max<double>(s.max, v);
  }
  s.mean /= static_cast<double>(t.size());
  for (float v : t) s.std += (v - s.mean) * (v - s.mean);
  s.std = std::sqrt(s.std / static_cast<double>(t.size()));
  return s;
}
// A 5-D transpose-conv kernel (kd, kh, kw, filters, in): receptive 27, fan_in 1728, fan_out 864.
const Shape kKernel{3, 3, 3, 64, 32};
constexpr double kFanIn = 27 * 64, kFanOut = 27 * 32;
}  // namespace

TEST_CASE("compute_fans follows Keras for 0-D to 5-D shapes") {
  auto f = I::compute_fans({3, 3, 3, 8, 4});  // DESIGN.md: fan_in = 8*27, fan_out = 4*27
  CHECK(f.fan_in == 216);
  CHECK(f.fan_out == 108);
  f = I::compute_fans({5, 7});
  CHECK(f.fan_in == 5);
  CHECK(f.fan_out == 7);
  f = I::compute_fans({9});
  CHECK(f.fan_in == 9);
  CHECK(f.fan_out == 9);
  f = I::compute_fans({});
  CHECK(f.fan_in == 1);
  CHECK(f.fan_out == 1);
  f = I::compute_fans({2, 6, 10});  // conv1d kernel: receptive 2
  CHECK(f.fan_in == 12);
  CHECK(f.fan_out == 20);
}

TEST_CASE("zeros, ones, constant") {
  TF_CHECK_CLOSE(I::zeros()({2, 3}), Tensor(xt::zeros<float>({2, 3})));
  TF_CHECK_CLOSE(I::ones()({4}), (Tensor{1.f, 1.f, 1.f, 1.f}));
  TF_CHECK_CLOSE(I::constant(0.5f)({2}), (Tensor{0.5f, 0.5f}));
  CHECK(I::constant(0.5f).get_config().at("value") == "0.5");
  TF_CHECK_CLOSE(Initializer("zeros")({}), Tensor(0.f));
  TF_CHECK_ERROR(I::constant(NAN), "initializers::constant", "value");
}

TEST_CASE("random_uniform, random_normal, truncated_normal statistics and defaults") {
  set_random_seed(1);
  Stats u = stats(I::random_uniform()({200, 500}));  // default +-0.05
  CHECK(u.min >= -0.05);
  CHECK(u.max < 0.05);
  CHECK(u.min < -0.0499);
  CHECK(u.max > 0.0499);
  CHECK(std::abs(u.mean) < 5e-4);
  CHECK(u.std == doctest::Approx(0.1 / std::sqrt(12.0)).epsilon(0.01));

  Stats n = stats(I::random_normal(1.f, 2.f)({200, 500}));
  CHECK(n.mean == doctest::Approx(1.0).epsilon(0.02));
  CHECK(n.std == doctest::Approx(2.0).epsilon(0.01));
  CHECK(n.max > 1 + 2 * 4.0);  // tails beyond 2 sigma exist for the untruncated one

  Stats d = stats(I::random_normal()({200, 500}));  // default stddev 0.05
  CHECK(d.std == doctest::Approx(0.05).epsilon(0.01));

  Stats t = stats(I::truncated_normal(0.f, 1.f)({200, 500}));
  CHECK(t.min >= -2.0);
  CHECK(t.max <= 2.0);
  CHECK(t.max > 1.99);
  CHECK(std::abs(t.mean) < 0.01);
  CHECK(t.std == doctest::Approx(0.87962566103423978).epsilon(0.01));  // unit normal cut at +-2
  Stats td = stats(I::truncated_normal()({100, 100}));
  CHECK(td.max <= 0.1);

  TF_CHECK_ERROR(I::random_uniform(1.f, 1.f), "random_uniform", "minval", "maxval");
  TF_CHECK_ERROR(I::random_normal(0.f, -1.f), "random_normal", "stddev");
  TF_CHECK_ERROR(I::truncated_normal(0.f, -1.f), "truncated_normal", "stddev");
}

TEST_CASE("glorot/he/lecun uniform: limits from the fans of a 5-D kernel") {
  set_random_seed(2);
  struct Case {
    Initializer init;
    double limit;
  };
  for (const Case& c : {Case{I::glorot_uniform(), std::sqrt(6 / (kFanIn + kFanOut))},
                        Case{I::he_uniform(), std::sqrt(6 / kFanIn)},
                        Case{I::lecun_uniform(), std::sqrt(3 / kFanIn)}}) {
    const Initializer& init = c.init;
    const double limit = c.limit;
    CAPTURE(init.name());
    Tensor w = init(kKernel);
    CHECK(shape_of(w) == kKernel);
    Stats s = stats(w);
    CHECK(s.min >= -limit);
    CHECK(s.max <= limit);
    CHECK(s.max > 0.99 * limit);
    CHECK(std::abs(s.mean) < 0.01 * limit);
    CHECK(s.std == doctest::Approx(limit / std::sqrt(3.0)).epsilon(0.015));
  }
  // DESIGN.md's example kernel (3,3,3,8,4): limit sqrt(6 / (216 + 108)).
  Stats s = stats(I::glorot_uniform()({3, 3, 3, 8, 4}));
  CHECK(s.max <= std::sqrt(6.0 / 324));
  CHECK(s.max > 0.9 * std::sqrt(6.0 / 324));
}

TEST_CASE("glorot/he/lecun normal: truncated, variance corrected to scale / fan") {
  set_random_seed(3);
  struct Case {
    Initializer init;
    double stddev;  // of the result, after Keras' truncation correction
  };
  for (const Case& c : {Case{I::glorot_normal(), std::sqrt(2 / (kFanIn + kFanOut))},
                        Case{I::he_normal(), std::sqrt(2 / kFanIn)},
                        Case{I::lecun_normal(), std::sqrt(1 / kFanIn)}}) {
    const Initializer& init = c.init;
    const double sd = c.stddev;
    CAPTURE(init.name());
    Stats s = stats(init(kKernel));
    CHECK(s.std == doctest::Approx(sd).epsilon(0.015));
    double cut = 2 * sd / 0.87962566103423978;  // 2 stddev of the pre-truncation normal
    CHECK(s.max <= cut * (1 + 1e-6));
    CHECK(s.min >= -cut * (1 + 1e-6));
    CHECK(s.max > 0.98 * cut);
  }
}

TEST_CASE("variance_scaling: modes and distributions") {
  set_random_seed(4);
  Stats a = stats(I::variance_scaling(2.f, "fan_out", "untruncated_normal")(kKernel));
  CHECK(a.std == doctest::Approx(std::sqrt(2 / kFanOut)).epsilon(0.015));
  CHECK(a.max > 3 * std::sqrt(2 / kFanOut));  // not truncated
  Stats b = stats(I::variance_scaling(3.f, "fan_avg", "uniform")(kKernel));
  double limit = std::sqrt(3 * 3 / ((kFanIn + kFanOut) / 2));
  CHECK(b.max <= limit);
  CHECK(b.max > 0.99 * limit);
  Stats c = stats(I::variance_scaling(1.f, "fan_in", "normal")(kKernel));  // normal = truncated
  CHECK(c.std == doctest::Approx(std::sqrt(1 / kFanIn)).epsilon(0.015));
  CHECK(c.max <= 2 * std::sqrt(1 / kFanIn) / 0.87962566103423978 * (1 + 1e-6));
  // Small fans are clamped to 1: scale / max(1, n).
  Stats d = stats(I::variance_scaling(0.25f, "fan_in", "uniform")({100000}));
  CHECK(d.max <= std::sqrt(3 * 0.25 / 100000));
  Stats e = stats(I::variance_scaling(0.25f, "fan_in", "uniform")({}));
  CHECK(e.max <= std::sqrt(3 * 0.25));

  auto vs = I::variance_scaling(2.f, "fan_out", "uniform", 9);
  CHECK(vs.get_config() ==
        Config{{"scale", "2"}, {"mode", "fan_out"}, {"distribution", "uniform"}, {"seed", "9"}});
  TF_CHECK_ERROR(I::variance_scaling(0.f), "variance_scaling", "scale");
  TF_CHECK_ERROR(I::variance_scaling(1.f, "fan_sum"), "variance_scaling", "mode", "fan_sum");
  TF_CHECK_ERROR(I::variance_scaling(1.f, "fan_in", "cauchy"), "variance_scaling", "distribution",
                 "cauchy");
}

TEST_CASE("orthogonal: W^T W = gain^2 I, for tall, wide and N-D shapes") {
  set_random_seed(5);
  // w^T w for a 2-D w.
  auto gram = [](const Tensor& w) {
    std::size_t r = w.shape()[0], c = w.shape()[1];
    Tensor g = xt::zeros<float>({c, c});
    for (std::size_t i = 0; i < c; ++i)
      for (std::size_t j = 0; j < c; ++j)
        for (std::size_t k = 0; k < r; ++k) g(i, j) += w(k, i) * w(k, j);
    return g;
  };
  auto transposed = [](const Tensor& w) { return Tensor(xt::transpose(w)); };
  Tensor tall = I::orthogonal()({50, 30});
  TF_CHECK_CLOSE(gram(tall), Tensor(xt::eye<float>(30)), 1e-5f, 0.f);
  Tensor wide = I::orthogonal(2.f)({30, 50});
  TF_CHECK_CLOSE(gram(transposed(wide)), Tensor(4.f * xt::eye<float>(30)), 1e-4f, 0.f);
  Tensor k = I::orthogonal()({3, 3, 4, 8});  // rows = 36, cols = 8
  CHECK(shape_of(k) == Shape{3, 3, 4, 8});
  Tensor flat = k;
  flat.reshape({36, 8});
  TF_CHECK_CLOSE(gram(flat), Tensor(xt::eye<float>(8)), 1e-5f, 0.f);
  // Not a permutation or a fixed matrix: the entries look random.
  CHECK(stats(tall).std > 0.05);
  TF_CHECK_ERROR(I::orthogonal()({5}), "orthogonal", "(5,)");
}

TEST_CASE("identity") {
  TF_CHECK_CLOSE(I::identity(2.f)({2, 3}), (Tensor{{2.f, 0.f, 0.f}, {0.f, 2.f, 0.f}}));
  TF_CHECK_CLOSE(Initializer("identity")({2, 2}), Tensor(xt::eye<float>(2)));
  TF_CHECK_ERROR(I::identity()({2, 2, 2}), "identity", "(2, 2, 2)");
}

TEST_CASE("reproducible from the global seed and the op seed") {
  const Shape s{4, 5};
  set_random_seed(42);
  Tensor a1 = I::glorot_uniform()(s), a2 = I::glorot_uniform()(s);
  CHECK_FALSE(test::allclose(a1, a2));  // successive ops draw new op seeds
  set_random_seed(42);
  Tensor b1 = I::glorot_uniform()(s), b2 = I::glorot_uniform()(s);
  TF_CHECK_CLOSE(a1, b1, 0.f, 0.f);
  TF_CHECK_CLOSE(a2, b2, 0.f, 0.f);
  set_random_seed(43);
  CHECK_FALSE(test::allclose(I::glorot_uniform()(s), a1));

  // An op seed gives the same values at every call, and depends on the global seed.
  auto seeded = I::he_normal(7);
  Tensor c1 = seeded(s);
  TF_CHECK_CLOSE(seeded(s), c1, 0.f, 0.f);
  TF_CHECK_CLOSE(I::he_normal(7)(s), c1, 0.f, 0.f);
  CHECK_FALSE(test::allclose(I::he_normal(8)(s), c1));
  set_random_seed(44);
  CHECK_FALSE(test::allclose(I::he_normal(7)(s), c1));

  // Op seed alone: reproducible too (TF's default global seed).
  clear_random_seed();
  CHECK_FALSE(get_random_seed().has_value());
  Tensor d1 = I::random_uniform(-1.f, 1.f, 3)(s);
  TF_CHECK_CLOSE(I::random_uniform(-1.f, 1.f, 3)(s), d1, 0.f, 0.f);
  // Neither: nondeterministic.
  CHECK_FALSE(test::allclose(I::random_uniform()(s), I::random_uniform()(s)));
  set_random_seed(0);
}

TEST_CASE("by name, by object, by callable, configs round-trip") {
  Initializer a = "glorot_uniform";
  CHECK(a.name() == "glorot_uniform");
  CHECK(Initializer("GlorotUniform").name() == "glorot_uniform");
  CHECK(Initializer("HeNormal").name() == "he_normal");
  CHECK(Initializer("uniform").name() == "random_uniform");
  CHECK(Initializer("normal").name() == "random_normal");
  CHECK(Initializer("zero").name() == "zeros");
  CHECK(Initializer(std::string("ones")).name() == "ones");
  CHECK(I::get("TruncatedNormal").get_config() ==
        Config{{"mean", "0"}, {"stddev", "0.05"}, {"seed", "None"}});
  TF_CHECK_ERROR(Initializer("glorot_unifrom"), "initializer", "glorot_unifrom");
  CHECK_FALSE(Initializer().defined());
  TF_CHECK_ERROR(Initializer()({2}), "initializer", "undefined");

  Initializer c = [](const Shape& s) {
    Tensor t = xt::ones<float>(s);
    t *= 3.f;
    return t;
  };
  CHECK(c.name() == "custom");
  TF_CHECK_CLOSE(c({2}), (Tensor{3.f, 3.f}));
  Initializer bad = [](const Shape&) { return Tensor(xt::zeros<float>({3})); };
  TF_CHECK_ERROR(bad({2, 2}), "initializer", "custom", "(3,)", "(2, 2)");
  TF_CHECK_ERROR(Initializer::from_config("custom", {}), "initializer", "custom");

  auto n = I::random_normal(1.f, 2.f, 7);
  CHECK(n.get_config() == Config{{"mean", "1"}, {"stddev", "2"}, {"seed", "7"}});
  CHECK(n.repr() == "random_normal(mean=1, seed=7, stddev=2)");
  auto back = Initializer::from_config(n.name(), n.get_config());
  TF_CHECK_CLOSE(back({3, 3}), n({3, 3}), 0.f, 0.f);
  auto o = Initializer::from_config("orthogonal", I::orthogonal(0.5f, 1).get_config());
  TF_CHECK_CLOSE(o({4, 4}), I::orthogonal(0.5f, 1)({4, 4}), 0.f, 0.f);
  TF_CHECK_ERROR(Initializer::from_config("constant", {{"value", "abc"}}), "constant", "value",
                 "abc");
}

TEST_CASE(
    "every Keras 3 initializer name and alias resolves (keras/src/initializers ALL_OBJECTS)") {
  // Each class name, its snake_case form, and Keras 3's aliases.
  const std::pair<const char*, const char*> names[] = {
      {"Constant", "constant"},
      {"Identity", "identity"},
      {"IdentityInitializer", "identity"},
      {"Ones", "ones"},
      {"one", "ones"},
      {"Zeros", "zeros"},
      {"zero", "zeros"},
      {"GlorotNormal", "glorot_normal"},
      {"GlorotUniform", "glorot_uniform"},
      {"HeNormal", "he_normal"},
      {"HeUniform", "he_uniform"},
      {"LecunNormal", "lecun_normal"},
      {"LecunUniform", "lecun_uniform"},
      {"Orthogonal", "orthogonal"},
      {"OrthogonalInitializer", "orthogonal"},
      {"RandomNormal", "random_normal"},
      {"normal", "random_normal"},
      {"RandomUniform", "random_uniform"},
      {"uniform", "random_uniform"},
      {"TruncatedNormal", "truncated_normal"},
      {"VarianceScaling", "variance_scaling"},
  };
  for (const auto& entry : names) {
    const char *name = entry.first, *canonical = entry.second;  // not bound: see test_util.hpp
    CAPTURE(std::string(name));
    CHECK(Initializer(name).name() == canonical);
    CHECK(Initializer(std::string(canonical)).name() == canonical);
  }
  TF_CHECK_CLOSE(Initializer("IdentityInitializer")({2, 2}), (Tensor{{1.f, 0.f}, {0.f, 1.f}}));
}
