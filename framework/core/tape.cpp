#include "tapeflow/framework/core/tape.hpp"

#include <algorithm>
#include <unordered_map>

#include "tapeflow/framework/core/check_numerics.hpp"
#include "tapeflow/framework/core/profile.hpp"

namespace tapeflow {

struct GradientTape::Entry {
  const char* op;
  // Ids (0: undefined input) with the versions they had when the op was recorded: the backward
  // may read these values, and must not see them modified since (Variable::version).
  std::vector<detail::SavedValue> inputs;
  detail::SavedValue output;
  detail::BackwardFn backward;  // reset once run, unless the tape is persistent
  int profile_label = -1;       // the profile scope open when recorded (profile.hpp)
};

namespace {
thread_local std::vector<GradientTape*> active_tapes;

// Sums two gradients of one value (both have that value's shape). The tape's own add, recorded
// like any op so that an outer tape differentiates through it (higher-order gradients), keeps
// the core free of the ops library above it.
Variable accumulate(const Variable& a, const Variable& b) {
  if (a.shape() != b.shape())
    fail_shape("GradientTape.gradient", "gradients of one value have shapes " +
                                            shape_str(a.shape()) + " and " + shape_str(b.shape()) +
                                            " (an op's backward is wrong)");
  Variable sum(Tensor(a.value() + b.value()));
  // Not built by an op's detail::result: checked here, named like the op recorded below.
  if (check_numerics_enabled()) detail::check_recorded_output("accumulate_gradients", {a, b}, sum);
  if (detail::recording({&a, &b}))
    detail::record("accumulate_gradients", {a, b}, sum, [](const Variable& g) {
      return std::vector<Variable>{g, g};
    });
  return sum;
}
}  // namespace

struct TapeAccess {
  static bool watches(const GradientTape& t, const Variable& v) {
    if (!v.defined()) return false;
    if (t.watch_accessed_ && v.trainable()) return true;
    return t.watched_ids_.count(v.id()) != 0;
  }
  static bool listening(const GradientTape& t) { return !t.paused_; }
  static void add(GradientTape& t, const char* op, const std::vector<Variable>& inputs,
                  const Variable& output, const detail::BackwardFn& fn) {
    GradientTape::Entry e{op, {}, {output.id(), output.version()}, fn, profile::current_label()};
    e.inputs.reserve(inputs.size());
    for (const auto& in : inputs) {
      e.inputs.push_back(in.defined() ? detail::SavedValue{in.id(), in.version()}
                                      : detail::SavedValue{});
      if (in.defined() && in.trainable() && t.watch_accessed_ && !t.watched_ids_.count(in.id())) {
        t.watched_ids_.insert(in.id());
        t.watched_vars_.push_back(in);
      }
    }
    t.watched_ids_.insert(output.id());
    t.entries_.push_back(std::move(e));
  }
  static bool& paused(GradientTape& t) { return t.paused_; }
};

GradientTape::GradientTape(bool persistent, bool watch_accessed_variables)
    : persistent_(persistent), watch_accessed_(watch_accessed_variables) {
  active_tapes.push_back(this);
}

GradientTape::~GradientTape() {
  auto it = std::find(active_tapes.begin(), active_tapes.end(), this);
  if (it != active_tapes.end()) active_tapes.erase(it);
}

void GradientTape::watch(const Variable& v) {
  if (!v.defined()) fail("GradientTape.watch", "cannot watch an undefined variable");
  if (watched_ids_.insert(v.id()).second) watched_vars_.push_back(v);
}
void GradientTape::watch(const std::vector<Variable>& vs) {
  for (const auto& v : vs) watch(v);
}
std::vector<Variable> GradientTape::watched_variables() const { return watched_vars_; }
std::size_t GradientTape::size() const { return entries_.size(); }

void GradientTape::reset() {
  entries_.clear();
  watched_ids_.clear();
  watched_vars_.clear();
  used_ = false;
}

std::vector<Variable> GradientTape::gradient(const Variable& target,
                                             const std::vector<Variable>& sources,
                                             const Variable& output_gradient) {
  if (!target.defined()) fail("GradientTape.gradient", "target is undefined");
  if (used_ && !persistent_)
    fail("GradientTape.gradient",
         "a non-persistent tape can compute gradients only once; create it with "
         "GradientTape(/*persistent=*/true) to call gradient more than once");
  for (std::size_t i = 0; i < sources.size(); ++i)
    if (!sources[i].defined())
      fail("GradientTape.gradient", "source " + std::to_string(i) + " is undefined");
  if (output_gradient.defined() && output_gradient.shape() != target.shape())
    fail_shape("GradientTape.gradient", "output_gradient has shape " +
                                            shape_str(output_gradient.shape()) +
                                            " but target has shape " + shape_str(target.shape()));
  used_ = true;
  // The walk's own time; each op's backward is timed apart, under its op's label.
  profile::Scope profile_walk([] { return "GradientTape (walk)"; }, profile::Phase::backward);
  const bool profiling = profile::enabled();

  // The ops run below are recorded by the other active tapes, never by this one.
  struct Pause {
    bool& p;
    bool old;
    explicit Pause(bool& flag) : p(flag), old(flag) { p = true; }
    ~Pause() { p = old; }
  } pause(paused_);

  // Forward pass: which recorded values depend on a source.
  std::unordered_set<std::uint64_t> source_ids;
  for (const auto& s : sources) source_ids.insert(s.id());
  std::unordered_set<std::uint64_t> reach = source_ids;
  std::vector<char> relevant(entries_.size(), 0);
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const auto& e = entries_[i];
    for (const auto& in : e.inputs)
      if (in.id && reach.count(in.id)) {
        relevant[i] = 1;
        reach.insert(e.output.id);
        break;
      }
  }

