// The archive headers must come before the export implementations: BOOST_CLASS_EXPORT_IMPLEMENT
// registers each schedule with every archive type included so far.
#include "tapeflow/optim/schedules.hpp"

#include <algorithm>
#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/archive/text_iarchive.hpp>
#include <boost/archive/text_oarchive.hpp>
#include <boost/archive/xml_iarchive.hpp>
#include <boost/archive/xml_oarchive.hpp>
#include <boost/serialization/shared_ptr.hpp>
#include <cmath>
#include <map>
#include <sstream>

#include "tapeflow/framework/core/tensor.hpp"
#include "tapeflow/layers/registry.hpp"

BOOST_CLASS_EXPORT_IMPLEMENT(tapeflow::optim::schedules::ExponentialDecay)
BOOST_CLASS_EXPORT_IMPLEMENT(tapeflow::optim::schedules::InverseTimeDecay)
BOOST_CLASS_EXPORT_IMPLEMENT(tapeflow::optim::schedules::PiecewiseConstantDecay)
BOOST_CLASS_EXPORT_IMPLEMENT(tapeflow::optim::schedules::PolynomialDecay)
BOOST_CLASS_EXPORT_IMPLEMENT(tapeflow::optim::schedules::CosineDecay)

namespace tapeflow::optim {
namespace schedules {
namespace {

std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

void check_finite(const char* where, const char* arg, double v) {
  if (!std::isfinite(v)) fail(where, std::string(arg) + " must be finite, got " + num(v));
}

void check_decay_steps(const char* where, const char* arg, std::int64_t steps) {
  if (steps <= 0) fail(where, std::string(arg) + " must be > 0, got " + std::to_string(steps));
}

// Keras evaluates schedules at the iteration counter, which never goes negative; a negative step
// from a direct call is clamped so that the formulas stay within their domain.
double as_step(std::int64_t step) { return static_cast<double>(std::max<std::int64_t>(step, 0)); }

}  // namespace

ExponentialDecay::ExponentialDecay(double initial_learning_rate, std::int64_t decay_steps,
                                   double decay_rate, bool staircase)
    : initial_learning_rate_(initial_learning_rate),
      decay_steps_(decay_steps),
      decay_rate_(decay_rate),
      staircase_(staircase) {
  validate();
}

void ExponentialDecay::validate() const {
  check_finite("ExponentialDecay", "initial_learning_rate", initial_learning_rate_);
  check_decay_steps("ExponentialDecay", "decay_steps", decay_steps_);
  check_finite("ExponentialDecay", "decay_rate", decay_rate_);
}

float ExponentialDecay::operator()(std::int64_t step) const {
  double p = as_step(step) / static_cast<double>(decay_steps_);
  if (staircase_) p = std::floor(p);
  return static_cast<float>(initial_learning_rate_ * std::pow(decay_rate_, p));
}

InverseTimeDecay::InverseTimeDecay(double initial_learning_rate, std::int64_t decay_steps,
                                   double decay_rate, bool staircase)
    : initial_learning_rate_(initial_learning_rate),
      decay_steps_(decay_steps),
      decay_rate_(decay_rate),
      staircase_(staircase) {
  validate();
}

void InverseTimeDecay::validate() const {
  check_finite("InverseTimeDecay", "initial_learning_rate", initial_learning_rate_);
  check_decay_steps("InverseTimeDecay", "decay_steps", decay_steps_);
  check_finite("InverseTimeDecay", "decay_rate", decay_rate_);
}

float InverseTimeDecay::operator()(std::int64_t step) const {
  double p = as_step(step) / static_cast<double>(decay_steps_);
  if (staircase_) p = std::floor(p);
  return static_cast<float>(initial_learning_rate_ / (1.0 + decay_rate_ * p));
}

PiecewiseConstantDecay::PiecewiseConstantDecay(std::vector<std::int64_t> boundaries,
                                               std::vector<double> values)
    : boundaries_(std::move(boundaries)), values_(std::move(values)) {
  validate();
}

void PiecewiseConstantDecay::validate() const {
  if (values_.size() != boundaries_.size() + 1)
    fail("PiecewiseConstantDecay", "values must have one more element than boundaries, got " +
                                       std::to_string(boundaries_.size()) + " boundaries and " +
                                       std::to_string(values_.size()) + " values");
  for (std::size_t i = 1; i < boundaries_.size(); ++i)
    if (boundaries_[i] <= boundaries_[i - 1])
      fail("PiecewiseConstantDecay",
           "boundaries must be strictly increasing, but boundaries[" + std::to_string(i) + "] = " +
               std::to_string(boundaries_[i]) + " follows " + std::to_string(boundaries_[i - 1]));
  for (double v : values_) check_finite("PiecewiseConstantDecay", "values", v);
}

float PiecewiseConstantDecay::operator()(std::int64_t step) const {
  // The first boundary >= step picks the interval (step <= boundaries[0] -> values[0]).
  auto it = std::lower_bound(boundaries_.begin(), boundaries_.end(), step);
  return static_cast<float>(values_[static_cast<std::size_t>(it - boundaries_.begin())]);
}

PolynomialDecay::PolynomialDecay(double initial_learning_rate, std::int64_t decay_steps,
                                 double end_learning_rate, double power, bool cycle)
    : initial_learning_rate_(initial_learning_rate),
      decay_steps_(decay_steps),
      end_learning_rate_(end_learning_rate),
      power_(power),
      cycle_(cycle) {
  validate();
}

void PolynomialDecay::validate() const {
  check_finite("PolynomialDecay", "initial_learning_rate", initial_learning_rate_);
  check_decay_steps("PolynomialDecay", "decay_steps", decay_steps_);
  check_finite("PolynomialDecay", "end_learning_rate", end_learning_rate_);
  check_finite("PolynomialDecay", "power", power_);
}

float PolynomialDecay::operator()(std::int64_t step) const {
  double s = as_step(step);
  double d = static_cast<double>(decay_steps_);
  if (cycle_) {
    double multiplier = s == 0 ? 1.0 : std::ceil(s / d);
    d *= multiplier;
  } else {
    s = std::min(s, d);
  }
  double p = s / d;
  return static_cast<float>((initial_learning_rate_ - end_learning_rate_) *
                                std::pow(1.0 - p, power_) +
                            end_learning_rate_);
}

CosineDecay::CosineDecay(double initial_learning_rate, std::int64_t decay_steps, double alpha,
                         std::optional<double> warmup_target, std::int64_t warmup_steps)
    : initial_learning_rate_(initial_learning_rate),
      decay_steps_(decay_steps),
      alpha_(alpha),
      warmup_target_(warmup_target),
      warmup_steps_(warmup_steps) {
  validate();
}

void CosineDecay::validate() const {
  check_finite("CosineDecay", "initial_learning_rate", initial_learning_rate_);
  check_decay_steps("CosineDecay", "decay_steps", decay_steps_);
  check_finite("CosineDecay", "alpha", alpha_);
  if (warmup_target_) check_finite("CosineDecay", "warmup_target", *warmup_target_);
  if (warmup_steps_ < 0)
    fail("CosineDecay", "warmup_steps must be >= 0, got " + std::to_string(warmup_steps_));
}

float CosineDecay::operator()(std::int64_t step) const {
  const double pi = std::acos(-1.0);
  double d = static_cast<double>(decay_steps_);
  auto decay = [&](double s, double from) {
    double cosine = 0.5 * (1.0 + std::cos(pi * s / d));
    return from * ((1.0 - alpha_) * cosine + alpha_);
  };
  double s = as_step(step);
  if (!warmup_target_) return static_cast<float>(decay(std::min(s, d), initial_learning_rate_));
  const double target = *warmup_target_;
  double w = static_cast<double>(warmup_steps_);
  s = std::min(s, d + w);
  if (s < w)
    return static_cast<float>((target - initial_learning_rate_) * (s / w) + initial_learning_rate_);
  return static_cast<float>(decay(s - w, target));
}

namespace {
template <class S>
std::shared_ptr<LearningRateSchedule> make(const Config& config) {
  return S::from_config(config);
}
}  // namespace

std::shared_ptr<LearningRateSchedule> from_config(const std::string& name, const Config& config) {
  using Factory = std::shared_ptr<LearningRateSchedule> (*)(const Config&);
  static const std::map<std::string, Factory> factories = {
      {"ExponentialDecay", &make<ExponentialDecay>},
      {"InverseTimeDecay", &make<InverseTimeDecay>},
      {"PiecewiseConstantDecay", &make<PiecewiseConstantDecay>},
      {"PolynomialDecay", &make<PolynomialDecay>},
      {"CosineDecay", &make<CosineDecay>},
  };
  auto it = factories.find(name);
  if (it == factories.end()) {
    std::string known;
    for (const auto& kv : factories) known += (known.empty() ? "" : ", ") + kv.first;
    fail("schedules::from_config", "unknown schedule '" + name + "' (known: " + known + ")");
  }
  return it->second(config);
}

}  // namespace schedules

std::string config_write(const LearningRate& lr) {
  if (!lr.is_schedule()) return tapeflow::config_write(lr(0));
  return config_repr(lr.schedule()->name(), lr.schedule()->get_config());
}

void config_read(const std::string& where, const std::string& key, const std::string& text,
                 LearningRate& out) {
  // A number has no parentheses; a schedule is "Name(k=v, ...)" as config_write writes it.
  if (text.find('(') == std::string::npos) {
    float v = 0.f;
    tapeflow::config_read(where, key, text, v);
    out = v;
    return;
  }
  const std::string context = where + ": " + key;
  auto [name, config] = layers::parse_repr(context, text);
  try {
    out = schedules::from_config(name, config);
  } catch (const Error& e) {
    e.rethrow_in(context);
  }
}

std::string LearningRate::describe() const {
  if (schedule_) return schedule_->name();
  std::ostringstream os;
  os << value_;
  return os.str();
}

template <class Archive>
void LearningRate::serialize(Archive& ar, unsigned) {
  ar& boost::serialization::make_nvp("value", value_);
  ar& boost::serialization::make_nvp("schedule", schedule_);
}

template void LearningRate::serialize(boost::archive::binary_oarchive&, unsigned);
template void LearningRate::serialize(boost::archive::binary_iarchive&, unsigned);
template void LearningRate::serialize(boost::archive::text_oarchive&, unsigned);
template void LearningRate::serialize(boost::archive::text_iarchive&, unsigned);
template void LearningRate::serialize(boost::archive::xml_oarchive&, unsigned);
template void LearningRate::serialize(boost::archive::xml_iarchive&, unsigned);

}  // namespace tapeflow::optim
