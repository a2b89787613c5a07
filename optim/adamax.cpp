#include "tapeflow/optim/adamax.hpp"

#include <cmath>
#include <xtensor/xmath.hpp>

namespace tapeflow::optim {

Adamax::Adamax(AdamaxOptions options) : Optimizer("Adamax"), options_(std::move(options)) {
  validate();
}

void Adamax::validate() const {
  Optimizer::validate();
  check_unit_interval("beta_1", options_.beta_1());
  check_unit_interval("beta_2", options_.beta_2());
  check_positive("epsilon", options_.epsilon());
}

std::vector<std::string> Adamax::slot_names() const { return {"m", "v"}; }

void Adamax::update_step(const Tensor& grad, Tensor& value, SlotMap& slots,
                         const StepContext& ctx) {
  const float b1 = static_cast<float>(options_.beta_1());
  const float b2 = static_cast<float>(options_.beta_2());
  const float c1 = static_cast<float>(1.0 - std::pow(options_.beta_1(), ctx.local_step()));
  Tensor& m = slots.at("m");
  Tensor& v = slots.at("v");
  m = b1 * m + (1.f - b1) * grad;
  v = xt::maximum(b2 * v, xt::abs(grad));
  value -= static_cast<float>(ctx.learning_rate) * m /
           (c1 * (v + static_cast<float>(options_.epsilon())));
}

void Adamax::add_hyperparameters(std::map<std::string, double>& out) const {
  out["beta_1"] = options_.beta_1();
  out["beta_2"] = options_.beta_2();
  out["epsilon"] = options_.epsilon();
}

bool Adamax::set_hyperparameter(const std::string& name, double value) {
  if (name == "beta_1")
    options_.beta_1(value);
  else if (name == "beta_2")
    options_.beta_2(value);
  else if (name == "epsilon")
    options_.epsilon(value);
  else
    return false;
  return true;
}

}  // namespace tapeflow::optim
