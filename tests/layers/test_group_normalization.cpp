#include <cmath>

#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/normalization.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/framework/runtime/parallel.hpp"
#include "tapeflow/layers/group_normalization.hpp"
#include "tapeflow/layers/layer_normalization.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;

namespace {
// Group normalization written out, in double precision: for each sample and group, the mean
// and biased variance over the group's channels (of axis `axis`) and every other non-batch
// axis, then `* gamma[c] + beta[c]`.
Tensor group_norm_reference(const Tensor& x, std::size_t groups, std::size_t axis,
                            const Tensor& gamma, const Tensor& beta, double epsilon) {
  const Shape s(x.shape().begin(), x.shape().end());
  const std::size_t C = s[axis], cg = C / groups;
  std::size_t inner = 1;
  for (std::size_t i = axis + 1; i < s.size(); ++i) inner *= s[i];
  const std::size_t per_sample = x.size() / s[0];
  // The channel of a flat index within a sample.
  const auto channel = [&](std::size_t i) { return (i / inner) % C; };
  Tensor y = Tensor::from_shape(s);
  for (std::size_t b = 0; b < s[0]; ++b)
    for (std::size_t g = 0; g < groups; ++g) {
      double sum = 0, n = 0;
      for (std::size_t i = 0; i < per_sample; ++i)
        if (channel(i) / cg == g) {
          sum += x.flat(b * per_sample + i);
          ++n;
        }
      const double m = sum / n;
      double sq = 0;
      for (std::size_t i = 0; i < per_sample; ++i)
        if (channel(i) / cg == g) sq += std::pow(x.flat(b * per_sample + i) - m, 2);
      const double inv = 1 / std::sqrt(sq / n + epsilon);
      for (std::size_t i = 0; i < per_sample; ++i)
        if (channel(i) / cg == g) {
          const std::size_t c = channel(i), k = b * per_sample + i;
          y.flat(k) = float((x.flat(k) - m) * inv * gamma(c) + beta(c));
        }
    }
  return y;
}
}  // namespace

TEST_CASE("GroupNormalization: weights, names, and values against a direct definition") {
  reset_default_graph();
  GroupNormalization norm(GroupNormalizationOptions(2));
  CHECK(norm.name() == "group_normalization");
  const Tensor x = random_tensor({2, 3, 4, 6}, 1, -2.f, 3.f);
  Variable y = norm(Variable(x));
  REQUIRE(norm.variables().size() == 2);
  CHECK(norm.gamma().name() == "group_normalization/gamma");
  CHECK(norm.beta().shape() == Shape{6});
  const Tensor gamma = random_tensor({6}, 2), beta = random_tensor({6}, 3);
  norm.set_weights({gamma, beta});
  TF_CHECK_CLOSE(norm(Variable(x)).value(), group_norm_reference(x, 2, 3, gamma, beta, 1e-3), 1e-4f,
                 1e-4f);
  // channels_first 3-D volumes: axis 1.
  GroupNormalization first(GroupNormalizationOptions(3).axis(1).epsilon(1e-5f));
  const Tensor v = random_tensor({2, 6, 3, 2, 2}, 4);
  first(Variable(v));
  first.set_weights({gamma, beta});
  TF_CHECK_CLOSE(first(Variable(v)).value(), group_norm_reference(v, 3, 1, gamma, beta, 1e-5),
                 1e-4f, 1e-4f);
}

TEST_CASE("GroupNormalization: groups -1 is instance normalization, groups 1 layer norm") {
  reset_default_graph();
  const Tensor x = random_tensor({2, 5, 4}, 5);
  const Tensor ones = xt::ones<float>({4}), zeros = xt::zeros<float>({4});
  GroupNormalization instance(GroupNormalizationOptions(-1));
  TF_CHECK_CLOSE(instance(Variable(x)).value(), group_norm_reference(x, 4, 2, ones, zeros, 1e-3),
                 1e-4f, 1e-4f);
  CHECK(instance.get_config()["groups"] == "-1");
  GroupNormalization one(GroupNormalizationOptions(1));
  LayerNormalization layer_norm(LayerNormalizationOptions().axis({1, 2}));
  TF_CHECK_CLOSE(one(Variable(x)).value(), layer_norm(Variable(x)).value(), 1e-4f, 1e-4f);
}

