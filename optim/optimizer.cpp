#include "tapeflow/optim/optimizer.hpp"

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/archive/text_iarchive.hpp>
#include <boost/archive/text_oarchive.hpp>
#include <boost/archive/xml_iarchive.hpp>
#include <boost/archive/xml_oarchive.hpp>
#include <boost/serialization/map.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <cmath>
#include <sstream>
#include <unordered_set>
#include <xtensor/xmath.hpp>

#include "tapeflow/framework/core/profile.hpp"
#include "tapeflow/framework/core/tape.hpp"
#include "tapeflow/optim/clipping.hpp"

namespace tapeflow::optim {
namespace {

std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

// A slot tensor in an archive: shape and row-major data; floats round-trip exactly in every
// Boost archive (text archives print max_digits10 digits).
struct TensorRecord {
  std::vector<std::uint64_t> shape;
  std::vector<float> data;

  TensorRecord() = default;
  explicit TensorRecord(const Tensor& t)
      : shape(t.shape().begin(), t.shape().end()), data(t.begin(), t.end()) {}
  Tensor to_tensor() const {
    Tensor t = Tensor::from_shape(Shape(shape.begin(), shape.end()));
    if (t.size() != data.size())
      fail("Optimizer.load_state", "corrupt slot: shape " + shape_str(shape) + " but " +
                                       std::to_string(data.size()) + " values");
    std::copy(data.begin(), data.end(), t.begin());
    return t;
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& boost::serialization::make_nvp("shape", shape);
    ar& boost::serialization::make_nvp("data", data);
  }
};

struct SlotRecord {
  std::string variable;
  std::map<std::string, TensorRecord> slots;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar& boost::serialization::make_nvp("variable", variable);
    ar& boost::serialization::make_nvp("slots", slots);
  }
};

}  // namespace

Optimizer::Optimizer(std::string name) : name_(std::move(name)) {}
Optimizer::~Optimizer() = default;

float Optimizer::slot_initial_value(const std::string&) const { return 0.f; }
void Optimizer::begin_step(const StepContext&) {}

void Optimizer::check_unit_interval(const char* arg, double v) const {
  if (!(v >= 0.0 && v < 1.0)) fail(name_, std::string(arg) + " must be in [0, 1), got " + num(v));
}
void Optimizer::check_closed_unit(const char* arg, double v) const {
  if (!(v >= 0.0 && v <= 1.0)) fail(name_, std::string(arg) + " must be in [0, 1], got " + num(v));
}
void Optimizer::check_positive(const char* arg, double v) const {
  if (!(std::isfinite(v) && v > 0.0))
    fail(name_, std::string(arg) + " must be finite and > 0, got " + num(v));
}
void Optimizer::check_non_negative(const char* arg, double v) const {
  if (!(std::isfinite(v) && v >= 0.0))
    fail(name_, std::string(arg) + " must be finite and >= 0, got " + num(v));
}

void Optimizer::check_learning_rate(const LearningRate& lr) const {
  if (lr.is_schedule()) return;  // checked by the schedule itself and at each step
  check_non_negative("learning_rate", lr(0));
}

void Optimizer::validate() const {
  const CommonOptions& c = common();
  check_learning_rate(c.learning_rate());
  const std::pair<const char*, const std::optional<float>*> clips[] = {
      {"clipnorm", &c.clipnorm()},
      {"clipvalue", &c.clipvalue()},
      {"global_clipnorm", &c.global_clipnorm()}};
  int clip_args = 0;
  for (const auto& [key, f] : clips) {
    if (!*f) continue;
    ++clip_args;
    check_positive(key, **f);
  }
  if (clip_args > 1) {
    auto show = [](const std::optional<float>& f) { return f ? num(*f) : std::string("unset"); };
    fail(name_, "only one of clipnorm, clipvalue and global_clipnorm can be set, got clipnorm=" +
                    show(c.clipnorm()) + ", clipvalue=" + show(c.clipvalue()) +
                    ", global_clipnorm=" + show(c.global_clipnorm()));
  }
  if (c.weight_decay()) check_non_negative("weight_decay", *c.weight_decay());
}

float Optimizer::learning_rate() const { return common().learning_rate()(iterations_); }

