#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>

#include "tapeflow/framework/kernels/conv_kernels.hpp"
#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/conv3d_transpose.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using layers::Conv3DTranspose;
using layers::Conv3DTransposeOptions;
using tapeflow::test::random_tensor;
using tapeflow::test::shaped;

namespace {

Initializer fixed(const Tensor& t) {
  return [t](const Shape&) { return t; };
}

// PyTorch ConvTranspose3d written from its definition, with PyTorch's own layouts: input
// (N, Cin, D, H, W), weight (Cin, Cout, kd, kh, kw), padding p, output_padding op, dilation d:
// out = (in - 1) * s - 2p + d (k - 1) + op + 1, y[n, co, i*s - p + t*d] += x[n, ci, i] w[ci, co,
// t].
Tensor torch_conv_transpose3d(const Tensor& x, const Tensor& w, const Tensor& bias,
                              std::array<long, 3> s, std::array<long, 3> p, std::array<long, 3> op,
                              std::array<long, 3> d) {
  const long N = long(x.shape()[0]), Ci = long(x.shape()[1]), Co = long(w.shape()[1]);
  std::array<long, 3> in{}, k{}, out{};
  for (int a = 0; a < 3; ++a) {
    in[a] = long(x.shape()[2 + a]);
    k[a] = long(w.shape()[2 + a]);
    out[a] = (in[a] - 1) * s[a] - 2 * p[a] + d[a] * (k[a] - 1) + op[a] + 1;
  }
  Tensor y = xt::zeros<float>({std::size_t(N), std::size_t(Co), std::size_t(out[0]),
                               std::size_t(out[1]), std::size_t(out[2])});
  for (long n = 0; n < N; ++n)
    for (long co = 0; co < Co; ++co)
      for (long z = 0; z < out[0]; ++z)
        for (long yy = 0; yy < out[1]; ++yy)
          for (long xx = 0; xx < out[2]; ++xx) y(n, co, z, yy, xx) = bias.size() ? bias(co) : 0.f;
  for (long n = 0; n < N; ++n)
    for (long ci = 0; ci < Ci; ++ci)
      for (long i0 = 0; i0 < in[0]; ++i0)
        for (long i1 = 0; i1 < in[1]; ++i1)
          for (long i2 = 0; i2 < in[2]; ++i2)
            for (long co = 0; co < Co; ++co)
              for (long t0 = 0; t0 < k[0]; ++t0)
                for (long t1 = 0; t1 < k[1]; ++t1)
                  for (long t2 = 0; t2 < k[2]; ++t2) {
                    long o0 = i0 * s[0] - p[0] + t0 * d[0];
                    long o1 = i1 * s[1] - p[1] + t1 * d[1];
                    long o2 = i2 * s[2] - p[2] + t2 * d[2];
                    if (o0 < 0 || o1 < 0 || o2 < 0 || o0 >= out[0] || o1 >= out[1] || o2 >= out[2])
                      continue;
                    y(n, co, o0, o1, o2) += x(n, ci, i0, i1, i2) * w(ci, co, t0, t1, t2);
                  }
  return y;
}

// Our kernel (kd, kh, kw, filters, in) as PyTorch's weight (in, filters, kd, kh, kw).
Tensor to_torch_weight(const Tensor& k) { return Tensor(xt::transpose(k, {4, 3, 0, 1, 2})); }

// The layer's gradients with respect to x, the kernel and the bias, by the shared finite-
// difference check (framework/ops/gradcheck.hpp): x is made a variable too, so that all three
// go through one call (and one set of tolerances).
void check_layer_gradients(Conv3DTranspose& layer, const Tensor& x0) {
  Variable x(x0, true, "x");
  layer(x);  // builds
  std::vector<Variable> vars{x, layer.kernel()};
  if (layer.bias().defined()) vars.push_back(layer.bias());
  TF_GRADCHECK_VARIABLES([&] { return layer(x); }, vars);
}

}  // namespace

