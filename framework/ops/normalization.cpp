#include "tapeflow/framework/ops/normalization.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/framework/runtime/parallel.hpp"

namespace tapeflow {

namespace {

// N per-channel sums at once over `rows` rows of `C` channels, split over threads in fixed
// chunks (added in chunk order: the result does not depend on the thread count). `f(row, c)`
// gives the N terms of an element. Each run of 256 rows sums in float (vectorizable; the
// rounding of 256 terms), runs and chunks in double.
template <std::size_t N, class F>
std::array<std::vector<double>, N> channel_sums(std::size_t rows, std::size_t C, F f) {
  constexpr std::size_t kChunk = 4096, kRun = 256;
  const std::size_t chunks = std::max<std::size_t>(1, (rows + kChunk - 1) / kChunk);
  std::vector<std::array<std::vector<double>, N>> partial(chunks);
  parallel_for(chunks, 1, [&](std::size_t a, std::size_t b) {
    std::array<std::vector<float>, N> run;
    for (auto& v : run) v.resize(C);
    for (std::size_t k = a; k < b; ++k) {
      for (auto& v : partial[k]) v.assign(C, 0.0);
      const std::size_t end = std::min(rows, (k + 1) * kChunk);
      for (std::size_t r0 = k * kChunk; r0 < end; r0 += kRun) {
        for (auto& v : run) std::fill(v.begin(), v.end(), 0.f);
        for (std::size_t r = r0; r < std::min(end, r0 + kRun); ++r)
          for (std::size_t c = 0; c < C; ++c) {
            const std::array<float, N> t = f(r, c);
            for (std::size_t i = 0; i < N; ++i) run[i][c] += t[i];
          }
        for (std::size_t i = 0; i < N; ++i)
          for (std::size_t c = 0; c < C; ++c) partial[k][i][c] += double(run[i][c]);
      }
    }
  });
  std::array<std::vector<double>, N> total;
  for (auto& v : total) v.assign(C, 0.0);
  for (const auto& p : partial)
    for (std::size_t i = 0; i < N; ++i)
      for (std::size_t c = 0; c < C; ++c) total[i][c] += p[i][c];
  return total;
}

// y = x * scale + shift per channel (the last axis of shape s), rows split over threads.
Tensor affine_rows(const Shape& s, const float* px, const float* scale, const float* shift) {
  const std::size_t C = s.empty() ? 1 : s.back();
  Tensor y = Tensor::from_shape(s);
  const std::size_t rows = y.size() / std::max<std::size_t>(1, C);
  float* py = y.data();
  parallel_for(rows, std::max<std::size_t>(1, 16384 / std::max<std::size_t>(1, C)),
               [&](std::size_t lo, std::size_t hi) {
                 for (std::size_t r = lo; r < hi; ++r)
                   for (std::size_t c = 0; c < C; ++c)
                     py[r * C + c] = px[r * C + c] * scale[c] + shift[c];
               });
  return y;
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
    const auto sx = channel_sums<1>(rows, C, [&](std::size_t r, std::size_t c) {
      return std::array<float, 1>{px[r * C + c]};
    })[0];
    for (std::size_t c = 0; c < C; ++c) mu[c] = float(sx[c] / double(rows));
    const auto sq = channel_sums<1>(rows, C, [&](std::size_t r, std::size_t c) {
      const float d = px[r * C + c] - mu[c];
      return std::array<float, 1>{d * d};
    })[0];
    for (std::size_t c = 0; c < C; ++c) var[c] = float(sq[c] / double(rows));
  }
  for (std::size_t c = 0; c < C; ++c) inv[c] = 1.f / std::sqrt(var[c] + epsilon);

