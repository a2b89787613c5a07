#include <algorithm>
#include <string>
#include <tuple>
#include <vector>
#include <xtensor/xmanipulation.hpp>

#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/conv_transpose.hpp"
#include "test_util.hpp"

using namespace tapeflow;
using tapeflow::test::run_with_weights;
using namespace tapeflow::layers;
using tapeflow::test::random_tensor;
using tapeflow::test::T;

namespace {
Tensor plus(const Tensor& t, float v) { return Tensor(t + v); }

// Row-major offset of the multi-index `idx` in `shape`.
std::size_t flat(const Shape& shape, const std::vector<long>& idx) {
  std::size_t o = 0;
  for (std::size_t a = 0; a < shape.size(); ++a) o = o * shape[a] + std::size_t(idx[a]);
  return o;
}

// Steps the multi-index `i` through the box [0, n) (last axis fastest); false after the last.
bool next_index(std::vector<long>& i, const std::vector<long>& n) {
  for (std::size_t a = i.size(); a-- > 0;) {
    if (++i[a] < n[a]) return true;
    i[a] = 0;
  }
  return false;
}

// (batch, spatial..., channel) and (taps..., filter, channel) as one multi-index.
std::vector<long> at(long b, const std::vector<long>& spatial, long c) {
  std::vector<long> v{b};
  v.insert(v.end(), spatial.begin(), spatial.end());
  v.push_back(c);
  return v;
}
std::vector<long> tap_at(const std::vector<long>& taps, long f, long c) {
  std::vector<long> v = taps;
  v.push_back(f);
  v.push_back(c);
  return v;
}

// The transposed convolution from its definition, written independently of the library, for any
// rank: x (batch, in..., C), kernel (k..., F, C), channels_last. Every input position goes
// through every tap, y[b, i * s + t * d - pad_before, f] += x[b, i, c] * kernel[t, f, c], then
// + bias[f]. Output length and placement as DESIGN.md (Keras' deconv_output_length, TF's SAME
// rule): "same" in * s, "valid" in * s + max(dk - s, 0), dk = d * (k - 1) + 1;
// pad_before = max(0, (in - 1) * s + dk - out) / 2 for "same", 0 for "valid".
Tensor scatter_reference(const Tensor& x, const Tensor& kernel, const Tensor& bias,
                         const std::vector<long>& s, const std::vector<long>& d,
                         const std::string& padding) {
  const Shape xs = shape_of(x), ks = shape_of(kernel);
  const std::size_t n = xs.size() - 2;
  const long B = long(xs[0]), C = long(xs[n + 1]), F = long(ks[n]);
  std::vector<long> in(n), k(n), out(n), pad_before(n);
  Shape ys{xs[0]};
  for (std::size_t a = 0; a < n; ++a) {
    in[a] = long(xs[1 + a]);
    k[a] = long(ks[a]);
    const long dk = d[a] * (k[a] - 1) + 1;
    out[a] = padding == "same" ? in[a] * s[a] : in[a] * s[a] + std::max(dk - s[a], 0L);
    pad_before[a] = padding == "same" ? std::max(0L, (in[a] - 1) * s[a] + dk - out[a]) / 2 : 0;
    ys.push_back(std::size_t(out[a]));
  }
  ys.push_back(std::size_t(F));
  Tensor y = Tensor::from_shape(ys);
  for (std::size_t j = 0; j < y.size(); ++j) y.data()[j] = bias.data()[j % std::size_t(F)];
  std::vector<long> i(n), t(n), o(n);
  for (long b = 0; b < B; ++b) {
    std::fill(i.begin(), i.end(), 0L);
    do {
      std::fill(t.begin(), t.end(), 0L);
      do {
        bool inside = true;
        for (std::size_t a = 0; a < n; ++a) {
          o[a] = i[a] * s[a] + t[a] * d[a] - pad_before[a];
          inside = inside && o[a] >= 0 && o[a] < out[a];
        }
        if (!inside) continue;  // cropped by "same" (goes on with the next tap)
        for (long f = 0; f < F; ++f)
          for (long c = 0; c < C; ++c)
            y.data()[flat(ys, at(b, o, f))] +=
                x.data()[flat(xs, at(b, i, c))] * kernel.data()[flat(ks, tap_at(t, f, c))];
      } while (next_index(t, k));
    } while (next_index(i, in));
  }
  return y;
}
}  // namespace

