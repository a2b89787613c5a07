#include "tapeflow/framework/ops/normalization.hpp"

#include <cmath>
#include <vector>

#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/framework/runtime/parallel.hpp"

namespace tapeflow {

namespace {

// Per-channel sums over `rows` rows of `C` channels, split over threads in fixed chunks (added
// in chunk order: the result does not depend on the thread count). `f(row, c)` gives a term.
template <class F>
std::vector<double> channel_sums(std::size_t rows, std::size_t C, F f) {
  constexpr std::size_t kChunk = 4096;
  const std::size_t chunks = std::max<std::size_t>(1, (rows + kChunk - 1) / kChunk);
  std::vector<std::vector<double>> partial(chunks, std::vector<double>(C, 0.0));
  parallel_for(chunks, 1, [&](std::size_t a, std::size_t b) {
    for (std::size_t k = a; k < b; ++k) {
      double* acc = partial[k].data();
      for (std::size_t r = k * kChunk; r < std::min(rows, (k + 1) * kChunk); ++r)
        for (std::size_t c = 0; c < C; ++c) acc[c] += double(f(r, c));
    }
  });
  std::vector<double> total(C, 0.0);
  for (const auto& p : partial)
    for (std::size_t c = 0; c < C; ++c) total[c] += p[c];
  return total;
}

Tensor vector_tensor(const std::vector<float>& v) {
  Tensor t = Tensor::from_shape({v.size()});
  std::copy(v.begin(), v.end(), t.data());
  return t;
}

// The same normalization as ops, for a backward pass that another tape records.
Variable composed(const Variable& x, const Variable& gamma, const Variable& beta, float epsilon) {
  const std::size_t rank = x.shape().size();
  Axes red;
  for (std::size_t i = 0; i + 1 < rank; ++i) red.push_back(int(i));
  Variable mu = mean(x, red, true);
  Variable centered = sub(x, mu);
  Variable y = mul(centered, rsqrt(add(mean(square(centered), red, true), scalar(epsilon))));
  if (gamma.defined()) y = mul(y, gamma);
  if (beta.defined()) y = add(y, beta);
  return y;
}

}  // namespace

BatchNormResult batch_norm_channels_last(const Variable& x, const Variable& gamma,
                                         const Variable& beta, float epsilon) {
  const char* where = "batch_norm";
  const Shape s = x.shape();
  if (s.size() < 2)
    fail_shape(where, "x must have rank >= 2 (batch, ..., channels), got shape " + shape_str(s));
  const std::size_t C = s.back(), rows = x.value().size() / std::max<std::size_t>(1, C);
  for (const auto* p : {&gamma, &beta})
    if (p->defined() && p->shape() != Shape{C})
      fail_shape(where, std::string(p == &gamma ? "gamma" : "beta") + " has shape " +
                            shape_str(p->shape()) + ", expected (" + std::to_string(C) +
                            ",): one value per channel of x " + shape_str(s));
  const float* px = x.value().data();
  const float* pg = gamma.defined() ? gamma.value().data() : nullptr;
  const float* pb = beta.defined() ? beta.value().data() : nullptr;

  // Two passes for the statistics (mean, then squared deviations: no cancellation).
  std::vector<float> mu(C, 0.f), var(C, 0.f), inv(C, 0.f);
  if (rows > 0) {
    auto sx = channel_sums(rows, C, [&](std::size_t r, std::size_t c) { return px[r * C + c]; });
    for (std::size_t c = 0; c < C; ++c) mu[c] = float(sx[c] / double(rows));
    auto sq = channel_sums(rows, C, [&](std::size_t r, std::size_t c) {
      const float d = px[r * C + c] - mu[c];
      return d * d;
    });
    for (std::size_t c = 0; c < C; ++c) var[c] = float(sq[c] / double(rows));
  }
  for (std::size_t c = 0; c < C; ++c) inv[c] = 1.f / std::sqrt(var[c] + epsilon);

  // y = (x - mu) * (inv * gamma) + beta.
  std::vector<float> scale(C), shift(C);
  for (std::size_t c = 0; c < C; ++c) {
    scale[c] = inv[c] * (pg ? pg[c] : 1.f);
    shift[c] = (pb ? pb[c] : 0.f) - mu[c] * scale[c];
  }
  Tensor y = Tensor::from_shape(s);
  float* py = y.data();
  parallel_for(rows, std::max<std::size_t>(1, 16384 / std::max<std::size_t>(1, C)),
               [&](std::size_t a, std::size_t b) {
                 for (std::size_t r = a; r < b; ++r)
                   for (std::size_t c = 0; c < C; ++c)
                     py[r * C + c] = px[r * C + c] * scale[c] + shift[c];
               });
  Variable out = detail::result(std::move(y));

  std::vector<Variable> inputs{x};
  if (gamma.defined()) inputs.push_back(gamma);
  if (beta.defined()) inputs.push_back(beta);
  if (detail::recording(inputs)) {
    detail::record(
        "batch_norm", inputs, out,
        [x, gamma, beta, epsilon, mu, inv, rows, C](const Variable& gy) -> std::vector<Variable> {
          std::vector<Variable> grads;
          if (detail::recording({&gy}) || detail::recording({&x}) ||
              (gamma.defined() && detail::recording({&gamma}))) {
            // Another tape records this backward pass: run it as ops (higher orders).
            GradientTape inner;
            inner.watch(x);
            std::vector<Variable> wrt{x};
            if (gamma.defined()) {
              inner.watch(gamma);
              wrt.push_back(gamma);
            }
            if (beta.defined()) {
              inner.watch(beta);
              wrt.push_back(beta);
            }
            Variable y2 = composed(x, gamma, beta, epsilon);
            return inner.gradient(y2, wrt, gy);
          }
          const float* px = x.value().data();
          const float* pgy = gy.value().data();
          const float* pg = gamma.defined() ? gamma.value().data() : nullptr;
          // sg = sum(gy), sgx = sum(gy * xhat) per channel.
          auto sg =
              channel_sums(rows, C, [&](std::size_t r, std::size_t c) { return pgy[r * C + c]; });
          auto sgx = channel_sums(rows, C, [&](std::size_t r, std::size_t c) {
            return pgy[r * C + c] * (px[r * C + c] - mu[c]) * inv[c];
          });
          // dx = gamma * inv / N * (N * gy - sg - xhat * sgx).
          std::vector<float> a(C), b(C), k(C);
          const double n = double(std::max<std::size_t>(1, rows));
          for (std::size_t c = 0; c < C; ++c) {
            k[c] = (pg ? pg[c] : 1.f) * inv[c];
            a[c] = float(sg[c] / n);
            b[c] = float(sgx[c] / n) * inv[c];
          }
          Tensor dx = Tensor::from_shape(x.shape());
          float* pdx = dx.data();
          parallel_for(rows, std::max<std::size_t>(1, 16384 / std::max<std::size_t>(1, C)),
                       [&](std::size_t lo, std::size_t hi) {
                         for (std::size_t r = lo; r < hi; ++r)
                           for (std::size_t c = 0; c < C; ++c)
                             pdx[r * C + c] =
                                 k[c] * (pgy[r * C + c] - a[c] - (px[r * C + c] - mu[c]) * b[c]);
                       });
          grads.push_back(Variable(std::move(dx)));
          std::vector<float> dg(C), db(C);
          for (std::size_t c = 0; c < C; ++c) {
            dg[c] = float(sgx[c]);
            db[c] = float(sg[c]);
          }
          if (gamma.defined()) grads.push_back(Variable(vector_tensor(dg)));
          if (beta.defined()) grads.push_back(Variable(vector_tensor(db)));
          return grads;
        });
  }
  return {out, vector_tensor(mu), vector_tensor(var)};
}

}  // namespace tapeflow
