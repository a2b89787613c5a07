#include "tapeflow/layers/layer.hpp"

#include <algorithm>
#include <sstream>
#include <unordered_set>
#include <utility>

#include "tapeflow/framework/core/profile.hpp"
#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/registry.hpp"

namespace tapeflow::layers {

// ---- Option value types --------------------------------------------------------------------

std::string config_write(const AxisList& axes) {
  if (axes.size() == 1) return std::to_string(axes[0]);
  return tapeflow::config_write(static_cast<const std::vector<int>&>(axes));
}

void config_read(const std::string& where, const std::string& key, const std::string& text,
                 AxisList& out) {
  std::vector<int> axes(1);
  if (!text.empty() && text.front() == '(')
    tapeflow::config_read(where, key, text, axes);
  else
    tapeflow::config_read(where, key, text, axes[0]);
  out = AxisList(std::move(axes));
}

// ---- LayerWith -----------------------------------------------------------------------------

namespace detail {

std::string printed_fields(const std::string& where, const PrintedFields& printed,
                           const Config& now, const Config& defaults) {
  std::string out;
  auto each = [&](std::string_view names, bool only_changed) {
    while (!names.empty()) {
      const std::size_t comma = names.find(", ");
      const std::string name(names.substr(0, comma));
      names = comma == std::string_view::npos ? std::string_view() : names.substr(comma + 2);
      auto it = now.find(name);
      if (it == now.end()) fail(where, "printed field '" + name + "' is not an option");
      auto d = defaults.find(name);
      if (only_changed && d != defaults.end() && d->second == it->second) continue;
      out += (out.empty() ? "" : ", ") + name + "=" + it->second;
    }
  };
  each(printed.always, false);
  each(printed.if_changed, true);
  return out;
}

Config with_own_fields(Config common, const Config& options) {
  static const std::vector<std::string> common_names = field_names(LayerOptions());
  for (const auto& [key, value] : options)
    if (std::find(common_names.begin(), common_names.end(), key) == common_names.end())
      common[key] = value;
  return common;
}

}  // namespace detail

// ---- Layer ---------------------------------------------------------------------------------

namespace {
// Nesting depth of Layer::operator() on this thread and the id of the current top-level call:
// activity losses from an older top-level call are stale and get replaced.
thread_local int call_depth = 0;
thread_local std::uint64_t top_level_call = 0;

struct DepthGuard {
  DepthGuard() {
    if (call_depth++ == 0) ++top_level_call;
  }
  ~DepthGuard() { --call_depth; }
};

// The innermost detail::KeepNames alive on this thread.
thread_local detail::KeepNames* kept_names = nullptr;

std::vector<Variable> unique_variables(std::vector<Variable> vs) {
  std::unordered_set<std::uint64_t> seen;
  std::vector<Variable> out;
  for (auto& v : vs)
    if (seen.insert(v.id()).second) out.push_back(std::move(v));
  return out;
}
}  // namespace

Layer::Layer(const std::string& default_name, const LayerOptions& options)
    : graph_(get_default_graph()),
      trainable_(options.trainable()),
      activity_regularizer_(options.activity_regularizer()),
      activity_losses_(std::make_shared<std::vector<Variable>>()) {
  const std::string& base = options.name().empty() ? default_name : options.name();
  if (base.empty()) fail("Layer", "the layer needs a name (the default name is empty)");
  if (base.find('/') != std::string::npos)
    fail(base, "a layer name cannot contain '/' (got '" + base + "')");
  if (kept_names) {
    // Only the layer the rebuild makes next takes the name, not the sublayers it makes. The
    // name may have been reserved by an enclosing rebuild (a model nested in a config).
    const std::string next = std::exchange(kept_names->next_, std::string());
    for (detail::KeepNames* keep = kept_names; keep && base == next; keep = keep->outer_) {
      auto it = std::find(keep->reserved_.begin(), keep->reserved_.end(), base);
      if (it == keep->reserved_.end()) continue;
      keep->reserved_.erase(it);
      name_ = base;
      graph_.hold_name(name_);
      return;
    }
  }
  name_ = graph_.unique_name(base);
  graph_.hold_name(name_);
}

std::shared_ptr<Layer> Layer::twin_for_node() const {
  if (auto owner = std::const_pointer_cast<Layer>(weak_from_this().lock())) return owner;
  if (built_)
    fail(name_,
         "a built layer cannot be called on symbolic tensors as a temporary; call it "
         "through a named object or a std::shared_ptr");
  // The temporary ends with the expression that calls it: the node keeps a twin made from its
  // config, which is the whole description of an unbuilt layer, under the temporary's name.
  detail::KeepNames keep = detail::KeepNames::already_reserved(name_);
  std::shared_ptr<Layer> twin;
  try {
    twin = create_layer(class_name(), get_config());
  } catch (const Error& e) {
    e.rethrow_in(name_ + ": a temporary " + class_name() +
                 " called on symbolic tensors is replaced by a twin built from its config, "
                 "which failed (register the class with TAPEFLOW_REGISTER_CUSTOM_LAYER, or "
                 "create the layer with std::make_shared)");
  }
  return twin;
}

namespace detail {

KeepNames::KeepNames(const std::vector<std::string>& names) : outer_(kept_names) {
  Graph g = get_default_graph();
  auto reserved_outside = [&](const std::string& n) {
    for (const KeepNames* k = outer_; k; k = k->outer_)
      if (std::find(k->reserved_.begin(), k->reserved_.end(), n) != k->reserved_.end()) return true;
    return false;
  };
  for (const auto& n : names) {
    if (n.empty()) continue;
    if (!g.is_name_used(n))
      reserved_.push_back(g.unique_name(n));
    else if (!g.is_name_held(n) && !reserved_outside(n) &&
             std::find(reserved_.begin(), reserved_.end(), n) == reserved_.end())
      reserved_.push_back(n);  // used by a layer that is gone: free again
  }
  kept_names = this;
}

KeepNames::KeepNames(std::vector<std::string> reserved, const std::string& next)
    : reserved_(std::move(reserved)), next_(next), outer_(kept_names) {
  kept_names = this;
}

KeepNames KeepNames::already_reserved(const std::string& name) { return KeepNames({name}, name); }

KeepNames::~KeepNames() { kept_names = outer_; }

void KeepNames::next(const std::string& name) {
  if (kept_names) kept_names->next_ = name;
}

}  // namespace detail

std::vector<Variable> Layer::call_on_list(const std::vector<Variable>& inputs, bool training) {
  if (inputs.size() != 1)
    fail(name_, "takes one input, got a list of " + std::to_string(inputs.size()));
  return {(*this)(inputs[0], training)};
}

void Layer::add_sublayer(detail::LayerRef ref, const Layer* layer) {
  if (!layer) fail(name_, "register_sublayer: the layer is null");
  if (layer == this) fail(name_, "register_sublayer: a layer cannot contain itself");
  for (const auto& s : sublayers_)
    if (s.raw == layer)
      fail(name_, "register_sublayer: '" + layer->name() + "' is already registered");
  sublayers_.push_back(std::move(ref));
}

void Layer::set_model_layers(std::vector<detail::LayerRef> layers) {
  sublayers_ = std::move(layers);
}

void Layer::mark_built(const Shape& input_shape) {
  if (scope_name_.empty()) scope_name_ = graph_.scoped(name_);
  input_shape_ = input_shape;
  built_ = true;
}

std::vector<Layer*> Layer::sublayers() const {
  std::vector<Layer*> out;
  for (const auto& s : sublayers_) out.push_back(&s.get(name_));
  return out;
}

Layer::~Layer() {
  // A graph that owned this layer and is being destroyed needs no cleaning (and graph_ does
  // not keep it alive).
  if (graph_lifetime_ && graph_lifetime_->expired()) return;
  Graph g = graph_;
  for (const auto& [key, id] : graph_entries_) g.remove_from_collection(key, id);
  for (const auto& w : weights_) {
    g.remove_from_collection(GraphKeys::GLOBAL_VARIABLES, w.var);
    g.remove_from_collection(GraphKeys::TRAINABLE_VARIABLES, w.var);
  }
  g.release_name(name_);
}

void Layer::track_graph_entry(const std::string& key, Graph::EntryId id) {
  graph_entries_.emplace_back(key, id);
  if (building_) build_entries_.emplace_back(key, id);
}

namespace detail {
void give_to_graph(const std::shared_ptr<Layer>& layer) {
  if (!layer) fail("give_to_graph", "the layer is null");
  if (layer->graph_lifetime_) return;  // already owned
  Graph g = layer->graph_;
  layer->graph_lifetime_ = tapeflow::detail::graph_lifetime(g);
  layer->graph_ = tapeflow::detail::unowned_graph(g);
  g.keep_alive(layer);
}
}  // namespace detail

const std::string& Layer::scope_name() const {
  if (!built_ && !building_)
    fail(name_,
         "scope_name is not known before the layer is first called (it comes from the "
         "name scope active at that call)");
  return scope_name_;
}

const Shape& Layer::input_shape() const {
  if (!built_) fail(name_, "input_shape is not known before the layer is first called");
  return input_shape_;
}

void Layer::check_spec(const Shape& s) const {
  const InputSpec& spec = input_spec_;
  if (spec.ndim && s.size() != *spec.ndim)
    fail_shape(name_, "expected an input of rank " + std::to_string(*spec.ndim) + ", got shape " +
                          shape_str(s) + " (rank " + std::to_string(s.size()) + ")");
  if (spec.min_ndim && s.size() < *spec.min_ndim)
    fail_shape(name_, "expected an input of rank >= " + std::to_string(*spec.min_ndim) +
                          ", got shape " + shape_str(s) + " (rank " + std::to_string(s.size()) +
                          ")");
  for (const auto& [axis, size] : spec.axes) {
    long r = static_cast<long>(s.size());
    long a = axis < 0 ? axis + r : axis;
    if (a < 0 || a >= r)
      fail_shape(name_, "expected an input with an axis " + std::to_string(axis) + " of size " +
                            std::to_string(size) + ", got shape " + shape_str(s));
    if (s[static_cast<std::size_t>(a)] != size)
      fail_shape(name_, "expected axis " + std::to_string(axis) + " of the input to have size " +
                            std::to_string(size) + ", got shape " + shape_str(s));
  }
}

void Layer::check_input_compatible(const Shape& s, int channel_axis) const {
  if (!built_) return;
  const Shape& b = input_shape_;
  if (s.size() != b.size())
    fail_shape(name_, "input has rank " + std::to_string(s.size()) +
                          " but the layer was built for rank " + std::to_string(b.size()) +
                          ": shape " + shape_str(s) + " vs " + shape_str(b));
  std::size_t a = tapeflow::detail::normalize_axis(name_.c_str(), channel_axis, s.size());
  if (s[a] != b[a])
    fail_shape(name_, "input has " + std::to_string(s[a]) + " channels (axis " +
                          std::to_string(channel_axis) + ") but the layer was built for " +
                          std::to_string(b[a]) + ": shape " + shape_str(s) + " vs " + shape_str(b));
}

void Layer::rollback_build() {
  Graph g = graph_;
  for (const auto& [key, id] : build_entries_) {
    g.remove_from_collection(key, id);
    std::erase(graph_entries_, std::pair<std::string, Graph::EntryId>(key, id));
  }
  build_entries_.clear();
  weights_.clear();
  weight_losses_.clear();
  scope_name_.clear();
}

Variable Layer::operator()(const Variable& x, bool training) { return run(x, nullptr, training); }

Variable Layer::masked_call(const Variable& x, const Tensor& mask, bool training) {
  if (!x.defined()) fail(name_, "the input is undefined");
  const Shape& xs = x.shape();
  const Shape ms(mask.shape().begin(), mask.shape().end());
  if (ms.empty() || ms.size() > xs.size() || !std::equal(ms.begin(), ms.end(), xs.begin()))
    fail_shape(name_, "mask: expected a shape that begins the input's " + shape_str(xs) +
                          " (e.g. (batch, time) for a sequence), got " + shape_str(ms));
  return run(x, &mask, training);
}

Variable Layer::call_masked(const Variable& x, const Tensor&, bool training) {
  return call(x, training);
}

std::optional<Tensor> Layer::compute_mask(const Variable&,
                                          const std::optional<Tensor>& mask) const {
  if (!supports_masking()) return std::nullopt;
  return mask;
}

Variable Layer::run(const Variable& x, const Tensor* mask, bool training) {
  if (!x.defined()) fail(name_, "the input is undefined");
  DepthGuard depth;
  profile::Scope profiled([&] { return profile::layer_label(class_name(), name_); });
  const Shape s = x.shape();
  check_spec(s);
  // A layer made of sublayers builds them on its first call: under its name scope, their
  // weights are named after it (Keras' subclassed layers).
  if (!built_) scope_name_ = graph_.scoped(name_);
  std::optional<Graph::NameScope> scope;
  if (scopes_sublayers_ && !sublayers_.empty()) scope.emplace(graph_, name_);
  if (!built_) {
    building_ = true;
    try {
      build(s);
    } catch (...) {
      building_ = false;
      rollback_build();
      throw;
    }
    building_ = false;
    build_entries_.clear();
    input_shape_ = s;
    built_ = true;
  }
  Variable y = mask && supports_masking() ? call_masked(x, *mask, training) : call(x, training);
  if (activity_regularizer_) {
    if (activity_epoch_ != top_level_call) {
      activity_losses_->clear();
      activity_epoch_ = top_level_call;
    }
    float batch = y.dim() == 0 ? 1.f : static_cast<float>(y.shape()[0]);
    activity_losses_->push_back(div(activity_regularizer_(y), scalar(batch)));
    if (!activity_registered_) {
      std::weak_ptr<std::vector<Variable>> weak = activity_losses_;
      Graph g = graph_;
      // A weak reference, so that the entry does not keep the layer's last outputs alive; the
      // destructor removes the entry.
      const Graph::EntryId id = g.add_to_collection(
          GraphKeys::REGULARIZATION_LOSSES,
          [weak]() -> Variable {
            auto losses = weak.lock();
            if (!losses || losses->empty()) return scalar(0.f);
            Variable total = (*losses)[0];
            for (std::size_t i = 1; i < losses->size(); ++i) total = add(total, (*losses)[i]);
            return total;
          },
          scope_name_ + "/ActivityRegularizer");
      graph_entries_.emplace_back(GraphKeys::REGULARIZATION_LOSSES, id);
      activity_registered_ = true;
    }
  }
  return y;
}

Variable Layer::add_weight(const std::string& name, const Shape& shape,
                           const Initializer& initializer, const Regularizer& regularizer,
                           const Constraint& constraint, bool trainable) {
  if (!building_ && !built_)
    fail(name_, "add_weight('" + name +
                    "') called before the layer is built; create weights in "
                    "build()");
  if (name.empty()) fail(name_, "add_weight: the weight name is empty");
  for (const auto& w : weights_)
    if (w.var.name() == scope_name_ + "/" + name)
      fail(name_, "add_weight: the layer already has a weight named '" + name + "'");
  if (!initializer.defined())
    fail(name_, "add_weight('" + name + "'): the initializer is undefined");
  Tensor value;
  try {
    value = initializer(shape);
  } catch (const Error& e) {
    // Say which layer and weight: the initializer alone knows neither.
    e.rethrow_in(name_ + ": weight '" + name + "' of shape " + shape_str(shape));
  }
  if (shape_of(value) != shape)
    fail_shape(name_, "initializer '" + initializer.name() + "' for weight '" + name +
                          "' returned shape " + shape_str(value.shape()) +
                          " but the weight has shape " + shape_str(shape));
  bool effective = trainable && trainable_;
  Variable v(std::move(value), effective, scope_name_ + "/" + name);
  if (constraint) v.set_constraint(constraint.fn());
  Graph g = graph_;
  auto track = [&](const char* key, Graph::EntryId id) {
    if (building_) build_entries_.emplace_back(key, id);
  };
  track(GraphKeys::GLOBAL_VARIABLES, g.add_to_collection(GraphKeys::GLOBAL_VARIABLES, v));
  if (effective)
    track(GraphKeys::TRAINABLE_VARIABLES, g.add_to_collection(GraphKeys::TRAINABLE_VARIABLES, v));
  if (regularizer) {
    LossFn loss = [regularizer, v]() { return regularizer(v); };
    weight_losses_.push_back(loss);
    const Graph::EntryId id =
        g.add_to_collection(GraphKeys::REGULARIZATION_LOSSES, loss, v.name() + "/Regularizer");
    track(GraphKeys::REGULARIZATION_LOSSES, id);
    graph_entries_.emplace_back(GraphKeys::REGULARIZATION_LOSSES, id);
  }
  weights_.push_back({v, trainable});
  return v;
}

void Layer::set_random_state(const std::string& state) {
  if (!state.empty())
    fail(name_, "set_random_state: a " + class_name() +
                    " layer has no random stream, but a "
                    "non-empty state was given");
}

void Layer::set_trainable(bool trainable) {
  for (Layer* l : sublayers()) l->set_trainable(trainable);
  if (trainable == trainable_) return;
  trainable_ = trainable;
  Graph g = graph_;
  for (auto& w : weights_) {
    bool effective = w.trainable && trainable_;
    if (effective == w.var.trainable()) continue;
    w.var.set_trainable(effective);
    if (effective)
      g.add_to_collection(GraphKeys::TRAINABLE_VARIABLES, w.var);
    else
      g.remove_from_collection(GraphKeys::TRAINABLE_VARIABLES, w.var);
  }
}

std::vector<Variable> Layer::variables() const {
  std::vector<Variable> out;
  for (const auto& w : weights_) out.push_back(w.var);
  for (const Layer* l : sublayers())
    for (auto& v : l->variables()) out.push_back(std::move(v));
  return unique_variables(std::move(out));
}

std::vector<Variable> Layer::trainable_variables() const {
  if (!trainable_) return {};
  std::vector<Variable> out;
  for (const auto& w : weights_)
    if (w.trainable) out.push_back(w.var);
  for (const Layer* l : sublayers())
    for (auto& v : l->trainable_variables()) out.push_back(std::move(v));
  return unique_variables(std::move(out));
}

std::vector<Variable> Layer::non_trainable_variables() const {
  if (!trainable_) return variables();
  std::vector<Variable> out;
  for (const auto& w : weights_)
    if (!w.trainable) out.push_back(w.var);
  for (const Layer* l : sublayers())
    for (auto& v : l->non_trainable_variables()) out.push_back(std::move(v));
  return unique_variables(std::move(out));
}

std::vector<Tensor> Layer::get_weights() const {
  std::vector<Tensor> out;
  for (const auto& v : variables()) out.push_back(v.value());
  return out;
}

void Layer::set_weights(const std::vector<Tensor>& values) {
  std::vector<Variable> vars = variables();
  if (values.size() != vars.size())
    fail(name_, "set_weights: the layer has " + std::to_string(vars.size()) + " weights but " +
                    std::to_string(values.size()) + " values were given");
  for (std::size_t i = 0; i < values.size(); ++i)
    if (shape_of(values[i]) != vars[i].shape())
      fail_shape(name_, "set_weights: weight '" + vars[i].name() + "' has shape " +
                            shape_str(vars[i].shape()) + " but value " + std::to_string(i) +
                            " has shape " + shape_str(values[i].shape()));
  for (std::size_t i = 0; i < values.size(); ++i) vars[i].assign(values[i]);
}

std::size_t Layer::count_params() const {
  if (!built_) fail(name_, "count_params: the layer is not built yet (call it on an input first)");
  std::size_t n = 0;
  for (const auto& v : variables()) n += v.size();
  return n;
}

std::vector<Variable> Layer::losses() const {
  std::vector<Variable> out;
  for (const auto& f : weight_losses_) out.push_back(f());
  for (const Layer* l : sublayers())
    for (auto& v : l->losses()) out.push_back(std::move(v));
  for (const auto& v : *activity_losses_) out.push_back(v);
  return out;
}

Config Layer::get_config() const {
  LayerOptions actual;
  actual.name(name_).trainable(trainable_).activity_regularizer(activity_regularizer_);
  Config c = fields_to_config(actual);
  // Keras writes the activity regularizer only when there is one; files without the key load
  // with none.
  if (!activity_regularizer_) c.erase("activity_regularizer");
  return c;
}

void Layer::pretty_print(std::ostream& os) const {
  os << class_name() << '(' << extra_repr() << ')';
}

std::string Layer::pretty_print() const {
  std::ostringstream os;
  pretty_print(os);
  return os.str();
}

void Layer::build(const Shape&) {}

std::ostream& operator<<(std::ostream& os, const Layer& layer) {
  layer.pretty_print(os);
  return os;
}

}  // namespace tapeflow::layers