TEST_CASE("output shapes: same, valid, channels_first, dilation, output_padding") {
  Graph g;
  auto scope = g.as_default();
  Variable x(random_tensor({2, 3, 4, 5, 6}, 1));
  CHECK(Conv3DTranspose(Conv3DTransposeOptions(4, 3).strides(2).padding("same"))(x).shape() ==
        Shape{2, 6, 8, 10, 4});
  // valid: in * s + max(k - s, 0) per axis.
  CHECK(Conv3DTranspose(Conv3DTransposeOptions(4, {3, 1, 4}).strides({2, 3, 1}))(x).shape() ==
        Shape{2, 7, 12, 8, 4});
  // channels_first: (batch, C, d, h, w), C = 3 here.
  CHECK(Conv3DTranspose(Conv3DTransposeOptions(5, 2).strides(2).padding("SAME").data_format(
            "channels_first"))(x)
            .shape() == Shape{2, 5, 8, 10, 12});
  // dilation 2, valid: dk = 5 -> in + 4 with stride 1.
  CHECK(Conv3DTranspose(Conv3DTransposeOptions(1, 3).dilation_rate(2))(x).shape() ==
        Shape{2, 7, 8, 9, 1});
  // output_padding: (in - 1) * s + k - 2 * (k / 2) + op, k = 3, s = 2.
  Conv3DTranspose op(
      Conv3DTransposeOptions(2, 3).strides(2).padding("same").output_padding({1, 0, 1}));
  CHECK(op.compute_output_shape({2, 3, 4, 5, 6}) == Shape{2, 6, 7, 10, 2});
  CHECK(op(x).shape() == Shape{2, 6, 7, 10, 2});
}

TEST_CASE("known values by hand: conv, then bias, then activation") {
  Graph g;
  auto scope = g.as_default();
  // Only the width axis is non-trivial: x [1, 2], kernel [1, 10, 100] (width), stride 2, valid
  // -> [1, 10, 102, 20, 200]; bias -50, then relu -> [0, 0, 52, 0, 150].
  Variable x(shaped(Tensor{1.f, 2.f}, {1, 1, 1, 2, 1}));
  Conv3DTranspose layer(
      Conv3DTransposeOptions(1, {1, 1, 3})
          .strides({1, 1, 2})
          .activation("relu")
          .kernel_initializer(fixed(shaped(Tensor{1.f, 10.f, 100.f}, {1, 1, 3, 1, 1})))
          .bias_initializer(initializers::constant(-50.f)));
  TF_CHECK_CLOSE(layer(x).value(), shaped(Tensor{0.f, 0.f, 52.f, 0.f, 150.f}, {1, 1, 1, 5, 1}));
  // A callable activation works the same way.
  Conv3DTranspose twice(
      Conv3DTransposeOptions(1, {1, 1, 3})
          .strides({1, 1, 2})
          .use_bias(false)
          .activation([](const Variable& v) { return v * 2.f; })
          .kernel_initializer(fixed(shaped(Tensor{1.f, 10.f, 100.f}, {1, 1, 3, 1, 1}))));
  TF_CHECK_CLOSE(twice(x).value(), shaped(Tensor{2.f, 20.f, 204.f, 40.f, 400.f}, {1, 1, 1, 5, 1}));
}

