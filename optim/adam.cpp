#include "tapeflow/optim/adam.hpp"

#include <cmath>
#include <type_traits>

#include "tapeflow/framework/runtime/parallel.hpp"

namespace tapeflow::optim {
namespace detail {

// (In detail, not an anonymous namespace: AdamBase's members, outside it, capture them.)
struct AdamFactors {
  float b1, b2, one_minus_b1, one_minus_b2, alpha, eps;
};

// Keras' update of n elements in its float order: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g g;
// with AMSGrad vhat = max(vhat, v) (NaN propagates); w -= alpha m / (sqrt(v or vhat) + eps).
// Restricted pointers to distinct buffers, no branch in the plain loop: it vectorizes.
template <bool Amsgrad>
void adam_pass(const AdamFactors& f, const float* __restrict g, float* __restrict m,
               float* __restrict v, float* __restrict vhat, float* __restrict w, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const float mi = f.b1 * m[i] + f.one_minus_b1 * g[i];
    const float vi = f.b2 * v[i] + f.one_minus_b2 * g[i] * g[i];
    m[i] = mi;
    v[i] = vi;
    float d = vi;
    if constexpr (Amsgrad) d = vhat[i] = vi > vhat[i] || std::isnan(vi) ? vi : vhat[i];
    w[i] -= f.alpha * mi / (std::sqrt(d) + f.eps);
  }
}

template <class Options>
std::vector<std::string> AdamBase<Options>::slot_names() const {
  if (this->options().amsgrad()) return {"m", "v", "vhat"};
  return {"m", "v"};
}

template <class Options>
void AdamBase<Options>::validate() const {
  this->Optimizer::validate();
  if constexpr (std::is_same_v<Options, AdamWOptions>)
    if (!this->options().weight_decay()) fail(this->name(), "weight_decay must be set");
  this->check_unit_interval("beta_1", this->options().beta_1());
  this->check_unit_interval("beta_2", this->options().beta_2());
  this->check_positive("epsilon", this->options().epsilon());
}

template <class Options>
void AdamBase<Options>::update_step(const Tensor& g, Tensor& w, SlotMap& slots,
                                    const StepContext& ctx) {
  const Options& o = this->options();
  const float b1 = static_cast<float>(o.beta_1());
  const float b2 = static_cast<float>(o.beta_2());
  // 1 - beta in double, then float, as Keras casts its Python constant: 1.f - 0.999f is off by
  // 1.3e-5, which would show in sqrt(v) against a large epsilon.
  const float one_minus_b1 = static_cast<float>(1.0 - o.beta_1());
  const float one_minus_b2 = static_cast<float>(1.0 - o.beta_2());
  // Keras 3 folds both bias corrections into the rate, so epsilon is added to sqrt(v) itself,
  // not to the corrected sqrt(v / (1 - beta_2^t)): the paper's form would give Keras users
  // other trajectories for the same hyperparameters. The factor is computed in double, once.
  const double t = ctx.local_step();
  const float alpha =
      static_cast<float>(ctx.learning_rate * std::sqrt(1.0 - std::pow(o.beta_2(), t)) /
                         (1.0 - std::pow(o.beta_1(), t)));
  const float eps = static_cast<float>(o.epsilon());
  Tensor& m = slots.at("m");
  Tensor& v = slots.at("v");
  // One pass over the weight and its slots, split over threads (see adam_pass).
  float* pm = m.data();
  float* pv = v.data();
  float* ph = o.amsgrad() ? slots.at("vhat").data() : nullptr;
  float* pw = w.data();
  const float* pg = g.data();
  const AdamFactors f{b1, b2, one_minus_b1, one_minus_b2, alpha, eps};
  parallel_for(w.size(), std::size_t(1) << 15, [&](std::size_t lo, std::size_t hi) {
    if (ph)
      adam_pass<true>(f, pg + lo, pm + lo, pv + lo, ph + lo, pw + lo, hi - lo);
    else
      adam_pass<false>(f, pg + lo, pm + lo, pv + lo, nullptr, pw + lo, hi - lo);
  });
}

template class AdamBase<AdamOptions>;
template class AdamBase<AdamWOptions>;

}  // namespace detail

Adam::Adam(AdamOptions options) : AdamBase("Adam", std::move(options)) { validate(); }

AdamW::AdamW(AdamWOptions options) : AdamBase("AdamW", std::move(options)) { validate(); }

}  // namespace tapeflow::optim
