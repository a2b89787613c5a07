#include "tapeflow/optim/adadelta.hpp"

#include <xtensor/xmath.hpp>

namespace tapeflow::optim {

Adadelta::Adadelta(AdadeltaOptions options) : Optimizer("Adadelta"), options_(std::move(options)) {
  validate();
}

void Adadelta::validate() const {
  Optimizer::validate();
  check_unit_interval("rho", options_.rho());
  check_positive("epsilon", options_.epsilon());
}

std::vector<std::string> Adadelta::slot_names() const { return {"accum_grad", "accum_var"}; }

void Adadelta::update_step(const Tensor& grad, Tensor& value, SlotMap& slots,
                           const StepContext& ctx) {
  const float rho = static_cast<float>(options_.rho());
  const float eps = static_cast<float>(options_.epsilon());
  Tensor& accum_grad = slots.at("accum_grad");
  Tensor& accum_var = slots.at("accum_var");
  accum_grad = rho * accum_grad + (1.f - rho) * grad * grad;
  Tensor delta = -xt::sqrt(accum_var + eps) / xt::sqrt(accum_grad + eps) * grad;
  accum_var = rho * accum_var + (1.f - rho) * delta * delta;
  value += static_cast<float>(ctx.learning_rate) * delta;
}

void Adadelta::add_hyperparameters(std::map<std::string, double>& out) const {
  out["rho"] = options_.rho();
  out["epsilon"] = options_.epsilon();
}

bool Adadelta::set_hyperparameter(const std::string& name, double value) {
  if (name == "rho")
    options_.rho(value);
  else if (name == "epsilon")
    options_.epsilon(value);
  else
    return false;
  return true;
}

}  // namespace tapeflow::optim