TEST_CASE("PyTorch ConvTranspose3d's definition, placed as Keras: output_padding, dilation_rate") {
  Graph g;
  auto scope = g.as_default();
  // Tiny 1-D-like case worked by hand: "same" with output_padding 1 along the last axis gives 4
  // outputs, placed by TF's SAME rule as Keras does (pad_total max(0, 2 + 3 - 4) = 1, nothing
  // cropped before): [1, 10, 102, 20]. PyTorch's ConvTranspose3d(1, 1, (1,1,3), stride (1,1,2),
  // padding (0,0,1), output_padding (0,0,1)), the placement before issue 19, crops dk / 2 = 1
  // before: [10, 102, 20, 200]. Where they differ tapeflow follows Keras.
  Variable x1(shaped(Tensor{1.f, 2.f}, {1, 1, 1, 2, 1}));
  Conv3DTranspose op1(
      Conv3DTransposeOptions(1, {1, 1, 3})
          .strides({1, 1, 2})
          .padding("same")
          .output_padding({0, 0, 1})
          .use_bias(false)
          .kernel_initializer(fixed(shaped(Tensor{1.f, 10.f, 100.f}, {1, 1, 3, 1, 1}))));
  TF_CHECK_CLOSE(op1(x1).value(), shaped(Tensor{1.f, 10.f, 102.f, 20.f}, {1, 1, 1, 4, 1}));
  // Dilation 2, kernel [1, 10]: y[i + 2t] = [1, 2, 10, 20].
  Conv3DTranspose dil1(Conv3DTransposeOptions(1, {1, 1, 2})
                           .dilation_rate(2)
                           .use_bias(false)
                           .kernel_initializer(fixed(shaped(Tensor{1.f, 10.f}, {1, 1, 2, 1, 1}))));
  TF_CHECK_CLOSE(dil1(x1).value(), shaped(Tensor{1.f, 2.f, 10.f, 20.f}, {1, 1, 1, 4, 1}));

  // Random cases against the PyTorch definition (channels_first, PyTorch's layouts), with
  // PyTorch's padding p set to Keras' crop: for "same" with output_padding, p = TF's pad_before
  // and an output_padding that gives Keras' length (0 or -1: outside PyTorch's own domain, where
  // PyTorch cannot express Keras' placement; the definition still holds).
  struct Case {
    std::array<long, 3> k, s, d;
    std::string padding;
    std::optional<std::array<long, 3>> op;
  };
  std::vector<Case> cases{
      {{3, 3, 3}, {2, 2, 2}, {1, 1, 1}, "same", std::array<long, 3>{1, 1, 1}},
      {{4, 2, 3}, {2, 3, 2}, {1, 1, 1}, "valid", std::array<long, 3>{1, 2, 0}},
      {{2, 3, 2}, {1, 1, 1}, {2, 3, 1}, "valid", std::nullopt},
      {{3, 2, 2}, {2, 1, 3}, {2, 1, 2}, "same", std::array<long, 3>{0, 0, 2}},
  };
  unsigned seed = 10;
  for (const auto& c : cases) {
    CAPTURE(c.padding);
    Tensor xf = random_tensor({2, 3, 2, 3, 2}, seed++);  // (N, C, D, H, W)
    Tensor k = random_tensor({std::size_t(c.k[0]), std::size_t(c.k[1]), std::size_t(c.k[2]), 4, 3},
                             seed++);
    Tensor b = random_tensor({4}, seed++);
    auto o = Conv3DTransposeOptions(4, {c.k[0], c.k[1], c.k[2]})
                 .strides({c.s[0], c.s[1], c.s[2]})
                 .dilation_rate({c.d[0], c.d[1], c.d[2]})
                 .padding(c.padding)
                 .data_format("channels_first")
                 .kernel_initializer(fixed(k))
                 .bias_initializer(fixed(b));
    if (c.op) o.output_padding({(*c.op)[0], (*c.op)[1], (*c.op)[2]});
    Conv3DTranspose layer(o);
    std::array<long, 3> p{0, 0, 0}, op{0, 0, 0};
    for (int a = 0; a < 3; ++a) {
      const long dk = c.d[a] * (c.k[a] - 1) + 1;
      if (c.op) {
        const long in = long(xf.shape()[2 + a]);
        if (c.padding == "same") {
          const long out = (in - 1) * c.s[a] + dk - 2 * (dk / 2) + (*c.op)[a];
          p[a] = std::max(0L, (in - 1) * c.s[a] + dk - out) / 2;
          op[a] = out - ((in - 1) * c.s[a] - 2 * p[a] + dk);
        } else {
          op[a] = (*c.op)[a];
        }
      } else {
        // Without output_padding ("valid" only here): PyTorch padding 0, output_padding
        // max(s - dk, 0) gives TF's in * s + max(dk - s, 0).
        op[a] = std::max(c.s[a] - dk, 0L);
      }
    }
    Tensor expected = torch_conv_transpose3d(xf, to_torch_weight(k), b, c.s, p, op, c.d);
    TF_CHECK_CLOSE(layer(Variable(xf)).value(), expected, 1e-4f, 1e-4f);
  }
}