void Optimizer::set_learning_rate(LearningRate lr) {
  check_learning_rate(lr);
  common().learning_rate(lr);
}

const LearningRate& Optimizer::learning_rate_option() const { return common().learning_rate(); }

void Optimizer::ensure_slots(Entry& e) {
  for (const auto& s : slot_names()) {
    if (e.slots.count(s)) continue;
    e.slots[s] = Tensor(xt::full_like(e.var.value(), slot_initial_value(s)));
  }
}

Optimizer::Entry& Optimizer::entry_for(const Variable& var, const std::string& where) {
  auto it = index_.find(var.id());
  if (it != index_.end()) return entries_[it->second];
  Entry e{var, {}};
  auto p = pending_.find(var.name());
  if (p != pending_.end()) {
    for (const auto& [slot, t] : p->second)
      if (shape_of(t) != var.shape())
        fail(where, "the restored slot '" + slot + "' of variable '" + var.name() + "' has shape " +
                        shape_str(t.shape()) + " but the variable has shape " +
                        shape_str(var.shape()));
    e.slots = std::move(p->second);
    pending_.erase(p);
  }
  ensure_slots(e);
  index_[var.id()] = entries_.size();
  entries_.push_back(std::move(e));
  return entries_.back();
}

void Optimizer::build(const std::vector<Variable>& vars) {
  for (std::size_t i = 0; i < vars.size(); ++i) {
    if (!vars[i].defined())
      fail(name_ + ".build", "variable #" + std::to_string(i) + " is undefined");
    entry_for(vars[i], name_ + ".build");
  }
}

void Optimizer::apply_gradients(const std::vector<Variable>& grads,
                                const std::vector<Variable>& vars) {
  const std::string where = name_ + ".apply_gradients";
  profile::Scope profiled([&] { return where; });
  if (grads.size() != vars.size())
    fail(where, "got " + std::to_string(grads.size()) + " gradients for " +
                    std::to_string(vars.size()) +
                    " variables: grads and vars must have the same length");
  if (vars.empty()) return;

  // Everything is checked before anything changes, so a bad call leaves no half-applied step.
  std::vector<std::size_t> active;
  std::unordered_set<std::uint64_t> seen;
  for (std::size_t i = 0; i < vars.size(); ++i) {
    if (!vars[i].defined()) fail(where, "variable #" + std::to_string(i) + " is undefined");
    if (!seen.insert(vars[i].id()).second)
      fail(where, "variable '" + vars[i].name() + "' (#" + std::to_string(i) +
                      ") appears more than once in vars");
    if (!grads[i].defined()) continue;
    if (grads[i].shape() != vars[i].shape())
      fail(where, "the gradient for variable '" + vars[i].name() + "' (#" + std::to_string(i) +
                      ") has shape " + shape_str(grads[i].shape()) +
                      " but the variable has shape " + shape_str(vars[i].shape()));
    active.push_back(i);
  }
  if (active.empty()) fail(where, "no gradients provided for any variable");

  const CommonOptions& c = common();
  const float lr = c.learning_rate()(iterations_);
  if (!(std::isfinite(lr) && lr >= 0.f))
    fail(name_, "learning_rate (" + c.learning_rate().describe() + ") at step " +
                    std::to_string(iterations_) + " is " + num(lr) +
                    ": it must be finite and >= 0");

  std::vector<Tensor> g;
  g.reserve(active.size());
  for (auto i : active) g.push_back(grads[i].value());
  if (c.clipnorm()) {
    for (auto& t : g) t = clip_by_norm(t, *c.clipnorm());
  } else if (c.global_clipnorm()) {
    g = clip_by_global_norm(g, *c.global_clipnorm());
  } else if (const auto& v = c.clipvalue()) {
    for (auto& t : g) t = Tensor(xt::clip(t, -*v, *v));
  }

  for (auto i : active) entry_for(vars[i], where);
  // entry_for may grow entries_, so pointers are taken only after every entry exists.
  std::vector<Entry*> es;
  es.reserve(active.size());
  for (auto i : active) es.push_back(&entries_[index_.at(vars[i].id())]);

  const StepContext ctx{lr, iterations_};
  if (c.weight_decay() && *c.weight_decay() != 0.f) {
    // Keras 3's `_apply_weight_decay`, before the update and in its float32 order:
    // `w - w * weight_decay * lr`, with this step's learning rate.
    const float wd = *c.weight_decay();
    for (Entry* e : es) {
      Tensor& w = e->var.mutable_value();
      w -= w * wd * lr;
    }
  }
  begin_step(ctx);
  for (std::size_t k = 0; k < active.size(); ++k) {
    Entry& e = *es[k];
    ensure_slots(e);
    update_step(g[k], e.var.mutable_value(), e.slots, ctx);
  }
  ++iterations_;

  for (Entry* e : es) {
    Variable& v = e->var;
    if (!v.constraint()) continue;
    Tensor projected = v.constraint()(v.value());
    if (shape_of(projected) != v.shape())
      fail(where, "the constraint of variable '" + v.name() + "' returned shape " +
                      shape_str(projected.shape()) + " for a value of shape " +
                      shape_str(v.shape()));
    v.assign(std::move(projected));
  }
}