TEST_CASE("Conv1DTranspose/Conv2DTranspose: names, weight shapes and output shapes") {
  reset_default_graph();
  Conv1DTranspose t1(Conv1DTransposeOptions(2, 3).strides(2));
  CHECK(t1.name() == "conv1d_transpose");
  CHECK(t1.class_name() == "Conv1DTranspose");
  // valid: in * s + max(k - s, 0) = 4 * 2 + 1
  CHECK(t1(Variable(random_tensor({3, 4, 5}))).shape() == Shape{3, 9, 2});
  CHECK(t1.kernel().shape() == Shape{3, 2, 5});  // (k, filters, in)
  CHECK(t1.bias().shape() == Shape{2});
  CHECK(t1.kernel().name() == "conv1d_transpose/kernel");
  CHECK(t1.bias().name() == "conv1d_transpose/bias");
  CHECK_FALSE(t1.output_padding().has_value());
  CHECK(Conv1DTranspose(Conv1DTransposeOptions(1, 1)).name() == "conv1d_transpose_1");

  Conv1DTranspose same(Conv1DTransposeOptions(2, 3).strides(2).padding("same"));
  CHECK(same(Variable(random_tensor({1, 4, 1}))).shape() == Shape{1, 8, 2});
  // output_padding (Keras' deconv_output_length): (in - 1) * s + k - 2 * pad + op, pad = k / 2
  // for same
  Conv1DTranspose opv(Conv1DTransposeOptions(2, 3).strides(2).output_padding(1));
  CHECK(opv.compute_output_shape({1, 4, 1}) == Shape{1, 10, 2});
  Conv1DTranspose ops(Conv1DTransposeOptions(2, 3).strides(2).padding("same").output_padding(1));
  CHECK(ops.compute_output_shape({1, 4, 1}) == Shape{1, 8, 2});
  CHECK(ops.output_padding() == std::array<long, 1>{1});
  // dilation: dk = 5, valid: in + dk - 1
  Conv1DTranspose dil(Conv1DTransposeOptions(1, 3).dilation_rate(2));
  CHECK(dil(Variable(random_tensor({1, 4, 1}))).shape() == Shape{1, 8, 1});

  Conv2DTranspose t2(Conv2DTransposeOptions(3, {3, 2}).strides({2, 1}).padding("same"));
  CHECK(t2.name() == "conv2d_transpose");
  CHECK(t2.class_name() == "Conv2DTranspose");
  CHECK(t2(Variable(random_tensor({1, 3, 4, 2}))).shape() == Shape{1, 6, 4, 3});
  CHECK(t2.kernel().shape() == Shape{3, 2, 3, 2});
  Conv2DTranspose tf(Conv2DTransposeOptions(3, 2).strides(3).data_format("channels_first"));
  // valid with stride > kernel: in * s
  CHECK(tf(Variable(random_tensor({2, 1, 2, 3}))).shape() == Shape{2, 3, 6, 9});
  CHECK(tf.kernel().shape() == Shape{2, 2, 3, 1});
}

TEST_CASE("Conv1DTranspose known values: valid, same, output_padding, dilation") {
  reset_default_graph();
  const Tensor x = T({1, 2, 1}, {1, 2});
  const Tensor k = T({3, 1, 1}, {1, 10, 100});
  const Tensor b = T({1}, {0.5f});
  // y[i * 2 + t] += x[i] k[t]: [1, 10, 100 + 2, 20, 200]
  Conv1DTranspose valid(Conv1DTransposeOptions(1, 3).strides(2));
  TF_CHECK_CLOSE(run_with_weights(valid, x, {k, b}).value(),
                 plus(T({1, 5, 1}, {1, 10, 102, 20, 200}), 0.5f));
  // same: 4 outputs; TF pads max(0, (2 - 1) * 2 + 3 - 4) / 2 = 0 before: the last one drops
  Conv1DTranspose same(Conv1DTransposeOptions(1, 3).strides(2).padding("same"));
  TF_CHECK_CLOSE(run_with_weights(same, x, {k, b}).value(),
                 plus(T({1, 4, 1}, {1, 10, 102, 20}), 0.5f));
  // output_padding 1, valid: one more (zero) position at the end
  Conv1DTranspose opv(Conv1DTransposeOptions(1, 3).strides(2).output_padding(1));
  TF_CHECK_CLOSE(run_with_weights(opv, x, {k, b}).value(),
                 plus(T({1, 6, 1}, {1, 10, 102, 20, 200, 0}), 0.5f));
  // output_padding 1, same: 4 outputs placed by TF's rule, as Keras: max(0, 2 + 3 - 4) / 2 = 0
  // before (PyTorch's k / 2 = 1 trimmed one position before: [10, 102, 20, 200])
  Conv1DTranspose ops(Conv1DTransposeOptions(1, 3).strides(2).padding("same").output_padding(1));
  TF_CHECK_CLOSE(run_with_weights(ops, x, {k, b}).value(),
                 plus(T({1, 4, 1}, {1, 10, 102, 20}), 0.5f));
  // dilation 2, kernel [1, 10]: y[i + 2 t] += x[i] k[t]
  Conv1DTranspose dil(Conv1DTransposeOptions(1, 2).dilation_rate(2).use_bias(false));
  TF_CHECK_CLOSE(run_with_weights(dil, x, {T({2, 1, 1}, {1, 10})}).value(),
                 T({1, 4, 1}, {1, 2, 10, 20}));
}

