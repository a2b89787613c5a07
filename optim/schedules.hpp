#pragma once
/// Learning-rate schedules (Keras `keras.optimizers.schedules`) and `LearningRate`, the type every
/// optimizer option `learning_rate` takes: a constant or a schedule evaluated at the optimizer's
/// iteration count (0 for the first update, as in Keras).
#include <boost/serialization/access.hpp>
#include <boost/serialization/assume_abstract.hpp>
#include <boost/serialization/base_object.hpp>
#include <boost/serialization/export.hpp>
#include <boost/serialization/nvp.hpp>
#include <boost/serialization/vector.hpp>
#include <boost/serialization/version.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "tapeflow/framework/nn/fields.hpp"

// The schedules' fields: their getters, `get_config()` keys and archive layout, in this order.
// The order and types are the archive format (that of version 0): changing a list needs a new
// BOOST_CLASS_VERSION whose serialize still reads the old layout. The defaults are the values a
// schedule has before a config or an archive is read into it.
#define TAPEFLOW_EXPONENTIAL_DECAY_FIELDS(F) \
  F(double, initial_learning_rate, 0.0)      \
  F(std::int64_t, decay_steps, 1)            \
  F(double, decay_rate, 1.0)                 \
  F(bool, staircase, false)
#define TAPEFLOW_INVERSE_TIME_DECAY_FIELDS(F) \
  F(double, initial_learning_rate, 0.0)       \
  F(std::int64_t, decay_steps, 1)             \
  F(double, decay_rate, 0.0)                  \
  F(bool, staircase, false)
#define TAPEFLOW_PIECEWISE_CONSTANT_DECAY_FIELDS(F) \
  F(std::vector<std::int64_t>, boundaries, {})      \
  F(std::vector<double>, values, {})
#define TAPEFLOW_POLYNOMIAL_DECAY_FIELDS(F) \
  F(double, initial_learning_rate, 0.0)     \
  F(std::int64_t, decay_steps, 1)           \
  F(double, end_learning_rate, 0.0001)      \
  F(double, power, 1.0)                     \
  F(bool, cycle, false)
#define TAPEFLOW_COSINE_DECAY_FIELDS(F)                 \
  F(double, initial_learning_rate, 0.0)                 \
  F(std::int64_t, decay_steps, 1)                       \
  F(double, alpha, 0.0)                                 \
  F(std::optional<double>, warmup_target, std::nullopt) \
  F(std::int64_t, warmup_steps, 0)

namespace tapeflow::optim {
namespace schedules {

/// Base of every schedule: maps the optimizer step (its iteration count before the update) to a
/// learning rate. Values are computed in double and returned as float.
///
/// A user-defined schedule overrides `operator()` and `name()`; to be saved with an optimizer's
/// state it also needs a `serialize` member and `BOOST_CLASS_EXPORT` (Boost.Serialization saves
/// schedules through a pointer to this base), and `get_config` to appear in an optimizer's.
///
/// Example:
/// ```
/// struct Halving : tapeflow::optim::schedules::LearningRateSchedule {
///   float operator()(std::int64_t step) const override { return 0.1f / float(1 << (step / 10)); }
///   std::string name() const override { return "Halving"; }
/// };
/// ```
class LearningRateSchedule {
 public:
  virtual ~LearningRateSchedule() = default;
  virtual float operator()(std::int64_t step) const = 0;
  /// The Keras class name, e.g. "ExponentialDecay".
  virtual std::string name() const = 0;
  /// The constructor arguments by name (Keras `get_config`); empty unless overridden.
  virtual Config get_config() const { return {}; }

 private:
  friend class boost::serialization::access;
  template <class Archive>
  void serialize(Archive&, unsigned) {}
};

/// Base of the built-in schedules, whose config and archive layout follow from their field list
/// (`TAPEFLOW_READONLY_FIELDS`): `get_config()`, `from_config` and `serialize`. `Derived` has a
/// private default constructor and `validate()`, and befriends this class.
/// Example: `auto s = ExponentialDecay::from_config({{"decay_steps", "10"}});`
template <class Derived>
class BuiltinSchedule : public LearningRateSchedule {
 public:
  Config get_config() const override {
    return fields_to_config(static_cast<const Derived&>(*this));
  }
  /// The schedule with `config`'s values, the missing keys at their defaults. Errors name the
  /// schedule: a key that is no argument, a malformed value, an invalid argument.
  static std::shared_ptr<Derived> from_config(const Config& config) {
    std::shared_ptr<Derived> s(new Derived());
    fields_update_from_config(s->name(), config, *s);
    s->validate();
    return s;
  }