Variable Optimizer::minimize(const std::function<Variable()>& loss_fn,
                             const std::vector<Variable>& vars) {
  for (std::size_t i = 0; i < vars.size(); ++i)
    if (!vars[i].defined())
      fail(name_ + ".minimize", "variable #" + std::to_string(i) + " is undefined");
  Variable loss;
  std::vector<Variable> grads;
  {
    GradientTape tape;
    tape.watch(vars);
    loss = loss_fn();
    if (!loss.defined()) fail(name_ + ".minimize", "loss_fn returned an undefined variable");
    grads = tape.gradient(loss, vars);
  }
  store_gradients(vars, grads);
  apply_gradients(grads, vars);
  return loss;
}

void store_gradients(const std::vector<Variable>& vars, const std::vector<Variable>& grads) {
  for (std::size_t i = 0; i < vars.size() && i < grads.size(); ++i) {
    Variable v = vars[i];
    if (grads[i].defined())
      v.set_grad(grads[i].value());
    else
      v.clear_grad();
  }
}

void Optimizer::step(const std::vector<Variable>& vars) {
  std::vector<Variable> grads(vars.size());
  for (std::size_t i = 0; i < vars.size(); ++i) {
    if (!vars[i].defined())
      fail(name_ + ".step", "variable #" + std::to_string(i) + " is undefined");
    if (vars[i].grad()) grads[i] = Variable(*vars[i].grad());
  }
  apply_gradients(grads, vars);
}

const Tensor& Optimizer::get_slot(const Variable& var, const std::string& slot) const {
  const std::string where = name_ + ".get_slot";
  if (!var.defined()) fail(where, "the variable is undefined");
  const SlotMap* slots = nullptr;
  auto it = index_.find(var.id());
  if (it != index_.end()) {
    slots = &entries_[it->second].slots;
  } else {
    auto p = pending_.find(var.name());
    if (p == pending_.end())
      fail(where, "variable '" + var.name() +
                      "' has no slots yet (it was never updated, built or restored)");
    slots = &p->second;
  }
  auto s = slots->find(slot);
  if (s == slots->end()) {
    std::string names;
    for (const auto& [n, t] : *slots) names += (names.empty() ? "" : ", ") + n;
    fail(where, "variable '" + var.name() + "' has no slot '" + slot +
                    "' (its slots: " + (names.empty() ? std::string("none") : names) + ")");
  }
  return s->second;
}

std::vector<Variable> Optimizer::variables() const {
  std::vector<Variable> out;
  out.reserve(entries_.size());
  for (const auto& e : entries_) out.push_back(e.var);
  return out;
}