TEST_CASE("gradcheck of the layer w.r.t. input, kernel and bias") {
  Graph g;
  auto scope = g.as_default();
  SUBCASE("channels_last, bias, same, tanh") {
    Conv3DTranspose l(
        Conv3DTransposeOptions(2, {2, 3, 2}).strides({2, 1, 2}).padding("same").activation("tanh"));
    check_layer_gradients(l, random_tensor({2, 2, 2, 1, 3}, 1));
  }
  SUBCASE("channels_first, bias, valid") {
    Conv3DTranspose l(Conv3DTransposeOptions(3, 2).strides(2).data_format("channels_first"));
    check_layer_gradients(l, random_tensor({1, 2, 2, 1, 2}, 2));
  }
  SUBCASE("channels_last, no bias") {
    Conv3DTranspose l(Conv3DTransposeOptions(2, 2).strides({1, 2, 1}).use_bias(false));
    check_layer_gradients(l, random_tensor({1, 2, 2, 2, 2}, 3));
  }
  SUBCASE("channels_first, no bias, sigmoid") {
    Conv3DTranspose l(Conv3DTransposeOptions(2, {2, 1, 3})
                          .padding("same")
                          .use_bias(false)
                          .activation("sigmoid")
                          .data_format("channels_first"));
    check_layer_gradients(l, random_tensor({1, 3, 2, 2, 2}, 4));
  }
  SUBCASE("output_padding, both formats") {
    Conv3DTranspose l(
        Conv3DTransposeOptions(2, 3).strides(2).padding("same").output_padding({1, 0, 1}));
    check_layer_gradients(l, random_tensor({1, 2, 1, 2, 2}, 5));
    Conv3DTranspose f(
        Conv3DTransposeOptions(2, 2).strides({2, 3, 2}).output_padding({0, 2, 1}).data_format(
            "channels_first"));
    check_layer_gradients(f, random_tensor({1, 2, 2, 1, 2}, 6));
  }
  SUBCASE("dilation_rate, both formats") {
    Conv3DTranspose l(Conv3DTransposeOptions(2, 2).dilation_rate({2, 1, 3}).padding("same"));
    check_layer_gradients(l, random_tensor({1, 2, 2, 2, 2}, 7));
    Conv3DTranspose f(Conv3DTransposeOptions(2, 2)
                          .dilation_rate(2)
                          .strides(2)
                          .data_format("channels_first")
                          .use_bias(false));
    check_layer_gradients(f, random_tensor({1, 2, 2, 2, 1}, 8));
  }
}

TEST_CASE("names, variables and collections") {
  Graph g;
  auto scope = g.as_default();
  Variable x(random_tensor({1, 2, 2, 2, 3}, 1));
  Conv3DTranspose a(Conv3DTransposeOptions(4, 2));
  Conv3DTranspose b(Conv3DTransposeOptions(4, 2));
  Conv3DTranspose u1(Conv3DTransposeOptions(4, 2).name("up"));
  Conv3DTranspose u2(Conv3DTransposeOptions(4, 2).name("up"));
  CHECK(a.name() == "conv3d_transpose");
  CHECK(b.name() == "conv3d_transpose_1");
  CHECK(u1.name() == "up");
  CHECK(u2.name() == "up_1");
  CHECK(a.graph() == g);
  TF_CHECK_ERROR(a.scope_name(), "conv3d_transpose", "scope_name", "first called");
  {
    auto ns = g.name_scope("decoder");
    b(x);
  }
  a(x);
  CHECK(a.scope_name() == "conv3d_transpose");
  CHECK(b.scope_name() == "decoder/conv3d_transpose_1");
  CHECK(a.kernel().name() == "conv3d_transpose/kernel");
  CHECK(a.bias().name() == "conv3d_transpose/bias");
  CHECK(b.kernel().name() == "decoder/conv3d_transpose_1/kernel");
  CHECK(a.kernel().shape() == Shape{2, 2, 2, 4, 3});
  CHECK(a.bias().shape() == Shape{4});
  CHECK(a.count_params() == 2 * 2 * 2 * 4 * 3 + 4);
  auto global = g.get_collection(GraphKeys::GLOBAL_VARIABLES);
  auto trainable = g.get_collection(GraphKeys::TRAINABLE_VARIABLES);
  REQUIRE(global.size() == 4);
  REQUIRE(trainable.size() == 4);
  CHECK(global[0].is_same(b.kernel()));  // b was called first
  CHECK(global[2].is_same(a.kernel()));
  CHECK(g.get_collection(GraphKeys::GLOBAL_VARIABLES, "decoder").size() == 2);
  CHECK(a.trainable_variables().size() == 2);
  CHECK(a.non_trainable_variables().empty());
  // Default bias is zeros; default kernel glorot_uniform within its limit.
  CHECK(xt::all(xt::equal(a.bias().value(), 0.f)));
  const double limit = std::sqrt(6.0 / (4 * 8 + 3 * 8));  // fan_in = filters*8, fan_out = in*8
  CHECK(xt::amax(xt::abs(a.kernel().value()))() <= limit);
  CHECK(xt::amax(xt::abs(a.kernel().value()))() > 0.5 * limit);
}