TEST_CASE("Conv2DTranspose known values: kernel layout (kh, kw, filters, in), activation") {
  reset_default_graph();
  // one pixel 2, kernel [[1, 2], [3, 4]], stride 2: the kernel scaled by 2
  Conv2DTranspose up(Conv2DTransposeOptions(1, 2).strides(2).use_bias(false));
  TF_CHECK_CLOSE(
      run_with_weights(up, T({1, 1, 1, 1}, {2}), {T({2, 2, 1, 1}, {1, 2, 3, 4})}).value(),
      T({1, 2, 2, 1}, {2, 4, 6, 8}));
  // 1x1 kernel K[filter][in] = [[1, 2], [3, 4]]: y[f] = sum_c x[c] K[f][c] + b, then relu
  Conv2DTranspose m(Conv2DTransposeOptions(2, 1).activation("relu"));
  TF_CHECK_CLOSE(
      run_with_weights(m, T({1, 1, 1, 2}, {1, 2}), {T({1, 1, 2, 2}, {1, 2, 3, 4}), T({2}, {-6, 1})})
          .value(),
      T({1, 1, 1, 2}, {0, 12}));
  // channels_first gives the transposed result
  Tensor x = random_tensor({2, 2, 3, 2}, 31);
  Tensor kk = random_tensor({3, 2, 3, 2}, 32), bb = random_tensor({3}, 33);
  Conv2DTranspose last(Conv2DTransposeOptions(3, {3, 2}).strides(2).padding("same"));
  Conv2DTranspose first(
      Conv2DTransposeOptions(3, {3, 2}).strides(2).padding("same").data_format("channels_first"));
  Tensor yl = run_with_weights(last, x, {kk, bb}).value();
  Tensor yf = run_with_weights(first, Tensor(xt::transpose(x, {0, 3, 1, 2})), {kk, bb}).value();
  TF_CHECK_CLOSE(yf, Tensor(xt::transpose(yl, {0, 3, 1, 2})));
}

TEST_CASE("Conv2DTranspose is the adjoint of Conv2D with the same kernel tensor") {
  reset_default_graph();
  // Conv2D kernel (k, k, in=2, out=3) read as a Conv2DTranspose kernel (k, k, filters=2, in=3):
  // <conv(x), g> = <x, conv_transpose(g)>.
  Tensor k = random_tensor({3, 3, 2, 3}, 41);
  Tensor x = random_tensor({1, 6, 6, 2}, 42), g = random_tensor({1, 3, 3, 3}, 43);
  Conv2D c(Conv2DOptions(3, 3).strides(2).padding("same").use_bias(false));
  Conv2DTranspose t(Conv2DTransposeOptions(2, 3).strides(2).padding("same").use_bias(false));
  Tensor cx = run_with_weights(c, x, {k}).value();
  Tensor tg = run_with_weights(t, g, {k}).value();
  REQUIRE(shape_of(tg) == shape_of(x));
  CHECK(double(xt::sum(cx * g)()) == doctest::Approx(double(xt::sum(x * tg)())).epsilon(1e-5));
}

