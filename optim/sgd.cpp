#include "tapeflow/optim/sgd.hpp"

namespace tapeflow::optim {

SGD::SGD(SGDOptions options) : Optimizer("SGD"), options_(std::move(options)) { validate(); }

void SGD::validate() const {
  Optimizer::validate();
  check_closed_unit("momentum", options_.momentum());
}

std::vector<std::string> SGD::slot_names() const {
  if (options_.momentum() == 0.0) return {};
  return {"momentum"};
}

void SGD::update_step(const Tensor& grad, Tensor& value, SlotMap& slots, const StepContext& ctx) {
  const float lr = static_cast<float>(ctx.learning_rate);
  if (options_.momentum() == 0.0) {
    value -= lr * grad;
    return;
  }
  const float mu = static_cast<float>(options_.momentum());
  Tensor& v = slots.at("momentum");
  v = mu * v - lr * grad;
  if (options_.nesterov())
    value += mu * v - lr * grad;
  else
    value += v;
}

void SGD::add_hyperparameters(std::map<std::string, double>& out) const {
  out["momentum"] = options_.momentum();
  out["nesterov"] = options_.nesterov() ? 1.0 : 0.0;
}

bool SGD::set_hyperparameter(const std::string& name, double value) {
  if (name == "momentum")
    options_.momentum(value);
  else if (name == "nesterov")
    options_.nesterov(value != 0.0);
  else
    return false;
  return true;
}

}  // namespace tapeflow::optim
