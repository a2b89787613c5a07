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

namespace tapeflow::optim {
namespace schedules {

/// Base of every schedule: maps the optimizer step (its iteration count before the update) to a
/// learning rate. Values are computed in double and returned as float.
///
/// A user-defined schedule overrides `operator()` and `name()`; to be saved with an optimizer's
/// state it also needs a `serialize` member and `BOOST_CLASS_EXPORT` (Boost.Serialization saves
/// schedules through a pointer to this base).
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

 private:
  friend class boost::serialization::access;
  template <class Archive>
  void serialize(Archive&, unsigned) {}
};

/// `initial_learning_rate * decay_rate ^ (step / decay_steps)`; with `staircase` the exponent is
/// floored. Errors: `decay_steps <= 0`.
/// Example: `ExponentialDecay(0.1, 1000, 0.96, /*staircase=*/true)`.
class ExponentialDecay : public LearningRateSchedule {
 public:
  ExponentialDecay(double initial_learning_rate, std::int64_t decay_steps, double decay_rate,
                   bool staircase = false);
  float operator()(std::int64_t step) const override;
  std::string name() const override { return "ExponentialDecay"; }

  double initial_learning_rate() const { return initial_learning_rate_; }
  std::int64_t decay_steps() const { return decay_steps_; }
  double decay_rate() const { return decay_rate_; }
  bool staircase() const { return staircase_; }

 private:
  ExponentialDecay() = default;
  friend class boost::serialization::access;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& boost::serialization::make_nvp(
        "LearningRateSchedule", boost::serialization::base_object<LearningRateSchedule>(*this));
    ar& boost::serialization::make_nvp("initial_learning_rate", initial_learning_rate_);
    ar& boost::serialization::make_nvp("decay_steps", decay_steps_);
    ar& boost::serialization::make_nvp("decay_rate", decay_rate_);
    ar& boost::serialization::make_nvp("staircase", staircase_);
  }
  double initial_learning_rate_ = 0;
  std::int64_t decay_steps_ = 1;
  double decay_rate_ = 1;
  bool staircase_ = false;
};

/// `initial_learning_rate / (1 + decay_rate * step / decay_steps)`; with `staircase` the ratio
/// `step / decay_steps` is floored. Errors: `decay_steps <= 0`.
/// Example: `InverseTimeDecay(0.1, 1, 0.5)`.
class InverseTimeDecay : public LearningRateSchedule {
 public:
  InverseTimeDecay(double initial_learning_rate, std::int64_t decay_steps, double decay_rate,
                   bool staircase = false);
  float operator()(std::int64_t step) const override;
  std::string name() const override { return "InverseTimeDecay"; }

  double initial_learning_rate() const { return initial_learning_rate_; }
  std::int64_t decay_steps() const { return decay_steps_; }
  double decay_rate() const { return decay_rate_; }
  bool staircase() const { return staircase_; }

 private:
  InverseTimeDecay() = default;
  friend class boost::serialization::access;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& boost::serialization::make_nvp(
        "LearningRateSchedule", boost::serialization::base_object<LearningRateSchedule>(*this));
    ar& boost::serialization::make_nvp("initial_learning_rate", initial_learning_rate_);
    ar& boost::serialization::make_nvp("decay_steps", decay_steps_);
    ar& boost::serialization::make_nvp("decay_rate", decay_rate_);
    ar& boost::serialization::make_nvp("staircase", staircase_);
  }
  double initial_learning_rate_ = 0;
  std::int64_t decay_steps_ = 1;
  double decay_rate_ = 0;
  bool staircase_ = false;
};

/// `values[0]` while `step <= boundaries[0]`, `values[i]` while
/// `boundaries[i-1] < step <= boundaries[i]`, `values.back()` after `boundaries.back()`.
/// Errors: `values.size() != boundaries.size() + 1`, boundaries not strictly increasing.
/// Example: `PiecewiseConstantDecay({100000, 110000}, {1.0, 0.5, 0.1})`.
class PiecewiseConstantDecay : public LearningRateSchedule {
 public:
  PiecewiseConstantDecay(std::vector<std::int64_t> boundaries, std::vector<double> values);
  float operator()(std::int64_t step) const override;
  std::string name() const override { return "PiecewiseConstantDecay"; }

  const std::vector<std::int64_t>& boundaries() const { return boundaries_; }
  const std::vector<double>& values() const { return values_; }

