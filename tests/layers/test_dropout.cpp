#include <cmath>

#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/dropout.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;

namespace {
std::size_t count_zeros(const Tensor& t) {
  std::size_t n = 0;
  for (float v : t) n += v == 0.f;
  return n;
}
}  // namespace

TEST_CASE("Dropout: inference mode and rate 0 are the identity") {
  reset_default_graph();
  Dropout d(DropoutOptions(0.5f));
  CHECK(d.name() == "dropout");
  Tensor x = random_tensor({3, 4});
  TF_CHECK_CLOSE(d(Variable(x)).value(), x);
  TF_CHECK_CLOSE(d(Variable(x), false).value(), x);
  Dropout z(DropoutOptions(0.f));
  TF_CHECK_CLOSE(z(Variable(x), true).value(), x);
  CHECK(d.variables().empty());
}

TEST_CASE("Dropout: training drops about `rate` of the inputs and scales the rest") {
  reset_default_graph();
  set_random_seed(11);
  Dropout d(DropoutOptions(0.25f));
  Tensor x = xt::ones<float>({100, 100});
  Tensor y = d(Variable(x), true).value();
  CHECK(y.shape() == x.shape());
  std::size_t zeros = count_zeros(y);
  CHECK(zeros > 2250);  // 2500 expected; binomial stddev ~43
  CHECK(zeros < 2750);
  for (float v : y) CHECK((v == 0.f || v == doctest::Approx(1.f / 0.75f)));
  clear_random_seed();
}

TEST_CASE("Dropout: reproducible from the global seed and the layer seed") {
  reset_default_graph();
  Tensor x = xt::ones<float>({4, 8});
  auto run = [&](std::uint64_t global, Seed seed) {
    set_random_seed(global);
    Dropout d(DropoutOptions(0.5f).seed(seed));
    Tensor a = d(Variable(x), true).value();
    Tensor b = d(Variable(x), true).value();
    return std::make_pair(a, b);
  };
  auto [a1, b1] = run(1, 7);
  auto [a2, b2] = run(1, 7);
  CHECK(a1 == a2);
  CHECK(b1 == b2);
  CHECK(a1 != b1);  // each call draws a new mask
  auto [a3, b3] = run(1, 8);
  CHECK(a3 != a1);  // another layer seed
  auto [a4, b4] = run(2, 7);
  CHECK(a4 != a1);  // another global seed
  auto [a5, b5] = run(1, std::nullopt);
  auto [a6, b6] = run(1, std::nullopt);
  CHECK(a5 == a6);  // the global seed alone is enough
  clear_random_seed();
}

TEST_CASE("Dropout: noise_shape shares the mask along axes of size 1") {
  reset_default_graph();
  set_random_seed(3);
  Dropout d(DropoutOptions(0.5f).noise_shape({-1, 1, -1}));
  Tensor y = d(Variable(Tensor(xt::ones<float>({4, 5, 6}))), true).value();
  for (std::size_t b = 0; b < 4; ++b)
    for (std::size_t c = 0; c < 6; ++c)
      for (std::size_t t = 1; t < 5; ++t) CHECK(y(b, t, c) == y(b, 0, c));
  CHECK(count_zeros(y) > 0);
  CHECK(count_zeros(y) < y.size());
  clear_random_seed();
}

TEST_CASE("Dropout: gradient is the mask times the scale, gradcheck") {
  reset_default_graph();
  set_random_seed(5);
  Dropout d(DropoutOptions(0.4f).seed(1));
  Variable x(Tensor(xt::ones<float>({3, 4})), true, "x");
  GradientTape tape;
  Variable y = d(x, true);
  auto g = tape.gradient(sum(y), {x});
  TF_CHECK_CLOSE(g[0].value(), y.value());  // x = 1, so y is the scaled mask
  // A fresh layer with the same seeds per evaluation gives the same mask every time.
  Tensor xv = random_tensor({2, 3, 2});
  TF_GRADCHECK(
      [&](const std::vector<Variable>& in) {
        set_random_seed(5);
        Dropout fresh(DropoutOptions(0.4f).seed(1));
        return fresh(in[0], true);
      },
      {xv});
  clear_random_seed();
}

