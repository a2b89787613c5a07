#include "tapeflow/optim/adamax.hpp"

#include <cmath>
#include <xtensor/xmath.hpp>

namespace tapeflow::optim {

Adamax::Adamax(AdamaxOptions options) : OptimizerWithOptions("Adamax", std::move(options)) {
  validate();
}

void Adamax::validate() const {
  Optimizer::validate();
  check_unit_interval("beta_1", options().beta_1());
  check_unit_interval("beta_2", options().beta_2());
  check_positive("epsilon", options().epsilon());
}

std::vector<std::string> Adamax::slot_names() const { return {"m", "v"}; }

void Adamax::update_step(const Tensor& grad, Tensor& value, SlotMap& slots,
                         const StepContext& ctx) {
  const float b1 = static_cast<float>(options().beta_1());
  const float b2 = static_cast<float>(options().beta_2());
  // 1 - beta_1 in double, then float, as Keras casts its Python constant (see Adam).
  const float one_minus_b1 = static_cast<float>(1.0 - options().beta_1());
  const float c1 = static_cast<float>(1.0 - std::pow(options().beta_1(), ctx.local_step()));
  Tensor& m = slots.at("m");
  Tensor& v = slots.at("v");
  m = b1 * m + one_minus_b1 * grad;
  v = xt::maximum(b2 * v, xt::abs(grad));
  value -= static_cast<float>(ctx.learning_rate) * m /
           (c1 * (v + static_cast<float>(options().epsilon())));
}

}  // namespace tapeflow::optim