TEST_CASE("GroupNormalization: gradcheck of input, gamma and beta") {
  reset_default_graph();
  GroupNormalization norm(GroupNormalizationOptions(2));
  const Tensor x = random_tensor({2, 3, 4}, 6);
  norm(Variable(x));
  norm.set_weights({random_tensor({4}, 7), random_tensor({4}, 8)});
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return norm(in[0]); }, {x});
  TF_GRADCHECK_VARIABLES([&] { return norm(Variable(x)); }, norm.trainable_variables());
  // The channel axis in the middle, without center and scale.
  GroupNormalization plain(GroupNormalizationOptions(3).axis(1).center(false).scale(false));
  TF_GRADCHECK([&](const std::vector<Variable>& in) { return plain(in[0]); },
               {random_tensor({2, 6, 2}, 9)});
  CHECK(plain.variables().empty());
}

TEST_CASE("group_norm: a recorded backward pass gives second derivatives") {
  // The gradient of sum(grad) w.r.t. x, against finite differences of the first gradient.
  const Tensor x = random_tensor({2, 4, 3}, 10);
  const Variable gamma(random_tensor({4}, 11)), beta(random_tensor({4}, 12));
  TF_GRADCHECK(
      [&](const std::vector<Variable>& in) {
        GradientTape tape;
        tape.watch(in[0]);
        Variable y = group_norm(in[0], gamma, beta, 2, 1, 1e-3f);
        Variable g = tape.gradient(sum(square(y)), {in[0]})[0];
        return sum(mul(g, g));
      },
      {x});
}

TEST_CASE("group_norm: the same bits on one thread and on two") {
  const Tensor x = random_tensor({4, 8, 8, 8}, 13);
  const Variable gamma(random_tensor({8}, 14)), beta(random_tensor({8}, 15));
  const int before = get_num_threads();
  Tensor y[2], gx[2];
  for (int t : {1, 2}) {
    set_num_threads(t);
    Variable xv(x, true);
    GradientTape tape;
    Variable out = group_norm(xv, gamma, beta, 4, 3, 1e-3f);
    y[t - 1] = out.value();
    gx[t - 1] = tape.gradient(out, {xv}, Variable(random_tensor({4, 8, 8, 8}, 16)))[0].value();
  }
  set_num_threads(before);
  CHECK(tapeflow::test::bit_identical(y[0], y[1]));
  CHECK(tapeflow::test::bit_identical(gx[0], gx[1]));
}

TEST_CASE("GroupNormalization: errors, config, pretty_print") {
  reset_default_graph();
  TF_CHECK_ERROR(GroupNormalization(GroupNormalizationOptions(0)), "group_normalization", "groups");
  CHECK_THROWS_AS(GroupNormalization(GroupNormalizationOptions(-2)), ValueError);
  TF_CHECK_ERROR(GroupNormalization(GroupNormalizationOptions(2).axis({1, 2})), "axis", "single");
  CHECK_THROWS_AS(GroupNormalization(GroupNormalizationOptions(2).epsilon(-1.f)), ValueError);
  GroupNormalization three(GroupNormalizationOptions(3).name("gn"));
  TF_CHECK_ERROR(three(Variable(random_tensor({2, 4}))), "gn", "groups 3", "divide", "4");
  CHECK_THROWS_AS(three(Variable(random_tensor({2, 4}))), ShapeError);
  CHECK_FALSE(three.built());
  TF_CHECK_ERROR(GroupNormalization(GroupNormalizationOptions(8))(Variable(random_tensor({2, 4}))),
                 "more than the number of channels");
  TF_CHECK_ERROR(
      GroupNormalization(GroupNormalizationOptions(1).axis(0))(Variable(random_tensor({2, 4}))),
      "batch axis");
  GroupNormalization built(GroupNormalizationOptions(2).name("gn2"));
  built(Variable(random_tensor({2, 4})));
  CHECK_THROWS_AS(built(Variable(random_tensor({2, 6}))), ShapeError);
  TF_CHECK_ERROR(group_norm(Variable(random_tensor({2, 4})), Variable(), Variable(), 3, 1, 1e-3f),
                 "group_norm", "groups 3");
  GroupNormalization gn(GroupNormalizationOptions(4).gamma_regularizer(regularizers::l2(0.5f)));
  Config c = gn.get_config();
  CHECK(c["groups"] == "4");
  CHECK(c["axis"] == "-1");
  CHECK(c["epsilon"] == "0.001");
  CHECK(c["gamma_regularizer"] == "l2(l2=0.5)");
  CHECK(gn.pretty_print() == "GroupNormalization(groups=4, axis=-1, epsilon=0.001)");
  CHECK(GroupNormalization(GroupNormalizationOptions(2).scale(false)).pretty_print() ==
        "GroupNormalization(groups=2, axis=-1, epsilon=0.001, scale=false)");
}