 private:
  PiecewiseConstantDecay() = default;
  friend class boost::serialization::access;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& boost::serialization::make_nvp(
        "LearningRateSchedule", boost::serialization::base_object<LearningRateSchedule>(*this));
    ar& boost::serialization::make_nvp("boundaries", boundaries_);
    ar& boost::serialization::make_nvp("values", values_);
  }
  std::vector<std::int64_t> boundaries_;
  std::vector<double> values_;
};

/// `(initial - end) * (1 - s / d) ^ power + end` with `s = min(step, decay_steps)` and
/// `d = decay_steps`; with `cycle`, `s = step` and `d = decay_steps * ceil(step / decay_steps)`
/// (`d = decay_steps` at step 0). Keras defaults: `end_learning_rate = 1e-4`, `power = 1`.
/// Errors: `decay_steps <= 0`.
/// Example: `PolynomialDecay(0.1, 10000, 0.01, /*power=*/0.5)`.
class PolynomialDecay : public LearningRateSchedule {
 public:
  PolynomialDecay(double initial_learning_rate, std::int64_t decay_steps,
                  double end_learning_rate = 0.0001, double power = 1.0, bool cycle = false);
  float operator()(std::int64_t step) const override;
  std::string name() const override { return "PolynomialDecay"; }

  double initial_learning_rate() const { return initial_learning_rate_; }
  std::int64_t decay_steps() const { return decay_steps_; }
  double end_learning_rate() const { return end_learning_rate_; }
  double power() const { return power_; }
  bool cycle() const { return cycle_; }

 private:
  PolynomialDecay() = default;
  friend class boost::serialization::access;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& boost::serialization::make_nvp(
        "LearningRateSchedule", boost::serialization::base_object<LearningRateSchedule>(*this));
    ar& boost::serialization::make_nvp("initial_learning_rate", initial_learning_rate_);
    ar& boost::serialization::make_nvp("decay_steps", decay_steps_);
    ar& boost::serialization::make_nvp("end_learning_rate", end_learning_rate_);
    ar& boost::serialization::make_nvp("power", power_);
    ar& boost::serialization::make_nvp("cycle", cycle_);
  }
  double initial_learning_rate_ = 0;
  std::int64_t decay_steps_ = 1;
  double end_learning_rate_ = 0.0001;
  double power_ = 1;
  bool cycle_ = false;
};

/// Cosine decay with optional linear warm-up (Keras `CosineDecay`).
/// Without `warmup_target`: `s = min(step, decay_steps)`,
/// `initial * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha)`.
/// With `warmup_target`: `s = min(step, warmup_steps + decay_steps)`; while `s < warmup_steps`
/// the rate goes linearly `initial + (warmup_target - initial) * s / warmup_steps`, then decays
/// from `warmup_target` as above over `s - warmup_steps`.
/// Errors: `decay_steps <= 0`, `warmup_steps < 0`.
/// Example: `CosineDecay(0.0, 1000, 0.0, /*warmup_target=*/0.1, /*warmup_steps=*/100)`.
class CosineDecay : public LearningRateSchedule {
 public:
  CosineDecay(double initial_learning_rate, std::int64_t decay_steps, double alpha = 0.0,
              std::optional<double> warmup_target = std::nullopt, std::int64_t warmup_steps = 0);
  float operator()(std::int64_t step) const override;
  std::string name() const override { return "CosineDecay"; }

  double initial_learning_rate() const { return initial_learning_rate_; }
  std::int64_t decay_steps() const { return decay_steps_; }
  double alpha() const { return alpha_; }
  std::optional<double> warmup_target() const {
    return has_warmup_target_ ? std::optional<double>(warmup_target_) : std::nullopt;
  }
  std::int64_t warmup_steps() const { return warmup_steps_; }

 private:
  CosineDecay() = default;
  friend class boost::serialization::access;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& boost::serialization::make_nvp(
        "LearningRateSchedule", boost::serialization::base_object<LearningRateSchedule>(*this));
    ar& boost::serialization::make_nvp("initial_learning_rate", initial_learning_rate_);
    ar& boost::serialization::make_nvp("decay_steps", decay_steps_);
    ar& boost::serialization::make_nvp("alpha", alpha_);
    ar& boost::serialization::make_nvp("has_warmup_target", has_warmup_target_);
    ar& boost::serialization::make_nvp("warmup_target", warmup_target_);
    ar& boost::serialization::make_nvp("warmup_steps", warmup_steps_);
  }
  double initial_learning_rate_ = 0;
  std::int64_t decay_steps_ = 1;
  double alpha_ = 0;
  bool has_warmup_target_ = false;
  double warmup_target_ = 0;
  std::int64_t warmup_steps_ = 0;
};

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
