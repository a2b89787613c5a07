#include "tapeflow/optim/nadam.hpp"

#include <cmath>
#include <xtensor/xmath.hpp>

namespace tapeflow::optim {
namespace {
// Dozat's momentum schedule as Keras 3 writes it: u(s) = beta_1 * (1 - 0.5 * 0.96^s).
double momentum_cache(double beta_1, double s) { return beta_1 * (1.0 - 0.5 * std::pow(0.96, s)); }
}  // namespace

Nadam::Nadam(NadamOptions options) : OptimizerWithOptions("Nadam", std::move(options)) {
  validate();
  scalars_["u_product"] = 1.0;
}

void Nadam::validate() const {
  Optimizer::validate();
  check_unit_interval("beta_1", options().beta_1());
  check_unit_interval("beta_2", options().beta_2());
  check_positive("epsilon", options().epsilon());
}

std::vector<std::string> Nadam::slot_names() const { return {"m", "v"}; }

void Nadam::begin_step(const StepContext& ctx) {
  // Once per step, not per variable: every variable of a step shares the same product.
  scalars_["u_product"] *= momentum_cache(options().beta_1(), ctx.local_step());
}

void Nadam::update_step(const Tensor& grad, Tensor& value, SlotMap& slots, const StepContext& ctx) {
  const double t = ctx.local_step();
  const double u_t = momentum_cache(options().beta_1(), t);
  const double u_t1 = momentum_cache(options().beta_1(), t + 1.0);
  const double u_prod = scalars_.at("u_product");
  const double u_prod_t1 = u_prod * u_t1;
  const float b1 = static_cast<float>(options().beta_1());
  const float b2 = static_cast<float>(options().beta_2());
  // 1 - beta in double, then float, as Keras casts its Python constant: 1.f - 0.999f is off by
  // 1.3e-5, as in Adam.
  const float one_minus_b1 = static_cast<float>(1.0 - options().beta_1());
  const float one_minus_b2 = static_cast<float>(1.0 - options().beta_2());
  Tensor& m = slots.at("m");
  Tensor& v = slots.at("v");
  m = b1 * m + one_minus_b1 * grad;
  v = b2 * v + one_minus_b2 * grad * grad;
  const float cm = static_cast<float>(u_t1 / (1.0 - u_prod_t1));
  const float cg = static_cast<float>((1.0 - u_t) / (1.0 - u_prod));
  const float cv = static_cast<float>(1.0 - std::pow(options().beta_2(), t));
  value -= static_cast<float>(ctx.learning_rate) * (cm * m + cg * grad) /
           (xt::sqrt(v / cv) + static_cast<float>(options().epsilon()));
}

}  // namespace tapeflow::optim
