#include "tapeflow/optim/rmsprop.hpp"

#include <xtensor/xmath.hpp>

namespace tapeflow::optim {

RMSprop::RMSprop(RMSpropOptions options) : OptimizerWithOptions("RMSprop", std::move(options)) {
  validate();
}

void RMSprop::validate() const {
  Optimizer::validate();
  check_unit_interval("rho", options().rho());
  check_closed_unit("momentum", options().momentum());
  check_positive("epsilon", options().epsilon());
}

std::vector<std::string> RMSprop::slot_names() const {
  std::vector<std::string> names{"rms"};
  if (options().momentum() > 0.0) names.push_back("momentum");
  if (options().centered()) names.push_back("mg");
  return names;
}

void RMSprop::update_step(const Tensor& grad, Tensor& value, SlotMap& slots,
                          const StepContext& ctx) {
  const float lr = static_cast<float>(ctx.learning_rate);
  const float rho = static_cast<float>(options().rho());
  // 1 - rho in double, then float, as Keras casts its Python constant (see Adam).
  const float one_minus_rho = static_cast<float>(1.0 - options().rho());
  const float eps = static_cast<float>(options().epsilon());
  Tensor& rms = slots.at("rms");
  rms = rho * rms + one_minus_rho * grad * grad;
  Tensor increment;
  if (options().centered()) {
    Tensor& mg = slots.at("mg");
    mg = rho * mg + one_minus_rho * grad;
    increment = lr * grad / xt::sqrt(rms - mg * mg + eps);
  } else {
    increment = lr * grad / xt::sqrt(rms + eps);
  }
  if (options().momentum() > 0.0) {
    Tensor& mom = slots.at("momentum");
    mom = static_cast<float>(options().momentum()) * mom + increment;
    value -= mom;
  } else {
    value -= increment;
  }
}

}  // namespace tapeflow::optim
