#include <cmath>
#include <vector>

#include "tapeflow/framework/ops/conv.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using tapeflow::test::random_tensor;
using tapeflow::test::shaped;

namespace {

// PyTorch's definition of ConvTranspose, written from scratch for channels_last tensors of
// rank 3 to 5: out = (in - 1) * s - 2 * ... (the caller gives out and pad_before per axis),
// y[i * s + t * d - pad_before] += x[i] . kernel[t], kernel (k..., filters, in_channels).
Tensor naive_conv_transpose(const Tensor& x, const Tensor& kernel, const std::vector<long>& out,
                            const std::vector<long>& s, const std::vector<long>& d,
                            const std::vector<long>& pb) {
  const std::size_t r = x.dimension() - 2;
  // Pad everything to 3 spatial axes (leading 1s).
  std::vector<long> X(3, 1), O(3, 1), K(3, 1), S(3, 1), D(3, 1), P(3, 0);
  for (std::size_t a = 0; a < r; ++a) {
    X[3 - r + a] = long(x.shape()[1 + a]);
    O[3 - r + a] = out[a];
    K[3 - r + a] = long(kernel.shape()[a]);
    S[3 - r + a] = s[a];
    D[3 - r + a] = d[a];
    P[3 - r + a] = pb[a];
  }
  const long N = long(x.shape()[0]), Ci = long(x.shape().back()), F = long(kernel.shape()[r]);
  Shape ys{std::size_t(N)};
  for (std::size_t a = 0; a < r; ++a) ys.push_back(std::size_t(out[a]));
  ys.push_back(std::size_t(F));
  Tensor y = xt::zeros<float>(ys);
  for (long n = 0; n < N; ++n)
    for (long i0 = 0; i0 < X[0]; ++i0)
      for (long i1 = 0; i1 < X[1]; ++i1)
        for (long i2 = 0; i2 < X[2]; ++i2)
          for (long t0 = 0; t0 < K[0]; ++t0)
            for (long t1 = 0; t1 < K[1]; ++t1)
              for (long t2 = 0; t2 < K[2]; ++t2) {
                long o0 = i0 * S[0] + t0 * D[0] - P[0], o1 = i1 * S[1] + t1 * D[1] - P[1],
                     o2 = i2 * S[2] + t2 * D[2] - P[2];
                if (o0 < 0 || o1 < 0 || o2 < 0 || o0 >= O[0] || o1 >= O[1] || o2 >= O[2]) continue;
                for (long f = 0; f < F; ++f)
                  for (long c = 0; c < Ci; ++c) {
                    float xv = x.data()[(((n * X[0] + i0) * X[1] + i1) * X[2] + i2) * Ci + c];
                    float kv = kernel.data()[(((t0 * K[1] + t1) * K[2] + t2) * F + f) * Ci + c];
                    y.data()[(((n * O[0] + o0) * O[1] + o1) * O[2] + o2) * F + f] += xv * kv;
                  }
              }
  return y;
}

double dot(const Tensor& a, const Tensor& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += double(a.data()[i]) * double(b.data()[i]);
  return s;
}

Tensor to_first(const Tensor& t) {
  return tapeflow::detail::to_channels_first(Variable(t)).value();
}

}  // namespace

TEST_CASE("conv_transpose_output_length: Keras deconv_output_length") {
  CHECK(conv_transpose_output_length(8, 4, 2, 1, "same") == 16);
  CHECK(conv_transpose_output_length(8, 4, 2, 1, "valid") == 18);
  CHECK(conv_transpose_output_length(3, 2, 3, 1, "valid") == 9);     // stride > kernel
  CHECK(conv_transpose_output_length(4, 3, 1, 2, "VALID") == 8);     // dk = 5
  CHECK(conv_transpose_output_length(2, 3, 2, 1, "same", 1) == 4);   // (2-1)*2 + 3 - 2*1 + 1
  CHECK(conv_transpose_output_length(2, 3, 2, 1, "valid", 1) == 6);  // (2-1)*2 + 3 + 1
  CHECK(conv_transpose_output_length(5, 4, 2, 1, "Same", 0) == 8);   // pad 2: 8 + 4 - 4
  CHECK(conv_transpose_output_length(3, 2, 2, 3, "same", 1) == 5);   // dk 4, pad 2: 4 + 4 - 4 + 1
  TF_CHECK_ERROR(conv_transpose_output_length(2, 3, 2, 1, "full"), "conv_transpose",
                 "unknown padding 'full'");
}

