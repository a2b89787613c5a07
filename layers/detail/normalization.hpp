#pragma once
/// What `BatchNormalization` and `LayerNormalization` share: their common options, the checks,
/// the normalized axes, the weights `gamma` and `beta` and the final `y * gamma + beta`.
/// Internal: include layers/batch_normalization.hpp or layers/layer_normalization.hpp.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "tapeflow/framework/ops/ops.hpp"
#include "tapeflow/layers/layer.hpp"

/// The options both normalization layers take (Keras names and defaults): `axis` (-1; one axis
/// or a list, negative counts from the end), `epsilon` (1e-3), `center` (true: add `beta`),
/// `scale` (true: multiply by `gamma`), `beta_initializer` ("zeros"), `gamma_initializer`
/// ("ones"), `beta_regularizer`, `gamma_regularizer`, `beta_constraint`, `gamma_constraint`
/// (none).
#define TAPEFLOW_NORMALIZATION_FIELDS(F)    \
  F(AxisList, axis, {-1})                   \
  F(float, epsilon, 1e-3f)                  \
  F(bool, center, true)                     \
  F(bool, scale, true)                      \
  F(Initializer, beta_initializer, "zeros") \
  F(Initializer, gamma_initializer, "ones") \
  F(Regularizer, beta_regularizer, {})      \
  F(Regularizer, gamma_regularizer, {})     \
  F(Constraint, beta_constraint, {})        \
  F(Constraint, gamma_constraint, {})

namespace tapeflow::layers::detail {

/// Base of a normalization layer whose options `O` have `TAPEFLOW_NORMALIZATION_FIELDS`.
/// Errors: a ValueError at construction for an empty axis list or a negative or non-finite
/// epsilon; a ShapeError at the first call for an axis out of range or repeated, and after it
/// for an input of another rank or other sizes along the axes.
///
/// Example (a subclass's build):
/// ```
/// build_axes(s);
/// add_gamma_beta({s[axes_[0]]});
/// fix_input_spec(s);
/// ```
template <class O>
class Normalization : public LayerWith<O> {
 public:
  /// Passes a mask on (Keras' normalization layers): the shape is kept.
  bool supports_masking() const override { return true; }
  /// The weights (undefined before the first call, or when `scale` / `center` is false).
  const Variable& gamma() const { return gamma_; }
  const Variable& beta() const { return beta_; }

 protected:
  Normalization(const std::string& default_name, const O& options)
      : LayerWith<O>(default_name, options) {
    const O& o = this->options_;
    if (o.axis().empty()) fail(this->name(), "axis is empty (give at least one axis)");
    if (!(o.epsilon() >= 0.f) || !std::isfinite(o.epsilon()))
      fail(this->name(), "epsilon must be a finite number >= 0, got " + config_float(o.epsilon()));
  }

  /// `axes_`: the axes of an input of shape `s`, from 0, sorted.
  void build_axes(const Shape& s) {
    const long rank = static_cast<long>(s.size());
    const std::string axis = config_write(this->options_.axis());
    axes_.clear();
    for (int a : this->options_.axis()) {
      if (a < -rank || a >= rank)
        fail_shape(this->name(), "axis " + axis + " is out of range for an input of shape " +
                                     shape_str(s) + " (rank " + std::to_string(rank) + ")");
      axes_.push_back(static_cast<std::size_t>(a < 0 ? a + rank : a));
    }
    std::sort(axes_.begin(), axes_.end());
    if (std::adjacent_find(axes_.begin(), axes_.end()) != axes_.end())
      fail_shape(this->name(),
                 "axis " + axis + " repeats an axis of the input of shape " + shape_str(s));
  }

  /// `gamma` (if scale), then `beta` (if center), of shape `param`: Keras' order.
  void add_gamma_beta(const Shape& param) {
    const O& o = this->options_;
    if (o.scale())
      gamma_ = this->add_weight("gamma", param, o.gamma_initializer(), o.gamma_regularizer(),
                                o.gamma_constraint());
    if (o.center())
      beta_ = this->add_weight("beta", param, o.beta_initializer(), o.beta_regularizer(),
                               o.beta_constraint());
  }

  /// From the first call on, the rank and the sizes along the axes are fixed (Keras).
  void fix_input_spec(const Shape& s) {
    InputSpec spec;
    spec.ndim = s.size();
    for (auto a : axes_) spec.axes[static_cast<int>(a)] = s[a];
    this->set_input_spec(spec);
  }

  /// The shape the per-feature values broadcast as against an input of shape `s`: its sizes
  /// along the axes, 1 elsewhere.
  std::vector<long> broadcast_shape(const Shape& s) const {
    std::vector<long> b(s.size(), 1);
    for (auto a : axes_) b[a] = static_cast<long>(s[a]);
    return b;
  }

  /// `y * gamma + beta` (each when present), the weights reshaped to `bshape`.
  Variable scale_and_shift(Variable y, const std::vector<long>& bshape) const {
    if (gamma_.defined()) y = mul(y, reshape(gamma_, bshape));
    if (beta_.defined()) y = add(y, reshape(beta_, bshape));
    return y;
  }

  std::vector<std::size_t> axes_;  // normalized, sorted; set by build_axes
  Variable gamma_;
  Variable beta_;
};

}  // namespace tapeflow::layers::detail
