// Keras 3's own correctness cases for the transposed convolutions
// (keras/src/layers/convolutional/conv_transpose_test.py: test_conv1d_transpose,
// test_conv2d_transpose, test_conv3d_transpose and test_conv1d_transpose_consistency), against a
// port of that file's numpy reference (np_conv{1,2,3}d_transpose): scatter every input times
// the kernel into a buffer of the full length, then cut `kernel - 1 - left_pad` positions
// before the output, left_pad being Keras' JAX padding
// (`_convert_conv_transpose_padding_args_from_keras_to_jax`) and the output length Keras'
// `_get_output_shape_given_tf_padding`. Written from Keras' formulas, not from tapeflow's.
//
// Issue 19: with padding "same" and an output_padding tapeflow cropped PyTorch's dk / 2 in
// front; 83,508 of the 146,004 values of the 3-D case and 18 of the consistency cases differed.
#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <tuple>
#include <vector>
#include <xtensor/xmanipulation.hpp>

#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/conv.hpp"
#include "tapeflow/layers/conv3d_transpose.hpp"
#include "tapeflow/layers/conv_transpose.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;
using tapeflow::test::T;

namespace {

struct KerasAxis {
  long out = 0;   // the output length
  long crop = 0;  // positions of the full scatter cut before the output
};

// One spatial axis, as Keras 3's backend_utils computes it (dilation folded into the kernel).
KerasAxis keras_axis(long in, long kernel, long stride, long dilation, const std::string& padding,
                     std::optional<long> output_padding) {
  const long k = (kernel - 1) * dilation + 1;
  KerasAxis r;
  long left_pad = 0;
  if (padding == "valid") {
    const long op = output_padding ? *output_padding : std::max(k, stride) - k;
    r.out = (in - 1) * stride + k + op;
    left_pad = k - 1;
  } else {
    r.out = output_padding ? (in - 1) * stride + k % 2 + *output_padding : in * stride;
    const long pad_len = output_padding ? k + k % 2 - 2 + *output_padding : stride + k - 2;
    left_pad = std::min(pad_len / 2 + pad_len % 2, k - 1);
  }
  r.crop = k - 1 - left_pad;
  return r;
}

// np_conv{1,2,3}d_transpose for any rank, channels_last: x (batch, in..., C), kernel
// (k..., F, C), bias (F,).
Tensor keras_reference(const Tensor& x, const Tensor& kernel, const Tensor& bias,
                       const std::vector<long>& strides, const std::vector<long>& dilation,
                       const std::string& padding, std::optional<std::vector<long>> op) {
  const Shape xs = shape_of(x), ks = shape_of(kernel);
  const std::size_t n = xs.size() - 2;
  const std::size_t B = xs[0], C = xs[n + 1], F = ks[n];
  std::array<std::size_t, 3> in{1, 1, 1}, k{1, 1, 1}, full{1, 1, 1}, out{1, 1, 1};
  std::array<long, 3> s{1, 1, 1}, d{1, 1, 1}, crop{0, 0, 0};
  for (std::size_t a = 0; a < n; ++a) {
    const std::size_t A = 3 - n + a;  // right-aligned on three axes
    in[A] = xs[1 + a];
    k[A] = ks[a];
    s[A] = strides[a];
    d[A] = dilation[a];
    const KerasAxis r = keras_axis(long(in[A]), long(k[A]), s[A], d[A], padding,
                                   op ? std::optional<long>((*op)[a]) : std::nullopt);
    out[A] = std::size_t(r.out);
    crop[A] = r.crop;
    const long dk = (long(k[A]) - 1) * d[A] + 1;
    full[A] = std::size_t(std::max((long(in[A]) - 1) * s[A] + dk, r.crop + r.out));
  }
  // The full scatter: buf[b, i * s + t * d, f] += x[b, i, c] * kernel[t, f, c].
  std::vector<double> buf(B * full[0] * full[1] * full[2] * F, 0.0);
  auto at_full = [&](std::size_t b, std::size_t p0, std::size_t p1, std::size_t p2) {
    return (((b * full[0] + p0) * full[1] + p1) * full[2] + p2) * F;
  };
  const float* xp = x.data();
  const float* kp = kernel.data();
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t i0 = 0; i0 < in[0]; ++i0)
      for (std::size_t i1 = 0; i1 < in[1]; ++i1)
        for (std::size_t i2 = 0; i2 < in[2]; ++i2) {
          const float* xv = xp + (((b * in[0] + i0) * in[1] + i1) * in[2] + i2) * C;
          for (std::size_t t0 = 0; t0 < k[0]; ++t0)
            for (std::size_t t1 = 0; t1 < k[1]; ++t1)
              for (std::size_t t2 = 0; t2 < k[2]; ++t2) {
                const float* kv = kp + ((t0 * k[1] + t1) * k[2] + t2) * F * C;
                double* dst = buf.data() + at_full(b, i0 * s[0] + t0 * d[0], i1 * s[1] + t1 * d[1],
                                                   i2 * s[2] + t2 * d[2]);
                for (std::size_t f = 0; f < F; ++f)
                  for (std::size_t c = 0; c < C; ++c)
                    dst[f] += double(kv[f * C + c]) * double(xv[c]);
              }
        }
  // Plus the bias, then cut `crop` positions before the output on each axis.
  Shape ys{B};
  for (std::size_t a = 0; a < n; ++a) ys.push_back(out[3 - n + a]);
  ys.push_back(F);
  Tensor y = Tensor::from_shape(ys);
  float* yp = y.data();
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t o0 = 0; o0 < out[0]; ++o0)
      for (std::size_t o1 = 0; o1 < out[1]; ++o1)
        for (std::size_t o2 = 0; o2 < out[2]; ++o2) {
          const double* src =
              buf.data() + at_full(b, o0 + std::size_t(crop[0]), o1 + std::size_t(crop[1]),
                                   o2 + std::size_t(crop[2]));
          float* dst = yp + (((b * out[0] + o0) * out[1] + o1) * out[2] + o2) * F;
          for (std::size_t f = 0; f < F; ++f) dst[f] = float(src[f] + bias.data()[f]);
        }
  return y;
}