TEST_CASE("conv_transpose known values (1-D, by hand)") {
  // x [1, 2], kernel [1, 10, 100], stride 2. Full scatter y[2i + t]: [1, 10, 102, 20, 200].
  Variable x(shaped(Tensor{1.f, 2.f}, {1, 2, 1}));
  Variable k(shaped(Tensor{1.f, 10.f, 100.f}, {3, 1, 1}));
  auto o = [] { return ConvOptions().strides(2); };
  TF_CHECK_CLOSE(conv_transpose(x, k, o().padding("valid")).value(),
                 shaped(Tensor{1.f, 10.f, 102.f, 20.f, 200.f}, {1, 5, 1}));
  // TF same: out 4, pad_total max(0, 2 + 3 - 4) = 1, pad_before 0.
  TF_CHECK_CLOSE(conv_transpose(x, k, o().padding("same")).value(),
                 shaped(Tensor{1.f, 10.f, 102.f, 20.f}, {1, 4, 1}));
  // output_padding 1: out (2-1)*2 + 3 - 2 + 1 = 4, placed by TF's rule as Keras: pad_total
  // max(0, 2 + 3 - 4) = 1, crop 0 before (PyTorch's 3 / 2 = 1 gave [10, 102, 20, 200]).
  TF_CHECK_CLOSE(conv_transpose(x, k, o().padding("same").output_padding(1)).value(),
                 shaped(Tensor{1.f, 10.f, 102.f, 20.f}, {1, 4, 1}));
  // explicit pads (0, 1): out (2-1)*2 + 3 - 1 = 4.
  TF_CHECK_CLOSE(conv_transpose(x, k, o().pads({{0, 1}})).value(),
                 shaped(Tensor{1.f, 10.f, 102.f, 20.f}, {1, 4, 1}));
  // Dilation 2, stride 1, kernel [1, 10]: y[i + 2t] = [1, 2, 10, 20].
  Variable k2(shaped(Tensor{1.f, 10.f}, {2, 1, 1}));
  TF_CHECK_CLOSE(conv_transpose(x, k2, ConvOptions().dilation(2)).value(),
                 shaped(Tensor{1.f, 2.f, 10.f, 20.f}, {1, 4, 1}));
}

TEST_CASE("conv known values (1-D same, by hand)") {
  // x [1, 2, 3, 4], kernel [1, 10, 100], same: pad 1 before, y[o] = sum_t x[o + t - 1] w[t].
  Variable x(shaped(Tensor{1.f, 2.f, 3.f, 4.f}, {1, 4, 1}));
  Variable k(shaped(Tensor{1.f, 10.f, 100.f}, {3, 1, 1}));
  TF_CHECK_CLOSE(conv(x, k, ConvOptions().padding("same")).value(),
                 shaped(Tensor{210.f, 321.f, 432.f, 43.f}, {1, 4, 1}));
  TF_CHECK_CLOSE(conv(x, k).value(), shaped(Tensor{321.f, 432.f}, {1, 2, 1}));
  // stride 2, same: out ceil(4/2) = 2, pad_total max((2-1)*2 + 3 - 4, 0) = 1, before 0:
  // y[o] = sum_t x[2o + t] w[t] = [1 + 20 + 300, 3 + 40].
  TF_CHECK_CLOSE(conv(x, k, ConvOptions().padding("same").strides(2)).value(),
                 shaped(Tensor{321.f, 43.f}, {1, 2, 1}));
}

