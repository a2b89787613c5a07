#pragma once
/// The `Layer` base every layer derives from: built on the first call from the input shape,
/// weights created by name through `add_weight`, losses, config and printing (Keras/TF1).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "tapeflow/framework/nn/config.hpp"
#include "tapeflow/framework/nn/constraints.hpp"
#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/nn/initializers.hpp"
#include "tapeflow/framework/nn/regularizers.hpp"
#include "tapeflow/framework/core/variable.hpp"

/// Declares a chainable option `name` of type `T` in an options struct (PyTorch's TORCH_ARG):
/// a setter `opts.name(v)` returning `*this`, a getter `opts.name()`, and the field `name_`,
/// which may be followed by a default: `TAPEFLOW_ARG(int, filters) = 0;`.
#define TAPEFLOW_ARG(T, name)                                  \
 public:                                                       \
  auto& name(const T& new_##name) {                            \
    this->name##_ = new_##name;                                \
    return *this;                                              \
  }                                                            \
  const T& name() const noexcept { return this->name##_; }     \
  T& name() noexcept { return this->name##_; }                 \
                                                               \
 private:                                                      \
  T name##_

namespace tapeflow::layers {

/// The options every layer takes: `name` (empty: the layer's default name), `trainable`,
/// `activity_regularizer`.
struct LayerOptions {
  std::string name;
  bool trainable = true;
  Regularizer activity_regularizer;
};

/// Chainable setters for the common options, for a layer's own options struct `D` (CRTP), so
/// that `.name("up").strides(2)` chains. `common()` gives what the `Layer` constructor takes.
///
/// Example:
/// ```
/// struct ScaleOptions : tapeflow::layers::LayerOptionsBase<ScaleOptions> {
///   TAPEFLOW_ARG(float, init) = 1.f;
/// };
/// auto o = ScaleOptions().name("s").trainable(false).init(2.f);
/// ```
template <class D>
class LayerOptionsBase {
 public:
  D& name(const std::string& v) {
    common_.name = v;
    return static_cast<D&>(*this);
  }
  const std::string& name() const { return common_.name; }
  D& trainable(bool v) {
    common_.trainable = v;
    return static_cast<D&>(*this);
  }
  bool trainable() const { return common_.trainable; }
  D& activity_regularizer(const Regularizer& v) {
    common_.activity_regularizer = v;
    return static_cast<D&>(*this);
  }
  const Regularizer& activity_regularizer() const { return common_.activity_regularizer; }
  const LayerOptions& common() const { return common_; }

 private:
  LayerOptions common_;
};

/// What a layer accepts (Keras `InputSpec`), checked by `Layer::operator()` before `build` and
/// on every call: `ndim` exact rank, `min_ndim` minimum rank, `axes` `{axis: size}` (negative
/// axes count from the end). Example: `set_input_spec({.ndim = 5, .axes = {{-1, 16}}});`
struct InputSpec {
  // Default member initializers let `InputSpec{.ndim = 5}` compile warning-free.
  std::optional<std::size_t> ndim = std::nullopt;
  std::optional<std::size_t> min_ndim = std::nullopt;
  std::map<int, std::size_t> axes = {};
};

/// Base of every layer. Not copyable or movable (weights and graph entries belong to one
/// object); share layers through `std::shared_ptr<Layer>`.
///
/// Life cycle: the constructor takes a unique name in the current default graph (which the
/// layer keeps as `graph()`) from the subclass's default base name ("conv3d_transpose" ->
/// "conv3d_transpose", "conv3d_transpose_1", ...; an explicit name is made unique the same way).
/// The first `operator()` fixes `scope_name()` (the graph's current name scope + name),
/// checks the input spec, calls `build(input_shape)`, which creates weights with `add_weight`,
/// then `call`. Each call then applies the activity regularizer, if any.
///
/// Subclass example:
/// ```
/// class Scale : public tapeflow::layers::Layer {
///  public:
///   Scale() : Layer("scale") {}
///   std::string class_name() const override { return "Scale"; }
///  protected:
///   void build(const tapeflow::Shape& s) override { w_ = add_weight("w", {s.back()}, "ones"); }
///   tapeflow::Variable call(const tapeflow::Variable& x, bool) override { return x * w_; }
///  private:
///   tapeflow::Variable w_;
/// };
/// Scale s;
/// tapeflow::Variable y = s(x);   // builds "scale/w", then multiplies
/// ```
class Layer {
 public:
  /// `default_name` is the snake_case base name used when `options.name` is empty.
  explicit Layer(const std::string& default_name, const LayerOptions& options = {});
  virtual ~Layer();
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;
  Layer(Layer&&) = delete;
  Layer& operator=(Layer&&) = delete;

  /// Builds on the first call, checks the input spec, runs `call`, then adds the activity
  /// regularizer loss `reg(y) / batch_size` (batch_size = y.shape()[0]) to `losses()`.
  /// Activity losses are those of the latest top-level call: a call not nested in another
  /// layer's call replaces the layer's previous activity losses (Keras eager behaviour), so a
  /// training loop does not accumulate stale losses. A layer called several times inside one
  /// outer call keeps one loss per call. In REGULARIZATION_LOSSES the activity losses of a
  /// layer are one entry (a callable summing them), registered at the first such call.
  Variable operator()(const Variable& x, bool training = false);

  // ---- identity --------------------------------------------------------------------------
  /// The class name used by `pretty_print` and serialization, e.g. "Conv3DTranspose".
  virtual std::string class_name() const = 0;
  /// Unique in `graph()`, fixed at construction.
  const std::string& name() const { return name_; }
  /// Prefix of the weight names ("outer/conv3d_transpose"); an Error naming the layer before
  /// the first call.
  const std::string& scope_name() const;
  /// The graph the layer lives in (the default graph when it was constructed).
  const Graph& graph() const { return graph_; }

  // ---- state -----------------------------------------------------------------------------
  bool built() const { return built_; }
  /// The shape of the first input (an Error before the first call).
  const Shape& input_shape() const;
  bool trainable() const { return trainable_; }
  /// Freezes or unfreezes the layer: updates each weight's trainable flag (weights created
  /// with `trainable=false` stay frozen) and its membership in TRAINABLE_VARIABLES.
  virtual void set_trainable(bool trainable);

  // ---- weights ---------------------------------------------------------------------------
  // The weight and loss accessors below are virtual so that containers of layers (Sequential)
  // can report their sublayers' weights through a `Layer&`.
  /// All weights, in creation order (Keras `weights`).
  virtual std::vector<Variable> variables() const;
  std::vector<Variable> weights() const { return variables(); }
  virtual std::vector<Variable> trainable_variables() const;
  virtual std::vector<Variable> non_trainable_variables() const;
  /// Weight values, in creation order (Keras `get_weights`).
  virtual std::vector<Tensor> get_weights() const;
  /// Assigns weight values in creation order; count and shapes must match (Error otherwise).
  virtual void set_weights(const std::vector<Tensor>& values);
  /// Total number of weight elements; an Error naming the layer if it is not built.
  virtual std::size_t count_params() const;

  // ---- random stream (checkpoints) -------------------------------------------------------
  /// The position of the layer's own random stream (Dropout's masks) as text; empty when the
  /// layer has none or has not drawn yet. Checkpoints save it so a resumed run draws the same
  /// masks as one that never stopped.
  virtual std::string random_state() const { return ""; }
  /// Restores a `random_state()` (empty: the stream starts afresh at the next draw). An Error
  /// naming the layer for a non-empty state on a layer without a stream.
  virtual void set_random_state(const std::string& state);

  // ---- losses ----------------------------------------------------------------------------
  /// Weight regularizer losses (evaluated now, on current values: recorded on active tapes)
  /// in weight creation order, then the activity losses of the latest call.
  virtual std::vector<Variable> losses() const;

  // ---- description -----------------------------------------------------------------------
  /// `name`, `trainable`, `activity_regularizer` (when set, as its repr) plus the subclass
  /// keys (override, call the base, add keys).
  virtual Config get_config() const;
  /// PyTorch-style: `ClassName(extra_repr())`, e.g.
  /// `Conv3DTranspose(filters=8, kernel_size=(3, 3, 3), strides=(2, 2, 2), padding=same)`.
  virtual void pretty_print(std::ostream& os) const;
  std::string pretty_print() const;

 protected:
  /// Creates the weights from the input shape; called once, by the first `operator()`.
  virtual void build(const Shape& input_shape);
  /// The forward computation.
  virtual Variable call(const Variable& x, bool training) = 0;
  /// The text inside the parentheses of `pretty_print` (empty by default).
  virtual std::string extra_repr() const { return ""; }

  /// Creates a weight `<scope_name>/<name>` with `initializer(shape)` (which must return
  /// exactly `shape`: an Error naming the layer, the weight and both shapes otherwise),
  /// registered in GLOBAL_VARIABLES and, if `trainable && this->trainable()`, in
  /// TRAINABLE_VARIABLES. A regularizer's loss is registered once, now, as a callable in
  /// `losses()` and REGULARIZATION_LOSSES. A constraint is stored on the variable for the
  /// optimizer (not applied now). Only during `build` (an Error otherwise) or after it.
  Variable add_weight(const std::string& name, const Shape& shape,
                      const Initializer& initializer = "glorot_uniform",
                      const Regularizer& regularizer = {}, const Constraint& constraint = {},
                      bool trainable = true);

  /// Checked by `operator()` on every call (empty: anything goes).
  void set_input_spec(const InputSpec& spec) { input_spec_ = spec; }
  const InputSpec& input_spec() const { return input_spec_; }
  /// Helper for `call`: an Error naming the layer unless `shape` has the rank of the built
  /// input shape and the same size along `channel_axis` (negative counts from the end), e.g.
  /// "conv3d_transpose: input has 3 channels (axis -1) but the layer was built for 4: shape
  /// (1, 4, 4, 4, 3) vs (1, 4, 4, 4, 4)".
  void check_input_compatible(const Shape& shape, int channel_axis = -1) const;

  const Regularizer& activity_regularizer() const { return activity_regularizer_; }
  /// True while `build` runs from the first `operator()` (lets a public `build` override tell
  /// that call from a user's).
  bool building() const { return building_; }

 private:
  struct WeightEntry {
    Variable var;
    bool trainable;  // as requested at creation; effective = trainable && layer trainable
  };
  void check_spec(const Shape& shape) const;
  void rollback_build();

  Graph graph_;
  std::string name_;
  std::string scope_name_;
  bool built_ = false;
  bool building_ = false;
  bool trainable_ = true;
  Shape input_shape_;
  InputSpec input_spec_;
  Regularizer activity_regularizer_;
  std::vector<WeightEntry> weights_;
  std::vector<LossFn> weight_losses_;
  // shared with the REGULARIZATION_LOSSES entry, which must not point into the layer
  std::shared_ptr<std::vector<Variable>> activity_losses_;
  std::uint64_t activity_epoch_ = 0;
  bool activity_registered_ = false;
  // graph entries made while building, undone if build throws
  std::vector<std::pair<std::string, Graph::EntryId>> build_entries_;
};

/// `layer.pretty_print(os)`.
std::ostream& operator<<(std::ostream& os, const Layer& layer);

}  // namespace tapeflow::layers