template <std::size_t N>
using TransposeLayer =
    std::tuple_element_t<N - 1, std::tuple<Conv1DTranspose, Conv2DTranspose, Conv3DTranspose>>;

struct KerasCase {
  long filters;
  std::vector<long> kernel_size, strides;
  std::string padding;
  std::optional<long> output_padding;
};

// One Keras case: the layer on a random input with random weights vs the reference.
template <std::size_t N>
void check_keras_case(const KerasCase& c, const Shape& x_shape, unsigned seed) {
  CAPTURE(c.padding);
  CAPTURE(c.output_padding.value_or(-1));
  reset_default_graph();
  ConvNDTransposeOptions<N> o(c.filters, c.kernel_size);
  o.strides(c.strides).padding(c.padding);
  if (c.output_padding) o.output_padding(*c.output_padding);
  TransposeLayer<N> layer(o);
  const Tensor x = random_tensor(x_shape, seed);
  layer(Variable(x));
  Shape ks = shape_of(layer.kernel().value());
  const Tensor kernel = random_tensor(ks, seed + 1);
  const Tensor bias = random_tensor({std::size_t(c.filters)}, seed + 2);
  layer.set_weights({kernel, bias});
  std::vector<long> strides =
      c.strides.size() == 1 ? std::vector<long>(N, c.strides[0]) : c.strides;
  std::optional<std::vector<long>> op;
  if (c.output_padding) op = std::vector<long>(N, *c.output_padding);
  const Tensor expected =
      keras_reference(x, kernel, bias, strides, std::vector<long>(N, 1), c.padding, op);
  const Tensor y = layer(Variable(x)).value();
  REQUIRE(shape_of(y) == shape_of(expected));
  TF_CHECK_CLOSE(y, expected, 1e-4f, 1e-4f);
}

}  // namespace