TEST_CASE("conv_transpose matches the direct PyTorch/TF definition (3-D, both data formats)") {
  struct Case {
    std::vector<long> in, k, s, d;
    std::string padding;
    std::vector<long> op;  // empty: none
    std::vector<long> out, pb;
  };
  // out / pb worked out from the documented rules.
  std::vector<Case> cases{
      // TF same, k=4 s=2: out = in*s, pad_total = k - s = 2, before 1.
      {{3, 2, 4}, {4, 4, 4}, {2, 2, 2}, {1, 1, 1}, "same", {}, {6, 4, 8}, {1, 1, 1}},
      // TF valid, stride > kernel on the last axis.
      {{2, 3, 2}, {3, 1, 2}, {2, 1, 3}, {1, 1, 1}, "valid", {}, {5, 3, 6}, {0, 0, 0}},
      // same with k < s: pad_total 0.
      {{2, 2, 3}, {1, 2, 2}, {2, 3, 3}, {1, 1, 1}, "same", {}, {4, 6, 9}, {0, 0, 0}},
      // dilation (2, 1, 3), same: dk (5, 3, 4); out = in*s; pb = max(0,(in-1)s+dk-out)/2.
      {{3, 3, 2}, {3, 3, 2}, {1, 2, 1}, {2, 1, 3}, "same", {}, {3, 6, 2}, {2, 0, 1}},
      // output_padding, same: out (in-1)s + dk - 2 (dk/2) + op, placed by TF's rule (Keras):
      // pb = max(0, (in-1)s + dk - out) / 2 = (1/2, 2/2, 2/2) (PyTorch's dk/2 was (1, 1, 2)).
      {{2, 3, 2}, {3, 3, 4}, {2, 2, 3}, {1, 1, 1}, "same", {1, 0, 2}, {4, 5, 5}, {0, 1, 1}},
      // output_padding + dilation, valid: padding 0, out (in-1)s + dk + op.
      {{2, 2, 2}, {2, 2, 2}, {2, 3, 2}, {2, 1, 3}, "valid", {1, 2, 0}, {6, 7, 6}, {0, 0, 0}},
  };
  unsigned seed = 1;
  for (const auto& c : cases) {
    CAPTURE(c.padding);
    CAPTURE(shape_str(c.in));
    Tensor x = random_tensor(
        {2, std::size_t(c.in[0]), std::size_t(c.in[1]), std::size_t(c.in[2]), 3}, seed++);
    Tensor k = random_tensor({std::size_t(c.k[0]), std::size_t(c.k[1]), std::size_t(c.k[2]), 2, 3},
                             seed++);
    Tensor expected = naive_conv_transpose(x, k, c.out, c.s, c.d, c.pb);
    ConvOptions o = ConvOptions().strides(c.s).dilation(c.d).padding(c.padding);
    if (!c.op.empty()) o.output_padding(c.op);
    Tensor y = conv_transpose(Variable(x), Variable(k), o).value();
    TF_CHECK_CLOSE(y, expected, 1e-4f, 1e-4f);
    // channels_first: the same numbers, transposed at both ends.
    Tensor yf = conv_transpose(Variable(to_first(x)), Variable(k),
                               ConvOptions(o).data_format("Channels_First"))
                    .value();
    TF_CHECK_CLOSE(yf, to_first(expected), 1e-4f, 1e-4f);
  }
}

