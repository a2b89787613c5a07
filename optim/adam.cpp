#include "tapeflow/optim/adam.hpp"

#include <cmath>
#include <xtensor/xmath.hpp>

namespace tapeflow::optim {
namespace {

// Adam and AdamW share everything but the weight decay, which the base class applies.
template <class Options>
std::vector<std::string> adam_slots(const Options& o) {
  if (o.amsgrad()) return {"m", "v", "vhat"};
  return {"m", "v"};
}

template <class Options>
void adam_update(const Options& o, const Tensor& g, Tensor& w, Optimizer::SlotMap& slots, double lr,
                 double local_step) {
  const float b1 = static_cast<float>(o.beta_1());
  const float b2 = static_cast<float>(o.beta_2());
  const float c1 = static_cast<float>(1.0 - std::pow(o.beta_1(), local_step));
  const float c2 = static_cast<float>(1.0 - std::pow(o.beta_2(), local_step));
  const float eps = static_cast<float>(o.epsilon());
  Tensor& m = slots.at("m");
  Tensor& v = slots.at("v");
  m = b1 * m + (1.f - b1) * g;
  v = b2 * v + (1.f - b2) * g * g;
  const Tensor* vv = &v;
  if (o.amsgrad()) {
    Tensor& vhat = slots.at("vhat");
    vhat = xt::maximum(vhat, v);
    vv = &vhat;
  }
  w -= static_cast<float>(lr) * (m / c1) / (xt::sqrt(*vv / c2) + eps);
}

template <class Options>
void adam_hyper(const Options& o, std::map<std::string, double>& out) {
  out["beta_1"] = o.beta_1();
  out["beta_2"] = o.beta_2();
  out["epsilon"] = o.epsilon();
  out["amsgrad"] = o.amsgrad() ? 1.0 : 0.0;
}

template <class Options>
bool adam_set(Options& o, const std::string& name, double value) {
  if (name == "beta_1")
    o.beta_1(value);
  else if (name == "beta_2")
    o.beta_2(value);
  else if (name == "epsilon")
    o.epsilon(value);
  else if (name == "amsgrad")
    o.amsgrad(value != 0.0);
  else
    return false;
  return true;
}

}  // namespace

Adam::Adam(AdamOptions options) : Optimizer("Adam"), options_(std::move(options)) { validate(); }

void Adam::validate() const {
  Optimizer::validate();
  check_unit_interval("beta_1", options_.beta_1());
  check_unit_interval("beta_2", options_.beta_2());
  check_positive("epsilon", options_.epsilon());
}

std::vector<std::string> Adam::slot_names() const { return adam_slots(options_); }

void Adam::update_step(const Tensor& grad, Tensor& value, SlotMap& slots, const StepContext& ctx) {
  adam_update(options_, grad, value, slots, ctx.learning_rate, ctx.local_step());
}

void Adam::add_hyperparameters(std::map<std::string, double>& out) const {
  adam_hyper(options_, out);
}

bool Adam::set_hyperparameter(const std::string& name, double value) {
  return adam_set(options_, name, value);
}

AdamW::AdamW(AdamWOptions options) : Optimizer("AdamW"), options_(std::move(options)) {
  validate();
}

void AdamW::validate() const {
  Optimizer::validate();
  if (!options_.weight_decay()) fail(name(), "weight_decay must be set");
  check_unit_interval("beta_1", options_.beta_1());
  check_unit_interval("beta_2", options_.beta_2());
  check_positive("epsilon", options_.epsilon());
}

std::vector<std::string> AdamW::slot_names() const { return adam_slots(options_); }

void AdamW::update_step(const Tensor& grad, Tensor& value, SlotMap& slots, const StepContext& ctx) {
  adam_update(options_, grad, value, slots, ctx.learning_rate, ctx.local_step());
}

void AdamW::add_hyperparameters(std::map<std::string, double>& out) const {
  adam_hyper(options_, out);
}

bool AdamW::set_hyperparameter(const std::string& name, double value) {
  return adam_set(options_, name, value);
}

}  // namespace tapeflow::optim