TEST_CASE("trainable=false: weights global, not trainable") {
  Graph g;
  auto scope = g.as_default();
  Conv3DTranspose l(Conv3DTransposeOptions(2, 2).trainable(false));
  l(Variable(random_tensor({1, 2, 2, 2, 1}, 1)));
  CHECK(g.get_collection(GraphKeys::GLOBAL_VARIABLES).size() == 2);
  CHECK(g.get_collection(GraphKeys::TRAINABLE_VARIABLES).empty());
  CHECK(l.trainable_variables().empty());
  CHECK(l.non_trainable_variables().size() == 2);
  CHECK_FALSE(l.kernel().trainable());
}

TEST_CASE("regularizers: kernel/bias losses registered once, activity loss per call") {
  Graph g;
  auto scope = g.as_default();
  Conv3DTranspose l(Conv3DTransposeOptions(2, 2)
                        .kernel_initializer(initializers::constant(0.5f))
                        .bias_initializer(initializers::constant(1.f))
                        .kernel_regularizer(regularizers::l2(0.1f))
                        .bias_regularizer(regularizers::l1(0.2f)));
  Variable x(random_tensor({2, 1, 2, 1, 3}, 1));
  l(x);
  l(x);
  l(x);
  CHECK(g.collection_size(GraphKeys::REGULARIZATION_LOSSES) == 2);
  auto losses = l.losses();
  REQUIRE(losses.size() == 2);
  const float k_elems = 2 * 2 * 2 * 2 * 3;
  CHECK(losses[0].item() == doctest::Approx(0.1 * 0.25 * k_elems));
  CHECK(losses[1].item() == doctest::Approx(0.2 * 2));
  CHECK(get_regularization_loss(g).item() == doctest::Approx(0.1 * 0.25 * k_elems + 0.4));
  // Evaluated on current values, and differentiable.
  l.kernel().assign(Tensor(xt::ones<float>(l.kernel().shape())));
  GradientTape tape;
  Variable total = get_regularization_loss(g);
  CHECK(total.item() == doctest::Approx(0.1 * k_elems + 0.4));
  auto grads = tape.gradient(total, {l.kernel()});
  CHECK(grads[0].value()(0, 0, 0, 0, 0) == doctest::Approx(0.2));

  Graph h;
  auto hs = h.as_default();
  Conv3DTranspose act(
      Conv3DTransposeOptions(1, 1).use_bias(false).kernel_initializer("ones").activity_regularizer(
          regularizers::l2(0.5f)));
  Variable ones(Tensor(xt::ones<float>({4, 1, 1, 1, 1})));
  act(ones);
  REQUIRE(act.losses().size() == 1);
  CHECK(act.losses()[0].item() == doctest::Approx(0.5 * 4 / 4));  // reg(y) / batch
  act(Variable(Tensor(2.f * xt::ones<float>({4, 1, 1, 1, 1}))));
  REQUIRE(act.losses().size() == 1);  // a new top-level call replaces the previous loss
  CHECK(act.losses()[0].item() == doctest::Approx(0.5 * 16 / 4));
  CHECK(h.collection_size(GraphKeys::REGULARIZATION_LOSSES) == 1);
  CHECK(get_regularization_loss(h).item() == doctest::Approx(2.0));
}