 private:
  friend class boost::serialization::access;
  // The base, then the fields in list order: the layout each schedule had when it wrote its
  // members by hand (an optional is `has_<name>`, then the value).
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    Derived& self = static_cast<Derived&>(*this);
    ar& boost::serialization::make_nvp(
        "LearningRateSchedule", boost::serialization::base_object<LearningRateSchedule>(self));
    fields_serialize(ar, self);
  }
};

/// `initial_learning_rate * decay_rate ^ (step / decay_steps)`; with `staircase` the exponent is
/// floored. Errors: `decay_steps <= 0`.
/// Example: `ExponentialDecay(0.1, 1000, 0.96, /*staircase=*/true)`.
class ExponentialDecay : public BuiltinSchedule<ExponentialDecay> {
 public:
  ExponentialDecay(double initial_learning_rate, std::int64_t decay_steps, double decay_rate,
                   bool staircase = false);
  float operator()(std::int64_t step) const override;
  std::string name() const override { return "ExponentialDecay"; }
  TAPEFLOW_READONLY_FIELDS(TAPEFLOW_EXPONENTIAL_DECAY_FIELDS)

 private:
  friend class BuiltinSchedule<ExponentialDecay>;
  friend class boost::serialization::access;
  ExponentialDecay() = default;
  void validate() const;
};

/// `initial_learning_rate / (1 + decay_rate * step / decay_steps)`; with `staircase` the ratio
/// `step / decay_steps` is floored. Errors: `decay_steps <= 0`.
/// Example: `InverseTimeDecay(0.1, 1, 0.5)`.
class InverseTimeDecay : public BuiltinSchedule<InverseTimeDecay> {
 public:
  InverseTimeDecay(double initial_learning_rate, std::int64_t decay_steps, double decay_rate,
                   bool staircase = false);
  float operator()(std::int64_t step) const override;
  std::string name() const override { return "InverseTimeDecay"; }
  TAPEFLOW_READONLY_FIELDS(TAPEFLOW_INVERSE_TIME_DECAY_FIELDS)

 private:
  friend class BuiltinSchedule<InverseTimeDecay>;
  friend class boost::serialization::access;
  InverseTimeDecay() = default;
  void validate() const;
};

/// `values[0]` while `step <= boundaries[0]`, `values[i]` while
/// `boundaries[i-1] < step <= boundaries[i]`, `values.back()` after `boundaries.back()`.
/// Errors: `values.size() != boundaries.size() + 1`, boundaries not strictly increasing.
/// Example: `PiecewiseConstantDecay({100000, 110000}, {1.0, 0.5, 0.1})`.
class PiecewiseConstantDecay : public BuiltinSchedule<PiecewiseConstantDecay> {
 public:
  PiecewiseConstantDecay(std::vector<std::int64_t> boundaries, std::vector<double> values);
  float operator()(std::int64_t step) const override;
  std::string name() const override { return "PiecewiseConstantDecay"; }
  TAPEFLOW_READONLY_FIELDS(TAPEFLOW_PIECEWISE_CONSTANT_DECAY_FIELDS)

 private:
  friend class BuiltinSchedule<PiecewiseConstantDecay>;
  friend class boost::serialization::access;
  PiecewiseConstantDecay() = default;
  void validate() const;
};

/// `(initial - end) * (1 - s / d) ^ power + end` with `s = min(step, decay_steps)` and
/// `d = decay_steps`; with `cycle`, `s = step` and `d = decay_steps * ceil(step / decay_steps)`
/// (`d = decay_steps` at step 0). Keras defaults: `end_learning_rate = 1e-4`, `power = 1`.
/// Errors: `decay_steps <= 0`.
/// Example: `PolynomialDecay(0.1, 10000, 0.01, /*power=*/0.5)`.
class PolynomialDecay : public BuiltinSchedule<PolynomialDecay> {
 public:
  PolynomialDecay(double initial_learning_rate, std::int64_t decay_steps,
                  double end_learning_rate = 0.0001, double power = 1.0, bool cycle = false);
  float operator()(std::int64_t step) const override;
  std::string name() const override { return "PolynomialDecay"; }
  TAPEFLOW_READONLY_FIELDS(TAPEFLOW_POLYNOMIAL_DECAY_FIELDS)

 private:
  friend class BuiltinSchedule<PolynomialDecay>;
  friend class boost::serialization::access;
  PolynomialDecay() = default;
  void validate() const;
};

/// Cosine decay with optional linear warm-up (Keras `CosineDecay`).
/// Without `warmup_target`: `s = min(step, decay_steps)`,
/// `initial * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha)`.
/// With `warmup_target`: `s = min(step, warmup_steps + decay_steps)`; while `s < warmup_steps`
/// the rate goes linearly `initial + (warmup_target - initial) * s / warmup_steps`, then decays
/// from `warmup_target` as above over `s - warmup_steps`.
/// Errors: `decay_steps <= 0`, `warmup_steps < 0`.
/// Example: `CosineDecay(0.0, 1000, 0.0, /*warmup_target=*/0.1, /*warmup_steps=*/100)`.
class CosineDecay : public BuiltinSchedule<CosineDecay> {
 public:
  CosineDecay(double initial_learning_rate, std::int64_t decay_steps, double alpha = 0.0,
              std::optional<double> warmup_target = std::nullopt, std::int64_t warmup_steps = 0);
  float operator()(std::int64_t step) const override;
  std::string name() const override { return "CosineDecay"; }
  TAPEFLOW_READONLY_FIELDS(TAPEFLOW_COSINE_DECAY_FIELDS)