  std::unordered_map<std::uint64_t, Variable> grads;
  if (reach.count(target.id())) {
    grads[target.id()] = output_gradient.defined()
                             ? output_gradient
                             : Variable(Tensor(xt::ones_like(target.value())));
  }

  // For the ready hook: a source's gradient is final once the walk has passed the first
  // recorded op that reads it (every later reader was walked before). `ready_after[k]`: the
  // sources final after entry k; `ready_now`: those no relevant op reads (the target itself).
  std::unordered_map<std::size_t, std::vector<std::size_t>> ready_after;
  std::vector<std::size_t> ready_now;
  auto report = [&](const std::vector<std::size_t>& which) {
    for (std::size_t i : which) {
      auto it = grads.find(sources[i].id());
      if (it != grads.end()) ready_hook_(i, it->second);
    }
  };
  if (ready_hook_) {
    std::unordered_map<std::uint64_t, std::size_t> first_reader;
    for (std::size_t k = 0; k < entries_.size(); ++k)
      if (relevant[k])
        for (const auto& in : entries_[k].inputs)
          if (in.id && source_ids.count(in.id)) first_reader.emplace(in.id, k);
    for (std::size_t i = 0; i < sources.size(); ++i) {
      auto it = first_reader.find(sources[i].id());
      if (it == first_reader.end())
        ready_now.push_back(i);
      else
        ready_after[it->second].push_back(i);
    }
    report(ready_now);
  }

  // One op's backward: its output's gradient to its inputs' (accumulated).
  auto walk = [&](std::size_t k) {
    auto& e = entries_[k];
    auto git = grads.find(e.output.id);
    if (git == grads.end()) return;
    if (!e.backward)
      fail("GradientTape.gradient",
           std::string("op '") + e.op + "' was already freed by an earlier gradient call");
    Variable gy = git->second;
    if (!source_ids.count(e.output.id)) grads.erase(git);
    const double start_ms = profiling ? profile::now_ms() : 0.0;
    std::vector<Variable> gin;
    {
      // The backward reads its saved values live: any it reads must be as recorded.
      detail::SavedVersionsGuard saved(e.op, e.inputs, e.output);
      gin = e.backward(gy);
    }
    if (!persistent_) e.backward = nullptr;
    for (std::size_t i = 0; i < e.inputs.size() && i < gin.size(); ++i) {
      auto in = e.inputs[i].id;
      if (!in || !gin[i].defined() || !reach.count(in)) continue;
      auto it = grads.find(in);
      if (it == grads.end())
        grads.emplace(in, gin[i]);
      else
        it->second = accumulate(it->second, gin[i]);
    }
    if (profiling)
      profile::add_backward(
          e.profile_label >= 0 ? e.profile_label : profile::label_index(std::string("op ") + e.op),
          profile::now_ms() - start_ms);
  };

  // Backward pass, iterative over the recording in reverse order: every consumer of a value
  // was recorded after it, so its gradient is complete when its producer is reached.
  for (std::size_t k = entries_.size(); k-- > 0;) {
    if (!relevant[k]) continue;
    walk(k);
    if (!ready_after.empty()) {
      auto it = ready_after.find(k);
      if (it != ready_after.end()) report(it->second);
    }
  }

  std::vector<Variable> out;
  out.reserve(sources.size());
  for (const auto& s : sources) {
    auto it = grads.find(s.id());
    out.push_back(it == grads.end() ? Variable() : it->second);
  }
  if (!persistent_) {
    entries_.clear();
    entries_.shrink_to_fit();
  }
  return out;
}

Variable stop_gradient(const Variable& x) { return Variable(x.value()); }

StopRecording::StopRecording() {
  for (auto* t : active_tapes)
    if (!TapeAccess::paused(*t)) {
      TapeAccess::paused(*t) = true;
      paused_.push_back(t);
    }
}
StopRecording::~StopRecording() {
  for (auto* t : paused_) {
    if (std::find(active_tapes.begin(), active_tapes.end(), t) != active_tapes.end())
      TapeAccess::paused(*t) = false;
  }
}

namespace detail {

bool recording(std::initializer_list<const Variable*> inputs) {
  if (numerics_pending()) return true;
  for (auto* t : active_tapes) {
    if (!TapeAccess::listening(*t)) continue;
    for (auto* v : inputs)
      if (TapeAccess::watches(*t, *v)) return true;
  }
  return false;
}

bool recording(const std::vector<Variable>& inputs) {
  if (numerics_pending()) return true;
  for (auto* t : active_tapes) {
    if (!TapeAccess::listening(*t)) continue;
    for (const auto& v : inputs)
      if (TapeAccess::watches(*t, v)) return true;
  }
  return false;
}

void record(const char* op, const std::vector<Variable>& inputs, const Variable& output,
            BackwardFn backward) {
  // The one place that knows every op by name: check_numerics reports here.
  if (numerics_pending() || check_numerics_enabled()) check_recorded_output(op, inputs, output);
  for (auto* t : active_tapes) {
    if (!TapeAccess::listening(*t)) continue;
    bool any = false;
    for (const auto& v : inputs)
      if (TapeAccess::watches(*t, v)) {
        any = true;
        break;
      }
    if (any) TapeAccess::add(*t, op, inputs, output, backward);
  }
}

}  // namespace detail
}  // namespace tapeflow
