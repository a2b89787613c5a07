#pragma once
// TF's depthwise convolution written out with loops: the reference of the depthwise and the
// separable layers' tests (test_depthwise_conv.cpp, test_separable_conv.cpp).
#include <algorithm>
#include <array>
#include <xtensor/xmanipulation.hpp>

#include "tapeflow/framework/core/tensor.hpp"

namespace tapeflow::test {

// TF's depthwise_conv2d written out with loops: x (n, h, w, c), kernel (kh, kw, c, dm),
// y[n, i, j, c * dm + m] = bias[c * dm + m] +
//   sum_{a, b} x[n, i * s0 + a * d0 - p0, j * s1 + b * d1 - p1, c] * kernel[a, b, c, m]
// (0 outside the input), TF's "same" padding (the smaller half before).
inline Tensor depthwise_reference(const Tensor& x, const Tensor& k, const Tensor& bias,
                                  std::array<long, 2> s, std::array<long, 2> d, bool same) {
  const long N = long(x.shape()[0]), C = long(x.shape()[3]), DM = long(k.shape()[3]);
  const std::array<long, 2> in{long(x.shape()[1]), long(x.shape()[2])};
  const std::array<long, 2> ks{long(k.shape()[0]), long(k.shape()[1])};
  std::array<long, 2> out{}, pad{};
  for (int a = 0; a < 2; ++a) {
    const long dk = d[a] * (ks[a] - 1) + 1;
    out[a] = same ? (in[a] + s[a] - 1) / s[a] : (in[a] - dk) / s[a] + 1;
    pad[a] = same ? std::max((out[a] - 1) * s[a] + dk - in[a], 0L) / 2 : 0;
  }
  Tensor y = Tensor::from_shape(
      {std::size_t(N), std::size_t(out[0]), std::size_t(out[1]), std::size_t(C * DM)});
  for (long n = 0; n < N; ++n)
    for (long i = 0; i < out[0]; ++i)
      for (long j = 0; j < out[1]; ++j)
        for (long c = 0; c < C; ++c)
          for (long m = 0; m < DM; ++m) {
            double acc = bias.size() ? bias(c * DM + m) : 0.0;
            for (long a = 0; a < ks[0]; ++a)
              for (long b = 0; b < ks[1]; ++b) {
                const long r = i * s[0] + a * d[0] - pad[0], q = j * s[1] + b * d[1] - pad[1];
                if (r < 0 || r >= in[0] || q < 0 || q >= in[1]) continue;
                acc += double(x(n, r, q, c)) * double(k(a, b, c, m));
              }
            y(n, i, j, c * DM + m) = float(acc);
          }
  return y;
}

// The 1-D layer as a 2-D one over a height of 1.
inline Tensor depthwise_reference_1d(const Tensor& x, const Tensor& k, const Tensor& bias, long s,
                                     long d, bool same) {
  Tensor x2 = xt::expand_dims(x, 1), k2 = xt::expand_dims(k, 0);
  Tensor y = depthwise_reference(x2, k2, bias, {1, s}, {1, d}, same);
  return xt::squeeze(y, 1);
}

}  // namespace tapeflow::test
