#pragma once
/// The `Optimizer` base every optimizer derives from, and the options every optimizer shares
/// (learning rate, gradient clipping, decoupled weight decay).
#include <boost/serialization/access.hpp>
#include <boost/serialization/version.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "tapeflow/framework/core/variable.hpp"
#include "tapeflow/optim/schedules.hpp"

namespace boost::archive {
class binary_oarchive;
class binary_iarchive;
class text_oarchive;
class text_iarchive;
class xml_oarchive;
class xml_iarchive;
}  // namespace boost::archive

/// Declares a chainable option `name` of type `T` in an options struct that defines `Self` (the
/// PyTorch `TORCH_ARG` pattern): `opts.name(v)` sets it and returns the struct, `opts.name()`
/// reads it. Follow it with `= default_value;`.
#define TAPEFLOW_OPTIM_ARG(T, name)                  \
 public:                                             \
  Self& name(const T& new_##name) {                  \
    this->name##_ = new_##name;                      \
    return static_cast<Self&>(*this);                \
  }                                                  \
  const T& name() const noexcept { return name##_; } \
                                                     \
 private:                                            \
  T name##_

namespace tapeflow::optim {

/// The options every optimizer has (Keras `BaseOptimizer` arguments).
struct CommonOptions {
  LearningRate learning_rate;
  /// Clip each gradient to this L2 norm (`clip_by_norm`).
  std::optional<float> clipnorm;
  /// Clip each gradient element to `[-clipvalue, clipvalue]`.
  std::optional<float> clipvalue;
  /// Clip all gradients together to this global L2 norm (`clip_by_global_norm`).
  std::optional<float> global_clipnorm;
  /// Decoupled weight decay, applied before the update: `w -= lr * weight_decay * w`.
  std::optional<float> weight_decay;
};

/// Base of every optimizer's options struct: the shared options, each with a chainable setter
/// that returns the derived struct. At most one of `clipnorm`, `clipvalue` and
/// `global_clipnorm` may be set (checked when the optimizer is built).
///
/// Example: `tapeflow::optim::SGDOptions().learning_rate(0.1).global_clipnorm(1.f)`.
template <class Derived>
class OptimizerOptions {
 public:
  using Self = Derived;

  Derived& learning_rate(LearningRate v) {
    common_.learning_rate = std::move(v);
    return self();
  }
  const LearningRate& learning_rate() const { return common_.learning_rate; }
  Derived& clipnorm(float v) {
    common_.clipnorm = v;
    return self();
  }
  std::optional<float> clipnorm() const { return common_.clipnorm; }
  Derived& clipvalue(float v) {
    common_.clipvalue = v;
    return self();
  }
  std::optional<float> clipvalue() const { return common_.clipvalue; }
  Derived& global_clipnorm(float v) {
    common_.global_clipnorm = v;
    return self();
  }
  std::optional<float> global_clipnorm() const { return common_.global_clipnorm; }
  Derived& weight_decay(float v) {
    common_.weight_decay = v;
    return self();
  }
  std::optional<float> weight_decay() const { return common_.weight_decay; }

  const CommonOptions& common() const { return common_; }
  CommonOptions& common() { return common_; }

 protected:
  explicit OptimizerOptions(LearningRate default_learning_rate)
      : common_{std::move(default_learning_rate), {}, {}, {}, {}} {}

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
  CommonOptions common_;
};

/// Base of every optimizer (Keras semantics). One step, `apply_gradients(grads, vars)`:
/// 1. checks the lists (same length, each gradient shaped like its variable, no duplicates);
///    a variable whose gradient is undefined (`Variable()`) takes no part in the step;
/// 2. clips the gradients (`clipnorm`, else `global_clipnorm`, else `clipvalue`);
/// 3. applies the decoupled weight decay if set (`w -= lr * weight_decay * w`);
/// 4. updates each variable with the optimizer's rule, its slots created on first use;
/// 5. increments `iterations()`;
/// 6. replaces each updated variable's value by `constraint(value)` when it has a constraint.
/// The learning rate is `learning_rate(iterations())`: a schedule sees step 0 on the first update.
///
/// Slots (per-variable state such as Adam's `m` and `v`, named as in tf.keras) are keyed by
/// variable identity and saved by variable name. The state (iterations, hyperparameters,
/// learning rate or schedule, slots) saves to and loads from Boost.Serialization text, binary
/// and xml archives; slots loaded for a variable the optimizer has not seen yet wait until a
/// variable of that name is updated, so a fresh optimizer can be loaded before training resumes.
///
/// Example:
/// ```
/// namespace tf = tapeflow;
/// tf::Variable w(xt::zeros<float>({3}), /*trainable=*/true, "w");
/// tf::optim::Adam opt(tf::optim::AdamOptions().learning_rate(1e-2));
/// for (int i = 0; i < 100; ++i)
///   opt.minimize([&] { return tf::sum((w - 1.f) * (w - 1.f)); }, {w});
/// ```
class Optimizer {
 public:
  using SlotMap = std::map<std::string, Tensor>;

  virtual ~Optimizer();
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  /// One update of `vars` by `grads` (see the class comment). Empty lists do nothing.
  /// Errors: lists of different lengths, an undefined or repeated variable, a gradient shaped
  /// unlike its variable, every gradient undefined, a learning rate that is negative or not
  /// finite at this step, a constraint that changes the shape.
  void apply_gradients(const std::vector<Variable>& grads, const std::vector<Variable>& vars);
  /// Runs `loss_fn` under a new `GradientTape`, stores each gradient on its variable
  /// (`Variable::grad`, cleared where there is none), applies them and returns the loss.
  Variable minimize(const std::function<Variable()>& loss_fn, const std::vector<Variable>& vars);
  /// PyTorch-style step: applies the gradients stored on the variables (`Variable::grad`);
  /// variables without one are skipped.
  void step(const std::vector<Variable>& vars);
  /// Creates the slots of `vars` now (they are otherwise created on first update).
  void build(const std::vector<Variable>& vars);

  /// "SGD", "Adam", ...: the prefix of every error message.
  const std::string& name() const { return name_; }
  /// Number of updates applied so far.
  std::int64_t iterations() const { return iterations_; }
  /// The learning rate the next update will use.
  float learning_rate() const;
  /// Replaces the learning rate (a number or a schedule).
  void set_learning_rate(LearningRate lr);
  const LearningRate& learning_rate_option() const;

  /// The slot names this optimizer keeps per variable, given its options (e.g. Adam: "m", "v",
  /// plus "vhat" with amsgrad).
  virtual std::vector<std::string> slot_names() const = 0;
  /// A slot of a variable. Errors: the variable has no slots yet, or none of that name.
  const Tensor& get_slot(const Variable& var, const std::string& slot) const;
  /// The variables that have slots, in the order they were first seen.
  std::vector<Variable> variables() const;
  /// Every hyperparameter by its Keras name (booleans as 0/1; unset clipping options absent).
  std::map<std::string, double> hyperparameters() const;
  /// Optimizer-wide state beyond slots (Nadam's "u_product"), saved with the slots.
  const std::map<std::string, double>& scalar_state() const { return scalars_; }

  /// Saves the whole state (as `ar << boost::serialization::make_nvp("optimizer", *this)`).
  void save_state(boost::archive::binary_oarchive& ar) const;
  void save_state(boost::archive::text_oarchive& ar) const;
  void save_state(boost::archive::xml_oarchive& ar) const;
  /// Restores a state saved by an optimizer of the same kind, replacing the current one.
  /// Errors: the archive holds another optimizer kind or unknown or invalid hyperparameters.
  void load_state(boost::archive::binary_iarchive& ar);
  void load_state(boost::archive::text_iarchive& ar);
  void load_state(boost::archive::xml_iarchive& ar);
  /// Boost.Serialization entry point, so `ar & optimizer` works inside a larger archive
  /// (instantiated for the text, binary and xml archives).
  template <class Archive>
  void serialize(Archive& ar, unsigned version);

 protected:
  /// What an update sees: the learning rate of this step and the iteration count before it
  /// (Keras' `local_step` is `iterations + 1`).
  struct StepContext {
    double learning_rate;
    std::int64_t iterations;
    double local_step() const { return static_cast<double>(iterations + 1); }
  };

  explicit Optimizer(std::string name);

  virtual CommonOptions& common() = 0;
  virtual const CommonOptions& common() const = 0;
  /// Initial value of a slot (0 unless overridden, e.g. Adagrad's accumulator).
  virtual float slot_initial_value(const std::string& slot) const;
  /// Called once per step before the per-variable updates (Nadam's momentum-cache product).
  virtual void begin_step(const StepContext& ctx);
  /// Updates `value` in place from `grad` and the variable's `slots`.
  virtual void update_step(const Tensor& grad, Tensor& value, SlotMap& slots,
                           const StepContext& ctx) = 0;
  /// Adds the optimizer's own hyperparameters (not the common ones) to `out`.
  virtual void add_hyperparameters(std::map<std::string, double>& out) const = 0;
  /// Sets one of the optimizer's own hyperparameters; false when the name is unknown.
  virtual bool set_hyperparameter(const std::string& name, double value) = 0;
  /// Checks every option; derived classes check theirs, then call this.
  virtual void validate() const;

  std::map<std::string, double> scalars_;

  // Argument checks whose errors name the optimizer and the argument.
  void check_unit_interval(const char* arg, double v) const;  // [0, 1)
  void check_closed_unit(const char* arg, double v) const;    // [0, 1]
  void check_positive(const char* arg, double v) const;       // finite, > 0
  void check_non_negative(const char* arg, double v) const;   // finite, >= 0

 private:
  struct Entry {
    Variable var;
    SlotMap slots;
  };
  Entry& entry_for(const Variable& var, const std::string& where);
  void ensure_slots(Entry& e);
  void check_learning_rate(const LearningRate& lr) const;

  template <class Archive>
  void save(Archive& ar) const;
  template <class Archive>
  void load(Archive& ar);

  std::string name_;
  std::int64_t iterations_ = 0;
  std::vector<Entry> entries_;
  std::unordered_map<std::uint64_t, std::size_t> index_;
  // Slots restored by load_state for variables not seen since, by variable name.
  std::map<std::string, SlotMap> pending_;
};

}  // namespace tapeflow::optim

// Version 0: name, iterations, learning rate, hyperparameters, scalar state, slots by name.
BOOST_CLASS_VERSION(tapeflow::optim::Optimizer, 0)
