#pragma once
/// The `Layer` base every layer derives from: built on the first call from the input shape,
/// weights created by name through `add_weight`, losses, config and printing (Keras/TF1). Also
/// what layer options are made of: the common options, the value types of per-axis and axis
/// arguments, and `LayerWith`, the base of a layer whose options struct declares its fields once
/// (framework/nn/fields.hpp), so that its config, its printed form and its rebuilding from a
/// saved config all follow from that one list.
#include <array>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tapeflow/framework/core/variable.hpp"
#include "tapeflow/framework/nn/config.hpp"
#include "tapeflow/framework/nn/constraints.hpp"
#include "tapeflow/framework/nn/fields.hpp"
#include "tapeflow/framework/nn/graph.hpp"
#include "tapeflow/framework/nn/initializers.hpp"
#include "tapeflow/framework/nn/regularizers.hpp"
#include "tapeflow/layers/symbolic_tensor.hpp"

namespace tapeflow::layers {

// ---- Value types of layer options ----------------------------------------------------------
// Each has its config text (`config_write` / `config_read`, found by argument-dependent lookup
// from framework/nn/fields.hpp) and converts from every form Keras accepts, so that one
// generated setter takes them all.

/// One value for every spatial axis, or one per axis (Keras' "an integer or a tuple":
/// `kernel_size`, `strides`, `pool_size`, ...). The layer checks the count and stores one value
/// per axis. Config text: a tuple, "(2, 2)" ("(3,)" for one value), as any vector of numbers.
///
/// Example: `Conv2DOptions(8, 3).strides(2)`, `Conv2DOptions(8, {3, 1}).strides({2, 1})`
class PerAxis : public std::vector<long> {
 public:
  PerAxis() = default;
  PerAxis(long v) : std::vector<long>{v} {}  // NOLINT(google-explicit-constructor): Keras' int
  PerAxis(std::initializer_list<long> v) : std::vector<long>(v) {}
  PerAxis(std::vector<long> v) : std::vector<long>(std::move(v)) {}  // NOLINT
  /// A layer's per-axis values, as it writes them back into its options.
  template <std::size_t N>
  PerAxis(const std::array<long, N>& v) : std::vector<long>(v.begin(), v.end()) {}  // NOLINT
};

/// A `PerAxis` or None (Keras' default `None`: the layer decides, e.g. pooling strides = the
/// pool size). Converts from every form `PerAxis` does, and from `std::nullopt`. Config text:
/// "None" or a tuple, as any `std::optional`.
///
/// Example: `MaxPooling2DOptions(3).strides(2)`, `.output_padding({1, 0})`
class OptionalPerAxis : public std::optional<PerAxis> {
 public:
  using std::optional<PerAxis>::optional;
  OptionalPerAxis(long v) : std::optional<PerAxis>(PerAxis(v)) {}  // NOLINT
  OptionalPerAxis(std::initializer_list<long> v) : std::optional<PerAxis>(PerAxis(v)) {}
};

/// Input axes, one or several (negative counts from the end): the normalization layers' `axis`.
/// Config text as Keras writes it: "-1" for one axis, "(1, 2)" for several.
///
/// Example: `BatchNormalizationOptions().axis(1)`, `LayerNormalizationOptions().axis({1, 2})`
class AxisList : public std::vector<int> {
 public:
  AxisList() = default;
  AxisList(int a) : std::vector<int>{a} {}  // NOLINT(google-explicit-constructor): Keras' int
  AxisList(std::initializer_list<int> a) : std::vector<int>(a) {}
  AxisList(std::vector<int> a) : std::vector<int>(std::move(a)) {}  // NOLINT
};
std::string config_write(const AxisList& axes);
/// An integer or a list; a malformed value is a ValueError naming `where`, `key` and `text`.
void config_read(const std::string& where, const std::string& key, const std::string& text,
                 AxisList& out);

/// A list whose Keras default is `None`: empty means None, and an entry -1 means None (a size
/// taken from the input): Dropout's `noise_shape`, PReLU's `shared_axes`. Config text: "None",
/// "(None, 1)", "(1, 2)", "(3,)".
///
/// Example: `DropoutOptions(0.5f).noise_shape({-1, 1, -1})`
template <class T>
class NoneableList : public std::vector<T> {
 public:
  using std::vector<T>::vector;
  NoneableList() = default;
  NoneableList(std::vector<T> v) : std::vector<T>(std::move(v)) {}  // NOLINT
};

template <class T>
std::string config_write(const NoneableList<T>& list) {
  if (list.empty()) return "None";
  std::vector<std::string> items;
  for (T v : list) items.push_back(v == T(-1) ? std::string("None") : std::to_string(v));
  return shape_str(items);
}

/// "None" or a list of numbers and Nones; a malformed value is a ValueError naming `where`,
/// `key` and `text`.
template <class T>
void config_read(const std::string& where, const std::string& key, const std::string& text,
                 NoneableList<T>& out) {
  NoneableList<T> list;
  if (text != "None") {
    for (const std::string& item : tapeflow::detail::split_config_list(where, key, text)) {
      T v = T(-1);
      try {
        if (item != "None") tapeflow::config_read(where, key, item, v);
      } catch (const ValueError&) {
        // The message shows the whole list, not just the item that failed.
        tapeflow::detail::bad_config_value(where, key, text, "None or a list like (1, None)");
      }
      list.push_back(v);
    }
  }
  out = std::move(list);
}

// ---- The common options --------------------------------------------------------------------

/// The options every layer takes, declared once (framework/nn/fields.hpp): `name` (empty: the
/// layer's default name; either is made unique in the graph), `trainable` (true),
/// `activity_regularizer` (none).
#define TAPEFLOW_LAYER_FIELDS(F) \
  F(std::string, name, "")       \
  F(bool, trainable, true)       \
  F(Regularizer, activity_regularizer, {})

/// The options of a layer with a kernel and a bias (Dense, the convolutions), Keras names and
/// defaults: `use_bias` (true), `kernel_initializer` ("glorot_uniform"), `bias_initializer`
/// ("zeros"), `kernel_regularizer`, `bias_regularizer`, `kernel_constraint`, `bias_constraint`
/// (none).
#define TAPEFLOW_KERNEL_BIAS_FIELDS(F)                 \
  F(bool, use_bias, true)                              \
  F(Initializer, kernel_initializer, "glorot_uniform") \
  F(Initializer, bias_initializer, "zeros")            \
  F(Regularizer, kernel_regularizer, {})               \
  F(Regularizer, bias_regularizer, {})                 \
  F(Constraint, kernel_constraint, {})                 \
  F(Constraint, bias_constraint, {})

/// The common options as a plain struct: what the `Layer` constructor takes.
/// Example: `Layer("scale", LayerOptions().name("s").trainable(false))` in a subclass.
struct LayerOptions {
  TAPEFLOW_FIELDS(LayerOptions, TAPEFLOW_LAYER_FIELDS)
};

/// Base of a layer's options struct `D` (CRTP): the common options, with setters returning `D`
/// so that `.name("up").strides(2)` chains. The layer's own fields follow, declared once with
/// `TAPEFLOW_DERIVED_FIELDS` (framework/nn/fields.hpp), after the common ones. `common()` gives
/// what the `Layer` constructor takes. An optional `static constexpr PrintedFields printed`
/// says what `pretty_print` shows (see `LayerWith`).
///
/// Example:
/// ```
/// #define SCALE_FIELDS(F) F(float, init, 1.f) F(bool, use_offset, false)
/// struct ScaleOptions : tapeflow::layers::LayerOptionsBase<ScaleOptions> {
///   TAPEFLOW_DERIVED_FIELDS(ScaleOptions, LayerOptionsBase, SCALE_FIELDS)
///   static constexpr tapeflow::layers::PrintedFields printed{"init", "use_offset"};
/// };
/// auto o = ScaleOptions().name("s").trainable(false).init(2.f);
/// ```
template <class D>
class LayerOptionsBase : public LayerOptions {
 public:
  TAPEFLOW_CHAIN_FIELDS(D, LayerOptions, TAPEFLOW_LAYER_FIELDS)
  const LayerOptions& common() const { return *this; }
};

/// The `data_format` option ("channels_last", or "channels_first", any case).
#define TAPEFLOW_DATA_FORMAT_FIELDS(F) F(std::string, data_format, "channels_last")

class Layer;

namespace detail {

/// Hands `layer` to its graph (`Graph::keep_alive`): the graph keeps it alive and frees it with
/// itself, and the layer no longer keeps the graph alive. What TF1's functional forms
/// (`conv3d_transpose(inputs, ...)`) do with the layers they make.
void give_to_graph(const std::shared_ptr<Layer>& layer);

/// Base of the options of a layer over `N` spatial axes that has `data_format` only for N > 1,
/// as Keras (ZeroPadding, Cropping, UpSampling): `LayerOptionsBase<D>` with that field after
/// the common ones. A 1-D layer is always channels_last: a getter, no option (nor config key).
/// Example: `template <std::size_t N> struct XOptions : SpatialOptionsBase<XOptions<N>, N> {...};`
template <class D, std::size_t N>
struct SpatialOptionsBase : LayerOptionsBase<D> {
  TAPEFLOW_DERIVED_FIELDS(D, LayerOptionsBase<D>, TAPEFLOW_DATA_FORMAT_FIELDS)
};
template <class D>
struct SpatialOptionsBase<D, 1> : LayerOptionsBase<D> {
  const std::string& data_format() const {
    static const std::string channels_last = "channels_last";
    return channels_last;
  }
};

}  // namespace detail

/// What a layer's printed form (`pretty_print`) shows of its options, in order: the fields
/// named in `always`, then those named in `if_changed` whose value differs from the default,
/// each as `name=<config text>`. Names are separated by ", ".
///
/// Example (Dense): `PrintedFields{"units, activation", "use_bias"}` prints
/// "Dense(units=4, activation=relu)", and "Dense(units=4, activation=relu, use_bias=false)"
/// without bias.
struct PrintedFields {
  std::string_view always;
  std::string_view if_changed = {};
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
/// then `call`. Each call then applies the activity regularizer, if any. The destructor takes
/// out of the graph's collections everything the layer put there (its variables in
/// GLOBAL_VARIABLES and TRAINABLE_VARIABLES, its weight and activity regularization losses,
/// the entries registered with `track_graph_entry`) and releases its name: a dead model adds
/// nothing to a later `get_regularization_loss()`, and a model reloaded later takes its saved
/// layer names again (see `detail::KeepNames`).
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
class Layer : public std::enable_shared_from_this<Layer> {
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

