#pragma once
/// The `Optimizer` base, `OptimizerWithOptions` (which every optimizer derives from: its options'
/// field list gives its config, hyperparameters and archived options), and the options every
/// optimizer shares (learning rate, gradient clipping, decoupled weight decay).
#include <boost/serialization/access.hpp>
#include <boost/serialization/version.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "tapeflow/framework/core/variable.hpp"
#include "tapeflow/framework/nn/fields.hpp"
#include "tapeflow/optim/schedules.hpp"

namespace boost::archive {
class binary_oarchive;
class binary_iarchive;
class text_oarchive;
class text_iarchive;
class xml_oarchive;
class xml_iarchive;
}  // namespace boost::archive

namespace tapeflow::optim {

/// The options every optimizer has (Keras `BaseOptimizer` arguments), one line each:
/// - `learning_rate`: a number or a schedule; 0.001 unless the optimizer's options say otherwise;
/// - `weight_decay`: decoupled weight decay, applied before the update: `w -= w * wd * lr`
///   (Keras 3's `BaseOptimizer`, for every optimizer);
/// - `clipnorm`: clip each gradient to this L2 norm (`clip_by_norm`);
/// - `global_clipnorm`: clip all gradients together to this global L2 norm
///   (`clip_by_global_norm`);
/// - `clipvalue`: clip each gradient element to `[-clipvalue, clipvalue]`.
#define TAPEFLOW_OPTIMIZER_FIELDS(F)                     \
  F(LearningRate, learning_rate, 0.001f)                 \
  F(std::optional<float>, weight_decay, std::nullopt)    \
  F(std::optional<float>, clipnorm, std::nullopt)        \
  F(std::optional<float>, global_clipnorm, std::nullopt) \
  F(std::optional<float>, clipvalue, std::nullopt)

/// The shared options as a plain struct: what the `Optimizer` base reads, whatever the
/// optimizer. Options structs derive from it through `OptimizerOptions`.
/// Example: `AdamOptions o = AdamOptions().clipnorm(1.f); const CommonOptions& c = o;`
struct CommonOptions {
  TAPEFLOW_FIELDS(CommonOptions, TAPEFLOW_OPTIMIZER_FIELDS)
};

/// Base of every optimizer's options struct: the shared options, each with a chainable setter
/// that returns the derived struct. At most one of `clipnorm`, `clipvalue` and
/// `global_clipnorm` may be set (checked when the optimizer is built); `std::nullopt` unsets one.
/// An optimizer's own options follow with `TAPEFLOW_DERIVED_FIELDS`, after the shared ones.
///
/// Example:
/// ```
/// #define MY_FIELDS(F) F(double, scale, 1.0)
/// struct MyOptions : tapeflow::optim::OptimizerOptions<MyOptions> {
///   TAPEFLOW_DERIVED_FIELDS(MyOptions, OptimizerOptions, MY_FIELDS)
/// };
/// auto o = MyOptions().learning_rate(0.1).global_clipnorm(1.f).scale(2.0);
/// ```
template <class Derived>
class OptimizerOptions : public CommonOptions {
 public:
  TAPEFLOW_CHAIN_FIELDS(Derived, CommonOptions, TAPEFLOW_OPTIMIZER_FIELDS)

  const CommonOptions& common() const { return *this; }
  CommonOptions& common() { return *this; }