TEST_CASE("Conv transposes: gradcheck of input, kernel and bias") {
  reset_default_graph();
  SUBCASE("Conv1DTranspose same, stride 2, tanh") {
    Conv1DTranspose c(Conv1DTransposeOptions(2, 3).strides(2).padding("same").activation("tanh"));
    Tensor x = random_tensor({2, 3, 2}, 51);
    run_with_weights(c, x, {random_tensor({3, 2, 2}, 52), random_tensor({2}, 53)});
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return c(in[0]); }, {x});
    TF_GRADCHECK_VARIABLES([&] { return c(Variable(x)); }, c.trainable_variables());
  }
  SUBCASE("Conv1DTranspose output_padding, dilation") {
    Conv1DTranspose c(Conv1DTransposeOptions(2, 2).strides(2).output_padding(1));
    Tensor x = random_tensor({1, 3, 2}, 54);
    c(Variable(x));
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return c(in[0]); }, {x});
    TF_GRADCHECK_VARIABLES([&] { return c(Variable(x)); }, c.trainable_variables());
    Conv1DTranspose d(Conv1DTransposeOptions(1, 2).dilation_rate(2).bias_initializer("ones"));
    d(Variable(x));
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return d(in[0]); }, {x});
    TF_GRADCHECK_VARIABLES([&] { return d(Variable(x)); }, d.trainable_variables());
  }
  SUBCASE("Conv2DTranspose channels_first, valid, strides") {
    Conv2DTranspose c(Conv2DTransposeOptions(2, {2, 3})
                          .strides({2, 1})
                          .data_format("channels_first")
                          .bias_initializer("ones"));
    Tensor x = random_tensor({1, 2, 2, 3}, 55);
    c(Variable(x));
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return c(in[0]); }, {x});
    TF_GRADCHECK_VARIABLES([&] { return c(Variable(x)); }, c.trainable_variables());
  }
  SUBCASE("Conv2DTranspose strides with dilation_rate (beyond Keras), same") {
    Conv2DTranspose c(Conv2DTransposeOptions(2, {3, 2})
                          .strides({2, 3})
                          .dilation_rate(2)
                          .padding("same")
                          .bias_initializer("ones"));
    Tensor x = random_tensor({1, 3, 2, 2}, 57);
    c(Variable(x));
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return c(in[0]); }, {x});
    TF_GRADCHECK_VARIABLES([&] { return c(Variable(x)); }, c.trainable_variables());
  }
  SUBCASE("Conv2DTranspose same, output_padding, sigmoid") {
    Conv2DTranspose c(
        Conv2DTransposeOptions(2, 3).strides(2).padding("same").output_padding(1).activation(
            "sigmoid"));
    Tensor x = random_tensor({1, 2, 2, 2}, 56);
    c(Variable(x));
    TF_GRADCHECK([&](const std::vector<Variable>& in) { return c(in[0]); }, {x});
    TF_GRADCHECK_VARIABLES([&] { return c(Variable(x)); }, c.trainable_variables());
  }
}

TEST_CASE("Conv transposes: bad arguments and inputs") {
  reset_default_graph();
  TF_CHECK_ERROR(Conv2DTranspose(Conv2DTransposeOptions(0, 3).name("bad")), "bad", "filters");
  TF_CHECK_ERROR(Conv1DTranspose(Conv1DTransposeOptions(2, {3, 3})), "conv1d_transpose",
                 "kernel_size (3, 3)", "has 2 values, expected 1 (one");
  TF_CHECK_ERROR(Conv2DTranspose(Conv2DTransposeOptions(2, 0)), "conv2d_transpose",
                 "kernel_size (0,)", "> 0");
  TF_CHECK_ERROR(Conv2DTranspose(Conv2DTransposeOptions(2, 3).strides(0)), "strides (0,)");
  // Beyond Keras: strides > 1 with dilation_rate > 1 is accepted (see the scatter test below).
  CHECK_NOTHROW(Conv2DTranspose(Conv2DTransposeOptions(2, 3).strides(2).dilation_rate(2)));
  TF_CHECK_ERROR(Conv1DTranspose(Conv1DTransposeOptions(2, 3).strides(2).output_padding(2)),
                 "conv1d_transpose", "output_padding (2,) must be smaller than strides (2,)");
  TF_CHECK_ERROR(Conv2DTranspose(Conv2DTransposeOptions(2, 3).output_padding({0, 0, 0})),
                 "output_padding (0, 0, 0)", "expected 1 or 2");
  TF_CHECK_ERROR(Conv2DTranspose(Conv2DTransposeOptions(2, 3).output_padding(-1)),
                 "output_padding (-1,)", ">= 0");
  TF_CHECK_ERROR(Conv1DTranspose(Conv1DTransposeOptions(2, 3).padding("causal")),
                 "conv1d_transpose", "causal", "only supported for Conv1D");
  TF_CHECK_ERROR(Conv2DTranspose(Conv2DTransposeOptions(2, 3).padding("full")),
                 "unknown padding 'full'");
  TF_CHECK_ERROR(Conv2DTranspose(Conv2DTransposeOptions(2, 3).data_format("NCHW")),
                 "unknown data_format 'NCHW'");

  Conv2DTranspose t(Conv2DTransposeOptions(2, 3).name("probe"));
  TF_CHECK_ERROR(t(Variable(random_tensor({1, 3, 3, 1, 1}))), "probe:", "rank 4");
  t(Variable(random_tensor({1, 3, 3, 2})));
  TF_CHECK_ERROR(t(Variable(random_tensor({1, 3, 3, 1}))), "probe:", "1 channels", "built for 2");
  // same with output_padding 0 and an even kernel on one input: (1 - 1) + 2 - 2 + 0 = 0
  Conv1DTranspose z(Conv1DTransposeOptions(1, 2).padding("same").output_padding(0).name("tiny"));
  TF_CHECK_ERROR(z(Variable(random_tensor({1, 1, 1}))), "tiny:", "too small", "would be 0");
}