TEST_CASE("conv and conv_transpose are adjoint (output_shape gives the exact inverse shape)") {
  // conv: 7 -> ceil(7/2) = 4 with same padding; the transpose back to 7 via output_shape.
  Tensor x = random_tensor({2, 7, 5, 3}, 21);
  Tensor k = random_tensor({3, 2, 3, 4}, 22);  // (kh, kw, in=3, out=4)
  ConvOptions o = ConvOptions().strides({2, 1}).padding("same");
  Tensor y = conv(Variable(x), Variable(k), o).value();
  REQUIRE(shape_of(y) == Shape{2, 4, 5, 4});
  Tensor g = random_tensor({2, 4, 5, 4}, 23);
  Tensor xt_ =
      conv_transpose(Variable(g), Variable(k), ConvOptions(o).output_shape({7, 5})).value();
  REQUIRE(shape_of(xt_) == shape_of(x));
  CHECK(std::abs(dot(y, g) - dot(x, xt_)) < 1e-3 * std::abs(dot(y, g)));
  // Explicit pads and dilation, valid-like.
  ConvOptions p = ConvOptions().pads({{1, 0}, {2, 2}}).dilation({2, 1}).strides(2);
  Tensor y2 = conv(Variable(x), Variable(k), p).value();
  Tensor g2 = random_tensor(shape_of(y2), 24);
  Tensor x2 =
      conv_transpose(Variable(g2), Variable(k), ConvOptions(p).output_shape({7, 5})).value();
  CHECK(std::abs(dot(y2, g2) - dot(x, x2)) < 1e-3 * (1 + std::abs(dot(y2, g2))));
}

TEST_CASE("gradcheck: conv_transpose w.r.t. input and kernel, 1-D to 3-D, both formats") {
  TF_GRADCHECK(
      [](const std::vector<Variable>& in) {
        return conv_transpose(in[0], in[1], ConvOptions().strides(2).padding("same"));
      },
      (std::vector<Tensor>{random_tensor({2, 3, 2}, 1), random_tensor({3, 2, 2}, 2)}));
  TF_GRADCHECK(
      [](const std::vector<Variable>& in) {
        return conv_transpose(in[0], in[1],
                              ConvOptions().strides({2, 1}).dilation({1, 2}).padding("valid"));
      },
      (std::vector<Tensor>{random_tensor({1, 2, 3, 2}, 3), random_tensor({2, 2, 3, 2}, 4)}));
  TF_GRADCHECK(
      [](const std::vector<Variable>& in) {
        return conv_transpose(
            in[0], in[1],
            ConvOptions().strides(2).padding("same").output_padding({1, 0, 1}).data_format(
                "channels_first"));
      },
      (std::vector<Tensor>{random_tensor({1, 2, 2, 2, 1}, 5), random_tensor({3, 2, 2, 3, 2}, 6)}));
}

TEST_CASE("gradcheck: conv w.r.t. input and kernel, padding, stride, dilation, channels_first") {
  TF_GRADCHECK(
      [](const std::vector<Variable>& in) {
        return conv(in[0], in[1], ConvOptions().strides(2).padding("same"));
      },
      (std::vector<Tensor>{random_tensor({2, 5, 2}, 7), random_tensor({3, 2, 3}, 8)}));
  TF_GRADCHECK(
      [](const std::vector<Variable>& in) {
        return conv(in[0], in[1],
                    ConvOptions()
                        .pads({{1, 0}, {0, 2}, {1, 1}})
                        .dilation({1, 2, 1})
                        .data_format("channels_first"));
      },
      (std::vector<Tensor>{random_tensor({1, 2, 3, 3, 3}, 9), random_tensor({2, 2, 2, 2, 2}, 10)}));
}

TEST_CASE("second-order gradients through conv_transpose and conv") {
  // d/dx of sum(conv_transpose(x, K)^2) is 2 conv(conv_transpose(x, K), K): differentiate that
  // again, w.r.t. both x and K.
  TF_GRADCHECK(
      [](const std::vector<Variable>& in) {
        GradientTape inner;
        Variable y = conv_transpose(in[0], in[1], ConvOptions().strides(2).padding("same"));
        return inner.gradient(sum(mul(y, y)), {in[0], in[1]})[1];
      },
      (std::vector<Tensor>{random_tensor({1, 2, 2, 2}, 11), random_tensor({3, 2, 2, 2}, 12)}));
  TF_GRADCHECK(
      [](const std::vector<Variable>& in) {
        GradientTape inner;
        Variable y = conv(in[0], in[1], ConvOptions().strides(2).padding("same"));
        return inner.gradient(sum(mul(y, y)), {in[0]})[0];
      },
      (std::vector<Tensor>{random_tensor({1, 4, 2}, 13), random_tensor({3, 2, 2}, 14)}));
}

