#include "tapeflow/optim/rmsprop.hpp"

#include <xtensor/xmath.hpp>

namespace tapeflow::optim {

RMSprop::RMSprop(RMSpropOptions options) : Optimizer("RMSprop"), options_(std::move(options)) {
  validate();
}

void RMSprop::validate() const {
  Optimizer::validate();
  check_unit_interval("rho", options_.rho());
  check_closed_unit("momentum", options_.momentum());
  check_positive("epsilon", options_.epsilon());
}

std::vector<std::string> RMSprop::slot_names() const {
  std::vector<std::string> names{"rms"};
  if (options_.momentum() > 0.0) names.push_back("momentum");
  if (options_.centered()) names.push_back("mg");
  return names;
}

void RMSprop::update_step(const Tensor& grad, Tensor& value, SlotMap& slots,
                          const StepContext& ctx) {
  const float lr = static_cast<float>(ctx.learning_rate);
  const float rho = static_cast<float>(options_.rho());
  const float eps = static_cast<float>(options_.epsilon());
  Tensor& rms = slots.at("rms");
  rms = rho * rms + (1.f - rho) * grad * grad;
  Tensor increment;
  if (options_.centered()) {
    Tensor& mg = slots.at("mg");
    mg = rho * mg + (1.f - rho) * grad;
    increment = lr * grad / xt::sqrt(rms - mg * mg + eps);
  } else {
    increment = lr * grad / xt::sqrt(rms + eps);
  }
  if (options_.momentum() > 0.0) {
    Tensor& mom = slots.at("momentum");
    mom = static_cast<float>(options_.momentum()) * mom + increment;
    value -= mom;
  } else {
    value -= increment;
  }
}

void RMSprop::add_hyperparameters(std::map<std::string, double>& out) const {
  out["rho"] = options_.rho();
  out["momentum"] = options_.momentum();
  out["epsilon"] = options_.epsilon();
  out["centered"] = options_.centered() ? 1.0 : 0.0;
}

bool RMSprop::set_hyperparameter(const std::string& name, double value) {
  if (name == "rho")
    options_.rho(value);
  else if (name == "momentum")
    options_.momentum(value);
  else if (name == "epsilon")
    options_.epsilon(value);
  else if (name == "centered")
    options_.centered(value != 0.0);
  else
    return false;
  return true;
}

}  // namespace tapeflow::optim