 private:
  friend class BuiltinSchedule<CosineDecay>;
  friend class boost::serialization::access;
  CosineDecay() = default;
  void validate() const;
};

/// A built-in schedule from its `name()` and `get_config()`.
/// Errors: an unknown name (listing the known ones), and those of the schedule's `from_config`.
/// Example: `from_config("InverseTimeDecay", {{"decay_steps", "4"}, {"decay_rate", "0.5"}})`.
std::shared_ptr<LearningRateSchedule> from_config(const std::string& name, const Config& config);

}  // namespace schedules

/// A learning rate: a constant or a schedule. Converts implicitly from any number, from a
/// schedule object (copied) and from a `shared_ptr` to one (shared), so it fits wherever an
/// optimizer takes a learning rate.
///
/// Example:
/// ```
/// namespace optim = tapeflow::optim;
/// optim::SGD a(optim::SGDOptions().learning_rate(0.1));
/// optim::SGD b(optim::SGDOptions().learning_rate(optim::schedules::ExponentialDecay(0.1, 100,
/// 0.5)));
/// ```
class LearningRate {
 public:
  template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  LearningRate(T value)  // NOLINT(google-explicit-constructor)
      : value_(static_cast<float>(value)) {}
  template <class S,
            std::enable_if_t<std::is_base_of_v<schedules::LearningRateSchedule, S>, int> = 0>
  LearningRate(S schedule)  // NOLINT(google-explicit-constructor)
      : schedule_(std::make_shared<S>(std::move(schedule))) {}
  template <class S,
            std::enable_if_t<std::is_base_of_v<schedules::LearningRateSchedule, S>, int> = 0>
  LearningRate(std::shared_ptr<S> schedule)  // NOLINT(google-explicit-constructor)
      : schedule_(std::move(schedule)) {}

  /// The rate at optimizer step `step` (the constant for a constant rate).
  float operator()(std::int64_t step) const { return schedule_ ? (*schedule_)(step) : value_; }
  bool is_schedule() const { return schedule_ != nullptr; }
  /// The schedule, or null for a constant rate.
  const std::shared_ptr<schedules::LearningRateSchedule>& schedule() const { return schedule_; }
  /// "0.001" or the schedule's name, for messages.
  std::string describe() const;

  /// Saves the constant or the schedule (through Boost's polymorphic pointer support).
  /// Instantiated for the text, binary and xml archives.
  template <class Archive>
  void serialize(Archive& ar, unsigned version);

 private:
  float value_ = 0.f;
  std::shared_ptr<schedules::LearningRateSchedule> schedule_;
};

/// A learning rate as config text: the constant ("0.001") or the schedule's repr
/// ("ExponentialDecay(decay_rate=0.5, decay_steps=10, initial_learning_rate=0.1,
/// staircase=false)", `config_repr` of its name and `get_config()`).
std::string config_write(const LearningRate& lr);
/// The inverse of `config_write`; a schedule is rebuilt with `schedules::from_config`.
/// Errors name `where` and `key`: a malformed number or repr, an unknown or invalid schedule.
void config_read(const std::string& where, const std::string& key, const std::string& text,
                 LearningRate& out);

}  // namespace tapeflow::optim

BOOST_SERIALIZATION_ASSUME_ABSTRACT(tapeflow::optim::schedules::LearningRateSchedule)
BOOST_CLASS_EXPORT_KEY2(tapeflow::optim::schedules::ExponentialDecay, "tapeflow.ExponentialDecay")
BOOST_CLASS_EXPORT_KEY2(tapeflow::optim::schedules::InverseTimeDecay, "tapeflow.InverseTimeDecay")
BOOST_CLASS_EXPORT_KEY2(tapeflow::optim::schedules::PiecewiseConstantDecay,
                        "tapeflow.PiecewiseConstantDecay")
BOOST_CLASS_EXPORT_KEY2(tapeflow::optim::schedules::PolynomialDecay, "tapeflow.PolynomialDecay")
BOOST_CLASS_EXPORT_KEY2(tapeflow::optim::schedules::CosineDecay, "tapeflow.CosineDecay")

// Format versions (bump one and branch on `version` in its serialize to change its layout).
BOOST_CLASS_VERSION(tapeflow::optim::schedules::LearningRateSchedule, 0)
BOOST_CLASS_VERSION(tapeflow::optim::schedules::ExponentialDecay, 0)
BOOST_CLASS_VERSION(tapeflow::optim::schedules::InverseTimeDecay, 0)
BOOST_CLASS_VERSION(tapeflow::optim::schedules::PiecewiseConstantDecay, 0)
BOOST_CLASS_VERSION(tapeflow::optim::schedules::PolynomialDecay, 0)
BOOST_CLASS_VERSION(tapeflow::optim::schedules::CosineDecay, 0)
BOOST_CLASS_VERSION(tapeflow::optim::LearningRate, 0)