TEST_CASE("kernel gradient alone (input not followed) equals the fused gradient") {
  Tensor xv = random_tensor({1, 2, 3, 2, 2}, 1);
  Variable k(random_tensor({2, 3, 2, 3, 2}, 2), true, "k");
  Tensor gy = random_tensor({1, 4, 7, 4, 3}, 3);
  auto o = ConvOptions().strides(2).padding("valid");
  Variable x(xv);  // a constant: the backward skips its gradient
  GradientTape t1;
  Variable y1 = conv_transpose(x, k, o);
  REQUIRE(y1.shape() == Shape{1, 4, 7, 4, 3});
  auto g1 = t1.gradient(y1, {k, x}, Variable(gy));
  CHECK_FALSE(g1[1].defined());
  Variable xw(xv);
  GradientTape t2;
  t2.watch(xw);
  Variable y2 = conv_transpose(xw, k, o);
  auto g2 = t2.gradient(y2, {k, xw}, Variable(gy));
  REQUIRE(g2[1].defined());
  TF_CHECK_CLOSE(g1[0].value(), g2[0].value());
  // The input gradient is the ordinary conv of gy with the same kernel.
  TF_CHECK_CLOSE(g2[1].value(), conv(Variable(gy), k, o).value(), 1e-5f, 1e-4f);
}

TEST_CASE("bias_add and channel_sum: known values and gradients, both formats") {
  Variable x(Tensor(xt::zeros<float>({2, 2, 3})));
  Variable b(Tensor{1.f, 2.f, 3.f});
  Tensor y = bias_add(x, b).value();
  CHECK(y(1, 1, 2) == 3.f);
  CHECK(y(0, 1, 0) == 1.f);
  Variable b2(Tensor{1.f, 2.f});
  Tensor yf = bias_add(x, b2, "channels_first").value();
  CHECK(yf(1, 0, 2) == 1.f);
  CHECK(yf(1, 1, 0) == 2.f);
  Tensor s =
      tapeflow::detail::channel_sum(Variable(Tensor(xt::ones<float>({2, 3, 4}))), "channels_first")
          .value();
  TF_CHECK_CLOSE(s, (Tensor{8.f, 8.f, 8.f}));
  TF_GRADCHECK([](const std::vector<Variable>& in) { return bias_add(in[0], in[1]); },
               (std::vector<Tensor>{random_tensor({2, 2, 3}, 1), random_tensor({3}, 2)}));
  TF_GRADCHECK(
      [](const std::vector<Variable>& in) { return bias_add(in[0], in[1], "channels_first"); },
      (std::vector<Tensor>{random_tensor({2, 2, 3}, 3), random_tensor({2}, 4)}));
  // channel_sum is linear; its own gradient (a broadcast) must be right too.
  TF_GRADCHECK(
      [](const std::vector<Variable>& in) {
        return tapeflow::detail::channel_sum(mul(in[0], in[0]));
      },
      (std::vector<Tensor>{random_tensor({2, 2, 3}, 5)}));
  TF_CHECK_ERROR(bias_add(x, b2), "bias_add", "bias has shape (2,)", "(2, 2, 3)");
  TF_CHECK_ERROR(bias_add(x, b, "nchw"), "bias_add", "unknown data_format 'nchw'");
}

TEST_CASE("to_channels_last / to_channels_first: values and gradients") {
  Tensor t = xt::arange<float>(12).reshape({1, 3, 2, 2});  // (n, c, h, w)
  Tensor l = tapeflow::detail::to_channels_last(Variable(t)).value();
  REQUIRE(shape_of(l) == Shape{1, 2, 2, 3});
  CHECK(l(0, 1, 0, 2) == t(0, 2, 1, 0));
  CHECK(l(0, 0, 1, 1) == t(0, 1, 0, 1));
  TF_CHECK_CLOSE(tapeflow::detail::to_channels_first(Variable(l)).value(), t);
  TF_GRADCHECK(
      [](const std::vector<Variable>& in) { return tapeflow::detail::to_channels_last(in[0]); },
      (std::vector<Tensor>{random_tensor({2, 3, 2, 1}, 6)}));
}