  // ---- masking (Keras `mask`, layers/masking.hpp) ----------------------------------------
  /// The same call with a mask of the input's leading axes (Keras' `layer(x, mask=m)`): for a
  /// sequence (batch, time, ...), a (batch, time) tensor whose nonzero entries mark the steps
  /// that count. A layer that supports masking (`supports_masking`) receives it in
  /// `call_masked`; any other runs `call` and ignores it, as Keras. An Error naming the layer
  /// for a mask whose shape is not a prefix of the input's.
  Variable masked_call(const Variable& x, const Tensor& mask, bool training = false);
  /// Whether `call_masked` uses the mask (Keras `supports_masking`; false by default).
  virtual bool supports_masking() const { return false; }
  /// The mask of the output given the input and its mask (Keras `compute_mask`), none when
  /// `mask` is none: by default the input's mask for a layer that supports masking (it keeps
  /// the leading axes), none for another. A layer that makes a mask (`Masking`) or consumes the
  /// time axis (an RNN without `return_sequences`) overrides it.
  virtual std::optional<Tensor> compute_mask(const Variable& x,
                                             const std::optional<Tensor>& mask) const;

  // ---- functional API (layers/symbolic_tensor.hpp, layers/model.hpp) ---------------------
  /// Calls the layer on symbolic tensors (`Input(...)` or another layer's symbolic output):
  /// builds it on an example of the inputs (zeros, the batch axis 1 unless the input fixes it;
  /// unrecorded, in inference mode), so that a layer that cannot take them fails now, naming
  /// itself and the shapes, and records a node that a `Model` runs. The node keeps the layer:
  /// shared when the layer is owned by a `std::shared_ptr`; a temporary
  /// (`Dense(DenseOptions(4))(x)`) is replaced by a twin rebuilt from its config (same name;
  /// its class must be registered, layers/registry.hpp); otherwise the caller keeps the layer
  /// alive, and a model that runs it after its end fails with an Error naming it.
  /// Calling a layer twice shares its weights between the two nodes.
  /// Example: `auto h = dense(inputs); auto y = Concatenate()({h, inputs});`
  SymbolicTensor operator()(const SymbolicTensor& x) &;
  SymbolicTensor operator()(const SymbolicTensor& x) &&;
  SymbolicTensor operator()(const std::vector<SymbolicTensor>& inputs) &;
  SymbolicTensor operator()(const std::vector<SymbolicTensor>& inputs) &&;
  /// The same for a layer with several outputs (a nested multi-output model): one symbolic
  /// tensor per output. The single forms above are an Error naming the layer for such a layer.
  std::vector<SymbolicTensor> call_symbolic(const std::vector<SymbolicTensor>& inputs) &;
  std::vector<SymbolicTensor> call_symbolic(const std::vector<SymbolicTensor>& inputs) &&;