TEST_CASE("Conv transposes: get_config and pretty_print") {
  reset_default_graph();
  Conv2DTranspose t(Conv2DTransposeOptions(8, 3).strides(2).padding("same").output_padding(1));
  CHECK(t.pretty_print() ==
        "Conv2DTranspose(filters=8, kernel_size=(3, 3), strides=(2, 2), padding=same, "
        "output_padding=(1, 1))");
  Config c = t.get_config();
  CHECK(c["name"] == "conv2d_transpose");
  CHECK(c["filters"] == "8");
  CHECK(c["kernel_size"] == "(3, 3)");
  CHECK(c["output_padding"] == "(1, 1)");
  CHECK(c["dilation_rate"] == "(1, 1)");
  CHECK(c["activation"] == "linear");
  Conv1DTranspose t1(Conv1DTransposeOptions(4, 5)
                         .data_format("channels_first")
                         .activation("tanh")
                         .use_bias(false));
  CHECK(t1.get_config()["output_padding"] == "None");
  CHECK(t1.pretty_print() ==
        "Conv1DTranspose(filters=4, kernel_size=(5,), strides=(1,), padding=valid, "
        "data_format=channels_first, activation=tanh, use_bias=false)");
}

namespace {

// The rank's layer class: Conv1DTranspose, Conv2DTranspose, Conv3DTranspose.
template <std::size_t N>
using TransposeLayer =
    std::tuple_element_t<N - 1, std::tuple<Conv1DTranspose, Conv2DTranspose, Conv3DTranspose>>;

// The rank-N layer with kernel_size `k`, strides `s` and dilation_rate `d` on a random input,
// "valid" and "same", against `scatter_reference` with the same weights (set by hand).
template <std::size_t N>
void check_against_scatter(const Shape& x_shape, long filters, const std::vector<long>& k,
                           const std::vector<long>& s, const std::vector<long>& d, unsigned seed) {
  Shape ks(k.begin(), k.end());
  ks.push_back(std::size_t(filters));
  ks.push_back(x_shape.back());
  const Tensor x = random_tensor(x_shape, seed), kernel = random_tensor(ks, seed + 1),
               bias = random_tensor({std::size_t(filters)}, seed + 2);
  for (const std::string padding : {"valid", "same"}) {
    CAPTURE(padding);
    TransposeLayer<N> layer(
        ConvNDTransposeOptions<N>(filters, k).strides(s).dilation_rate(d).padding(padding));
    const Tensor expected = scatter_reference(x, kernel, bias, s, d, padding);
    CHECK(layer.compute_output_shape(x_shape) == shape_of(expected));
    TF_CHECK_CLOSE(run_with_weights(layer, x, {kernel, bias}).value(), expected, 1e-4f, 1e-4f);
  }
}

// The message of constructing the rank-N layer named "up" (in a graph of its own, so the name
// stays "up") after `edit` of its options; "not a ValueError: ..." for another error type.
template <std::size_t N, class Edit>
std::string argument_error(Edit edit) {
  Graph g;
  auto scope = g.as_default();
  ConvNDTransposeOptions<N> o(2, 3);
  o.name("up");
  edit(o);
  try {
    TransposeLayer<N> layer(o);
  } catch (const ValueError& e) {
    return e.what();
  } catch (const Error& e) {
    return std::string("not a ValueError: ") + e.what();
  }
  return "no error";
}

// `argument_error` for ranks 1, 2 and 3, which must agree word for word.
template <class Edit>
std::string same_in_every_rank(Edit edit) {
  const std::string m1 = argument_error<1>(edit), m2 = argument_error<2>(edit),
                    m3 = argument_error<3>(edit);
  CHECK(m1 == m2);
  CHECK(m2 == m3);
  return m1;
}

}  // namespace