TEST_CASE("conv and conv_transpose with a bias equal bias_add of the plain op, both formats") {
  // Strided (per-thread tiles), k == s (a permutation), unit stride (run as a conv) and 1-D.
  struct Case {
    Shape x, k;
    ConvOptions o;
  };
  const std::vector<Case> cases{
      {{2, 3, 4, 3, 3}, {3, 3, 2, 5, 3}, ConvOptions().strides(2).padding("same")},
      {{2, 3, 2, 4, 2}, {2, 2, 2, 4, 2}, ConvOptions().strides(2)},
      {{1, 4, 3, 3, 2}, {3, 2, 3, 3, 2}, ConvOptions().padding("same")},
      {{3, 5, 2}, {3, 4, 2}, ConvOptions().strides(3).dilation(1)},
  };
  for (const auto& c : cases)
    for (const char* fmt : {"channels_last", "channels_first"}) {
      CAPTURE(fmt);
      ConvOptions o = c.o;
      o.data_format(fmt);
      const bool first = std::string(fmt) == "channels_first";
      Tensor xt = random_tensor(c.x, 1);
      Variable x(first ? to_first(xt) : xt), k(random_tensor(c.k, 2));
      Variable b(random_tensor({c.k[c.k.size() - 2]}, 3));
      Variable fused = conv_transpose(x, k, b, o);
      Variable plain = bias_add(conv_transpose(x, k, o), b, fmt);
      CHECK(xt::allclose(fused.value(), plain.value(), 1e-5, 1e-5));
      // conv: kernel (k..., in, out) with in = the input's channels.
      Shape ck = c.k;
      std::swap(ck[ck.size() - 1], ck[ck.size() - 2]);
      ck[ck.size() - 2] = c.x.back();
      ck[ck.size() - 1] = 4;
      Variable kc(random_tensor(ck, 4)), bc(random_tensor({4}, 5));
      ConvOptions oc;
      oc.padding("same").data_format(fmt);
      CHECK(xt::allclose(conv(x, kc, bc, oc).value(), bias_add(conv(x, kc, oc), bc, fmt).value(),
                         1e-5, 1e-5));
      // An undefined bias adds nothing.
      CHECK(xt::allclose(conv_transpose(x, k, Variable(), o).value(),
                         conv_transpose(x, k, o).value()));
    }
}

TEST_CASE("gradcheck: conv_transpose and conv with a bias, w.r.t. input, kernel and bias") {
  TF_GRADCHECK(
      [](const std::vector<Variable>& in) {
        return conv_transpose(in[0], in[1], in[2], ConvOptions().strides(2).padding("same"));
      },
      (std::vector<Tensor>{random_tensor({2, 3, 3, 2}, 1), random_tensor({3, 3, 2, 2}, 2),
                           random_tensor({2}, 3)}));
  TF_GRADCHECK(
      [](const std::vector<Variable>& in) {
        return conv_transpose(in[0], in[1], in[2],
                              ConvOptions().strides(2).data_format("channels_first"));
      },
      (std::vector<Tensor>{random_tensor({1, 2, 2, 2, 2}, 4), random_tensor({2, 2, 2, 3, 2}, 5),
                           random_tensor({3}, 6)}));
  TF_GRADCHECK(
      [](const std::vector<Variable>& in) {
        return conv(in[0], in[1], in[2], ConvOptions().strides(2).padding("same"));
      },
      (std::vector<Tensor>{random_tensor({2, 5, 2}, 7), random_tensor({3, 2, 3}, 8),
                           random_tensor({3}, 9)}));
  // The bias alone followed (input and kernel constants).
  Variable x(random_tensor({1, 2, 2, 2, 2}, 10)), k(random_tensor({2, 2, 2, 3, 2}, 11));
  Variable b(random_tensor({3}, 12));
  GradientTape tape;
  tape.watch(b);
  Variable y = conv_transpose(x, k, b, ConvOptions().strides(2));
  Variable gb = tape.gradient(sum(y), {b})[0];
  for (std::size_t i = 0; i < 3; ++i) CHECK(gb.value()(i) == doctest::Approx(4.0 * 4.0 * 4.0));
}