  /// Eager call on a list of inputs, one output per entry: what a `Model` runs for each node.
  /// One input calls `operator()(x, training)`; a merge layer or a model overrides this to
  /// take several (an Error naming the layer for a count it does not take).
  virtual std::vector<Variable> call_on_list(const std::vector<Variable>& inputs, bool training);

  // ---- identity --------------------------------------------------------------------------
  /// The class name used by `pretty_print` and serialization, e.g. "Conv3DTranspose".
  virtual std::string class_name() const = 0;
  /// Unique in `graph()`, fixed at construction.
  const std::string& name() const { return name_; }
  /// Prefix of the weight names ("outer/conv3d_transpose"); an Error naming the layer before
  /// the first call.
  const std::string& scope_name() const;
  /// The graph the layer lives in (the default graph when it was constructed). For a layer
  /// owned by its graph (`detail::give_to_graph`, the TF1 functional forms) the handle does not
  /// keep the graph alive.
  const Graph& graph() const { return graph_; }

  // ---- state -----------------------------------------------------------------------------
  bool built() const { return built_; }
  /// The shape of the first input (an Error before the first call).
  const Shape& input_shape() const;
  bool trainable() const { return trainable_; }
  /// Freezes or unfreezes the layer and every sublayer (Keras `layer.trainable = False`):
  /// updates each weight's trainable flag (weights created with `trainable=false` stay frozen)
  /// and its membership in TRAINABLE_VARIABLES.
  virtual void set_trainable(bool trainable);