  // y = (x - mu) * (inv * gamma) + beta.
  std::vector<float> scale(C), shift(C);
  for (std::size_t c = 0; c < C; ++c) {
    scale[c] = inv[c] * (pg ? pg[c] : 1.f);
    shift[c] = (pb ? pb[c] : 0.f) - mu[c] * scale[c];
  }
  Variable out = detail::result(affine_rows(s, px, scale.data(), shift.data()));

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
          // sg = sum(gy), sgx = sum(gy * xhat) per channel, in one pass.
          const auto sums = channel_sums<2>(rows, C, [&](std::size_t r, std::size_t c) {
            const float g = pgy[r * C + c];
            return std::array<float, 2>{g, g * (px[r * C + c] - mu[c]) * inv[c]};
          });
          const std::vector<double>&sg = sums[0], &sgx = sums[1];
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

// ---- channel_affine ----------------------------------------------------------------------------

Variable channel_affine(const Variable& x, const Variable& scale, const Variable& shift) {
  const char* where = "channel_affine";
  const Shape s = x.shape();
  if (s.empty()) fail_shape(where, "x must have rank >= 1 (..., channels), got a scalar");
  const std::size_t C = s.back();
  for (const auto* p : {&scale, &shift})
    if (!p->defined() || p->shape() != Shape{C})
      fail_shape(where, std::string(p == &scale ? "scale" : "shift") + " has shape " +
                            (p->defined() ? shape_str(p->shape()) : std::string("undefined")) +
                            ", expected (" + std::to_string(C) + ",): one value per channel of x " +
                            shape_str(s));
  Variable out =
      detail::result(affine_rows(s, x.value().data(), scale.value().data(), shift.value().data()));
  if (detail::recording({&x, &scale, &shift}))
    detail::record("channel_affine", {x, scale, shift}, out,
                   [x, scale, rank = s.size()](const Variable& gy) -> std::vector<Variable> {
                     // dx is this op again (no shift); the per-channel sums run as ops, so a
                     // tape recording this backward differentiates it.
                     Axes rows_axes;
                     for (std::size_t i = 0; i + 1 < rank; ++i) rows_axes.push_back(int(i));
                     // (An empty axis list would sum over every axis: rank 1 has no rows.)
                     const auto over_rows = [&](const Variable& v) {
                       return rows_axes.empty() ? v : sum(v, rows_axes);
                     };
                     const Variable zero(Tensor(xt::zeros<float>({scale.shape()[0]})));
                     return {channel_affine(gy, scale, zero), over_rows(mul(gy, x)), over_rows(gy)};
                   });
  return out;
}

// ---- group_norm ------------------------------------------------------------------------------

namespace {

// The layout group_norm works in: x as (batch, pre, channels, post), the channel axis between
// the `pre` and `post` blocks, and a (sample, group) pair's elements as (pre, group channels,
// post) at stride `channels * post` per `pre` row.
struct GroupLayout {
  std::size_t batch, pre, channels, post, groups;
  std::size_t group_channels() const { return channels / groups; }
  std::size_t group_size() const { return pre * group_channels() * post; }
  // Calls f(index, channel) for every element of sample b's group g, in a fixed order.
  template <class F>
  void for_each(std::size_t b, std::size_t g, F f) const {
    const std::size_t cg = group_channels();
    for (std::size_t p = 0; p < pre; ++p) {
      const std::size_t row = (b * pre + p) * channels;
      for (std::size_t c = g * cg; c < (g + 1) * cg; ++c)
        for (std::size_t q = 0; q < post; ++q) f((row + c) * post + q, c);
    }
  }
};

// The same normalization as ops, for a backward pass that another tape records.
Variable group_norm_composed(const Variable& x, const Variable& gamma, const Variable& beta,
                             const GroupLayout& l, float epsilon) {
  const auto n = [](std::size_t v) { return static_cast<long>(v); };
  const Variable xg =
      reshape(x, {n(l.batch), n(l.pre), n(l.groups), n(l.group_channels()), n(l.post)});
  const Axes red{1, 3, 4};
  const Variable centered = sub(xg, mean(xg, red, true));
  Variable y = mul(centered, rsqrt(add(mean(square(centered), red, true), scalar(epsilon))));
  y = reshape(y, {n(l.batch), n(l.pre), n(l.channels), n(l.post)});
  const std::vector<long> per_channel{1, 1, n(l.channels), 1};
  if (gamma.defined()) y = mul(y, reshape(gamma, per_channel));
  if (beta.defined()) y = add(y, reshape(beta, per_channel));
  const Shape xs = x.shape();
  return reshape(y, std::vector<long>(xs.begin(), xs.end()));
}

}  // namespace

Variable group_norm(const Variable& x, const Variable& gamma, const Variable& beta,
                    std::size_t groups, std::size_t axis, float epsilon) {
  const char* where = "group_norm";
  const Shape s = x.shape();
  if (axis == 0 || axis >= s.size())
    fail_shape(where, "axis " + std::to_string(axis) + " is out of range for x of shape " +
                          shape_str(s) + " (the channel axis is one of 1 .. rank - 1)");
  const std::size_t C = s[axis];
  if (groups == 0 || C % groups != 0)
    fail_shape(where, "groups " + std::to_string(groups) + " does not divide the " +
                          std::to_string(C) + " channels of x " + shape_str(s));
  for (const auto* p : {&gamma, &beta})
    if (p->defined() && p->shape() != Shape{C})
      fail_shape(where, std::string(p == &gamma ? "gamma" : "beta") + " has shape " +
                            shape_str(p->shape()) + ", expected (" + std::to_string(C) +
                            ",): one value per channel of x " + shape_str(s));
  GroupLayout l{s[0], 1, C, 1, groups};
  for (std::size_t i = 1; i < axis; ++i) l.pre *= s[i];
  for (std::size_t i = axis + 1; i < s.size(); ++i) l.post *= s[i];
  const std::size_t pairs = l.batch * groups, count = l.group_size();
  const float* px = x.value().data();
  const float* pg = gamma.defined() ? gamma.value().data() : nullptr;
  const float* pb = beta.defined() ? beta.value().data() : nullptr;

  // Per (sample, group): the mean, then the squared deviations (two passes, no cancellation).
  std::vector<float> mu(pairs, 0.f), inv(pairs, 0.f);
  Tensor y = Tensor::from_shape(s);
  float* py = y.data();
  parallel_for(pairs, 1, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t k = lo; k < hi; ++k) {
      const std::size_t b = k / groups, g = k % groups;
      double sx = 0.0, sq = 0.0;
      l.for_each(b, g, [&](std::size_t i, std::size_t) { sx += px[i]; });
      const float m = count ? float(sx / double(count)) : 0.f;
      l.for_each(b, g, [&](std::size_t i, std::size_t) {
        const float d = px[i] - m;
        sq += double(d) * d;
      });
      const float var = count ? float(sq / double(count)) : 0.f;
      mu[k] = m;
      inv[k] = 1.f / std::sqrt(var + epsilon);
      l.for_each(b, g, [&](std::size_t i, std::size_t c) {
        py[i] = (px[i] - m) * inv[k] * (pg ? pg[c] : 1.f) + (pb ? pb[c] : 0.f);
      });
    }
  });
  Variable out = detail::result(std::move(y));