TEST_CASE("conv / conv_transpose bad input") {
  Variable x(random_tensor({1, 4, 4, 4, 3}, 1));
  Variable k(random_tensor({2, 2, 2, 5, 3}, 2));  // transpose: (k, k, k, filters=5, in=3)
  TF_CHECK_ERROR(conv_transpose(Variable(random_tensor({4, 3}, 1)), k), "conv_transpose",
                 "rank 3 to 5", "(4, 3)");
  TF_CHECK_ERROR(conv_transpose(x, Variable(random_tensor({2, 2, 5, 3}, 1))), "conv_transpose",
                 "kernel has shape (2, 2, 5, 3)", "rank 5");
  TF_CHECK_ERROR(conv_transpose(x, Variable(random_tensor({2, 2, 2, 3, 5}, 1))), "conv_transpose",
                 "in_channels", "5", "3 channels");
  TF_CHECK_ERROR(conv(x, k), "conv", "in_channels", "5", "3 channels");
  TF_CHECK_ERROR(conv_transpose(x, k, Variable(random_tensor({3}, 3))), "conv_transpose",
                 "bias has shape (3,)", "expected (5,)", "per output channel");
  TF_CHECK_ERROR(
      conv(x, Variable(random_tensor({2, 2, 2, 3, 4}, 2)), Variable(random_tensor({4, 1}, 3))),
      "conv", "bias has shape (4, 1)", "expected (4,)");
  TF_CHECK_ERROR(conv_transpose(x, k, ConvOptions().strides({2, 2})), "conv_transpose",
                 "strides (2, 2)", "expected 1 or 3");
  TF_CHECK_ERROR(conv_transpose(x, k, ConvOptions().strides({2, 0, 2})), "conv_transpose",
                 "strides (2, 0, 2)", ">= 1");
  TF_CHECK_ERROR(conv_transpose(x, k, ConvOptions().dilation(-1)), "conv_transpose", "dilation");
  TF_CHECK_ERROR(conv_transpose(x, k, ConvOptions().padding("full")), "conv_transpose",
                 "unknown padding 'full'");
  TF_CHECK_ERROR(conv_transpose(x, k, ConvOptions().data_format("NDHWC")), "conv_transpose",
                 "unknown data_format 'NDHWC'");
  TF_CHECK_ERROR(conv_transpose(x, k, ConvOptions().strides(2).output_padding(2)), "conv_transpose",
                 "output_padding (2, 2, 2)", "smaller than the strides");
  TF_CHECK_ERROR(conv_transpose(x, k, ConvOptions().output_padding(-1)), "conv_transpose",
                 "output_padding", "non-negative");
  TF_CHECK_ERROR(conv_transpose(x, k, ConvOptions().strides(2).output_shape({8, 8, 10})),
                 "conv_transpose", "output_shape (8, 8, 10)", "does not match");
  TF_CHECK_ERROR(conv_transpose(x, k, ConvOptions().output_shape({8, 8})), "conv_transpose",
                 "output_shape (8, 8)", "expected 3");
  TF_CHECK_ERROR(conv_transpose(x, k, ConvOptions().pads(5)), "conv_transpose", "output length",
                 "-5");
  TF_CHECK_ERROR(conv(x, Variable(random_tensor({5, 5, 5, 3, 2}, 1))), "conv",
                 "smaller than the dilated kernel");
  TF_CHECK_ERROR(
      conv(x, Variable(random_tensor({2, 2, 2, 3, 2}, 1)), ConvOptions().output_padding(1)), "conv",
      "conv_transpose only");
}
