#include "tapeflow/framework/core/variable.hpp"

#include <atomic>

namespace tapeflow {

namespace {
std::uint64_t next_id() {
  static std::atomic<std::uint64_t> counter{1};
  return counter++;
}

// The innermost SavedVersionsGuard of this thread: set only while a backward runs, so reading a
// value elsewhere costs one load and a branch.
thread_local const detail::SavedVersionsGuard* current_guard = nullptr;

std::string describe(std::uint64_t id, const std::string& name) {
  return name.empty() ? "an unnamed variable (id " + std::to_string(id) + ")"
                      : "variable '" + name + "'";
}
}  // namespace

namespace detail {

SavedVersionsGuard::SavedVersionsGuard(const char* op, const std::vector<SavedValue>& inputs,
                                       SavedValue output)
    : op_(op), inputs_(inputs), output_(output), outer_(current_guard) {
  current_guard = this;
}
SavedVersionsGuard::~SavedVersionsGuard() { current_guard = outer_; }

const SavedVersionsGuard* SavedVersionsGuard::current() { return current_guard; }

void SavedVersionsGuard::check(std::uint64_t id, std::uint64_t version,
                               const std::string& name) const {
  std::string role;
  std::uint64_t then = 0;
  for (std::size_t i = 0; i < inputs_.size(); ++i)
    if (inputs_[i].id == id && inputs_[i].version != version) {
      role = "input " + std::to_string(i) + " of op '" + op_ + "'";
      then = inputs_[i].version;
      break;
    }
  if (role.empty() && output_.id == id && output_.version != version) {
    role = "the output of op '" + std::string(op_) + "'";
    then = output_.version;
  }
  if (role.empty()) return;
  fail("GradientTape.gradient",
       describe(id, name) + ", " + role + ", was modified in place after the op was recorded " +
           "(version " + std::to_string(then) + " then, " + std::to_string(version) +
           " now) and the op's backward needs the value it had: compute the gradient before " +
           "changing the variable (assign, mutable_value, an optimizer step), or record the " +
           "computation again on a new tape");
}

}  // namespace detail

Variable::Variable(Tensor value) : Variable(std::move(value), false) {}

Variable::Variable(Tensor value, bool trainable, std::string name)
    : impl_(std::make_shared<Impl>()) {
  impl_->value = std::move(value);
  impl_->trainable = trainable;
  impl_->name = std::move(name);
  impl_->id = next_id();
}

const Variable::Impl& Variable::impl(const char* what) const {
  if (!impl_)
    fail(std::string("Variable.") + what, "the variable is undefined (a missing gradient?)");
  return *impl_;
}
Variable::Impl& Variable::impl(const char* what) {
  if (!impl_)
    fail(std::string("Variable.") + what, "the variable is undefined (a missing gradient?)");
  return *impl_;
}

const Tensor& Variable::value() const {
  const Impl& im = impl("value");
  if (current_guard) [[unlikely]]
    current_guard->check(im.id, im.version, im.name);
  return im.value;
}
Tensor& Variable::mutable_value() {
  Impl& im = impl("mutable_value");
  // The caller may write through the reference at any time: count it now.
  ++im.version;
  return im.value;
}
std::uint64_t Variable::version() const { return impl("version").version; }

void Variable::assign(const Tensor& value) { assign(Tensor(value)); }
void Variable::assign(Tensor&& value) {
  auto& im = impl("assign");
  if (!std::equal(value.shape().begin(), value.shape().end(), im.value.shape().begin(),
                  im.value.shape().end()))
    fail_shape("Variable.assign", "variable '" + im.name + "' has shape " +
                                      shape_str(im.value.shape()) +
                                      " but the new value has shape " + shape_str(value.shape()));
  im.value = std::move(value);
  ++im.version;
}

// Shapes are read past the version check: assign keeps them, and backwards read the shapes of
// inputs whose values they do not need (add's).
Shape Variable::shape() const { return shape_of(impl("shape").value); }
std::size_t Variable::dim() const { return impl("dim").value.dimension(); }
std::size_t Variable::size() const { return impl("size").value.size(); }
float Variable::item() const {
  const auto& v = value();
  if (v.size() != 1)
    fail_shape("Variable.item",
               "expected a tensor of one element, got shape " + shape_str(v.shape()));
  return v.data()[0];
}

const std::string& Variable::name() const { return impl("name").name; }
void Variable::set_name(std::string name) { impl("set_name").name = std::move(name); }
bool Variable::trainable() const { return impl("trainable").trainable; }
void Variable::set_trainable(bool trainable) { impl("set_trainable").trainable = trainable; }
const ConstraintFn& Variable::constraint() const { return impl("constraint").constraint; }
void Variable::set_constraint(ConstraintFn constraint) {
  impl("set_constraint").constraint = std::move(constraint);
}
const std::optional<Tensor>& Variable::grad() const { return impl("grad").grad; }
void Variable::set_grad(Tensor grad) { impl("set_grad").grad = std::move(grad); }
void Variable::clear_grad() { impl("clear_grad").grad.reset(); }
std::uint64_t Variable::id() const { return impl("id").id; }

}  // namespace tapeflow
