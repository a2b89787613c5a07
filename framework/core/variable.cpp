#include "tapeflow/framework/core/variable.hpp"

#include <atomic>

namespace tapeflow {

void fail(const std::string& where, const std::string& what) { throw Error(where + ": " + what); }

namespace {
std::uint64_t next_id() {
  static std::atomic<std::uint64_t> counter{1};
  return counter++;
}
}  // namespace

Variable::Variable(Tensor value) : Variable(std::move(value), false) {}

Variable::Variable(Tensor value, bool trainable, std::string name) : impl_(std::make_shared<Impl>()) {
  impl_->value = std::move(value);
  impl_->trainable = trainable;
  impl_->name = std::move(name);
  impl_->id = next_id();
}

const Variable::Impl& Variable::impl(const char* what) const {
  if (!impl_) fail(std::string("Variable.") + what, "the variable is undefined (a missing gradient?)");
  return *impl_;
}
Variable::Impl& Variable::impl(const char* what) {
  if (!impl_) fail(std::string("Variable.") + what, "the variable is undefined (a missing gradient?)");
  return *impl_;
}

const Tensor& Variable::value() const { return impl("value").value; }
Tensor& Variable::mutable_value() { return impl("mutable_value").value; }

void Variable::assign(const Tensor& value) { assign(Tensor(value)); }
void Variable::assign(Tensor&& value) {
  auto& im = impl("assign");
  if (!std::equal(value.shape().begin(), value.shape().end(), im.value.shape().begin(),
                  im.value.shape().end()))
    fail("Variable.assign", "variable '" + im.name + "' has shape " + shape_str(im.value.shape()) +
                                " but the new value has shape " + shape_str(value.shape()));
  im.value = std::move(value);
}

Shape Variable::shape() const { return shape_of(value()); }
std::size_t Variable::dim() const { return value().dimension(); }
std::size_t Variable::size() const { return value().size(); }
float Variable::item() const {
  const auto& v = value();
  if (v.size() != 1)
    fail("Variable.item", "expected a tensor of one element, got shape " + shape_str(v.shape()));
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