  // ---- sublayers -------------------------------------------------------------------------
  /// The layers this one holds (`register_sublayer`, a model's layers), in registration order.
  /// An Error naming both if one of them was destroyed while this layer still uses it.
  std::vector<Layer*> sublayers() const;

  // ---- weights ---------------------------------------------------------------------------
  // The accessors below cover the layer's own weights, then those of its sublayers (each
  // variable once, however many times a layer is shared). They are virtual so that a model can
  // add its checks.
  /// All weights: the layer's own in creation order, then each sublayer's (Keras `weights`).
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
  /// in weight creation order, then the sublayers' losses, then the activity losses of the
  /// latest call.
  virtual std::vector<Variable> losses() const;

  // ---- description -----------------------------------------------------------------------
  /// The common options (`TAPEFLOW_LAYER_FIELDS`) as config text: `name`, `trainable` and, when
  /// set (as Keras), `activity_regularizer`. `LayerWith` adds the layer's own fields; a layer
  /// written without it overrides this, calls the base and adds its keys.
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
  /// The forward computation with the input's mask (`masked_call`), for a layer that supports
  /// masking; by default `call`, without the mask.
  virtual Variable call_masked(const Variable& x, const Tensor& mask, bool training);
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

  /// Makes `layer` part of this one (PyTorch `register_module`; Keras tracks attributes): its
  /// weights, losses and parameter count join this layer's, `set_trainable` reaches it, and
  /// when this layer is first called its sublayers are built under its name scope, so their
  /// weights are named `<this layer>/<sublayer>/<weight>` (`res_block/conv3d/kernel`). Saving
  /// such a layer saves all these weights; loading rebuilds the sublayers through this layer's
  /// constructor. A layer given by reference must live as long as this one (a member).
  /// Call it in the constructor. An Error for a null layer, this layer, or one registered twice.
  /// Example: `conv_ = register_sublayer(std::make_shared<Conv3D>(Conv3DOptions(8, 3)));`
  template <class L>
  std::shared_ptr<L> register_sublayer(std::shared_ptr<L> layer) {
    if (!layer) fail(name(), "register_sublayer: the layer is null");
    add_sublayer(detail::LayerRef::shared(layer), layer.get());
    return layer;
  }
  template <class L>
  L& register_sublayer(L& layer) {
    add_sublayer(detail::LayerRef::borrowed(layer), &layer);
    return layer;
  }
  /// For models: replaces the sublayers (their layers, in order) and marks the layer built with
  /// `input_shape`, which is what `input_shape()` and saving report.
  void set_model_layers(std::vector<detail::LayerRef> layers);
  void mark_built(const Shape& input_shape);
  /// Whether a first call runs under this layer's name scope when it has sublayers (true; a
  /// model's layers keep their own names, as in Keras).
  void set_scopes_sublayers(bool scopes) { scopes_sublayers_ = scopes; }