TEST_CASE("Keras' test_conv3d_transpose cases, against Keras' numpy reference") {
  // Inputs (2, 8, 8, 8, 4), as Keras. The same/output_padding 2 case has 146,004 outputs.
  check_keras_case<3>({5, {2}, {2}, "valid", std::nullopt}, {2, 8, 8, 8, 4}, 1);
  check_keras_case<3>({6, {2}, {3}, "same", 2}, {2, 8, 8, 8, 4}, 4);
  check_keras_case<3>({6, {2, 2, 3}, {2, 1, 2}, "valid", std::nullopt}, {2, 8, 8, 8, 4}, 7);
}

TEST_CASE("Keras' test_conv1d_transpose and test_conv2d_transpose cases") {
  check_keras_case<1>({5, {2}, {2}, "valid", std::nullopt}, {2, 8, 4}, 11);
  check_keras_case<1>({6, {2}, {3}, "same", 2}, {2, 8, 4}, 14);
  check_keras_case<1>({6, {2}, {2}, "valid", std::nullopt}, {2, 8, 4}, 17);
  check_keras_case<2>({5, {2}, {2}, "valid", std::nullopt}, {2, 14, 14, 4}, 21);
  check_keras_case<2>({6, {7}, {16}, "same", 2}, {2, 14, 14, 4}, 24);
  check_keras_case<2>({6, {2, 3}, {2, 1}, "valid", std::nullopt}, {2, 14, 14, 4}, 27);
  check_keras_case<2>({2, {7, 7}, {16, 16}, "valid", std::nullopt}, {2, 14, 14, 4}, 30);
}

TEST_CASE("Keras' test_conv1d_transpose_consistency: ones(3), kernel 1..k, every combination") {
  // kernel_size 1..4, strides 1..4, same and valid, output_padding None or 1..4 below strides.
  int cases = 0, same_with_padding = 0;
  for (long k = 1; k <= 4; ++k)
    for (long s = 1; s <= 4; ++s)
      for (const std::string padding : {"same", "valid"})
        for (long op = 0; op <= 4; ++op) {  // 0 stands for None
          if (op >= s) continue;
          CAPTURE(k);
          CAPTURE(s);
          CAPTURE(padding);
          CAPTURE(op);
          reset_default_graph();
          Conv1DTransposeOptions o(1, k);
          o.strides(s).padding(padding).use_bias(false);
          if (op > 0) o.output_padding(op);
          Conv1DTranspose layer(o);
          const Tensor x = xt::ones<float>({1, 3, 1});
          layer(Variable(x));
          Tensor kernel = Tensor::from_shape({std::size_t(k), 1, 1});
          for (long t = 0; t < k; ++t) kernel.data()[t] = float(t + 1);
          layer.set_weights({kernel});
          const Tensor expected = keras_reference(
              x, kernel, Tensor{0.f}, {s}, {1}, padding,
              op > 0 ? std::optional<std::vector<long>>(std::vector<long>{op}) : std::nullopt);
          TF_CHECK_CLOSE(layer(Variable(x)).value(), expected, 1e-5f, 1e-5f);
          ++cases;
          same_with_padding += padding == "same" && op > 0;
        }
  CHECK(cases == 2 * (4 * 4 + 4 * (0 + 1 + 2 + 3)));
  CHECK(same_with_padding == 4 * 6);
}