template <class Archive>
void Optimizer::save(Archive& ar) const {
  using boost::serialization::make_nvp;
  const std::string where = name_ + ".save_state";
  std::vector<SlotRecord> records;
  std::unordered_set<std::string> names;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const auto& e = entries_[i];
    const std::string& n = e.var.name();
    if (n.empty())
      fail(where, "variable #" + std::to_string(i) + " with slots has no name; slots are saved " +
                      "by variable name, so every updated variable needs a unique name");
    if (!names.insert(n).second)
      fail(where, "two variables with slots are named '" + n +
                      "'; slots are saved by variable name, so names must be unique");
    SlotRecord r{n, {}};
    for (const auto& [slot, t] : e.slots) r.slots.emplace(slot, TensorRecord(t));
    records.push_back(std::move(r));
  }
  for (const auto& [n, slots] : pending_) {
    if (names.count(n)) continue;
    SlotRecord r{n, {}};
    for (const auto& [slot, t] : slots) r.slots.emplace(slot, TensorRecord(t));
    records.push_back(std::move(r));
  }
  std::string kind = name_;
  std::int64_t iterations = iterations_;
  LearningRate lr = common().learning_rate();
  std::map<std::string, double> hyper = hyperparameters();
  std::map<std::string, double> scalars = scalars_;
  ar << make_nvp("kind", kind);
  ar << make_nvp("iterations", iterations);
  ar << make_nvp("learning_rate", lr);
  ar << make_nvp("hyperparameters", hyper);
  ar << make_nvp("scalar_state", scalars);
  ar << make_nvp("slots", records);
}

template <class Archive>
void Optimizer::load(Archive& ar) {
  using boost::serialization::make_nvp;
  const std::string where = name_ + ".load_state";
  std::string kind;
  std::int64_t iterations = 0;
  LearningRate lr = 0.f;
  std::map<std::string, double> hyper;
  std::map<std::string, double> scalars;
  std::vector<SlotRecord> records;
  ar >> make_nvp("kind", kind);
  if (kind != name_)
    fail(where, "the archive holds the state of a '" + kind + "' optimizer, not '" + name_ + "'");
  ar >> make_nvp("iterations", iterations);
  ar >> make_nvp("learning_rate", lr);
  ar >> make_nvp("hyperparameters", hyper);
  ar >> make_nvp("scalar_state", scalars);
  ar >> make_nvp("slots", records);
  if (iterations < 0) fail(where, "iterations is negative (" + std::to_string(iterations) + ")");

  // Options are replaced as a whole and checked before the state changes; on an error the
  // optimizer keeps its previous options.
  restore_options(where, lr, hyper);

  std::map<std::string, SlotMap> pending;
  for (const auto& r : records) {
    SlotMap& slots = pending[r.variable];
    for (const auto& [slot, t] : r.slots) slots[slot] = t.to_tensor();
  }
  iterations_ = iterations;
  scalars_ = std::move(scalars);
  entries_.clear();
  index_.clear();
  pending_ = std::move(pending);
}

template <class Archive>
void Optimizer::serialize(Archive& ar, unsigned) {
  if constexpr (Archive::is_saving::value)
    save(ar);
  else
    load(ar);
}

void Optimizer::save_state(boost::archive::binary_oarchive& ar) const {
  ar << boost::serialization::make_nvp("optimizer", *this);
}
void Optimizer::save_state(boost::archive::text_oarchive& ar) const {
  ar << boost::serialization::make_nvp("optimizer", *this);
}
void Optimizer::save_state(boost::archive::xml_oarchive& ar) const {
  ar << boost::serialization::make_nvp("optimizer", *this);
}
void Optimizer::load_state(boost::archive::binary_iarchive& ar) {
  ar >> boost::serialization::make_nvp("optimizer", *this);
}
void Optimizer::load_state(boost::archive::text_iarchive& ar) {
  ar >> boost::serialization::make_nvp("optimizer", *this);
}
void Optimizer::load_state(boost::archive::xml_iarchive& ar) {
  ar >> boost::serialization::make_nvp("optimizer", *this);
}

template void Optimizer::serialize(boost::archive::binary_oarchive&, unsigned);
template void Optimizer::serialize(boost::archive::binary_iarchive&, unsigned);
template void Optimizer::serialize(boost::archive::text_oarchive&, unsigned);
template void Optimizer::serialize(boost::archive::text_iarchive&, unsigned);
template void Optimizer::serialize(boost::archive::xml_oarchive&, unsigned);
template void Optimizer::serialize(boost::archive::xml_iarchive&, unsigned);

}  // namespace tapeflow::optim

BOOST_CLASS_VERSION(tapeflow::optim::TensorRecord, 0)
BOOST_CLASS_VERSION(tapeflow::optim::SlotRecord, 0)