  /// Checked by `operator()` on every call (empty: anything goes).
  void set_input_spec(const InputSpec& spec) { input_spec_ = spec; }
  const InputSpec& input_spec() const { return input_spec_; }
  /// Helper for `call`: an Error naming the layer unless `shape` has the rank of the built
  /// input shape and the same size along `channel_axis` (negative counts from the end), e.g.
  /// "conv3d_transpose: input has 3 channels (axis -1) but the layer was built for 4: shape
  /// (1, 4, 4, 4, 3) vs (1, 4, 4, 4, 4)".
  void check_input_compatible(const Shape& shape, int channel_axis = -1) const;

  /// Marks a collection entry that this layer added to `graph()` itself (say in `build`) as
  /// its own: the destructor removes it with the rest. Example (BatchNormalization):
  /// `track_graph_entry(GraphKeys::UPDATE_OPS, g.add_to_collection(GraphKeys::UPDATE_OPS, fn));`
  void track_graph_entry(const std::string& key, Graph::EntryId id);

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
  // operator() and masked_call: `mask` null for a call without one.
  Variable run(const Variable& x, const Tensor* mask, bool training);
  void rollback_build();
  void add_sublayer(detail::LayerRef ref, const Layer* layer);
  std::shared_ptr<Layer> twin_for_node() const;
  friend struct detail::LayerRef;
  friend void detail::give_to_graph(const std::shared_ptr<Layer>& layer);

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
  // every callable entry the layer made (losses, update ops), removed by the destructor
  std::vector<std::pair<std::string, Graph::EntryId>> graph_entries_;
  // set when the graph owns the layer (give_to_graph): graph_ then does not keep the graph
  // alive, and this expires with it
  std::optional<std::weak_ptr<const void>> graph_lifetime_;
  std::vector<detail::LayerRef> sublayers_;
  bool scopes_sublayers_ = true;
  // Expires with the layer: what tells a node or a parent holding this layer by reference that
  // it is gone (detail::LayerRef).
  std::shared_ptr<const char> lifetime_ = std::make_shared<const char>('\0');
};

/// `layer.pretty_print(os)`.
std::ostream& operator<<(std::ostream& os, const Layer& layer);

namespace detail {

/// While alive, a rebuilt layer keeps its saved name: what rebuilding a saved model or a config
/// uses, so that a composite layer's sublayers, made by its constructor, do not take the saved
/// names of layers made after it. The constructor reserves each name of `names` free in the
/// default graph; before creating a layer, the rebuild calls `next(saved_name)`, and the next
/// layer constructed on this thread takes that name if it asks for it (its config's name) and
/// it was reserved here. A name already in use when reserving is left out: its layer gets a new
/// unique name, as any layer would.
/// Example:
/// ```
/// KeepNames keep({"dense", "res_block"});
/// KeepNames::next("res_block");
/// auto block = create_layer("ResBlock", block_config);   // "res_block"; its Dense: "dense_1"
/// KeepNames::next("dense");
/// auto dense = create_layer("Dense", dense_config);      // "dense"
/// ```
class KeepNames {
 public:
  explicit KeepNames(const std::vector<std::string>& names);
  /// For a name the caller has already reserved (a temporary layer's twin takes its name).
  static KeepNames already_reserved(const std::string& name);
  ~KeepNames();
  KeepNames(const KeepNames&) = delete;
  KeepNames& operator=(const KeepNames&) = delete;
  /// The name the next layer constructed on this thread may take (none without a KeepNames).
  static void next(const std::string& name);