TEST_CASE(
    "Conv transposes: strides > 1 with dilation_rate > 1 (beyond Keras) match the definition") {
  reset_default_graph();
  SUBCASE("Conv1DTranspose") {
    // dk 5 > s 2: taps of neighbouring inputs overlap; "same" crops 4 * 2 + 5 - 10 = 3, 1 before.
    check_against_scatter<1>({2, 5, 2}, 3, {3}, {2}, {2}, 61);
    // dk 3 < s 4: gaps between the taps of neighbouring inputs; "valid" ends on bias only.
    check_against_scatter<1>({1, 4, 3}, 2, {2}, {4}, {2}, 64);
  }
  SUBCASE("Conv2DTranspose") {
    // Rows: dk 5, s 2 ("same" crops 3, 1 before); columns: dk 3, s 3 (no overlap, no crop).
    check_against_scatter<2>({2, 3, 4, 2}, 3, {3, 2}, {2, 3}, {2, 2}, 67);
  }
  SUBCASE("Conv3DTranspose") {
    // Per axis: dilation 3 with stride 2, dilation 2 with stride 2, dilation 1 with stride 3.
    check_against_scatter<3>({2, 2, 3, 2, 2}, 2, {2, 3, 2}, {2, 2, 3}, {3, 2, 1}, 70);
    check_against_scatter<3>({1, 3, 2, 2, 1}, 3, {3, 2, 2}, {2, 3, 2}, {2, 2, 3}, 73);
  }
}

TEST_CASE("Conv transposes: one wording and one error type (ValueError) per bad argument") {
  // Per-axis values are echoed as given, so the same mistake reads the same in every rank.
  CHECK(same_in_every_rank([](auto& o) { o.filters(0); }) ==
        "up: filters must be a positive integer, got 0");
  CHECK(same_in_every_rank([](auto& o) { o.kernel_size(0); }) ==
        "up: kernel_size (0,) must be > 0 on every axis");
  CHECK(same_in_every_rank([](auto& o) { o.strides(-1); }) ==
        "up: strides (-1,) must be > 0 on every axis");
  CHECK(same_in_every_rank([](auto& o) { o.dilation_rate(0); }) ==
        "up: dilation_rate (0,) must be > 0 on every axis");
  CHECK(same_in_every_rank([](auto& o) { o.output_padding(-1); }) ==
        "up: output_padding (-1,) must be >= 0 on every axis");
  CHECK(same_in_every_rank([](auto& o) { o.padding("full"); }) ==
        "up: unknown padding 'full' (expected 'valid' or 'same')");
  CHECK(same_in_every_rank([](auto& o) { o.padding("causal"); }) ==
        "up: padding 'causal' is only supported for Conv1D");
  const std::string format = same_in_every_rank([](auto& o) { o.data_format("NCHW"); });
  CHECK(format.rfind("up: unknown data_format 'NCHW'", 0) == 0);
  // Where the message names the rank or the per-axis values, the pattern is the same.
  const std::string op1 = argument_error<1>([](auto& o) { o.strides(2).output_padding(2); });
  CHECK(op1 ==
        "up: output_padding (2,) must be smaller than strides (2,) on every axis (axis 0: 2 >= 2)");
  const std::string op3 = argument_error<3>([](auto& o) {
    o.strides({2, 3, 2}).output_padding({1, 3, 0});
  });
  CHECK(op3 ==
        "up: output_padding (1, 3, 0) must be smaller than strides (2, 3, 2) on every axis (axis "
        "1: 3 >= 3)");
  const std::string count2 = argument_error<2>([](auto& o) { o.kernel_size({3, 3, 3}); });
  CHECK(count2 == "up: kernel_size (3, 3, 3) has 3 values, expected 1 or 2 (one per spatial axis)");
  const std::string count3 = argument_error<3>([](auto& o) { o.kernel_size({3, 3}); });
  CHECK(count3 == "up: kernel_size (3, 3) has 2 values, expected 1 or 3 (one per spatial axis)");

  // An unknown activation: the layer adds its name, and "activation" only once.
  const std::string act = same_in_every_rank([](auto& o) { o.activation("nope"); });
  CHECK(act.rfind("up: activation: unknown activation 'nope'", 0) == 0);
  CHECK(act.find("activation: activation") == std::string::npos);
  reset_default_graph();
  CHECK_THROWS_AS(Conv1DTranspose(Conv1DTransposeOptions(2, 3).activation("nope")), ValueError);
  CHECK_THROWS_AS(Conv2DTranspose(Conv2DTransposeOptions(2, 3).activation("nope")), ValueError);
  CHECK_THROWS_AS(Conv3DTranspose(Conv3DTransposeOptions(2, 3).activation("nope")), ValueError);
  CHECK_THROWS_AS(Conv3DTranspose(Conv3DTransposeOptions(0, 3)), ValueError);
}