TEST_CASE("The issue's example: k 2, s 2, output_padding 1, ones(3), kernel [1, 2]") {
  reset_default_graph();
  Conv1DTranspose layer(
      Conv1DTransposeOptions(1, 2).strides(2).padding("same").output_padding(1).use_bias(false));
  const Tensor x = xt::ones<float>({1, 3, 1});
  layer(Variable(x));
  layer.set_weights({T({2, 1, 1}, {1, 2})});
  // Keras: [1, 2, 1, 2, 1] (PyTorch's dk / 2 crop gave [2, 1, 2, 1, 2]).
  TF_CHECK_CLOSE(layer(Variable(x)).value(), T({1, 5, 1}, {1, 2, 1, 2, 1}));
  // The op itself gives the same.
  TF_CHECK_CLOSE(conv_transpose(Variable(x), Variable(T({2, 1, 1}, {1, 2})),
                                ConvOptions().strides(2).padding("same").output_padding(1))
                     .value(),
                 T({1, 5, 1}, {1, 2, 1, 2, 1}));
  // Explicit pads keep their meaning: (0, 0) with output_padding 1 is the full scatter plus one.
  TF_CHECK_CLOSE(conv_transpose(Variable(x), Variable(T({2, 1, 1}, {1, 2})),
                                ConvOptions().strides(2).pads({{0, 0}}).output_padding(1))
                     .value(),
                 T({1, 7, 1}, {1, 2, 1, 2, 1, 2, 0}));
}

TEST_CASE("Keras' placement with dilation, channels_first and the TF1 functional form") {
  // Dilated kernels with output_padding, same (dilation 1 only in Keras' cases; the rule is the
  // same on the dilated kernel, dk = d * (k - 1) + 1).
  for (const auto& geometry : std::vector<std::tuple<long, long, long, long>>{
           {3, 3, 2, 1}, {2, 4, 3, 3}, {4, 2, 2, 1}, {3, 2, 1, 1}}) {
    // Not bound: see test_util.hpp.
    const long k = std::get<0>(geometry), s = std::get<1>(geometry), d = std::get<2>(geometry),
               op = std::get<3>(geometry);
    CAPTURE(k);
    CAPTURE(s);
    CAPTURE(d);
    CAPTURE(op);
    const Tensor x = random_tensor({2, 5, 3}, 41),
                 kernel = random_tensor({std::size_t(k), 2, 3}, 42);
    const Tensor expected =
        keras_reference(x, kernel, Tensor{0.f, 0.f}, {s}, {d}, "same", std::vector<long>{op});
    TF_CHECK_CLOSE(
        conv_transpose(Variable(x), Variable(kernel),
                       ConvOptions().strides(s).dilation(d).padding("same").output_padding(op))
            .value(),
        expected, 1e-4f, 1e-4f);
  }
  // channels_first gives the transposed numbers.
  reset_default_graph();
  const Tensor x = random_tensor({1, 3, 4, 2}, 43), kernel = random_tensor({3, 3, 2, 2}, 44);
  const Tensor expected =
      keras_reference(x, kernel, Tensor{0.f, 0.f}, {2, 3}, {1, 1}, "same", std::vector<long>{1, 2});
  Conv2DTranspose first(Conv2DTransposeOptions(2, 3)
                            .strides({2, 3})
                            .padding("same")
                            .output_padding({1, 2})
                            .data_format("channels_first")
                            .use_bias(false));
  const Tensor xf = xt::transpose(x, {0, 3, 1, 2});
  first(Variable(xf));
  first.set_weights({kernel});
  TF_CHECK_CLOSE(first(Variable(xf)).value(), Tensor(xt::transpose(expected, {0, 3, 1, 2})), 1e-4f,
                 1e-4f);
  // The TF1 functional form builds a Conv3DTranspose: the same placement.
  Graph g;
  auto scope = g.as_default();
  const Tensor x3 = random_tensor({1, 3, 2, 3, 2}, 45);
  Variable y3 = conv3d_transpose(
      Variable(x3), 2, 2,
      Conv3DTransposeOptions(2, 2).strides(3).padding("same").output_padding(2).use_bias(false));
  const auto layer = functional_layers().back();
  const Tensor k3 = layer->get_weights()[0];
  TF_CHECK_CLOSE(y3.value(),
                 keras_reference(x3, k3, Tensor{0.f, 0.f}, {3, 3, 3}, {1, 1, 1}, "same",
                                 std::vector<long>{2, 2, 2}),
                 1e-4f, 1e-4f);
}
