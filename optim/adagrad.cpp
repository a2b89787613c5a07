#include "tapeflow/optim/adagrad.hpp"

#include <xtensor/xmath.hpp>

namespace tapeflow::optim {

Adagrad::Adagrad(AdagradOptions options) : OptimizerWithOptions("Adagrad", std::move(options)) {
  validate();
}

void Adagrad::validate() const {
  Optimizer::validate();
  check_non_negative("initial_accumulator_value", options().initial_accumulator_value());
  check_positive("epsilon", options().epsilon());
}

std::vector<std::string> Adagrad::slot_names() const { return {"accumulator"}; }

float Adagrad::slot_initial_value(const std::string&) const {
  return static_cast<float>(options().initial_accumulator_value());
}

void Adagrad::update_step(const Tensor& grad, Tensor& value, SlotMap& slots,
                          const StepContext& ctx) {
  Tensor& acc = slots.at("accumulator");
  acc += grad * grad;
  value -= static_cast<float>(ctx.learning_rate) * grad /
           xt::sqrt(acc + static_cast<float>(options().epsilon()));
}

}  // namespace tapeflow::optim