TEST_CASE("constraints are stored on the variables, never applied in the forward pass") {
  Graph g;
  auto scope = g.as_default();
  Conv3DTranspose l(Conv3DTransposeOptions(1, 1)
                        .kernel_initializer(initializers::constant(3.f))
                        .bias_initializer(initializers::constant(-2.f))
                        .kernel_constraint(constraints::max_norm(1.f))
                        .bias_constraint(constraints::non_neg()));
  Variable x(Tensor(xt::ones<float>({1, 1, 1, 1, 1})));
  Variable y = l(x);
  CHECK(y.item() == doctest::Approx(3.f - 2.f));
  CHECK(l.kernel().value()(0, 0, 0, 0, 0) == 3.f);
  CHECK(l.bias().value()(0) == -2.f);
  REQUIRE(l.kernel().constraint());
  REQUIRE(l.bias().constraint());
  CHECK(l.kernel().constraint()(l.kernel().value())(0, 0, 0, 0, 0) == doctest::Approx(1.f));
  CHECK(l.bias().constraint()(l.bias().value())(0) == 0.f);
}

TEST_CASE("bad input: errors name the layer and the argument") {
  Graph g;
  auto scope = g.as_default();
  using O = Conv3DTransposeOptions;
  TF_CHECK_ERROR(Conv3DTranspose(O(0, 3)), "conv3d_transpose", "filters", "positive", "0");
  TF_CHECK_ERROR(Conv3DTranspose(O(-2, 3).name("up")), "up", "filters", "-2");
  TF_CHECK_ERROR(Conv3DTranspose(O(2, 0)), "conv3d_transpose", "kernel_size (0,)", "> 0");
  TF_CHECK_ERROR(Conv3DTranspose(O(2, {3, -1, 3})), "kernel_size", "(3, -1, 3)");
  TF_CHECK_ERROR(Conv3DTranspose(O(2, {3, 3})), "kernel_size (3, 3)", "expected 1 or 3");
  TF_CHECK_ERROR(Conv3DTranspose(O()), "conv3d_transpose", "filters");
  TF_CHECK_ERROR(Conv3DTranspose(O(2, 3).strides(0)), "conv3d_transpose", "strides (0,)", "> 0");
  TF_CHECK_ERROR(Conv3DTranspose(O(2, 3).strides({2, -2, 2})), "strides", "(2, -2, 2)");
  TF_CHECK_ERROR(Conv3DTranspose(O(2, 3).strides({2, 2, 2, 2})), "strides", "(2, 2, 2, 2)");
  TF_CHECK_ERROR(Conv3DTranspose(O(2, 3).dilation_rate(0)), "dilation_rate (0,)", "> 0");
  TF_CHECK_ERROR(Conv3DTranspose(O(2, 3).padding("full").name("dec")), "dec", "padding", "'full'");
  TF_CHECK_ERROR(Conv3DTranspose(O(2, 3).data_format("NCDHW")), "conv3d_transpose", "data_format",
                 "'NCDHW'");
  TF_CHECK_ERROR(Conv3DTranspose(O(2, 3).activation("relux")), "conv3d_transpose", "activation",
                 "relux");
  TF_CHECK_ERROR(Conv3DTranspose(O(2, 3).strides(2).output_padding(2)), "conv3d_transpose",
                 "output_padding (2, 2, 2)", "smaller than strides");
  TF_CHECK_ERROR(Conv3DTranspose(O(2, 3).strides({2, 2, 3}).output_padding({1, 2, 1})),
                 "output_padding", "axis 1");
  TF_CHECK_ERROR(Conv3DTranspose(O(2, 3).strides(2).output_padding(-1)), "output_padding (-1,)",
                 ">= 0");

  Conv3DTranspose l(O(2, 3).name("deconv"));
  TF_CHECK_ERROR(l(Variable(random_tensor({2, 4, 4, 3}, 1))), "deconv", "rank 5", "(2, 4, 4, 3)");
  TF_CHECK_ERROR(l(Variable(random_tensor({1, 2, 2, 2, 3, 1}, 1))), "deconv", "rank 5");
  l(Variable(random_tensor({1, 2, 2, 2, 3}, 1)));
  TF_CHECK_ERROR(l(Variable(random_tensor({1, 2, 2, 2, 4}, 1))), "deconv", "4 channels",
                 "built for 3");
  Conv3DTranspose cf(O(2, 3).data_format("channels_first"));
  cf(Variable(random_tensor({1, 2, 2, 2, 3}, 1)));  // 2 channels
  TF_CHECK_ERROR(cf(Variable(random_tensor({1, 3, 2, 2, 3}, 1))), "3 channels", "built for 2");

  // An initializer that returns the wrong shape: the message names the layer once and the weight.
  Conv3DTranspose bad(O(2, 3).name("badinit").kernel_initializer([](const Shape&) {
    return Tensor(xt::zeros<float>({3, 3, 3, 3, 2}));
  }));
  TF_CHECK_ERROR(bad(Variable(random_tensor({1, 2, 2, 2, 3}, 1))), "badinit:", "weight 'kernel'",
                 "(3, 3, 3, 3, 2)", "(3, 3, 3, 2, 3)");
  CHECK_FALSE(bad.built());
  CHECK(g.get_collection(GraphKeys::GLOBAL_VARIABLES, "badinit").empty());
  // A non-positive output length (same + output_padding with a size-1 input and k = 2).
  Conv3DTranspose tiny(O(1, 2).padding("same").output_padding(0).name("tiny"));
  TF_CHECK_ERROR(tiny(Variable(random_tensor({1, 1, 1, 1, 1}, 1))), "tiny", "output length",
                 "would be 0");
}

