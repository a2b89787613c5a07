#include <cmath>

#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/layer_normalization.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;

TEST_CASE("LayerNormalization: weights, names, output shape") {
  reset_default_graph();
  LayerNormalization ln;
  CHECK(ln.name() == "layer_normalization");
  Variable y = ln(Variable(random_tensor({2, 5, 8})));
  CHECK(y.shape() == Shape{2, 5, 8});
  CHECK(ln.gamma().shape() == Shape{8});
  CHECK(ln.beta().shape() == Shape{8});
  CHECK(ln.gamma().name() == "layer_normalization/gamma");
  CHECK(ln.variables()[0].name() == "layer_normalization/gamma");  // Keras: gamma first
  CHECK(ln.count_params() == 16);
  LayerNormalization multi(LayerNormalizationOptions().axis({-1, 1}));
  multi(Variable(random_tensor({2, 3, 4, 5})));
  CHECK(multi.gamma().shape() == Shape{3, 5});
  LayerNormalization bare(LayerNormalizationOptions().center(false).scale(false));
  bare(Variable(random_tensor({2, 3})));
  CHECK(bare.variables().empty());
}

TEST_CASE("LayerNormalization: known values, default axis") {
  reset_default_graph();
  LayerNormalization ln;
  Tensor x = {{1.f, 2.f, 3.f, 4.f}, {-2.f, 0.f, 0.f, 2.f}};
  ln(Variable(x));
  ln.set_weights({Tensor{1.f, 2.f, 1.f, 1.f}, Tensor{0.f, 0.f, 0.f, 1.f}});
  // row 0: mean 2.5, var 1.25; row 1: mean 0, var 2
  float s0 = 1.f / std::sqrt(1.25f + 1e-3f), s1 = 1.f / std::sqrt(2.f + 1e-3f);
  Tensor expected = {{-1.5f * s0, 2.f * -0.5f * s0, 0.5f * s0, 1.5f * s0 + 1.f},
                     {-2.f * s1, 0.f, 0.f, 2.f * s1 + 1.f}};
  TF_CHECK_CLOSE(ln(Variable(x)).value(), expected);
}

TEST_CASE("LayerNormalization: several axes normalize each sample over all of them") {
  reset_default_graph();
  LayerNormalization ln(LayerNormalizationOptions().axis({1, 2}).epsilon(0.f));
  Tensor x = random_tensor({2, 2, 3}, 3);
  Tensor y = ln(Variable(x)).value();
  for (std::size_t b = 0; b < 2; ++b) {
    double m = 0, v = 0;
    for (std::size_t i = 0; i < 2; ++i)
      for (std::size_t j = 0; j < 3; ++j) m += x(b, i, j) / 6.0;
    for (std::size_t i = 0; i < 2; ++i)
      for (std::size_t j = 0; j < 3; ++j) v += (x(b, i, j) - m) * (x(b, i, j) - m) / 6.0;
    for (std::size_t i = 0; i < 2; ++i)
      for (std::size_t j = 0; j < 3; ++j)
        CHECK(y(b, i, j) == doctest::Approx((x(b, i, j) - m) / std::sqrt(v)).epsilon(1e-4));
  }
}

TEST_CASE("LayerNormalization: gradcheck of input, gamma and beta") {
  reset_default_graph();
  LayerNormalization ln;
  Tensor x = random_tensor({2, 4}, 4);
  ln(Variable(x));
  ln.set_weights({random_tensor({4}, 5), random_tensor({4}, 6)});
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return ln(in[0]); }, {x});
  TF_GRADCHECK_VARIABLES([&] { return ln(Variable(x)); }, ln.trainable_variables());
  LayerNormalization multi(LayerNormalizationOptions().axis({1, 2}));
  Tensor x3 = random_tensor({2, 2, 3}, 7);
  multi(Variable(x3));
  multi.set_weights({random_tensor({2, 3}, 8), random_tensor({2, 3}, 9)});
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return multi(in[0]); }, {x3});
  TF_GRADCHECK_VARIABLES([&] { return multi(Variable(x3)); }, multi.trainable_variables());
}

TEST_CASE("LayerNormalization: bad input errors") {
  reset_default_graph();
  TF_CHECK_ERROR(LayerNormalization(LayerNormalizationOptions().axis(std::vector<int>{})),
                 "layer_normalization", "axis", "empty");
  TF_CHECK_ERROR(LayerNormalization(LayerNormalizationOptions().epsilon(-1.f)), "epsilon", "-1");
  LayerNormalization a(LayerNormalizationOptions().axis(3).name("ln"));
  TF_CHECK_ERROR(a(Variable(random_tensor({2, 3}))), "ln", "axis 3", "out of range", "(2, 3)");
  CHECK_FALSE(a.built());
  LayerNormalization b(LayerNormalizationOptions().axis({1, -1}).name("ln2"));
  TF_CHECK_ERROR(b(Variable(random_tensor({2, 3}))), "ln2", "repeats");
  LayerNormalization c(LayerNormalizationOptions().name("ln3"));
  c(Variable(random_tensor({2, 3})));
  TF_CHECK_ERROR(c(Variable(random_tensor({2, 4}))), "ln3", "axis 1", "size 3");
  TF_CHECK_ERROR(c(Variable(random_tensor({2, 2, 3}))), "ln3", "rank 2");
}

TEST_CASE("LayerNormalization: config and pretty_print") {
  reset_default_graph();
  LayerNormalization ln(LayerNormalizationOptions().gamma_regularizer(regularizers::l2(0.5f)));
  Config c = ln.get_config();
  CHECK(c["axis"] == "-1");
  CHECK(c["epsilon"] == "0.001");
  CHECK(c["center"] == "true");
  CHECK(c["gamma_regularizer"] == "l2(l2=0.5)");
  CHECK(c["beta_regularizer"] == "None");
  CHECK(ln.pretty_print() == "LayerNormalization(axis=-1, epsilon=0.001)");
  LayerNormalization m(LayerNormalizationOptions().axis({1, 2}).center(false));
  CHECK(m.get_config()["axis"] == "(1, 2)");
  CHECK(m.pretty_print() == "LayerNormalization(axis=(1, 2), epsilon=0.001, center=false)");
  ln(Variable(random_tensor({1, 3})));
  REQUIRE(ln.losses().size() == 1);
  CHECK(ln.losses()[0].item() == doctest::Approx(1.5f));  // 0.5 * 3 ones
}
