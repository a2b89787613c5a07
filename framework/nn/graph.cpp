#include "tapeflow/framework/nn/graph.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include "tapeflow/framework/ops/ops.hpp"

namespace tapeflow {

namespace detail {
struct GraphImpl {
  struct Entry {
    Graph::EntryId id;
    Variable var;  // defined for a variable entry
    LossFn fn;     // set for a callable entry
    std::string name;
  };
  std::map<std::string, std::vector<Entry>> collections;
  std::set<std::string> used_names;
  std::map<std::string, std::size_t> next_suffix;
  std::vector<std::string> name_scopes;           // full prefixes, innermost last
  std::map<std::string, std::size_t> held_names;  // name -> live holders
  Graph::EntryId next_id = 1;
  // Expires first when the graph dies (declared after everything the owned objects' destructors
  // could want to touch, so destroyed before it).
  std::shared_ptr<const char> lifetime = std::make_shared<const char>('\0');
  // Last: freed first, while the rest of the graph is still whole.
  std::vector<std::shared_ptr<void>> owned;
  ~GraphImpl() {
    lifetime.reset();  // owned objects see the graph as gone and leave it alone
    while (!owned.empty()) owned.pop_back();  // last kept, first freed
  }
};
}  // namespace detail

using detail::GraphImpl;

Graph::Graph() : impl_(std::make_shared<GraphImpl>()) {}

Graph::EntryId Graph::add_to_collection(const std::string& key, const Variable& v) {
  if (!v.defined())
    fail("Graph.add_to_collection", "collection '" + key + "': the variable is undefined");
  EntryId id = impl_->next_id++;
  impl_->collections[key].push_back({id, v, nullptr, v.name()});
  return id;
}

Graph::EntryId Graph::add_to_collection(const std::string& key, LossFn fn,
                                        const std::string& name) {
  if (!fn) fail("Graph.add_to_collection", "collection '" + key + "': the callable is empty");
  EntryId id = impl_->next_id++;
  impl_->collections[key].push_back({id, Variable(), std::move(fn), name});
  return id;
}

std::vector<Variable> Graph::get_collection(const std::string& key,
                                            const std::string& scope) const {
  std::vector<Variable> out;
  auto it = impl_->collections.find(key);
  if (it == impl_->collections.end()) return out;
  // Copy first: a callable may itself add entries to this graph.
  auto entries = it->second;
  for (const auto& e : entries) {
    if (!scope.empty() && e.name.compare(0, scope.size(), scope) != 0) continue;
    if (e.fn) {
      Variable v = e.fn();
      if (!v.defined())
        fail("Graph.get_collection", "collection '" + key + "': the callable '" + e.name +
                                         "' returned an undefined variable");
      out.push_back(std::move(v));
    } else {
      out.push_back(e.var);
    }
  }
  return out;
}

std::size_t Graph::collection_size(const std::string& key) const {
  auto it = impl_->collections.find(key);
  return it == impl_->collections.end() ? 0 : it->second.size();
}

bool Graph::remove_from_collection(const std::string& key, EntryId id) {
  auto it = impl_->collections.find(key);
  if (it == impl_->collections.end()) return false;
  auto& v = it->second;
  auto pos = std::find_if(v.begin(), v.end(), [id](const auto& e) { return e.id == id; });
  if (pos == v.end()) return false;
  v.erase(pos);
  return true;
}

std::size_t Graph::remove_from_collection(const std::string& key, const Variable& var) {
  auto it = impl_->collections.find(key);
  if (it == impl_->collections.end() || !var.defined()) return 0;
  auto& v = it->second;
  auto n = v.size();
  v.erase(std::remove_if(v.begin(), v.end(),
                         [&](const auto& e) { return e.var.defined() && e.var.is_same(var); }),
          v.end());
  return n - v.size();
}

void Graph::clear_collection(const std::string& key) { impl_->collections.erase(key); }

std::vector<std::string> Graph::get_all_collection_keys() const {
  std::vector<std::string> keys;
  for (const auto& [k, v] : impl_->collections)
    if (!v.empty()) keys.push_back(k);
  return keys;
}

std::string Graph::unique_name(const std::string& base) {
  if (base.empty()) fail("Graph.unique_name", "the base name is empty");
  auto& used = impl_->used_names;
  std::string name = base;
  if (used.count(name)) {
    // Resume from the last suffix handed out for this base, skipping names taken explicitly.
    std::size_t& k = impl_->next_suffix[base];
    if (k == 0) k = 1;
    while (used.count(base + "_" + std::to_string(k))) ++k;
    name = base + "_" + std::to_string(k++);
  }
  used.insert(name);
  return name;
}

bool Graph::is_name_used(const std::string& name) const {
  return impl_->used_names.count(name) > 0;
}

void Graph::hold_name(const std::string& name) {
  impl_->used_names.insert(name);
  ++impl_->held_names[name];
}

void Graph::release_name(const std::string& name) {
  auto it = impl_->held_names.find(name);
  if (it == impl_->held_names.end()) return;
  if (--it->second == 0) impl_->held_names.erase(it);
}

bool Graph::is_name_held(const std::string& name) const {
  return impl_->held_names.count(name) > 0;
}

void Graph::keep_alive(std::shared_ptr<void> object) {
  if (object) impl_->owned.push_back(std::move(object));
}

namespace detail {
Graph unowned_graph(const Graph& g) {
  Graph h;
  h.impl_ = std::shared_ptr<GraphImpl>(std::shared_ptr<GraphImpl>(), g.impl_.get());
  return h;
}
std::weak_ptr<const void> graph_lifetime(const Graph& g) { return g.impl_->lifetime; }
}  // namespace detail

Graph::NameScope::NameScope(const Graph& g, const std::string& name) : impl_(g.impl_) {
  if (name.empty()) fail("Graph.name_scope", "the scope name is empty");
  auto& s = impl_->name_scopes;
  s.push_back(s.empty() ? name : s.back() + "/" + name);
}

Graph::NameScope::~NameScope() { impl_->name_scopes.pop_back(); }

std::string Graph::current_name_scope() const {
  return impl_->name_scopes.empty() ? std::string() : impl_->name_scopes.back();
}

std::string Graph::scoped(const std::string& name) const {
  auto s = current_name_scope();
  return s.empty() ? name : s + "/" + name;
}

namespace {
thread_local std::vector<Graph> default_stack;

std::mutex global_mu;
Graph& global_default() {
  static Graph g;
  return g;
}
}  // namespace

Graph::Scope::Scope(const Graph& g) : impl_(g.impl_) { default_stack.push_back(g); }

Graph::Scope::~Scope() {
  // Guards end in reverse order; tolerate misuse by removing our own latest entry.
  for (auto it = default_stack.rbegin(); it != default_stack.rend(); ++it)
    if (it->impl_ == impl_) {
      default_stack.erase(std::next(it).base());
      return;
    }
}

Graph get_default_graph() {
  if (!default_stack.empty()) return default_stack.back();
  std::lock_guard<std::mutex> lock(global_mu);
  return global_default();
}

void reset_default_graph() {
  if (!default_stack.empty())
    fail("reset_default_graph",
         "called inside a Graph::as_default() scope; a nested default graph cannot be reset");
  Graph old;  // freed after the lock: what the old graph owns may want the default graph
  {
    std::lock_guard<std::mutex> lock(global_mu);
    std::swap(old, global_default());
  }
}

Graph::EntryId add_to_collection(const std::string& key, const Variable& v) {
  return get_default_graph().add_to_collection(key, v);
}
Graph::EntryId add_to_collection(const std::string& key, LossFn fn, const std::string& name) {
  return get_default_graph().add_to_collection(key, std::move(fn), name);
}
std::vector<Variable> get_collection(const std::string& key, const std::string& scope) {
  return get_default_graph().get_collection(key, scope);
}
Graph::NameScope name_scope(const std::string& name) {
  return get_default_graph().name_scope(name);
}
std::vector<Variable> global_variables(const std::string& scope) {
  return get_collection(GraphKeys::GLOBAL_VARIABLES, scope);
}
std::vector<Variable> trainable_variables(const std::string& scope) {
  return get_collection(GraphKeys::TRAINABLE_VARIABLES, scope);
}

std::vector<Variable> get_regularization_losses(const std::string& scope) {
  return get_regularization_losses(get_default_graph(), scope);
}
std::vector<Variable> get_regularization_losses(const Graph& graph, const std::string& scope) {
  return graph.get_collection(GraphKeys::REGULARIZATION_LOSSES, scope);
}
Variable get_regularization_loss(const std::string& scope) {
  return get_regularization_loss(get_default_graph(), scope);
}
Variable get_regularization_loss(const Graph& graph, const std::string& scope) {
  auto losses = get_regularization_losses(graph, scope);
  if (losses.empty()) return scalar(0.f);
  Variable total = losses[0].dim() == 0 ? losses[0] : sum(losses[0]);
  for (std::size_t i = 1; i < losses.size(); ++i)
    total = add(total, losses[i].dim() == 0 ? losses[i] : sum(losses[i]));
  return total;
}

}  // namespace tapeflow