TEST_CASE("Conv transposes: bad inputs are ShapeErrors, checked on every call") {
  reset_default_graph();
  Conv1DTranspose t1(Conv1DTransposeOptions(2, 3).name("t1"));
  Conv2DTranspose t2(Conv2DTransposeOptions(2, 3).name("t2"));
  Conv3DTranspose t3(Conv3DTransposeOptions(2, 3).name("t3"));
  // The wrong rank, before the first call and from compute_output_shape.
  CHECK_THROWS_AS(t1(Variable(random_tensor({1, 4}))), ShapeError);
  CHECK_THROWS_AS(t2(Variable(random_tensor({1, 4, 4}))), ShapeError);
  CHECK_THROWS_AS(t3(Variable(random_tensor({1, 4, 4, 4}))), ShapeError);
  CHECK_THROWS_AS(t3.compute_output_shape({1, 4, 4, 4, 2, 1}), ShapeError);
  CHECK_FALSE(t3.built());
  t1(Variable(random_tensor({1, 4, 2})));
  t2(Variable(random_tensor({1, 4, 4, 2})));
  t3(Variable(random_tensor({1, 2, 2, 2, 2})));
  // The wrong rank and the wrong channel count after it.
  CHECK_THROWS_AS(t1(Variable(random_tensor({1, 4, 2, 1}))), ShapeError);
  CHECK_THROWS_AS(t2(Variable(random_tensor({1, 4, 2}))), ShapeError);
  CHECK_THROWS_AS(t3(Variable(random_tensor({1, 2, 2, 2, 2, 2}))), ShapeError);
  CHECK_THROWS_AS(t1(Variable(random_tensor({1, 4, 3}))), ShapeError);
  CHECK_THROWS_AS(t2(Variable(random_tensor({1, 4, 4, 1}))), ShapeError);
  CHECK_THROWS_AS(t3(Variable(random_tensor({1, 2, 2, 2, 3}))), ShapeError);
  try {
    t3(Variable(random_tensor({1, 2, 2, 2, 3})));
  } catch (const Error& e) {
    CHECK(std::string(e.what()) ==
          "t3: input has 3 channels (axis 4) but the layer was built for 2: shape (1, 2, 2, 2, 3) "
          "vs (1, 2, 2, 2, 2)");
  }
  TF_CHECK_ERROR(t1(Variable(random_tensor({1, 4, 2, 1}))),
                 "t1: expected an input of rank 3, got shape (1, 4, 2, 1) (rank 4)");
  // An input too small for an output, on a later call of a built layer: (in - 1) * 1 + 2 - 2 + 0.
  Conv2DTranspose tiny(Conv2DTransposeOptions(1, 2).padding("same").output_padding(0));
  tiny(Variable(random_tensor({1, 2, 2, 1})));
  CHECK_THROWS_AS(tiny(Variable(random_tensor({1, 1, 2, 1}))), ShapeError);
  Conv3DTranspose tiny3(Conv3DTransposeOptions(1, 2).padding("same").output_padding(0));
  tiny3(Variable(random_tensor({1, 2, 2, 2, 1})));
  CHECK_THROWS_AS(tiny3(Variable(random_tensor({1, 2, 1, 2, 1}))), ShapeError);
}
