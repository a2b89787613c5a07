#include "tapeflow/optim/adagrad.hpp"

#include <xtensor/xmath.hpp>

namespace tapeflow::optim {

Adagrad::Adagrad(AdagradOptions options) : Optimizer("Adagrad"), options_(std::move(options)) {
  validate();
}

void Adagrad::validate() const {
  Optimizer::validate();
  check_non_negative("initial_accumulator_value", options_.initial_accumulator_value());
  check_positive("epsilon", options_.epsilon());
}

std::vector<std::string> Adagrad::slot_names() const { return {"accumulator"}; }

float Adagrad::slot_initial_value(const std::string&) const {
  return static_cast<float>(options_.initial_accumulator_value());
}

void Adagrad::update_step(const Tensor& grad, Tensor& value, SlotMap& slots,
                          const StepContext& ctx) {
  Tensor& acc = slots.at("accumulator");
  acc += grad * grad;
  value -= static_cast<float>(ctx.learning_rate) * grad /
           xt::sqrt(acc + static_cast<float>(options_.epsilon()));
}

void Adagrad::add_hyperparameters(std::map<std::string, double>& out) const {
  out["initial_accumulator_value"] = options_.initial_accumulator_value();
  out["epsilon"] = options_.epsilon();
}

bool Adagrad::set_hyperparameter(const std::string& name, double value) {
  if (name == "initial_accumulator_value")
    options_.initial_accumulator_value(value);
  else if (name == "epsilon")
    options_.epsilon(value);
  else
    return false;
  return true;
}

}  // namespace tapeflow::optim
