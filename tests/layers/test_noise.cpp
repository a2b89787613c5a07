#include <cmath>
#include <limits>

#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/noise.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;

using tapeflow::test::Moments;
using tapeflow::test::moments;

TEST_CASE("GaussianNoise: x + N(0, stddev^2) in training, the identity otherwise") {
  reset_default_graph();
  set_random_seed(21);
  GaussianNoise noise(GaussianNoiseOptions(0.3f));
  CHECK(noise.name() == "gaussian_noise");
  const Tensor x = random_tensor({3, 4});
  TF_CHECK_CLOSE(noise(Variable(x)).value(), x);
  TF_CHECK_CLOSE(GaussianNoise(GaussianNoiseOptions(0.f))(Variable(x), true).value(), x);
  const Tensor ones = xt::ones<float>({200, 200});
  Tensor y = noise(Variable(ones), true).value();
  Moments m = moments(y);
  // 40000 draws: the mean's standard error is 0.0015, the spread's about 0.001
  CHECK(std::abs(m.mean - 1.0) < 0.01);
  CHECK(std::abs(m.stddev - 0.3) < 0.01);
  CHECK(noise(Variable(ones), true).value() != y);  // each call draws anew
  CHECK(noise.variables().empty());
  clear_random_seed();
}

TEST_CASE("GaussianDropout: x * N(1, rate / (1 - rate)) in training, the identity otherwise") {
  reset_default_graph();
  set_random_seed(22);
  GaussianDropout drop(GaussianDropoutOptions(0.2f));
  CHECK(drop.name() == "gaussian_dropout");
  const Tensor x = random_tensor({3, 4});
  TF_CHECK_CLOSE(drop(Variable(x)).value(), x);
  TF_CHECK_CLOSE(GaussianDropout(GaussianDropoutOptions(0.f))(Variable(x), true).value(), x);
  Tensor y = drop(Variable(Tensor(xt::ones<float>({200, 200}))), true).value();
  Moments m = moments(y);
  CHECK(std::abs(m.mean - 1.0) < 0.01);
  CHECK(std::abs(m.stddev - 0.5) < 0.01);  // sqrt(0.2 / 0.8)
  // The noise multiplies: twice the input, twice the output (the same draws after a reset).
  set_random_seed(5);
  GaussianDropout a(GaussianDropoutOptions(0.5f).seed(1));
  Tensor ya = a(Variable(x), true).value();
  set_random_seed(5);
  GaussianDropout b(GaussianDropoutOptions(0.5f).seed(1));
  TF_CHECK_CLOSE(b(Variable(Tensor(x * 2.f)), true).value(), Tensor(ya * 2.f));
  clear_random_seed();
}

TEST_CASE("GaussianNoise and GaussianDropout: gradcheck with the noise fixed by the seeds") {
  reset_default_graph();
  TF_GRADCHECK(
      [&](const std::vector<Variable>& in) {
        set_random_seed(4);
        GaussianNoise fresh(GaussianNoiseOptions(0.5f).seed(2));
        return fresh(in[0], true);
      },
      {random_tensor({2, 3}, 1)});
  TF_GRADCHECK(
      [&](const std::vector<Variable>& in) {
        set_random_seed(4);
        GaussianDropout fresh(GaussianDropoutOptions(0.3f).seed(2));
        return fresh(in[0], true);
      },
      {random_tensor({2, 3}, 2)});
  clear_random_seed();
}

TEST_CASE("GaussianNoise: reproducible from the seeds, and its random state resumes the stream") {
  reset_default_graph();
  const Tensor x = xt::zeros<float>({4, 5});
  set_random_seed(7);
  GaussianNoise a(GaussianNoiseOptions(1.f).seed(3));
  Tensor a1 = a(Variable(x), true).value();
  const std::string state = a.random_state();
  Tensor a2 = a(Variable(x), true).value();
  set_random_seed(7);
  GaussianNoise b(GaussianNoiseOptions(1.f).seed(3));
  CHECK(b.random_state().empty());
  CHECK(b(Variable(x), true).value() == a1);
  GaussianNoise c(GaussianNoiseOptions(1.f));
  c.set_random_state(state);
  CHECK(c(Variable(x), true).value() == a2);
  TF_CHECK_ERROR(c.set_random_state("garbage"), "gaussian_noise", "set_random_state");
  clear_random_seed();
}

TEST_CASE("GaussianNoise and GaussianDropout: errors, config, pretty_print") {
  reset_default_graph();
  TF_CHECK_ERROR(GaussianNoise(GaussianNoiseOptions(-0.1f)), "gaussian_noise", "stddev", ">= 0");
  CHECK_THROWS_AS(GaussianNoise(GaussianNoiseOptions(std::nanf(""))), ValueError);
  TF_CHECK_ERROR(GaussianDropout(GaussianDropoutOptions(1.f)), "gaussian_dropout", "rate",
                 "[0, 1)");
  CHECK_THROWS_AS(GaussianDropout(GaussianDropoutOptions(-0.5f)), ValueError);
  GaussianNoise n(GaussianNoiseOptions(0.25f).seed(9));
  CHECK(n.get_config()["stddev"] == "0.25");
  CHECK(n.get_config()["seed"] == "9");
  CHECK(n.pretty_print() == "GaussianNoise(stddev=0.25)");
  GaussianDropout d(GaussianDropoutOptions(0.4f));
  CHECK(d.get_config()["rate"] == "0.4");
  CHECK(d.get_config()["seed"] == "None");
  CHECK(d.pretty_print() == "GaussianDropout(rate=0.4)");
}
