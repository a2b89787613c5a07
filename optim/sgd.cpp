#include "tapeflow/optim/sgd.hpp"

namespace tapeflow::optim {

SGD::SGD(SGDOptions options) : OptimizerWithOptions("SGD", std::move(options)) { validate(); }

void SGD::validate() const {
  Optimizer::validate();
  check_closed_unit("momentum", options().momentum());
}

std::vector<std::string> SGD::slot_names() const {
  if (options().momentum() == 0.0) return {};
  return {"momentum"};
}

void SGD::update_step(const Tensor& grad, Tensor& value, SlotMap& slots, const StepContext& ctx) {
  const float lr = static_cast<float>(ctx.learning_rate);
  if (options().momentum() == 0.0) {
    value -= lr * grad;
    return;
  }
  const float mu = static_cast<float>(options().momentum());
  Tensor& v = slots.at("momentum");
  v = mu * v - lr * grad;
  if (options().nesterov())
    value += mu * v - lr * grad;
  else
    value += v;
}

}  // namespace tapeflow::optim
