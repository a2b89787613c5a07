#pragma once
/// `Graph`: named collections of variables and losses, unique names and name scopes, TF1 style.
/// There is one default graph; `Graph::as_default()` makes another one the default for a scope.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tapeflow/framework/core/variable.hpp"

namespace tapeflow {

class Graph;

namespace detail {
struct GraphImpl;
/// A handle to `g` that does not keep it alive, for an object that `g` itself keeps alive
/// (`Graph::keep_alive`), which would otherwise keep its owner alive forever. Valid only while
/// `graph_lifetime(g)` has not expired.
Graph unowned_graph(const Graph& g);
/// Expires when the graph is destroyed.
std::weak_ptr<const void> graph_lifetime(const Graph& g);
}  // namespace detail

/// The standard collection names (TF `tf.GraphKeys`).
namespace GraphKeys {
inline constexpr const char* GLOBAL_VARIABLES = "variables";
inline constexpr const char* TRAINABLE_VARIABLES = "trainable_variables";
inline constexpr const char* REGULARIZATION_LOSSES = "regularization_losses";
inline constexpr const char* UPDATE_OPS = "update_ops";
}  // namespace GraphKeys

/// A loss (or any value) computed on demand from current values: evaluated each time the
/// collection is read, so the ops it runs are recorded on the active tapes.
using LossFn = std::function<Variable()>;

/// A cheap shared handle (copies refer to the same graph) holding:
/// - named collections; an entry is a `Variable` or a `LossFn`, with a name used by the
///   `scope` filter of `get_collection` (a variable's own name by default);
/// - the names in use, for `unique_name`;
/// - a stack of name scopes (plain prefixes, like TF1 variable scopes).
///
/// Example:
/// ```
/// tapeflow::Graph g;
/// {
///   auto as_default = g.as_default();            // tapeflow::get_default_graph() is g here
///   auto scope = g.name_scope("block");          // g.current_name_scope() == "block"
///   g.unique_name("dense");                      // "dense"; next time "dense_1"
///   g.add_to_collection(tapeflow::GraphKeys::REGULARIZATION_LOSSES,
///                       [w] { return tapeflow::sum(tapeflow::square(w)); }, "w/Regularizer");
/// }
/// ```
class Graph {
 public:
  /// A new, empty graph.
  Graph();

  // ---- collections -----------------------------------------------------------------------
  /// Identifies one entry of a collection (for `remove_from_collection`).
  using EntryId = std::uint64_t;
  /// Appends a variable; its name is the variable's name.
  EntryId add_to_collection(const std::string& key, const Variable& v);
  /// Appends a callable evaluated at each read; `name` serves the scope filter.
  EntryId add_to_collection(const std::string& key, LossFn fn, const std::string& name = "");
  /// The entries of `key` in insertion order (callables evaluated now); only those whose name
  /// starts with `scope` when it is not empty. An unknown key gives an empty list.
  std::vector<Variable> get_collection(const std::string& key, const std::string& scope = "") const;
  /// Number of entries under `key` (callables not evaluated).
  std::size_t collection_size(const std::string& key) const;
  /// Removes one entry; false if it is not there.
  bool remove_from_collection(const std::string& key, EntryId id);
  /// Removes every entry holding this variable; returns how many.
  std::size_t remove_from_collection(const std::string& key, const Variable& v);
  void clear_collection(const std::string& key);
  /// Keys with at least one entry, sorted.
  std::vector<std::string> get_all_collection_keys() const;

  // ---- names -----------------------------------------------------------------------------
  /// `base` if unused in this graph, else `base_1`, `base_2`, ... (the first free one); marks
  /// the result as used. No name-scope prefix is added (see `current_name_scope`).
  std::string unique_name(const std::string& base);
  /// True when `name` was returned by `unique_name` (or marked used).
  bool is_name_used(const std::string& name) const;
  /// Names held by live objects: a layer holds its name from its construction to its
  /// destruction. `hold_name` marks `name` used and held once more, `release_name` once less.
  void hold_name(const std::string& name);
  void release_name(const std::string& name);
  /// True while a live object holds `name`. A used name that nothing holds any more is free for
  /// a reloaded model to take again (`unique_name` still never hands a name out twice).
  bool is_name_held(const std::string& name) const;

