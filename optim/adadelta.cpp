#include "tapeflow/optim/adadelta.hpp"

#include <xtensor/xmath.hpp>

namespace tapeflow::optim {

Adadelta::Adadelta(AdadeltaOptions options) : OptimizerWithOptions("Adadelta", std::move(options)) {
  validate();
}

void Adadelta::validate() const {
  Optimizer::validate();
  check_unit_interval("rho", options().rho());
  check_positive("epsilon", options().epsilon());
}

std::vector<std::string> Adadelta::slot_names() const { return {"accum_grad", "accum_var"}; }

void Adadelta::update_step(const Tensor& grad, Tensor& value, SlotMap& slots,
                           const StepContext& ctx) {
  const float rho = static_cast<float>(options().rho());
  // 1 - rho in double, then float, as Keras casts its Python constant (see Adam).
  const float one_minus_rho = static_cast<float>(1.0 - options().rho());
  const float eps = static_cast<float>(options().epsilon());
  Tensor& accum_grad = slots.at("accum_grad");
  Tensor& accum_var = slots.at("accum_var");
  accum_grad = rho * accum_grad + one_minus_rho * grad * grad;
  Tensor delta = -xt::sqrt(accum_var + eps) / xt::sqrt(accum_grad + eps) * grad;
  accum_var = rho * accum_var + one_minus_rho * delta * delta;
  value += static_cast<float>(ctx.learning_rate) * delta;
}

}  // namespace tapeflow::optim