  std::vector<Variable> inputs{x};
  if (gamma.defined()) inputs.push_back(gamma);
  if (beta.defined()) inputs.push_back(beta);
  if (!detail::recording(inputs)) return out;
  detail::record(
      "group_norm", inputs, out,
      [x, gamma, beta, epsilon, l, mu, inv](const Variable& gy) -> std::vector<Variable> {
        if (detail::recording({&gy}) || detail::recording({&x}) ||
            (gamma.defined() && detail::recording({&gamma}))) {
          // Another tape records this backward pass: run it as ops (higher orders).
          GradientTape inner;
          std::vector<Variable> wrt{x};
          if (gamma.defined()) wrt.push_back(gamma);
          if (beta.defined()) wrt.push_back(beta);
          for (const Variable& v : wrt) inner.watch(v);
          return inner.gradient(group_norm_composed(x, gamma, beta, l, epsilon), wrt, gy);
        }
        const float* px = x.value().data();
        const float* pgy = gy.value().data();
        const float* pg = gamma.defined() ? gamma.value().data() : nullptr;
        const std::size_t pairs = l.batch * l.groups, C = l.channels;
        const double n = double(std::max<std::size_t>(1, l.group_size()));
        Tensor dx = Tensor::from_shape(x.shape());
        float* pdx = dx.data();
        // Per-sample partial sums of the weight gradients (gy * xhat and gy per channel), added in
        // sample order afterwards: the result does not depend on the thread count.
        std::vector<double> dgamma(l.batch * C, 0.0), dbeta(l.batch * C, 0.0);
        parallel_for(pairs, 1, [&](std::size_t lo, std::size_t hi) {
          for (std::size_t k = lo; k < hi; ++k) {
            const std::size_t b = k / l.groups, g = k % l.groups;
            const float m = mu[k], iv = inv[k];
            // With gyh = gy * gamma: dx = inv / n * (n * gyh - sum(gyh) - xhat * sum(gyh * xhat)).
            double sg = 0.0, sgx = 0.0;
            l.for_each(b, g, [&](std::size_t i, std::size_t c) {
              const double xhat = double(px[i] - m) * iv;
              const double gyh = double(pgy[i]) * (pg ? pg[c] : 1.f);
              sg += gyh;
              sgx += gyh * xhat;
              dgamma[b * C + c] += double(pgy[i]) * xhat;
              dbeta[b * C + c] += pgy[i];
            });
            const float a = float(sg / n), bb = float(sgx / n);
            l.for_each(b, g, [&](std::size_t i, std::size_t c) {
              const float xhat = (px[i] - m) * iv;
              pdx[i] = iv * (pgy[i] * (pg ? pg[c] : 1.f) - a - xhat * bb);
            });
          }
        });
        std::vector<Variable> grads{Variable(std::move(dx))};
        std::vector<float> dg(C, 0.f), db(C, 0.f);
        for (std::size_t c = 0; c < C; ++c) {
          double tg = 0.0, tb = 0.0;
          for (std::size_t b = 0; b < l.batch; ++b) {
            tg += dgamma[b * C + c];
            tb += dbeta[b * C + c];
          }
          dg[c] = float(tg);
          db[c] = float(tb);
        }
        if (gamma.defined()) grads.push_back(Variable(vector_tensor(dg)));
        if (beta.defined()) grads.push_back(Variable(vector_tensor(db)));
        return grads;
      });
  return out;
}

}  // namespace tapeflow