TEST_CASE("Dropout: bad input errors") {
  reset_default_graph();
  TF_CHECK_ERROR(Dropout(DropoutOptions(1.f)), "dropout", "rate", "[0, 1)", "1");
  TF_CHECK_ERROR(Dropout(DropoutOptions(-0.1f)), "dropout", "rate", "-0.1");
  TF_CHECK_ERROR(Dropout(DropoutOptions(0.5f).noise_shape({-2, 1})), "dropout", "noise_shape");
  Dropout d(DropoutOptions(0.5f).noise_shape({-1, 2}));
  TF_CHECK_ERROR(d(Variable(random_tensor({3, 4})), true), "dropout", "noise_shape", "(-1, 2)",
                 "(3, 4)");
  TF_CHECK_ERROR(d(Variable(random_tensor({3, 4, 2})), true), "dropout", "noise_shape", "rank");
}

TEST_CASE("Dropout: config and pretty_print") {
  reset_default_graph();
  Dropout d(DropoutOptions(0.5f).noise_shape({-1, 1}).seed(3));
  Config c = d.get_config();
  CHECK(c["rate"] == "0.5");
  CHECK(c["noise_shape"] == "(None, 1)");
  CHECK(c["seed"] == "3");
  CHECK(d.pretty_print() == "Dropout(rate=0.5)");
  Dropout e(DropoutOptions(0.1f));
  CHECK(e.get_config()["noise_shape"] == "None");
  CHECK(e.get_config()["seed"] == "None");
}

TEST_CASE("SpatialDropout3D: whole channels dropped, channels_last and channels_first") {
  reset_default_graph();
  set_random_seed(9);
  SpatialDropout3D last(SpatialDropout3DOptions(0.5f));
  CHECK(last.name() == "spatial_dropout3d");
  Tensor y = last(Variable(Tensor(xt::ones<float>({3, 2, 3, 2, 8}))), true).value();
  std::size_t dropped = 0;
  for (std::size_t b = 0; b < 3; ++b)
    for (std::size_t c = 0; c < 8; ++c) {
      float first = y(b, 0, 0, 0, c);
      CHECK((first == 0.f || first == doctest::Approx(2.f)));
      dropped += first == 0.f;
      for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t j = 0; j < 3; ++j)
          for (std::size_t k = 0; k < 2; ++k) CHECK(y(b, i, j, k, c) == first);
    }
  CHECK(dropped > 0);
  CHECK(dropped < 24);

  SpatialDropout3D first(SpatialDropout3DOptions(0.5f).data_format("Channels_First"));
  Tensor z = first(Variable(Tensor(xt::ones<float>({3, 8, 2, 3, 2}))), true).value();
  dropped = 0;
  for (std::size_t b = 0; b < 3; ++b)
    for (std::size_t c = 0; c < 8; ++c) {
      float v0 = z(b, c, 0, 0, 0);
      dropped += v0 == 0.f;
      for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t j = 0; j < 3; ++j)
          for (std::size_t k = 0; k < 2; ++k) CHECK(z(b, c, i, j, k) == v0);
    }
  CHECK(dropped > 0);
  CHECK(dropped < 24);

  Tensor x = random_tensor({1, 2, 2, 2, 2});
  TF_CHECK_CLOSE(first(Variable(x), false).value(), x);
  clear_random_seed();
}

TEST_CASE("SpatialDropout3D: gradcheck") {
  reset_default_graph();
  TF_GRADCHECK(
      [&](const std::vector<Variable>& in) {
        set_random_seed(4);
        SpatialDropout3D fresh(SpatialDropout3DOptions(0.5f).seed(2));
        return fresh(in[0], true);
      },
      {random_tensor({2, 2, 1, 2, 3})});
  clear_random_seed();
}

TEST_CASE("SpatialDropout3D: errors, config, pretty_print") {
  reset_default_graph();
  TF_CHECK_ERROR(SpatialDropout3D(SpatialDropout3DOptions(1.5f)), "spatial_dropout3d", "rate");
  TF_CHECK_ERROR(SpatialDropout3D(SpatialDropout3DOptions(0.5f).data_format("nchw")),
                 "spatial_dropout3d", "nchw");
  SpatialDropout3D d(SpatialDropout3DOptions(0.3f).seed(1));
  TF_CHECK_ERROR(d(Variable(random_tensor({2, 3, 4, 5})), true), "spatial_dropout3d", "rank 5");
  Config c = d.get_config();
  CHECK(c["rate"] == "0.3");
  CHECK(c["data_format"] == "channels_last");
  CHECK(c["seed"] == "1");
  CHECK(d.pretty_print() == "SpatialDropout3D(rate=0.3, data_format=channels_last)");
}

