#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tapeflow/framework/core/tensor.hpp"

namespace tapeflow {

/// A projection applied to a variable's value after each optimizer update (see `constraints`).
using ConstraintFn = std::function<Tensor(const Tensor&)>;

/// A cheap shared handle to a value, an optional gradient, a name, a trainable flag and an
/// optional constraint. Copies share the same state. Op results are `Variable`s too (not
/// trainable); a trainable variable is watched automatically by every active `GradientTape`.
/// A default-constructed `Variable` is undefined: it stands for "no gradient".
///
/// Example:
/// ```
/// tapeflow::Variable w(xt::zeros<float>({3, 2}), /*trainable=*/true, "w");
/// tapeflow::Variable x = tapeflow::Tensor{{1.f, 2.f, 3.f}};   // a constant
/// ```
class Variable {
 public:
  /// Undefined handle.
  Variable() = default;
  /// A constant (not trainable) holding `value`.
  Variable(Tensor value);  // NOLINT(google-explicit-constructor): tensors convert to constants
  /// A variable holding `value`, trainable or not, with a name.
  Variable(Tensor value, bool trainable, std::string name = "");

  bool defined() const { return impl_ != nullptr; }
  explicit operator bool() const { return defined(); }

  /// The value. Inside an op's backward (run by `GradientTape::gradient`), reading an input or
  /// output of that op that was modified in place since the op was recorded is a `ValueError`
  /// naming the variable and the op (see `version`).
  const Tensor& value() const;
  /// Replaces the value; the shape must stay the same. Counts as an in-place modification: the
  /// version goes up by one.
  void assign(const Tensor& value);
  void assign(Tensor&& value);
  /// Direct access to the storage, for optimizers and loaders that update in place. Each call
  /// counts as an in-place modification (the version goes up by one), whether or not the caller
  /// then writes: use `value()` to read.
  Tensor& mutable_value();
  /// How many times the value was modified in place (`assign`, `mutable_value`); 0 for a new
  /// variable. A tape records the versions of each op's inputs and output, so a backward that
  /// needs a value changed since (say a persistent tape asked again after an optimizer step)
  /// raises an error instead of differentiating at the new value, as PyTorch's saved tensors do.
  /// Example:
  /// ```
  /// tapeflow::Variable w(tapeflow::Tensor{1.f, 2.f}, /*trainable=*/true, "w");
  /// w.assign(tapeflow::Tensor{3.f, 4.f});   // w.version() == 1
  /// ```
  std::uint64_t version() const;

  Shape shape() const;
  std::size_t dim() const;
  std::size_t size() const;
  /// The single element of a tensor of size 1.
  float item() const;

  const std::string& name() const;
  void set_name(std::string name);
  bool trainable() const;
  void set_trainable(bool trainable);

  const ConstraintFn& constraint() const;
  void set_constraint(ConstraintFn constraint);

  /// The gradient stored on the variable (by `Optimizer::minimize` or by hand), if any.
  const std::optional<Tensor>& grad() const;
  void set_grad(Tensor grad);
  void clear_grad();

  /// Identity: two handles to the same variable share an id.
  std::uint64_t id() const;
  bool is_same(const Variable& other) const { return impl_ == other.impl_; }

 private:
  struct Impl {
    Tensor value;
    std::optional<Tensor> grad;
    std::string name;
    bool trainable = false;
    ConstraintFn constraint;
    std::uint64_t id = 0;
    std::uint64_t version = 0;  // in-place modifications so far
  };
  const Impl& impl(const char* what) const;
  Impl& impl(const char* what);
  std::shared_ptr<Impl> impl_;
};

namespace detail {
/// A variable as a recorded op saw it: its id (0 for an undefined input) and its version then.
struct SavedValue {
  std::uint64_t id = 0;
  std::uint64_t version = 0;
};

/// The version check of one op's backward. While a guard is alive on a thread
/// (`GradientTape::gradient` sets one around each op's backward), `Variable::value()` of one of
/// the op's inputs or of its output whose version is no longer the one saved throws
/// `ValueError` naming the variable and the op. Only values the backward reads are checked:
/// add's backward, which needs only shapes, is fine after its inputs change. Guards nest (the
/// innermost one checks).
///
/// Example (what the tape does):
/// ```
/// detail::SavedVersionsGuard guard(entry.op, entry.inputs, entry.output);
/// std::vector<Variable> grads = entry.backward(grad_output);
/// ```
class SavedVersionsGuard {
 public:
  SavedVersionsGuard(const char* op, const std::vector<SavedValue>& inputs, SavedValue output);
  ~SavedVersionsGuard();
  SavedVersionsGuard(const SavedVersionsGuard&) = delete;
  SavedVersionsGuard& operator=(const SavedVersionsGuard&) = delete;

  /// The innermost guard alive on this thread, or null.
  static const SavedVersionsGuard* current();
  /// Throws `ValueError` when `id` is one of the op's values and `version` is not the one
  /// saved; `name` names the variable in the message.
  void check(std::uint64_t id, std::uint64_t version, const std::string& name) const;

 private:
  const char* op_;
  const std::vector<SavedValue>& inputs_;
  SavedValue output_;
  const SavedVersionsGuard* outer_;
};
}  // namespace detail

}  // namespace tapeflow