  // ---- ownership -------------------------------------------------------------------------
  /// Keeps `object` alive as long as this graph, freed with it (last kept, first freed): TF1's
  /// graph owns the layers that its functional forms (`layers::conv3d_transpose(...)`) make.
  void keep_alive(std::shared_ptr<void> object);

  /// Pushes a name scope while the returned guard is alive; nested scopes join with '/'.
  class NameScope {
   public:
    NameScope(const Graph& g, const std::string& name);
    ~NameScope();
    NameScope(const NameScope&) = delete;
    NameScope& operator=(const NameScope&) = delete;

   private:
    std::shared_ptr<detail::GraphImpl> impl_;
  };
  /// Example: `auto s = g.name_scope("encoder");`
  [[nodiscard]] NameScope name_scope(const std::string& name) const {
    return NameScope(*this, name);
  }
  /// "outer/inner", or "" outside any scope.
  std::string current_name_scope() const;
  /// `current_name_scope() + "/" + name` (just `name` outside any scope).
  std::string scoped(const std::string& name) const;

  // ---- default graph ---------------------------------------------------------------------
  /// Makes this graph the default (for this thread) while the returned guard is alive.
  /// Guards must end in reverse order of creation.
  class Scope {
   public:
    explicit Scope(const Graph& g);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    std::shared_ptr<detail::GraphImpl> impl_;
  };
  /// Example: `{ auto s = g.as_default(); /* layers built here live in g */ }`
  [[nodiscard]] Scope as_default() const { return Scope(*this); }

  /// Identity: copies of one graph compare equal.
  bool operator==(const Graph& other) const { return impl_ == other.impl_; }
  bool operator!=(const Graph& other) const { return impl_ != other.impl_; }

 private:
  friend Graph detail::unowned_graph(const Graph& g);
  friend std::weak_ptr<const void> detail::graph_lifetime(const Graph& g);
  std::shared_ptr<detail::GraphImpl> impl_;
};

/// The innermost graph made default by `Graph::as_default` on this thread, else the global
/// default graph.
Graph get_default_graph();
/// Replaces the global default graph by a new empty one (objects holding the old graph keep
/// it). An Error inside a `Graph::as_default` scope, as in TF.
void reset_default_graph();

/// Shorthands on the default graph (TF `tf.add_to_collection`, `tf.get_collection`, ...).
Graph::EntryId add_to_collection(const std::string& key, const Variable& v);
Graph::EntryId add_to_collection(const std::string& key, LossFn fn, const std::string& name = "");
std::vector<Variable> get_collection(const std::string& key, const std::string& scope = "");
/// Example: `auto s = tapeflow::name_scope("block");`
[[nodiscard]] Graph::NameScope name_scope(const std::string& name);
std::vector<Variable> global_variables(const std::string& scope = "");
std::vector<Variable> trainable_variables(const std::string& scope = "");

/// The REGULARIZATION_LOSSES of a graph, evaluated now (TF `tf.losses.get_regularization_losses`).
std::vector<Variable> get_regularization_losses(const std::string& scope = "");
std::vector<Variable> get_regularization_losses(const Graph& graph, const std::string& scope = "");
/// Their sum, a scalar (0 when there are none); differentiable
/// (TF `tf.losses.get_regularization_loss`).
/// Example: `auto loss = mse + tapeflow::get_regularization_loss();`
Variable get_regularization_loss(const std::string& scope = "");
Variable get_regularization_loss(const Graph& graph, const std::string& scope = "");

}  // namespace tapeflow