TEST_CASE("SpatialDropout1D and 2D: whole channels dropped, shared over the other axes") {
  reset_default_graph();
  set_random_seed(5);
  SpatialDropout1D d1(SpatialDropout1DOptions(0.5f));
  CHECK(d1.name() == "spatial_dropout1d");
  Tensor y = d1(Variable(Tensor(xt::ones<float>({3, 4, 8}))), true).value();
  std::size_t dropped = 0;
  for (std::size_t b = 0; b < 3; ++b)
    for (std::size_t c = 0; c < 8; ++c) {
      const float v0 = y(b, 0, c);
      CHECK((v0 == 0.f || v0 == doctest::Approx(2.f)));
      dropped += v0 == 0.f;
      for (std::size_t t = 1; t < 4; ++t) CHECK(y(b, t, c) == v0);
    }
  CHECK(dropped > 0);
  CHECK(dropped < 24);

  for (const char* format : {"channels_last", "channels_first"}) {
    CAPTURE(format);
    const bool first = std::string(format) == "channels_first";
    SpatialDropout2D d2(SpatialDropout2DOptions(0.5f).data_format(format));
    Tensor z =
        d2(Variable(Tensor(xt::ones<float>(first ? Shape{3, 8, 2, 3} : Shape{3, 2, 3, 8}))), true)
            .value();
    dropped = 0;
    for (std::size_t b = 0; b < 3; ++b)
      for (std::size_t c = 0; c < 8; ++c) {
        auto at = [&](std::size_t i, std::size_t j) {
          return first ? z(b, c, i, j) : z(b, i, j, c);
        };
        const float v0 = at(0, 0);
        CHECK((v0 == 0.f || v0 == doctest::Approx(2.f)));
        dropped += v0 == 0.f;
        for (std::size_t i = 0; i < 2; ++i)
          for (std::size_t j = 0; j < 3; ++j) CHECK(at(i, j) == v0);
      }
    CHECK(dropped > 0);
    CHECK(dropped < 24);
    Tensor x = random_tensor(first ? Shape{1, 2, 2, 2} : Shape{1, 2, 2, 2});
    TF_CHECK_CLOSE(d2(Variable(x), false).value(), x);
  }
  clear_random_seed();
}

TEST_CASE("SpatialDropout1D and 2D: gradcheck") {
  reset_default_graph();
  TF_GRADCHECK(
      [&](const std::vector<Variable>& in) {
        set_random_seed(4);
        SpatialDropout1D fresh(SpatialDropout1DOptions(0.5f).seed(2));
        return fresh(in[0], true);
      },
      {random_tensor({2, 3, 4})});
  TF_GRADCHECK(
      [&](const std::vector<Variable>& in) {
        set_random_seed(4);
        SpatialDropout2D fresh(SpatialDropout2DOptions(0.5f).seed(2));
        return fresh(in[0], true);
      },
      {random_tensor({2, 2, 2, 3})});
  clear_random_seed();
}

TEST_CASE("SpatialDropout1D and 2D: errors, config, pretty_print") {
  reset_default_graph();
  TF_CHECK_ERROR(SpatialDropout1D(SpatialDropout1DOptions(1.f)), "spatial_dropout1d", "rate");
  CHECK_THROWS_AS(SpatialDropout2D(SpatialDropout2DOptions(-0.1f)), ValueError);
  TF_CHECK_ERROR(SpatialDropout2D(SpatialDropout2DOptions(0.5f).data_format("nhwc")),
                 "spatial_dropout2d", "nhwc");
  SpatialDropout1D d1(SpatialDropout1DOptions(0.3f).seed(1));
  TF_CHECK_ERROR(d1(Variable(random_tensor({2, 3})), true), "spatial_dropout1d", "rank 3");
  CHECK_THROWS_AS(d1(Variable(random_tensor({2, 3})), true), ShapeError);
  SpatialDropout2D d2(SpatialDropout2DOptions(0.3f));
  CHECK_THROWS_AS(d2(Variable(random_tensor({2, 3, 4})), true), ShapeError);
  CHECK(d1.get_config()["rate"] == "0.3");
  CHECK(d1.get_config()["seed"] == "1");
  CHECK(d1.pretty_print() == "SpatialDropout1D(rate=0.3)");
  CHECK(d2.get_config()["data_format"] == "channels_last");
  CHECK(d2.pretty_print() == "SpatialDropout2D(rate=0.3, data_format=channels_last)");
}