 private:
  KeepNames(std::vector<std::string> reserved, const std::string& next);
  std::vector<std::string> reserved_;
  std::string next_;
  KeepNames* outer_;
  friend class tapeflow::layers::Layer;
};

/// The printed form of options whose config is `now` (a struct with the defaults: `defaults`),
/// as `PrintedFields` describes. A name that is no key of `now` is a ValueError naming `where`.
std::string printed_fields(const std::string& where, const PrintedFields& printed,
                           const Config& now, const Config& defaults);
/// `common` (a layer's common keys, `Layer::get_config`) plus the entries of `options` that are
/// not common options: the options' own copies of those are the layer's given, not its actual,
/// name and flags.
Config with_own_fields(Config common, const Config& options);
}  // namespace detail

/// Base of a layer whose options struct `O` declares its fields once (`LayerOptionsBase`,
/// framework/nn/fields.hpp). It keeps the options, which the layer's constructor normalizes in
/// place (kernel_size 3 -> (3, 3), "SAME" -> "same", ...) so that they describe the layer
/// exactly, and derives from the field list:
/// - `get_config()`: the common keys (the layer's actual name and trainable flag) plus every
///   field of `O` as config text;
/// - `extra_repr()`: the fields named by `O::printed` (a `PrintedFields`; nothing without one);
/// - the rebuilding from a config: `TAPEFLOW_REGISTER_LAYER(Class)` (layers/registry.hpp) reads
///   an `O` with `options_from_config` and constructs `Class(options)`.
/// `Base` is `Layer` or an intermediate base (`Merge`) constructed from
/// `(default_name, options.common())`; another base gets its own arguments through the
/// `std::in_place` constructor.
///
/// Example:
/// ```
/// #define SCALE_FIELDS(F) F(float, factor, 1.f) F(bool, use_offset, false)
/// struct ScaleOptions : tapeflow::layers::LayerOptionsBase<ScaleOptions> {
///   TAPEFLOW_DERIVED_FIELDS(ScaleOptions, LayerOptionsBase, SCALE_FIELDS)
///   static constexpr tapeflow::layers::PrintedFields printed{"factor", "use_offset"};
/// };
/// class Scale : public tapeflow::layers::LayerWith<ScaleOptions> {
///  public:
///   explicit Scale(const ScaleOptions& o = {}) : LayerWith("scale", o) {}
///   std::string class_name() const override { return "Scale"; }
///  protected:
///   tapeflow::Variable call(const tapeflow::Variable& x, bool) override {
///     return x * options().factor();
///   }
/// };
/// Scale s(ScaleOptions().factor(2.f));
/// s.get_config();    // {factor: 2, name: scale, trainable: true, use_offset: false}
/// s.pretty_print();  // "Scale(factor=2)"
/// ```
template <class O, class Base = Layer>
class LayerWith : public Base {
 public:
  using Options = O;
  /// The options as the layer uses them (normalized by its constructor).
  const O& options() const { return options_; }
  /// The common keys plus every field of the options.
  Config get_config() const override {
    return detail::with_own_fields(Layer::get_config(), fields_to_config(options_));
  }

 protected:
  /// Constructs `Base(default_name, options.common())`.
  LayerWith(const std::string& default_name, const O& options)
      : Base(default_name, options.common()), options_(options) {}
  /// Constructs `Base(base_args...)`.
  template <class... BaseArgs>
  LayerWith(std::in_place_t, const O& options, BaseArgs&&... base_args)
      : Base(std::forward<BaseArgs>(base_args)...), options_(options) {}

  /// The fields `O::printed` names.
  std::string extra_repr() const override {
    if constexpr (requires { O::printed; })
      return detail::printed_fields(this->class_name(), O::printed, fields_to_config(options_),
                                    fields_to_config(O()));
    else
      return "";
  }

  O options_;
};

}  // namespace tapeflow::layers