 protected:
  OptimizerOptions() = default;
};

/// Base of every optimizer (Keras 3 semantics: `BaseOptimizer.apply`, and each optimizer's
/// `update_step` is Keras 3's). One step, `apply_gradients(grads, vars)`:
/// 1. checks the lists (same length, each gradient shaped like its variable, no duplicates);
///    a variable whose gradient is undefined (`Variable()`) takes no part in the step;
/// 2. clips the gradients (`clipnorm`, else `global_clipnorm`, else `clipvalue`);
/// 3. applies the decoupled weight decay if set (`w -= w * weight_decay * lr`);
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
/// The options also read and write as a `Config` (`get_config`, `set_config`).
///
/// An optimizer derives from `OptimizerWithOptions<ItsOptions>` (see there).
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
  /// Every option but the learning rate by its Keras name, as the state archive stores them
  /// (booleans as 0/1; unset clipping options and weight decay absent).
  virtual std::map<std::string, double> hyperparameters() const = 0;
  /// Every option by its Keras name (`config_write` text; a schedule as its repr, unset
  /// options "None"), e.g. Adam: `{"amsgrad": "false", "beta_1": "0.9", ...}`.
  virtual Config get_config() const = 0;
  /// Replaces the options by `config`'s, the missing keys by their defaults (Keras'
  /// `from_config`, in place). Errors (the options stay as they were): a key that is no option
  /// (naming it), a malformed value (naming the key and the value), an invalid option.
  virtual void set_config(const Config& config) = 0;
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
  /// Checks every option; derived classes call this, then check theirs.
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
  /// Replaces the options by an archive's learning rate and `hyperparameters()`, checked; on an
  /// error (`where`: the prefix) the options stay as they were.
  virtual void restore_options(const std::string& where, const LearningRate& lr,
                               const std::map<std::string, double>& hyperparameters) = 0;

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

/// Stores each gradient on its variable (`Variable::grad`), clearing it where the gradient is
/// undefined: what `minimize` leaves for inspection.
void store_gradients(const std::vector<Variable>& vars, const std::vector<Variable>& grads);

namespace detail {
// The state archive stores every option but the learning rate (saved on its own) as a double:
// booleans as 0/1, an unset optional as no entry.
template <class T>
inline constexpr bool is_hyperparameter_v = !std::is_same_v<T, LearningRate>;

template <class T>
std::optional<double> to_hyperparameter(const T& v) {
  if constexpr (tapeflow::detail::is_optional_v<T>) {
    return v ? to_hyperparameter(*v) : std::nullopt;
  } else {
    static_assert(std::is_arithmetic_v<T>, "a hyperparameter is a number, a bool or an optional");
    return std::is_same_v<T, bool> ? (v ? 1.0 : 0.0) : static_cast<double>(v);
  }
}

template <class T>
void from_hyperparameter(double h, T& out) {
  if constexpr (tapeflow::detail::is_optional_v<T>) {
    typename T::value_type v{};
    from_hyperparameter(h, v);
    out = v;
  } else if constexpr (std::is_same_v<T, bool>) {
    out = h != 0.0;
  } else {
    out = static_cast<T>(h);
  }
}
}  // namespace detail

/// The base an optimizer derives from: it owns the optimizer's `Options` (a struct deriving from
/// `OptimizerOptions<Options>`) and derives from their one field list what every optimizer
/// does alike: `options()`, `hyperparameters()`, `get_config()`, `set_config()` and restoring
/// the options from an archive. An optimizer adds its slots, its update rule and the checks of
/// its options (`validate`, called by its constructor: a base cannot call it).
///
/// Example, a sign-SGD with one option:
/// ```
/// #define SIGN_SGD_FIELDS(F) F(double, scale, 1.0)
/// struct SignSGDOptions : tapeflow::optim::OptimizerOptions<SignSGDOptions> {
///   TAPEFLOW_DERIVED_FIELDS(SignSGDOptions, OptimizerOptions, SIGN_SGD_FIELDS)
/// };
/// class SignSGD : public tapeflow::optim::OptimizerWithOptions<SignSGDOptions> {
///  public:
///   explicit SignSGD(SignSGDOptions o = {}) : OptimizerWithOptions("SignSGD", std::move(o)) {
///     validate();
///   }
///   std::vector<std::string> slot_names() const override { return {}; }
///
///  protected:
///   void validate() const override {
///     Optimizer::validate();
///     check_positive("scale", options().scale());
///   }
///   void update_step(const tapeflow::Tensor& g, tapeflow::Tensor& w, SlotMap&,
///                    const StepContext& ctx) override {
///     w -= static_cast<float>(ctx.learning_rate * options().scale()) * xt::sign(g);
///   }
/// };
/// ```
template <class Options>
class OptimizerWithOptions : public Optimizer {
 public:
  const Options& options() const { return options_; }

  std::map<std::string, double> hyperparameters() const final {
    std::map<std::string, double> out;
    FieldAccess::visit(options_, [&](const char* name, const auto& field) {
      if constexpr (detail::is_hyperparameter_v<std::decay_t<decltype(field)>>)
        if (auto h = detail::to_hyperparameter(field)) out[name] = *h;
    });
    return out;
  }
  Config get_config() const final { return fields_to_config(options_); }
  void set_config(const Config& config) final {
    replace_options([&](Options& o) { o = fields_from_config<Options>(name(), config); });
  }

 protected:
  OptimizerWithOptions(std::string name, Options options)
      : Optimizer(std::move(name)), options_(std::move(options)) {}

 private:
  CommonOptions& common() final { return options_; }
  const CommonOptions& common() const final { return options_; }

  void restore_options(const std::string& where, const LearningRate& lr,
                       const std::map<std::string, double>& hyperparameters) final {
    replace_options([&](Options& o) {
      o.learning_rate(lr);
      for (const auto& kv : hyperparameters) {
        auto unknown = [&] {
          fail(where, "unknown hyperparameter '" + kv.first + "' in the archive");
        };
        bool known = with_field(o, kv.first, [&](auto& field) {
          if constexpr (detail::is_hyperparameter_v<std::decay_t<decltype(field)>>)
            detail::from_hyperparameter(kv.second, field);
          else
            unknown();  // the learning rate is no hyperparameter
        });
        if (!known) unknown();
      }
      // An optional the archive leaves out was unset when saved (`hyperparameters()`).
      FieldAccess::visit(o, [&](const char* name, auto& field) {
        if constexpr (tapeflow::detail::is_optional_v<std::decay_t<decltype(field)>>)
          if (!hyperparameters.count(name)) field.reset();
      });
    });
  }

  // Applies `change` to the options and checks them; on an error they stay as they were.
  template <class Change>
  void replace_options(Change&& change) {
    Options saved = options_;
    try {
      change(options_);
      validate();
    } catch (...) {
      options_ = std::move(saved);
      throw;
    }
  }

  Options options_;
};

}  // namespace tapeflow::optim

// Version 0: name, iterations, learning rate, hyperparameters, scalar state, slots by name.
BOOST_CLASS_VERSION(tapeflow::optim::Optimizer, 0)
