#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

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

  const Tensor& value() const;
  /// Replaces the value; the shape must stay the same (use `assign_any_shape` otherwise).
  void assign(const Tensor& value);
  void assign(Tensor&& value);
  /// Direct access to the storage, for optimizers and loaders that update in place.
  Tensor& mutable_value();

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
  };
  const Impl& impl(const char* what) const;
  Impl& impl(const char* what);
  std::shared_ptr<Impl> impl_;
};

}  // namespace tapeflow