TEST_CASE("pretty_print and get_config") {
  Graph g;
  auto scope = g.as_default();
  Conv3DTranspose a(Conv3DTransposeOptions(8, 3).strides(2).padding("Same"));
  CHECK(a.pretty_print() ==
        "Conv3DTranspose(filters=8, kernel_size=(3, 3, 3), "
        "strides=(2, 2, 2), padding=same)");
  Conv3DTranspose b(Conv3DTransposeOptions(4, {1, 2, 3})
                        .data_format("channels_first")
                        .dilation_rate({1, 2, 1})
                        .strides({2, 2, 2})
                        .output_padding(1)
                        .activation("relu")
                        .use_bias(false));
  std::ostringstream os;
  os << b;
  CHECK(os.str() ==
        "Conv3DTranspose(filters=4, kernel_size=(1, 2, 3), strides=(2, 2, 2), "
        "padding=valid, data_format=channels_first, dilation_rate=(1, 2, 1), "
        "output_padding=(1, 1, 1), activation=relu, use_bias=false)");
  Config c = b.get_config();
  CHECK(c["name"] == "conv3d_transpose_1");
  CHECK(c["filters"] == "4");
  CHECK(c["kernel_size"] == "(1, 2, 3)");
  CHECK(c["padding"] == "valid");
  CHECK(c["data_format"] == "channels_first");
  CHECK(c["output_padding"] == "(1, 1, 1)");
  CHECK(c["activation"] == "relu");
  CHECK(c["use_bias"] == "false");
  CHECK(c["kernel_initializer"].rfind("glorot_uniform", 0) == 0);
  CHECK(c["kernel_regularizer"] == "None");
  CHECK(a.get_config()["output_padding"] == "None");
}