namespace {
// Keras 3's AlphaDropout constants for `rate`: alpha' (SELU's negative saturation), a and b.
struct AlphaConstants {
  double alpha_p, a, b;
};
AlphaConstants alpha_constants(double rate) {
  const double alpha_p = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946;
  const double a = std::pow((1 - rate) * (1 + rate * alpha_p * alpha_p), -0.5);
  return {alpha_p, a, -a * alpha_p * rate};
}
}  // namespace

TEST_CASE("AlphaDropout: each element is a * x + b (kept) or a * alpha' + b (dropped)") {
  reset_default_graph();
  set_random_seed(31);
  AlphaDropout drop(AlphaDropoutOptions(0.2f));
  CHECK(drop.name() == "alpha_dropout");
  const Tensor x = random_tensor({3, 4});
  TF_CHECK_CLOSE(drop(Variable(x)).value(), x);  // inference: the identity
  TF_CHECK_CLOSE(AlphaDropout(AlphaDropoutOptions(0.f))(Variable(x), true).value(), x);
  const AlphaConstants k = alpha_constants(0.2);
  const Tensor big = random_tensor({100, 100}, 3);
  const Tensor y = drop(Variable(big), true).value();
  std::size_t dropped = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const float kept = float(k.a * big.flat(i) + k.b), gone = float(k.a * k.alpha_p + k.b);
    const bool is_kept = std::abs(y.flat(i) - kept) < 1e-5f;
    CHECK((is_kept || std::abs(y.flat(i) - gone) < 1e-5f));
    dropped += !is_kept;
  }
  CHECK(std::abs(double(dropped) / 10000 - 0.2) < 0.02);
  clear_random_seed();
}

TEST_CASE("AlphaDropout: keeps zero mean and unit variance of standard normal inputs") {
  reset_default_graph();
  set_random_seed(32);
  RandomGenerator rng(123);
  Tensor x = Tensor::from_shape({200, 200});
  for (auto& v : x) v = static_cast<float>(rng.normal(0.f, 1.f));
  AlphaDropout drop(AlphaDropoutOptions(0.3f));
  const auto m = tapeflow::test::moments(drop(Variable(x), true).value());
  // 40000 draws: the mean's standard error is 0.005, the variance's about 0.01
  CHECK(std::abs(m.mean) < 0.03);
  CHECK(std::abs(m.stddev * m.stddev - 1.0) < 0.05);
  clear_random_seed();
}

TEST_CASE("AlphaDropout: noise_shape shares the mask, gradcheck, seeds, errors, config") {
  reset_default_graph();
  set_random_seed(33);
  AlphaDropout shared(AlphaDropoutOptions(0.5f).noise_shape({-1, 1}));
  const Tensor ones = xt::ones<float>({6, 5});
  const Tensor y = shared(Variable(ones), true).value();
  for (std::size_t r = 0; r < 6; ++r)
    for (std::size_t c = 1; c < 5; ++c) CHECK(y(r, c) == y(r, 0));
  TF_GRADCHECK(
      [&](const std::vector<Variable>& in) {
        set_random_seed(4);
        AlphaDropout fresh(AlphaDropoutOptions(0.4f).seed(2));
        return fresh(in[0], true);
      },
      {random_tensor({3, 4}, 5)});
  set_random_seed(8);
  AlphaDropout a(AlphaDropoutOptions(0.5f).seed(1));
  const Tensor ya = a(Variable(ones), true).value();
  set_random_seed(8);
  AlphaDropout b(AlphaDropoutOptions(0.5f).seed(1));
  CHECK(b(Variable(ones), true).value() == ya);
  clear_random_seed();
  TF_CHECK_ERROR(AlphaDropout(AlphaDropoutOptions(1.f)), "alpha_dropout", "rate", "[0, 1)");
  CHECK_THROWS_AS(AlphaDropout(AlphaDropoutOptions(-0.1f)), ValueError);
  AlphaDropout c(AlphaDropoutOptions(0.5f).noise_shape({-1, 2}));
  CHECK_THROWS_AS(c(Variable(ones), true), ShapeError);
  CHECK(c.get_config()["rate"] == "0.5");
  CHECK(c.get_config()["noise_shape"] == "(None, 2)");
  CHECK(c.pretty_print() == "AlphaDropout(rate=0.5)");
}