TEST_CASE("TF1 functional form conv3d_transpose") {
  Graph g;
  auto scope = g.as_default();
  Variable x(random_tensor({1, 2, 2, 2, 3}, 1));
  Variable y = layers::conv3d_transpose(
      x, 4, 3,
      Conv3DTransposeOptions().strides(2).padding("same").activity_regularizer(
          regularizers::l1(0.1f)));
  CHECK(y.shape() == Shape{1, 4, 4, 4, 4});
  Variable y2 = layers::conv3d_transpose(x, 2, {1, 2, 1});
  CHECK(y2.shape() == Shape{1, 2, 3, 2, 2});
  auto vars = g.get_collection(GraphKeys::GLOBAL_VARIABLES);
  REQUIRE(vars.size() == 4);
  CHECK(vars[0].name() == "conv3d_transpose/kernel");
  CHECK(vars[2].name() == "conv3d_transpose_1/kernel");
  // The first layer's activity loss stays alive with its layer.
  CHECK(get_regularization_loss(g).item() > 0.f);
  TF_CHECK_ERROR(layers::conv3d_transpose(x, 0, 3), "conv3d_transpose", "filters");
}

TEST_CASE(
    "workspace: (8, 8, 8, 8, 128) -> 64 filters, k=4, s=2, same, forward + backward under "
    "64 MiB") {
  Graph g;
  auto scope = g.as_default();
  Conv3DTranspose l(Conv3DTransposeOptions(64, 4).strides(2).padding("same").kernel_initializer(
      initializers::random_uniform(-0.05f, 0.05f, 3)));
  Variable x(random_tensor({8, 8, 8, 8, 128}, 1));
  kernels::reset_conv_workspace_peak();
  GradientTape tape;
  tape.watch(x);
  Variable y = l(x);
  REQUIRE(y.shape() == Shape{8, 16, 16, 16, 64});
  auto grads = tape.gradient(y, {x, l.kernel(), l.bias()}, Variable(random_tensor(y.shape(), 2)));
  REQUIRE(grads[0].defined());
  REQUIRE(grads[1].defined());
  const std::size_t peak = kernels::conv_workspace_peak_bytes();
  MESSAGE("conv workspace peak: " << peak << " bytes");
  CHECK(peak > 0);
  CHECK(peak < (std::size_t(64) << 20));
  // Spot-check one gradient entry against the definition: gbias = sum of gy over all but
  // channels, gx[0,0,0,0,c] = sum over taps that land in the output.
  CHECK(grads[2].shape() == Shape{64});
}

TEST_CASE("the 3-D member of the transposed family: typed errors, one rule for strides") {
  static_assert(std::is_base_of_v<layers::ConvNDTranspose<3>, Conv3DTranspose>);
  static_assert(std::is_same_v<Conv3DTransposeOptions, layers::ConvNDTransposeOptions<3>>);
  Graph g;
  auto scope = g.as_default();
  using O = Conv3DTransposeOptions;
  // An unknown activation: "activation" once (it used to read "activation: activation: ...").
  std::string message;
  try {
    Conv3DTranspose bad(O(2, 3).activation("nope"));
  } catch (const ValueError& e) {
    message = e.what();
  }
  CHECK(message.rfind("conv3d_transpose: activation: unknown activation 'nope' (known", 0) == 0);
  CHECK_THROWS_AS(Conv3DTranspose(O(2, 3).strides(2).output_padding(2)), ValueError);
  CHECK_THROWS_AS(Conv3DTranspose(O(2, {3, 3})), ValueError);
  CHECK_THROWS_AS(Conv3DTranspose(O(2, 3).data_format("NCDHW")), ValueError);

  // Input shapes: ShapeErrors, before and after the first call.
  Conv3DTranspose l(O(2, 3).name("deconv"));
  CHECK_THROWS_AS(l(Variable(random_tensor({2, 4, 4, 3}, 1))), ShapeError);
  l(Variable(random_tensor({1, 2, 2, 2, 3}, 1)));
  CHECK_THROWS_AS(l(Variable(random_tensor({2, 4, 4, 3}, 1))), ShapeError);
  CHECK_THROWS_AS(l(Variable(random_tensor({1, 2, 2, 2, 4}, 1))), ShapeError);

  // strides > 1 with dilation_rate > 1, as Conv1DTranspose and Conv2DTranspose (beyond Keras;
  // test_conv_transpose.cpp checks the values against the definition).
  Conv3DTranspose sd(O(1, 2).strides(2).dilation_rate(2).padding("same"));
  CHECK(sd(Variable(random_tensor({1, 2, 3, 2, 1}, 2))).shape() == Shape{1, 4, 6, 4, 1});
}
